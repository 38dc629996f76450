use std::path::{Path, PathBuf};

use async_trait::async_trait;
use uuid::Uuid;

use super::{AssetError, AssetKind, AssetStore, ProcessedImage, asset_key, check_owner, split_key};

/// Keeps assets as files, `<dir>/<owner>/<kind>-<hash>.<ext>`, for the HTTP server to serve at
/// `<public_base>/assets/<key>`.
pub struct LocalAssetStore {
    dir: PathBuf,
    /// Without a trailing slash.
    public_base: String,
}

impl LocalAssetStore {
    pub fn new(dir: PathBuf, public_base: String) -> Self {
        Self {
            dir,
            public_base: public_base.trim_end_matches('/').to_owned(),
        }
    }

    /// The folder to serve at `/assets`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl AssetStore for LocalAssetStore {
    async fn put(
        &self,
        owner: &str,
        kind: AssetKind,
        image: &ProcessedImage,
    ) -> Result<String, AssetError> {
        let key = asset_key(owner, kind, image)?;
        let (owner, file) = split_key(&key)?;
        let folder = self.dir.join(owner);
        tokio::fs::create_dir_all(&folder).await?;
        // Written aside in the same folder (same file system, so the rename is atomic) and
        // renamed, so the file server never sends half an image. The temporary name is unique
        // so two uploads of the same image do not write into each other.
        let temporary = folder.join(format!(".{file}.{}.tmp", Uuid::new_v4().simple()));
        tokio::fs::write(&temporary, &image.bytes).await?;
        if let Err(e) = tokio::fs::rename(&temporary, folder.join(file)).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(e.into());
        }
        Ok(key)
    }

    async fn delete(&self, key: &str) -> Result<(), AssetError> {
        let (owner, file) = split_key(key)?;
        match tokio::fs::remove_file(self.dir.join(owner).join(file)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn delete_owner(&self, owner: &str) -> Result<(), AssetError> {
        check_owner(owner)?;
        match tokio::fs::remove_dir_all(self.dir.join(owner)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn url(&self, key: &str) -> String {
        format!("{}/assets/{key}", self.public_base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b";

    fn image(bytes: &'static [u8]) -> ProcessedImage {
        ProcessedImage {
            bytes: bytes::Bytes::from_static(bytes),
            content_type: "image/jpeg",
            extension: "jpg",
            width: 1,
            height: 1,
        }
    }

    fn store() -> (tempfile::TempDir, LocalAssetStore) {
        let tmp = tempfile::tempdir().unwrap();
        let store =
            LocalAssetStore::new(tmp.path().join("assets"), "http://127.0.0.1:8080/".into());
        (tmp, store)
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found
    }

    #[tokio::test]
    async fn a_stored_image_is_a_file_under_its_key_with_exactly_its_bytes() {
        let (_tmp, store) = store();

        let key = store
            .put(OWNER, AssetKind::Avatar, &image(b"jpeg bytes"))
            .await
            .unwrap();

        assert!(
            key.starts_with(&format!("{OWNER}/avatar-")) && key.ends_with(".jpg"),
            "{key}"
        );
        assert_eq!(
            std::fs::read(store.dir().join(&key)).unwrap(),
            b"jpeg bytes"
        );
        assert_eq!(
            files_under(store.dir()).len(),
            1,
            "no temporary file is left behind"
        );
    }

    #[tokio::test]
    async fn the_url_is_the_public_base_then_assets_then_the_key() {
        let (_tmp, store) = store();
        assert_eq!(
            store.url("owner/banner-0123456789abcdef.png"),
            "http://127.0.0.1:8080/assets/owner/banner-0123456789abcdef.png"
        );
    }

    #[tokio::test]
    async fn storing_the_same_image_twice_gives_the_same_key() {
        let (_tmp, store) = store();
        let first = store
            .put(OWNER, AssetKind::Banner, &image(b"same"))
            .await
            .unwrap();
        let second = store
            .put(OWNER, AssetKind::Banner, &image(b"same"))
            .await
            .unwrap();
        assert_eq!(first, second);
        assert_eq!(files_under(store.dir()).len(), 1);
    }

    #[tokio::test]
    async fn delete_removes_one_asset_and_is_idempotent() {
        let (_tmp, store) = store();
        let old = store
            .put(OWNER, AssetKind::Avatar, &image(b"old"))
            .await
            .unwrap();
        let new = store
            .put(OWNER, AssetKind::Avatar, &image(b"new"))
            .await
            .unwrap();

        store.delete(&old).await.unwrap();
        store.delete(&old).await.unwrap();

        assert!(!store.dir().join(&old).exists());
        assert!(store.dir().join(&new).exists());
    }

    #[tokio::test]
    async fn delete_owner_removes_all_their_assets_only_and_is_idempotent() {
        let (_tmp, store) = store();
        store
            .put(OWNER, AssetKind::Avatar, &image(b"a"))
            .await
            .unwrap();
        store
            .put(OWNER, AssetKind::Banner, &image(b"b"))
            .await
            .unwrap();
        let other = store
            .put("someone-else", AssetKind::Avatar, &image(b"a"))
            .await
            .unwrap();

        store.delete_owner(OWNER).await.unwrap();
        store.delete_owner(OWNER).await.unwrap();

        assert_eq!(files_under(store.dir()), vec![store.dir().join(other)]);
    }

    #[tokio::test]
    async fn paths_outside_the_asset_folder_cannot_be_reached() {
        let (tmp, store) = store();
        let outside = tmp.path().join("secret.png");
        std::fs::write(&outside, b"keep me").unwrap();

        assert!(matches!(
            store.delete("../secret.png").await,
            Err(AssetError::InvalidKey(_))
        ));
        assert!(matches!(
            store.delete("owner/../../secret.png").await,
            Err(AssetError::InvalidKey(_))
        ));
        assert!(matches!(
            store.delete_owner("..").await,
            Err(AssetError::InvalidOwner(_))
        ));
        assert!(matches!(
            store.put("../x", AssetKind::Avatar, &image(b"a")).await,
            Err(AssetError::InvalidOwner(_))
        ));
        assert!(outside.exists());
    }
}
