//! Outgoing mail: account verification and password-reset links.
//!
//! [`SmtpMailer`] hands mail to a relay; without one configured, [`OutboxMailer`] writes each mail
//! to a folder and the log, so a local user can still follow the links. Callers see only
//! [`Mailer`]; the choice is made once at startup.

mod outbox;
mod smtp;

pub use outbox::OutboxMailer;
pub use smtp::SmtpMailer;

use async_trait::async_trait;
use lettre::message::{Mailbox, Message, header::ContentType};

use crate::domain::Email;

/// One plain-text mail to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: Email,
    pub subject: String,
    /// The body, plain UTF-8 text.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address lettre cannot put in a header or envelope.
    #[error("invalid mail address: {0}")]
    Address(String),
    /// The relay could not be reached or refused the mail.
    #[error("mail transport: {0}")]
    Transport(String),
    #[error("mail outbox: {0}")]
    Io(#[from] std::io::Error),
}

/// Sends mail.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Returns once the mail is handed over (accepted by the relay, or written to the outbox).
    /// There is no retry: a failure is returned to the caller, who decides whether the user
    /// should try again.
    async fn send(&self, mail: Mail) -> Result<(), MailError>;
}

fn parse_mailbox(raw: &str) -> Result<Mailbox, MailError> {
    raw.parse()
        .map_err(|e| MailError::Address(format!("`{raw}`: {e}")))
}

/// The RFC 5322 message both mailers send, so the outbox shows exactly what SMTP would carry.
fn build_message(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    Message::builder()
        .from(from.clone())
        .to(parse_mailbox(mail.to.as_str())?)
        .subject(mail.subject.as_str())
        // Relays often add one, but not all, and spam filters penalise its absence.
        .message_id(None)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|e| MailError::Address(e.to_string()))
}
