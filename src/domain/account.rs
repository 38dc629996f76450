use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::FieldError;

/// Identifies an account, and with it the one channel that account owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub Uuid);

impl AccountId {
    pub fn new() -> Self {
        // v7 ids sort by creation time, which keeps store indexes append-mostly.
        Self(Uuid::now_v7())
    }
}

impl Default for AccountId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Names that collide with top-level web routes (`/:username` is a channel page) or that would
/// let someone impersonate the platform.
const RESERVED_USERNAMES: &[&str] = &[
    "about",
    "admin",
    "api",
    "assets",
    "channel",
    "channels",
    "directory",
    "following",
    "health",
    "healthz",
    "help",
    "login",
    "logout",
    "manager",
    "metrics",
    "moderator",
    "outbox",
    "privacy",
    "readyz",
    "register",
    "reset",
    "root",
    "settings",
    "showrunner",
    "signup",
    "stage",
    "stages",
    "static",
    "support",
    "system",
    "terms",
    "verify",
    "ws",
];

/// A channel's public name: 4–20 of `A–Z a–z 0–9 . _`, unique without regard to case.
///
/// The spelling the user chose is kept for display; `key()` is what uniqueness and look-ups use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 4;
    pub const MAX: usize = 20;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        const FIELD: &str = "username";
        // Reserved first: "api" is refused as reserved, which says more than "too short".
        if RESERVED_USERNAMES.contains(&raw.to_ascii_lowercase().as_str()) {
            return Err(FieldError::new(FIELD, "reserved", "this name is reserved"));
        }
        let len = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(FieldError::new(
                FIELD,
                "length",
                format!("must be {}–{} characters long", Self::MIN, Self::MAX),
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(FieldError::new(
                FIELD,
                "characters",
                "may contain only letters, digits, '.' and '_'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Rebuilds a username read back from the store, where it was validated on the way in.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The case-folded form that uniqueness and look-ups use.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, lower-cased so that uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        const FIELD: &str = "email";
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(FIELD, "required", "is required"));
        }
        if trimmed.len() > Self::MAX {
            return Err(FieldError::new(
                FIELD,
                "length",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            trimmed,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| FieldError::new(FIELD, "format", "is not a valid email address"))?;
        // Reject dotless domains ("a@localhost"): they cannot receive mail on the internet.
        if !parsed.domain().contains('.') {
            return Err(FieldError::new(
                FIELD,
                "format",
                "is not a valid email address",
            ));
        }
        Ok(Self(trimmed.to_ascii_lowercase()))
    }

    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a user types to log in: their username or their email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginName {
    Username(String),
    Email(Email),
}

impl LoginName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("login", "required", "is required"));
        }
        if trimmed.contains('@') {
            Email::parse(trimmed)
                .map(LoginName::Email)
                .map_err(|e| FieldError {
                    field: "login".into(),
                    ..e
                })
        } else {
            Ok(LoginName::Username(trimmed.to_ascii_lowercase()))
        }
    }

    /// A stable, case-folded key for rate limiting, whichever form was typed.
    pub fn throttle_key(&self) -> String {
        match self {
            LoginName::Username(u) => format!("user:{u}"),
            LoginName::Email(e) => format!("email:{e}"),
        }
    }
}

/// A new password that meets the policy: 8–256 characters with an upper-case letter, a
/// lower-case letter, a digit and a symbol. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if len < Self::MIN {
            return Err(FieldError::new(
                field,
                "length",
                format!("must be at least {} characters", Self::MIN),
            ));
        }
        if len > Self::MAX {
            return Err(FieldError::new(
                field,
                "length",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        let has = |f: fn(&char) -> bool| raw.chars().any(|c| f(&c));
        let mut missing = Vec::new();
        if !has(char::is_ascii_uppercase) {
            missing.push("an upper-case letter");
        }
        if !has(char::is_ascii_lowercase) {
            missing.push("a lower-case letter");
        }
        if !has(char::is_ascii_digit) {
            missing.push("a digit");
        }
        if !raw
            .chars()
            .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
        {
            missing.push("a symbol");
        }
        if !missing.is_empty() {
            return Err(FieldError::new(
                field,
                "weak",
                format!("must contain {}", missing.join(", ")),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_accepts_letters_digits_dot_and_underscore() {
        for ok in ["abcd", "Ab.c_9", "a_b.c.d.e.f.g.h.i.jk", "User.Name"] {
            assert!(Username::parse(ok).is_ok(), "{ok} should parse");
        }
    }

    #[test]
    fn username_refuses_bad_length_characters_and_reserved_names() {
        assert_eq!(Username::parse("abc").unwrap_err().code, "length");
        assert_eq!(Username::parse(&"a".repeat(21)).unwrap_err().code, "length");
        assert_eq!(Username::parse("ab cd").unwrap_err().code, "characters");
        assert_eq!(Username::parse("abc-d").unwrap_err().code, "characters");
        assert_eq!(Username::parse("héllo").unwrap_err().code, "characters");
        for reserved in [
            "login",
            "Register",
            "SETTINGS",
            "manager",
            "health",
            "following",
            "admin",
        ] {
            assert_eq!(
                Username::parse(reserved).unwrap_err().code,
                "reserved",
                "{reserved}"
            );
        }
    }

    #[test]
    fn username_key_ignores_case_but_display_keeps_it() {
        let u = Username::parse("MixedCase").unwrap();
        assert_eq!(u.as_str(), "MixedCase");
        assert_eq!(u.key(), "mixedcase");
    }

    #[test]
    fn email_is_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        assert_eq!(
            Email::parse("ann@example.com").unwrap().domain(),
            "example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "Ann <ann@example.com>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn password_policy_names_what_is_missing() {
        assert!(Password::parse("Abcdef1!", "password").is_ok());
        assert_eq!(
            Password::parse("Ab1!", "password").unwrap_err().code,
            "length"
        );
        let err = Password::parse("abcdefgh", "password").unwrap_err();
        assert_eq!(err.code, "weak");
        assert!(err.message.contains("upper-case"));
        assert!(err.message.contains("digit"));
        assert!(err.message.contains("symbol"));
        assert!(!err.message.contains("lower-case"));
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("Secret#123", "password").unwrap();
        assert!(!format!("{p:?}").contains("Secret"));
    }

    #[test]
    fn login_name_tells_email_from_username() {
        assert!(matches!(
            LoginName::parse("Ann@Example.com").unwrap(),
            LoginName::Email(_)
        ));
        assert_eq!(
            LoginName::parse("Ann.B").unwrap(),
            LoginName::Username("ann.b".into())
        );
        assert_eq!(LoginName::parse(" ").unwrap_err().field, "login");
    }
}
