use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::Utc;
use lettre::message::Mailbox;
use uuid::Uuid;

use super::{Mail, MailError, Mailer, build_message, parse_mailbox};

/// Stands in for SMTP when none is configured: each mail becomes
/// `<dir>/<UTC timestamp>-<short id>.eml` (the full RFC 5322 message, openable in a mail client)
/// and an info log line carrying the text, so the links in it can be followed locally.
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    /// Creates `dir` (and its parents) now, so an unwritable data dir fails at startup.
    pub fn new(dir: PathBuf, from: &str) -> Result<Self, MailError> {
        let from = parse_mailbox(from)?;
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, from })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = build_message(&self.from, &mail)?.formatted();
        // Names sort by time; the id keeps two mails in the same millisecond apart.
        let id = Uuid::new_v4().simple().to_string();
        let name = format!(
            "{}-{}.eml",
            Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            &id[..8]
        );
        let path = self.dir.join(&name);
        // Written aside and renamed, so whoever watches the folder never reads half a mail.
        // The temporary name does not end in `.eml`.
        let temporary = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::create_dir_all(&self.dir).await?;
        tokio::fs::write(&temporary, &message).await?;
        if let Err(e) = tokio::fs::rename(&temporary, &path).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(e.into());
        }
        tracing::info!(
            to = %mail.to,
            subject = %mail.subject,
            file = %path.display(),
            text = %mail.text,
            "mail written to the outbox (no SMTP relay configured)"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Email;

    fn welcome_mail() -> Mail {
        Mail {
            to: Email::parse("ann@example.com").unwrap(),
            subject: "Confirm your email".into(),
            text: "Hello Ann,\nfollow http://127.0.0.1:8080/verify?code=abc to confirm.".into(),
        }
    }

    fn eml_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        files.sort();
        files
    }

    #[tokio::test]
    async fn a_sent_mail_appears_in_the_outbox_as_a_complete_message() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(
            tmp.path().join("data/outbox"),
            "Showrunner <no-reply@example.com>",
        )
        .unwrap();

        outbox.send(welcome_mail()).await.unwrap();

        let files = eml_files(outbox.dir());
        assert_eq!(files.len(), 1, "{files:?}");
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(eml.contains("To: ann@example.com\r\n"), "{eml}");
        assert!(
            eml.contains("From: Showrunner <no-reply@example.com>\r\n"),
            "{eml}"
        );
        assert!(eml.contains("Subject: Confirm your email\r\n"), "{eml}");
        assert!(
            eml.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{eml}"
        );
        assert!(
            eml.contains("http://127.0.0.1:8080/verify?code=abc"),
            "{eml}"
        );
    }

    #[tokio::test]
    async fn each_mail_gets_its_own_file_and_no_temporary_file_is_left() {
        let tmp = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(tmp.path().to_path_buf(), "no-reply@example.com").unwrap();

        for _ in 0..3 {
            outbox.send(welcome_mail()).await.unwrap();
        }

        assert_eq!(eml_files(tmp.path()).len(), 3);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 3);
    }

    #[tokio::test]
    async fn an_outbox_folder_removed_while_running_is_created_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("outbox");
        let outbox = OutboxMailer::new(dir.clone(), "no-reply@example.com").unwrap();
        std::fs::remove_dir(&dir).unwrap();

        outbox.send(welcome_mail()).await.unwrap();

        assert_eq!(eml_files(&dir).len(), 1);
    }

    #[test]
    fn a_from_address_that_is_not_a_mailbox_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let result = OutboxMailer::new(tmp.path().to_path_buf(), "not an address");
        assert!(matches!(result, Err(MailError::Address(_))));
    }
}
