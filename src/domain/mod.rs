//! Pure types and rules: identifiers, usernames, emails, passwords, profile choices.
//!
//! Nothing here does I/O. Values are parsed once at the edge (`parse() -> Result<Self, FieldError>`)
//! and trusted everywhere after.

use std::borrow::Cow;

mod account;
mod action;
mod chat;
mod profile;
pub mod stream;

pub use account::{AccountId, Email, LoginName, Password, Username};
pub use action::{
    ActionInput, ActionKind, AmazonProduct, Celebration, Notice, PollSpec, Product, Quiz,
    StreamAction,
};
pub use chat::{ChatSettings, ChatText, parse_timeout};
pub use profile::{Avatar, AvatarPreset, Color};

/// A rule a single input field broke. `field` names the field as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field as the client named it; nested fields are dotted (`options.2`).
    pub field: Cow<'static, str>,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<Cow<'static, str>>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// Every rule broken by one request, so a form can mark all its bad fields at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Collects the error of `result`, if any, and gives back its value.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        FieldErrors(vec![e])
    }
}
