//! Moderation in the channel's partition: restrictions (`RESTRICTION#<user>#<kind>`), moderator
//! roles (`MODERATOR#<user>`) and chat settings (`CHATSETTINGS`).
//!
//! Each restriction is mirrored in the restricted user's partition (`RESTRICTED#…`) and in the
//! partition of whoever issued it (`ISSUED#…`); each role in the moderator's (`MODERATES#…`).
//! The mirrors are written in the same transaction as the restriction or role, and a
//! restriction's write is conditioned on the issuer it replaces, so the mirrors are always
//! exactly the restrictions that exist.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::item::{Attrs, Item, id, n, s, strings, time, with};
use super::{DynamoStore, keys};
use crate::domain::{AccountId, ChatSettings};
use crate::store::{ModerationStore, Restriction, RestrictionKind, StoreError, StoreResult};

/// How often a write that raced another write of the same restriction is tried again.
const RACE_ATTEMPTS: usize = 5;

pub(super) fn kind_from_text(text: &str) -> StoreResult<RestrictionKind> {
    match text {
        "ban" => Ok(RestrictionKind::Ban),
        "timeout" => Ok(RestrictionKind::Timeout),
        other => Err(StoreError::Backend(
            format!("unknown restriction kind {other:?}").into(),
        )),
    }
}

fn restriction_from_item(item: &Item) -> StoreResult<Restriction> {
    let a = Attrs(item);
    Ok(Restriction {
        channel: a.account("channel")?,
        user: a.account("user")?,
        kind: kind_from_text(a.str("kind")?)?,
        until: a.opt_time("until")?,
        by: a.account("by")?,
        created_at: a.time("created_at")?,
    })
}

/// The attributes every restriction item and mirror carries, naming the restriction.
fn naming(
    channel: AccountId,
    user: AccountId,
    kind: RestrictionKind,
) -> [(&'static str, aws_sdk_dynamodb::types::AttributeValue); 3] {
    [
        ("channel", id(channel.0)),
        ("user", id(user.0)),
        ("kind", s(keys::kind_text(kind))),
    ]
}

/// In force at `now`: without an end, or ending after `now` (a timeout is over at its instant).
fn in_force(restriction: &Restriction, now: DateTime<Utc>) -> bool {
    restriction.until.is_none_or(|until| until > now)
}

/// Newest first, then by user and kind (as SQLite orders them).
fn newest_first(restrictions: &mut [Restriction]) {
    restrictions.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then(a.user.cmp(&b.user))
            .then(keys::kind_text(a.kind).cmp(keys::kind_text(b.kind)))
    });
}

impl DynamoStore {
    async fn restrictions_with_prefix(
        &self,
        channel: AccountId,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>> {
        // Expired items are left in place: the next restriction of that kind replaces them,
        // and deleting the account of either side removes them.
        let items = self.partition(&keys::account_pk(channel), prefix).await?;
        let mut restrictions = items
            .iter()
            .map(restriction_from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        restrictions.retain(|r| in_force(r, now));
        newest_first(&mut restrictions);
        Ok(restrictions)
    }
}

#[async_trait]
impl ModerationStore for DynamoStore {
    /// `NotFound` if the channel, the user or the issuer does not exist.
    async fn restrict(&self, restriction: Restriction) -> StoreResult<()> {
        let Restriction {
            channel,
            user,
            kind,
            until,
            by,
            created_at,
        } = restriction;
        for _ in 0..RACE_ATTEMPTS {
            let replaced = self.get(keys::restriction(channel, user, kind)).await?;
            let replaced_by = replaced
                .as_ref()
                .map(|item| Attrs(item).account("by"))
                .transpose()?;
            let mut item = with(
                keys::restriction(channel, user, kind),
                naming(channel, user, kind),
            );
            item.extend([
                ("by".to_owned(), id(by.0)),
                ("created_at".to_owned(), time(created_at)),
            ]);
            if let Some(until) = until {
                item.insert("until".to_owned(), time(until));
            }
            let mut actions = vec![
                match replaced_by {
                    None => self.put(item, Some("attribute_not_exists(#pk)"), vec![])?,
                    Some(old) => self.put(item, Some("#by = :old"), vec![(":old", id(old.0))])?,
                },
                self.put(
                    with(
                        keys::restricted(user, channel, kind),
                        naming(channel, user, kind),
                    ),
                    None,
                    vec![],
                )?,
                self.put(
                    with(
                        keys::issued(by, channel, user, kind),
                        naming(channel, user, kind),
                    ),
                    None,
                    vec![],
                )?,
            ];
            if let Some(old) = replaced_by.filter(|old| *old != by) {
                actions.push(self.delete(keys::issued(old, channel, user, kind), None, vec![])?);
            }
            let checks = self.check_all_alive(&[channel, user, by])?;
            let checked = actions.len()..actions.len() + checks.len();
            actions.extend(checks);
            match self.transact(actions).await? {
                Ok(()) => return Ok(()),
                Err(cancelled) if checked.clone().any(|i| cancelled.failed(i)) => {
                    return Err(StoreError::NotFound);
                }
                // Replaced or lifted meanwhile: read again.
                Err(_) => continue,
            }
        }
        Err(StoreError::Unavailable(
            "restricting kept racing other writes".into(),
        ))
    }

    async fn lift(
        &self,
        channel: AccountId,
        user: AccountId,
        kind: RestrictionKind,
    ) -> StoreResult<bool> {
        for _ in 0..RACE_ATTEMPTS {
            let Some(item) = self.get(keys::restriction(channel, user, kind)).await? else {
                return Ok(false);
            };
            let by = Attrs(&item).account("by")?;
            let actions = vec![
                self.delete(
                    keys::restriction(channel, user, kind),
                    Some("#by = :by"),
                    vec![(":by", id(by.0))],
                )?,
                self.delete(keys::restricted(user, channel, kind), None, vec![])?,
                self.delete(keys::issued(by, channel, user, kind), None, vec![])?,
            ];
            match self.transact(actions).await? {
                Ok(()) => return Ok(true),
                Err(_) => continue,
            }
        }
        Err(StoreError::Unavailable(
            "lifting kept racing other writes".into(),
        ))
    }

    async fn restrictions(
        &self,
        channel: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>> {
        self.restrictions_with_prefix(channel, keys::RESTRICTION, now)
            .await
    }

    async fn restrictions_of(
        &self,
        channel: AccountId,
        user: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Restriction>> {
        self.restrictions_with_prefix(channel, &keys::restrictions_of_prefix(user), now)
            .await
    }

    /// `NotFound` if the channel or the user does not exist.
    async fn add_moderator(&self, channel: AccountId, user: AccountId) -> StoreResult<bool> {
        let mut actions = vec![
            self.put(
                with(keys::moderator(channel, user), [("user", id(user.0))]),
                Some("attribute_not_exists(#pk)"),
                vec![],
            )?,
            self.put(
                with(keys::moderates(user, channel), [("channel", id(channel.0))]),
                None,
                vec![],
            )?,
        ];
        let checks = self.check_all_alive(&[channel, user])?;
        let checked = 2..2 + checks.len();
        actions.extend(checks);
        match self.transact(actions).await? {
            Ok(()) => Ok(true),
            Err(cancelled) if checked.clone().any(|i| cancelled.failed(i)) => {
                Err(StoreError::NotFound)
            }
            Err(_) => Ok(false),
        }
    }

    async fn remove_moderator(&self, channel: AccountId, user: AccountId) -> StoreResult<bool> {
        let actions = vec![
            self.delete(
                keys::moderator(channel, user),
                Some("attribute_exists(#pk)"),
                vec![],
            )?,
            self.delete(keys::moderates(user, channel), None, vec![])?,
        ];
        Ok(self.transact(actions).await?.is_ok())
    }

    /// By user id.
    async fn moderators(&self, channel: AccountId) -> StoreResult<Vec<AccountId>> {
        let items = self
            .partition(&keys::account_pk(channel), keys::MODERATOR)
            .await?;
        items
            .iter()
            .map(|item| Attrs(item).account("user"))
            .collect()
    }

    async fn chat_settings(&self, channel: AccountId) -> StoreResult<ChatSettings> {
        let Some(item) = self.get(keys::chat_settings(channel)).await? else {
            return Ok(ChatSettings::default());
        };
        let a = Attrs(&item);
        Ok(ChatSettings {
            slow_mode_secs: a.uint("slow_mode_secs")?,
            followers_only_minutes: a
                .opt_int("followers_only_minutes")?
                .map(|m| {
                    u32::try_from(m).map_err(|_| {
                        StoreError::Backend("followers_only_minutes out of range".into())
                    })
                })
                .transpose()?,
            banned_words: a.strings("banned_words")?,
        })
    }

    /// Replaces all of the channel's settings. `NotFound` if the channel does not exist.
    async fn set_chat_settings(
        &self,
        channel: AccountId,
        settings: &ChatSettings,
    ) -> StoreResult<()> {
        let mut item = with(
            keys::chat_settings(channel),
            [
                ("slow_mode_secs", n(settings.slow_mode_secs)),
                ("banned_words", strings(&settings.banned_words)),
            ],
        );
        if let Some(minutes) = settings.followers_only_minutes {
            item.insert("followers_only_minutes".to_owned(), n(minutes));
        }
        let actions = vec![self.put(item, None, vec![])?, self.check_alive(channel)?];
        match self.transact(actions).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::NotFound),
        }
    }
}
