//! Chat rules: message text, moderation settings, timeouts.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{FieldError, FieldErrors};

/// A chat message's text: 1–500 characters after trimming, no control characters but line
/// breaks. Plain text: it is never interpreted as markup anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChatText(String);

impl ChatText {
    pub const MAX: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(FieldError::new("text", "required", "must not be empty"));
        }
        if text.chars().count() > Self::MAX {
            return Err(FieldError::new(
                "text",
                "length",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(FieldError::new(
                "text",
                "characters",
                "must not contain control characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// Whether the text contains one of `words` (case-insensitive, as a whole word or part of one).
    pub fn contains_any<'w>(&self, words: &'w [String]) -> Option<&'w str> {
        let lower = self.0.to_lowercase();
        words
            .iter()
            .find(|w| !w.is_empty() && lower.contains(w.as_str()))
            .map(String::as_str)
    }
}

/// How a channel's chat is moderated. Enforced by the channel actor; moderators are exempt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChatSettings {
    /// Seconds a non-moderator must wait between messages; 0 is off.
    pub slow_mode_secs: u32,
    /// When set, only followers may chat, and only after following for this many minutes.
    pub followers_only_minutes: Option<u32>,
    /// Lower-case words or phrases that make a message refused.
    pub banned_words: Vec<String>,
}

impl ChatSettings {
    pub const MAX_SLOW_MODE_SECS: u32 = 3600;
    pub const MAX_FOLLOW_AGE_MINUTES: u32 = 90 * 24 * 60;
    pub const MAX_BANNED_WORDS: usize = 500;
    pub const MAX_BANNED_WORD_LEN: usize = 64;

    /// Checks and normalises settings sent by a client.
    pub fn parse(
        slow_mode_secs: u32,
        followers_only_minutes: Option<u32>,
        banned_words: Vec<String>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        if slow_mode_secs > Self::MAX_SLOW_MODE_SECS {
            errors.0.push(FieldError::new(
                "slow_mode_secs",
                "range",
                format!("must be 0–{}", Self::MAX_SLOW_MODE_SECS),
            ));
        }
        if followers_only_minutes.is_some_and(|m| m > Self::MAX_FOLLOW_AGE_MINUTES) {
            errors.0.push(FieldError::new(
                "followers_only_minutes",
                "range",
                format!("must be 0–{} (90 days)", Self::MAX_FOLLOW_AGE_MINUTES),
            ));
        }
        if banned_words.len() > Self::MAX_BANNED_WORDS {
            errors.0.push(FieldError::new(
                "banned_words",
                "length",
                format!("at most {} entries", Self::MAX_BANNED_WORDS),
            ));
        }
        let mut words: Vec<String> = Vec::new();
        for (i, word) in banned_words.iter().enumerate() {
            let w = word.trim().to_lowercase();
            if w.is_empty() || w.chars().count() > Self::MAX_BANNED_WORD_LEN {
                errors.0.push(FieldError::new(
                    format!("banned_words.{i}"),
                    "length",
                    format!("must be 1–{} characters", Self::MAX_BANNED_WORD_LEN),
                ));
            } else if !words.contains(&w) {
                words.push(w);
            }
        }
        errors.into_result()?;
        Ok(Self {
            slow_mode_secs,
            followers_only_minutes,
            banned_words: words,
        })
    }
}

/// How long a timeout keeps someone from chatting: 1 second to 2 weeks.
pub fn parse_timeout(seconds: u64) -> Result<Duration, FieldError> {
    const MAX: u64 = 14 * 24 * 3600;
    if seconds == 0 || seconds > MAX {
        return Err(FieldError::new(
            "duration_secs",
            "range",
            format!("must be 1–{MAX} seconds (2 weeks)"),
        ));
    }
    Ok(Duration::seconds(seconds as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_text_is_trimmed_bounded_and_plain() {
        assert_eq!(
            ChatText::parse("  hi <b>there</b> ").unwrap().as_str(),
            "hi <b>there</b>"
        );
        assert_eq!(ChatText::parse("   ").unwrap_err().code, "required");
        assert!(ChatText::parse(&"é".repeat(500)).is_ok());
        assert_eq!(
            ChatText::parse(&"é".repeat(501)).unwrap_err().code,
            "length"
        );
        assert_eq!(ChatText::parse("bell\u{7}").unwrap_err().code, "characters");
        assert!(ChatText::parse("two\nlines").is_ok());
    }

    #[test]
    fn banned_words_match_without_case() {
        let words = vec!["spoiler".to_string()];
        assert_eq!(
            ChatText::parse("No SPOILERS please")
                .unwrap()
                .contains_any(&words),
            Some("spoiler")
        );
        assert_eq!(
            ChatText::parse("all good").unwrap().contains_any(&words),
            None
        );
    }

    #[test]
    fn chat_settings_are_checked_and_normalised() {
        let s = ChatSettings::parse(
            5,
            Some(10),
            vec![" Foo ".into(), "foo".into(), "bar".into()],
        )
        .unwrap();
        assert_eq!(s.banned_words, ["foo", "bar"]);
        let err = ChatSettings::parse(4000, Some(10_000_000), vec!["".into()]).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.to_string()).collect();
        assert_eq!(
            fields,
            ["slow_mode_secs", "followers_only_minutes", "banned_words.0"]
        );
    }

    #[test]
    fn timeouts_are_limited_to_two_weeks() {
        assert!(parse_timeout(1).is_ok());
        assert!(parse_timeout(14 * 24 * 3600).is_ok());
        assert!(parse_timeout(0).is_err());
        assert!(parse_timeout(14 * 24 * 3600 + 1).is_err());
    }
}
