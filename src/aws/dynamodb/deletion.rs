//! `delete_account`: many requests, but nothing left dangling, and safe to retry.
//!
//! 1. One transaction marks the profile `deleting` (from then on the account reads as absent,
//!    leaves the directory indexes, and every write that would create something naming it
//!    fails its `ALIVE` check) and frees its username and email.
//! 2. Everything in the account's partition is visited (a strongly consistent query): every
//!    relation has its other half found from here and removed, restrictions the account issued
//!    in other channels are re-attributed to their channel, and the channel's own chat, polls
//!    and votes go with it.
//! 3. The partition's own items go, the profile last.
//!
//! A call that fails part-way leaves the mark; calling `delete_account` again finds it and
//! finishes the job (the mark is what tells a retry from a second deletion).

use super::item::{Attrs, Item, id, key, s, with};
use super::moderation::kind_from_text;
use super::{DynamoStore, Query, keys};
use crate::domain::AccountId;
use crate::store::{RestrictionKind, StoreError, StoreResult};

/// How often marking an account raced another write of its profile before giving up.
const RACE_ATTEMPTS: usize = 5;

impl DynamoStore {
    pub(super) async fn delete_account_everywhere(&self, account: AccountId) -> StoreResult<()> {
        let profile = self.mark_deleting(account).await?;
        self.remembered_authors_forget(account);
        let (mut others, own) = self.take_apart(account).await?;
        others.extend(self.stream_keys(account).await?);
        self.delete_if(
            keys::channel_arn(Attrs(&profile).str("arn")?),
            "#account = :account",
            vec![(":account", id(account.0))],
        )
        .await?;
        // The other halves first: the account's own items are how a retry finds them.
        self.delete_keys(others).await?;
        self.delete_keys(own).await?;
        self.delete_keys(vec![keys::profile(account)]).await
    }

    /// Step 1. `NotFound` if there is no such account; `Ok` if it is already marked. Returns the
    /// profile as it was.
    async fn mark_deleting(&self, account: AccountId) -> StoreResult<Item> {
        for _ in 0..RACE_ATTEMPTS {
            let Some(profile) = self.get(keys::profile(account)).await? else {
                return Err(StoreError::NotFound);
            };
            let a = Attrs(&profile);
            if a.has("deleting") {
                return Ok(profile);
            }
            let username_key = a.str("username_key")?;
            let email = a.str("email")?;
            let held_by_it = "attribute_not_exists(#pk) OR #account = :account";
            let actions = vec![
                self.update(
                    keys::profile(account),
                    "SET #deleting = :yes REMOVE #live_pk, #stage_pk",
                    Some(
                        "attribute_exists(#pk) AND attribute_not_exists(#deleting) \
                         AND #username_key = :username_key AND #email = :email",
                    ),
                    vec![
                        (":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true)),
                        (":username_key", s(username_key)),
                        (":email", s(email)),
                    ],
                )?,
                self.delete(
                    keys::username(username_key),
                    Some(held_by_it),
                    vec![(":account", id(account.0))],
                )?,
                self.delete(
                    keys::email(email),
                    Some(held_by_it),
                    vec![(":account", id(account.0))],
                )?,
            ];
            match self.transact(actions).await? {
                Ok(()) => return Ok(profile),
                Err(cancelled) if cancelled.failed(1) || cancelled.failed(2) => {
                    return Err(StoreError::Backend(
                        format!("the username or email of {account} is held by another account")
                            .into(),
                    ));
                }
                // Renamed, or marked by a concurrent deletion: read again.
                Err(_) => continue,
            }
        }
        Err(StoreError::Unavailable(
            "marking an account for deletion kept racing other writes".into(),
        ))
    }

    /// Step 2: undoes every relation and re-attributes issued restrictions. Returns the keys to
    /// delete: the other halves (and the channel's chat, polls and votes), then the account's
    /// own items (without the profile).
    async fn take_apart(&self, account: AccountId) -> StoreResult<(Vec<Item>, Vec<Item>)> {
        let me = id(account.0);
        let mut others = Vec::new();
        let mut own = Vec::new();
        for item in self.whole_partition(&keys::account_pk(account)).await? {
            let a = Attrs(&item);
            let sk = a.sk()?.to_owned();
            if sk == keys::PROFILE {
                continue;
            }
            if sk.starts_with(keys::FOLLOWS) {
                others.push(keys::follower(a.account("followed")?, account));
            } else if sk.starts_with(keys::FOLLOWER) {
                others.push(keys::follows(a.account("follower")?, account));
            } else if sk.starts_with(keys::ACCOUNT_SESSION) {
                self.revoke(a.uuid("session")?).await?;
            } else if sk.starts_with(keys::MAIL_TOKEN_ANY) {
                // The token's own key is the listing's sort key.
                others.push(key(sk.clone(), "MAILTOKEN"));
            } else if sk.starts_with(keys::RESTRICTION) {
                let (user, kind) = (a.account("user")?, kind_of(&a)?);
                others.push(keys::restricted(user, account, kind));
                others.push(keys::issued(a.account("by")?, account, user, kind));
            } else if sk.starts_with(keys::RESTRICTED) {
                let (channel, kind) = (a.account("channel")?, kind_of(&a)?);
                let lifted = self
                    .delete_returning(keys::restriction(channel, account, kind))
                    .await?;
                if let Some(lifted) = lifted {
                    let by = Attrs(&lifted).account("by")?;
                    others.push(keys::issued(by, channel, account, kind));
                }
            } else if sk.starts_with(keys::ISSUED) {
                let channel = a.account("channel")?;
                if channel != account {
                    self.reattribute(account, channel, a.account("user")?, kind_of(&a)?)
                        .await?;
                }
            } else if sk.starts_with(keys::MODERATOR) {
                others.push(keys::moderates(a.account("user")?, account));
            } else if sk.starts_with(keys::MODERATES) {
                others.push(keys::moderator(a.account("channel")?, account));
            } else if sk.starts_with(keys::CHANNEL_POLL) {
                let poll = a.uuid("poll")?;
                for item in self.whole_partition(&keys::poll_pk(poll)).await? {
                    let v = Attrs(&item);
                    if v.sk()?.starts_with(keys::VOTE) {
                        others.push(keys::voted(v.account("voter")?, poll));
                    }
                    others.push(key(v.str("pk")?, v.sk()?));
                }
            } else if sk.starts_with(keys::VOTED) {
                // The vote goes; the poll's tally keeps counting it.
                others.push(keys::vote(a.uuid("poll")?, account));
            } else if sk.starts_with(keys::CHATTED) {
                let channel = a.account("channel")?;
                others.extend(self.messages_by(channel, &me).await?);
                others.push(keys::chat_author(channel, account));
            }
            own.push(key(a.str("pk")?, sk));
        }
        // The channel's chat: its messages, offset, and the other half of each author's item.
        for item in self.whole_partition(&keys::chat_pk(account)).await? {
            let a = Attrs(&item);
            if a.sk()?.starts_with(keys::AUTHOR) {
                others.push(keys::chatted(a.account("author")?, account));
            }
            others.push(key(a.str("pk")?, a.sk()?));
        }
        Ok((others, own))
    }

    /// A restriction `moderator` issued in `channel` stays in force, issued in the channel's
    /// name, unless it was replaced or lifted meanwhile (then its condition fails and there is
    /// nothing to do) or the channel is being deleted too (which removes it).
    async fn reattribute(
        &self,
        moderator: AccountId,
        channel: AccountId,
        user: AccountId,
        kind: RestrictionKind,
    ) -> StoreResult<()> {
        let naming = [
            ("channel", id(channel.0)),
            ("user", id(user.0)),
            ("kind", s(keys::kind_text(kind))),
        ];
        let actions = vec![
            self.update(
                keys::restriction(channel, user, kind),
                "SET #by = :channel",
                Some("#by = :moderator"),
                vec![(":channel", id(channel.0)), (":moderator", id(moderator.0))],
            )?,
            self.put(
                with(keys::issued(channel, channel, user, kind), naming),
                None,
                vec![],
            )?,
            self.check_alive(channel)?,
        ];
        self.transact(actions).await.map(drop)
    }

    /// The keys of the messages kept in `channel`'s chat whose author is `author` (an id).
    async fn messages_by(
        &self,
        channel: AccountId,
        author: &aws_sdk_dynamodb::types::AttributeValue,
    ) -> StoreResult<Vec<Item>> {
        let messages = self
            .query(Query {
                key_condition: "#pk = :pk AND begins_with(#sk, :prefix)",
                filter: Some("#author = :author"),
                projection: Some("#pk, #sk"),
                values: vec![
                    (":pk", s(keys::chat_pk(channel))),
                    (":prefix", s(keys::MESSAGE)),
                    (":author", author.clone()),
                ],
                ..Query::default()
            })
            .await?;
        Ok(messages)
    }

    /// Every item of a partition.
    async fn whole_partition(&self, pk: &str) -> StoreResult<Vec<Item>> {
        self.query(Query {
            key_condition: "#pk = :pk",
            values: vec![(":pk", s(pk))],
            ..Query::default()
        })
        .await
    }

    /// Deletes one item, returning it if it existed.
    async fn delete_returning(&self, key: Item) -> StoreResult<Option<Item>> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.fail("DeleteItem", e))?;
        Ok(output.attributes.filter(|a| !a.is_empty()))
    }

    /// Forgets this process's memory of the account's chat author items (see `chat`), so that
    /// no later message of it skips the check that it exists.
    fn remembered_authors_forget(&self, account: AccountId) {
        self.remembered_authors()
            .retain(|(channel, author)| *channel != account && *author != account);
    }
}

fn kind_of(a: &Attrs<'_>) -> StoreResult<RestrictionKind> {
    kind_from_text(a.str("kind")?)
}
