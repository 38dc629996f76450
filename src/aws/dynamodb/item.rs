//! Attribute values in and out: how times, numbers and lists are stored, and reading an item's
//! attributes with a clear error when one is missing or of the wrong type.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::AccountId;
use crate::store::{StoreError, StoreResult};

/// An item, or a key, as the SDK passes them.
pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A time as stored: milliseconds since the Unix epoch, UTC (finer precision is dropped).
pub(super) fn time(at: DateTime<Utc>) -> AttributeValue {
    n(at.timestamp_millis())
}

/// A TTL attribute: whole seconds since the epoch, the unit DynamoDB's TTL reads. DynamoDB
/// deletes the item some time after it (within days), so reads still check expiry themselves.
pub(super) fn expiry(at: DateTime<Utc>) -> AttributeValue {
    n(at.timestamp())
}

pub(super) fn strings(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().cloned().map(AttributeValue::S).collect())
}

pub(super) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// `key` with these attributes added: an item ready to be put.
pub(super) fn with(
    mut key: Item,
    attributes: impl IntoIterator<Item = (&'static str, AttributeValue)>,
) -> Item {
    key.extend(
        attributes
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    );
    key
}

/// An id as stored: hyphenated lower-case text.
pub(super) fn id(id: Uuid) -> AttributeValue {
    AttributeValue::S(id.hyphenated().to_string())
}

/// The key of an item (or key), as text: for de-duplicating and for error messages.
pub(super) fn key_text(item: &Item) -> String {
    let part = |name: &str| match item.get(name) {
        Some(AttributeValue::S(value)) => value.as_str(),
        _ => "?",
    };
    format!("{}/{}", part("pk"), part("sk"))
}

/// The `#name` placeholders used in `expressions`, mapped to the attribute names they stand for.
/// Every attribute name in this module's expressions is written as a placeholder, so that none
/// can clash with DynamoDB's long list of reserved words (`name`, `text`, `ttl`, `count`, ...).
pub(super) fn names<'a>(
    expressions: impl IntoIterator<Item = &'a str>,
) -> Option<HashMap<String, String>> {
    let mut names = HashMap::new();
    for expression in expressions {
        let mut rest = expression;
        while let Some(at) = rest.find('#') {
            let name: String = rest[at + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[at + 1 + name.len()..];
            if !name.is_empty() {
                names.insert(format!("#{name}"), name);
            }
        }
    }
    (!names.is_empty()).then_some(names)
}

/// Expression values, or none (DynamoDB refuses an empty map).
pub(super) fn values(
    values: Vec<(&'static str, AttributeValue)>,
) -> Option<HashMap<String, AttributeValue>> {
    (!values.is_empty()).then(|| {
        values
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    })
}

/// Sort-key text of a signed number that sorts like the number: offset by 2^63 into an unsigned
/// one, written with all 20 digits.
pub(super) fn sortable(value: i64) -> String {
    format!("{:020}", (value as u64) ^ (1 << 63))
}

/// Sort-key text of an unsigned number, all 20 digits.
pub(super) fn sortable_unsigned(value: u64) -> String {
    format!("{value:020}")
}

/// The attributes of one stored item, read with checks.
pub(super) struct Attrs<'a>(pub &'a Item);

impl<'a> Attrs<'a> {
    pub(super) fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub(super) fn opt_str(&self, name: &str) -> StoreResult<Option<&'a str>> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(value)) => Ok(Some(value)),
            Some(_) => Err(self.corrupt(name, "a string")),
        }
    }

    pub(super) fn str(&self, name: &str) -> StoreResult<&'a str> {
        self.opt_str(name)?
            .ok_or_else(|| self.corrupt(name, "a string"))
    }

    pub(super) fn string(&self, name: &str) -> StoreResult<String> {
        self.str(name).map(str::to_owned)
    }

    pub(super) fn opt_int(&self, name: &str) -> StoreResult<Option<i64>> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(value)) => value
                .parse()
                .map(Some)
                .map_err(|_| self.corrupt(name, "a whole number")),
            Some(_) => Err(self.corrupt(name, "a number")),
        }
    }

    pub(super) fn int(&self, name: &str) -> StoreResult<i64> {
        self.opt_int(name)?
            .ok_or_else(|| self.corrupt(name, "a number"))
    }

    /// A non-negative number that fits `T`.
    pub(super) fn uint<T: TryFrom<i64>>(&self, name: &str) -> StoreResult<T> {
        T::try_from(self.int(name)?).map_err(|_| self.corrupt(name, "a small non-negative number"))
    }

    pub(super) fn opt_float(&self, name: &str) -> StoreResult<Option<f64>> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(value)) => value
                .parse()
                .map(Some)
                .map_err(|_| self.corrupt(name, "a number")),
            Some(_) => Err(self.corrupt(name, "a number")),
        }
    }

    pub(super) fn opt_time(&self, name: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.opt_int(name)?
            .map(|millis| {
                DateTime::from_timestamp_millis(millis)
                    .ok_or_else(|| self.corrupt(name, "a time in range"))
            })
            .transpose()
    }

    pub(super) fn time(&self, name: &str) -> StoreResult<DateTime<Utc>> {
        self.opt_time(name)?
            .ok_or_else(|| self.corrupt(name, "a time"))
    }

    /// Absent is false.
    pub(super) fn flag(&self, name: &str) -> StoreResult<bool> {
        match self.0.get(name) {
            None => Ok(false),
            Some(AttributeValue::Bool(value)) => Ok(*value),
            Some(_) => Err(self.corrupt(name, "a boolean")),
        }
    }

    pub(super) fn uuid(&self, name: &str) -> StoreResult<Uuid> {
        Uuid::parse_str(self.str(name)?).map_err(|_| self.corrupt(name, "a UUID"))
    }

    pub(super) fn account(&self, name: &str) -> StoreResult<AccountId> {
        self.uuid(name).map(AccountId)
    }

    pub(super) fn strings(&self, name: &str) -> StoreResult<Vec<String>> {
        match self.0.get(name) {
            Some(AttributeValue::L(values)) => values
                .iter()
                .map(|v| match v {
                    AttributeValue::S(value) => Ok(value.clone()),
                    _ => Err(self.corrupt(name, "a list of strings")),
                })
                .collect(),
            _ => Err(self.corrupt(name, "a list of strings")),
        }
    }

    /// A JSON document stored as text.
    pub(super) fn json(&self, name: &str) -> StoreResult<serde_json::Value> {
        serde_json::from_str(self.str(name)?).map_err(|_| self.corrupt(name, "JSON text"))
    }

    /// The item's sort key.
    pub(super) fn sk(&self) -> StoreResult<&'a str> {
        self.str("sk")
    }

    /// An item the store did not write this way: the table was written by something else.
    fn corrupt(&self, name: &str, expected: &str) -> StoreError {
        StoreError::Backend(
            format!(
                "DynamoDB item {}: attribute `{name}` is not {expected}",
                key_text(self.0)
            )
            .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_numbers_sort_like_the_numbers() {
        let numbers = [i64::MIN, -5_000, -1, 0, 1, 1_767_225_600_000, i64::MAX];
        let texts: Vec<String> = numbers.iter().map(|n| sortable(*n)).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert!(texts.iter().all(|t| t.len() == 20));
        assert_eq!(sortable_unsigned(7), "00000000000000000007");
    }

    #[test]
    fn names_are_found_in_every_expression() {
        let names = names([
            "SET #ttl = :t, #count = #count + :one",
            "attribute_exists(#pk)",
        ])
        .unwrap();
        assert_eq!(names.len(), 3);
        assert_eq!(names["#ttl"], "ttl");
        assert_eq!(names["#pk"], "pk");
        assert_eq!(super::names(["attribute_exists(pk)"]), None);
    }
}
