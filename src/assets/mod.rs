//! Uploaded images (avatars and banners): checking, re-encoding and storing them.
//!
//! [`process_upload`] turns untrusted bytes into a clean image of bounded size; an [`AssetStore`]
//! keeps the result under a content-addressed key and says at which URL it is served.
//! [`LocalAssetStore`] keeps files under the data dir; other stores name objects with the same
//! [`asset_key`], so keys stay valid when a deployment moves between stores.

mod local;
mod upload;

pub use local::LocalAssetStore;
pub use upload::{ProcessedImage, UploadError, process_upload};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

/// What an uploaded image is for; decides its size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    Avatar,
    Banner,
}

impl AssetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Avatar => "avatar",
            AssetKind::Banner => "banner",
        }
    }

    /// Largest upload accepted, in bytes (MB = 10^6, as the original platform counted).
    pub fn max_bytes(self) -> usize {
        match self {
            AssetKind::Avatar => 1_000_000,
            AssetKind::Banner => 5_000_000,
        }
    }

    /// The box a stored image fits in; larger uploads are scaled down to it.
    pub fn max_dimensions(self) -> (u32, u32) {
        match self {
            AssetKind::Avatar => (512, 512),
            AssetKind::Banner => (1920, 1080),
        }
    }
}

impl std::fmt::Display for AssetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// The owner cannot be a path component (it must be an id of letters, digits, `-`, `_`).
    #[error("invalid asset owner `{0}`")]
    InvalidOwner(String),
    /// The key was not made by [`asset_key`].
    #[error("invalid asset key `{0}`")]
    InvalidKey(String),
    #[error("asset storage: {0}")]
    Io(#[from] std::io::Error),
    /// A failure of a remote store.
    #[error("asset store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where processed images are kept and served from.
#[async_trait]
pub trait AssetStore: Send + Sync {
    /// Stores the image under a new content-addressed key and returns that key (e.g.
    /// `"<owner>/avatar-<16 hex of sha256>.png"`). The same image stored twice gets the same key;
    /// a changed image gets a new key, so its URL never serves a stale cached copy. The object is
    /// complete when it becomes visible. Earlier keys of the owner are left alone: deleting
    /// the replaced one is the caller's job.
    async fn put(
        &self,
        owner: &str,
        kind: AssetKind,
        image: &ProcessedImage,
    ) -> Result<String, AssetError>;
    /// Removes one asset. Idempotent: a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), AssetError>;
    /// Deletes every asset of the owner. Idempotent.
    async fn delete_owner(&self, owner: &str) -> Result<(), AssetError>;
    /// Public URL of a key.
    fn url(&self, key: &str) -> String;
}

/// The key every store files an image under: `<owner>/<kind>-<16 hex of sha256>.<extension>`.
pub fn asset_key(
    owner: &str,
    kind: AssetKind,
    image: &ProcessedImage,
) -> Result<String, AssetError> {
    check_owner(owner)?;
    let digest = Sha256::digest(&image.bytes);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{owner}/{kind}-{hex}.{}", image.extension))
}

/// Owners are account ids; anything that could climb out of the owner's folder (`..`, `/`, `\`)
/// or hide (a leading `.`) is refused by allowing only an id's characters.
pub(crate) fn check_owner(owner: &str) -> Result<(), AssetError> {
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if owner.is_empty() || owner.len() > 64 || !owner.chars().all(is_id_char) {
        return Err(AssetError::InvalidOwner(owner.to_owned()));
    }
    Ok(())
}

/// Splits a key made by [`asset_key`] into owner and file name, refusing anything else, so a
/// key read back from storage can never point outside the owner's folder.
pub(crate) fn split_key(key: &str) -> Result<(&str, &str), AssetError> {
    let invalid = || AssetError::InvalidKey(key.to_owned());
    let (owner, file) = key.split_once('/').ok_or_else(invalid)?;
    check_owner(owner).map_err(|_| invalid())?;
    let (stem, extension) = file.rsplit_once('.').ok_or_else(invalid)?;
    let stem_ok = !stem.is_empty()
        && !stem.starts_with('-')
        && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let extension_ok =
        !extension.is_empty() && extension.chars().all(|c| c.is_ascii_alphanumeric());
    if !stem_ok || !extension_ok {
        return Err(invalid());
    }
    Ok((owner, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(bytes: &'static [u8]) -> ProcessedImage {
        ProcessedImage {
            bytes: bytes::Bytes::from_static(bytes),
            content_type: "image/png",
            extension: "png",
            width: 1,
            height: 1,
        }
    }

    #[test]
    fn a_key_names_owner_kind_content_hash_and_extension() {
        let key = asset_key(
            "0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b",
            AssetKind::Avatar,
            &image(b"pixels"),
        )
        .unwrap();
        let expected_hex: String = Sha256::digest(b"pixels")[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            key,
            format!("0190f3a2-7c1e-7d4b-9a55-3c1f2e4d5a6b/avatar-{expected_hex}.png")
        );
        assert_eq!(expected_hex.len(), 16);
    }

    #[test]
    fn the_same_image_gets_the_same_key_and_a_different_one_another() {
        let a = asset_key("owner", AssetKind::Banner, &image(b"one")).unwrap();
        assert_eq!(
            a,
            asset_key("owner", AssetKind::Banner, &image(b"one")).unwrap()
        );
        assert_ne!(
            a,
            asset_key("owner", AssetKind::Banner, &image(b"two")).unwrap()
        );
        assert_ne!(
            a,
            asset_key("owner", AssetKind::Avatar, &image(b"one")).unwrap()
        );
    }

    #[test]
    fn an_owner_that_is_not_a_plain_id_is_refused() {
        for owner in [
            "", "..", ".", "a/b", "../etc", "a\\b", ".hidden", "a b", "ü",
        ] {
            assert!(
                matches!(
                    asset_key(owner, AssetKind::Avatar, &image(b"x")),
                    Err(AssetError::InvalidOwner(_))
                ),
                "{owner:?} should be refused"
            );
        }
    }

    #[test]
    fn only_keys_shaped_like_asset_keys_are_accepted() {
        assert_eq!(
            split_key("owner/avatar-0123456789abcdef.png").unwrap(),
            ("owner", "avatar-0123456789abcdef.png")
        );
        for key in [
            "",
            "owner",
            "owner/",
            "/avatar-0.png",
            "../avatar-0.png",
            "owner/../avatar-0.png",
            "owner/sub/avatar-0.png",
            "owner/.avatar-0.png.tmp",
            "owner/avatar-0",
            "owner/..png",
            "owner/-rf.png",
        ] {
            assert!(
                matches!(split_key(key), Err(AssetError::InvalidKey(_))),
                "{key:?} should be refused"
            );
        }
    }

    #[test]
    fn kinds_have_the_documented_names_and_limits() {
        assert_eq!(AssetKind::Avatar.as_str(), "avatar");
        assert_eq!(AssetKind::Banner.as_str(), "banner");
        assert_eq!(AssetKind::Avatar.max_bytes(), 1_000_000);
        assert_eq!(AssetKind::Banner.max_bytes(), 5_000_000);
    }
}
