//! Accounts and their channels: one profile item per account (`ACCOUNT#<id>`/`PROFILE`), plus
//! one item per taken username and per taken email that holds it for the account.

use std::collections::HashSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

use super::item::{self, Attrs, Item, s, time};
use super::keys::{self, LIVE_INDEX, STAGED_INDEX};
use super::{ALIVE, DynamoStore, Query, Values, error::condition_failed};
use crate::domain::{AccountId, Avatar, AvatarPreset, Color, Email, Username};
use crate::store::{
    Account, AccountStore, ChannelResources, NewAccount, ProfileChange, StoreError, StoreResult,
    UniqueField,
};

/// Marks an uploaded avatar's asset key; preset names never contain a colon.
const UPLOADED_AVATAR_PREFIX: &str = "upload:";

/// How often a write that raced another write of the same account is tried again.
const RACE_ATTEMPTS: usize = 5;

/// The value of `live_pk` and `stage_pk` while set: the one partition of each sparse index.
const LIVE: &str = "LIVE";
const STAGED: &str = "STAGED";

const NOT_EXISTS: &str = "attribute_not_exists(#pk)";

fn avatar_to_text(avatar: &Avatar) -> String {
    match avatar {
        Avatar::Preset(preset) => preset.as_str().to_owned(),
        Avatar::Uploaded(key) => format!("{UPLOADED_AVATAR_PREFIX}{key}"),
    }
}

fn avatar_from_text(text: &str) -> StoreResult<Avatar> {
    match text.strip_prefix(UPLOADED_AVATAR_PREFIX) {
        Some(key) => Ok(Avatar::Uploaded(key.to_owned())),
        None => AvatarPreset::parse(text)
            .map(Avatar::Preset)
            .map_err(|e| StoreError::Backend(Box::new(e))),
    }
}

/// The profile item of a new account.
fn new_profile(new: &NewAccount) -> Item {
    let mut item = keys::profile(new.id);
    item.extend([
        ("id".to_owned(), s(new.id.0.hyphenated().to_string())),
        ("username".to_owned(), s(new.username.as_str())),
        ("username_key".to_owned(), s(new.username.key())),
        ("email".to_owned(), s(new.email.as_str())),
        ("password_hash".to_owned(), s(&new.password_hash)),
        (
            "email_verified".to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::Bool(new.email_verified),
        ),
        ("color".to_owned(), s(new.color.as_str())),
        (
            "avatar".to_owned(),
            s(avatar_to_text(&Avatar::Preset(new.avatar))),
        ),
        ("created_at".to_owned(), time(new.created_at)),
        ("arn".to_owned(), s(&new.channel.arn)),
        (
            "ingest_endpoint".to_owned(),
            s(&new.channel.ingest_endpoint),
        ),
        ("stream_key".to_owned(), s(&new.channel.stream_key)),
        ("playback_url".to_owned(), s(&new.channel.playback_url)),
    ]);
    item
}

/// The account a profile item describes; `None` for one being deleted.
pub(super) fn account_from_item(item: &Item) -> StoreResult<Option<Account>> {
    let a = Attrs(item);
    if a.has("deleting") {
        return Ok(None);
    }
    Ok(Some(Account {
        id: a.account("id")?,
        username: Username::from_trusted(a.string("username")?),
        email: Email::from_trusted(a.string("email")?),
        password_hash: a.string("password_hash")?,
        email_verified: a.flag("email_verified")?,
        color: Color::parse(a.str("color")?).map_err(|e| StoreError::Backend(Box::new(e)))?,
        avatar: avatar_from_text(a.str("avatar")?)?,
        banner: a.opt_str("banner")?.map(str::to_owned),
        created_at: a.time("created_at")?,
        channel: ChannelResources {
            arn: a.string("arn")?,
            ingest_endpoint: a.string("ingest_endpoint")?,
            stream_key: a.string("stream_key")?,
            playback_url: a.string("playback_url")?,
        },
        live_since: a.opt_time("live_since")?,
        stage_since: a.opt_time("stage_since")?,
    }))
}

/// An item that holds a unique value (a username key, an email) for `account`.
pub(super) fn holder(mut key: Item, account: AccountId) -> Item {
    key.insert("account".to_owned(), s(account.0.hyphenated().to_string()));
    key
}

impl DynamoStore {
    /// Updates the profile of a live account; `NotFound` if there is none. Returns the item as
    /// it now is.
    async fn update_account(
        &self,
        id: AccountId,
        update: &str,
        condition: &str,
        values: Values,
    ) -> StoreResult<Item> {
        let condition = if condition.is_empty() {
            ALIVE.to_owned()
        } else {
            format!("{ALIVE} AND {condition}")
        };
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::profile(id)))
            .update_expression(update)
            .condition_expression(&condition)
            .set_expression_attribute_names(item::names([update, condition.as_str()]))
            .set_expression_attribute_values(item::values(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match output {
            Ok(output) => Ok(output.attributes.unwrap_or_default()),
            Err(e) if condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(self.fail("UpdateItem", e)),
        }
    }

    /// The account that holds a unique value, if it still does.
    async fn account_held_by(
        &self,
        holder: Item,
        holds: impl Fn(&Account) -> bool,
    ) -> StoreResult<Option<Account>> {
        let Some(holder) = self.get(holder).await? else {
            return Ok(None);
        };
        let id = Attrs(&holder).account("account")?;
        Ok(self.account(id).await?.filter(holds))
    }

    /// The parsed accounts of index items, skipping those being deleted and repeats.
    fn accounts_of(items: &[Item], seen: &mut HashSet<AccountId>) -> StoreResult<Vec<Account>> {
        let mut accounts = Vec::with_capacity(items.len());
        for item in items {
            if let Some(account) = account_from_item(item)?
                && seen.insert(account.id)
            {
                accounts.push(account);
            }
        }
        Ok(accounts)
    }
}

#[async_trait]
impl AccountStore for DynamoStore {
    /// The profile and both unique values in one transaction, each written only if absent.
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let profile = new_profile(&new);
        let actions = vec![
            self.put(profile.clone(), Some(NOT_EXISTS), vec![])?,
            self.put(
                holder(keys::username(&new.username.key()), new.id),
                Some(NOT_EXISTS),
                vec![],
            )?,
            self.put(
                holder(keys::email(new.email.as_str()), new.id),
                Some(NOT_EXISTS),
                vec![],
            )?,
            // Media ARNs are unique by the media service's doing; this only finds them.
            self.put(
                holder(keys::channel_arn(&new.channel.arn), new.id),
                None,
                vec![],
            )?,
        ];
        match self.transact(actions).await? {
            Ok(()) => account_from_item(&profile)?
                .ok_or_else(|| StoreError::Backend("a new account reads as deleted".into())),
            // The username first, as SQLite reports a clash on both.
            Err(cancelled) if cancelled.failed(1) => {
                Err(StoreError::Conflict(UniqueField::Username))
            }
            Err(cancelled) if cancelled.failed(2) => Err(StoreError::Conflict(UniqueField::Email)),
            Err(_) => Err(StoreError::Backend(
                format!("account id {} is already taken", new.id).into(),
            )),
        }
    }

    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        match self.get(keys::profile(id)).await? {
            Some(item) => account_from_item(&item),
            None => Ok(None),
        }
    }

    async fn account_by_username(&self, key: &str) -> StoreResult<Option<Account>> {
        self.account_held_by(keys::username(key), |a| a.username.key() == key)
            .await
    }

    async fn account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        self.account_held_by(keys::email(email.as_str()), |a| a.email == *email)
            .await
    }

    async fn set_email_verified(&self, id: AccountId) -> StoreResult<()> {
        self.update_account(
            id,
            "SET #email_verified = :yes",
            "",
            vec![(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))],
        )
        .await
        .map(drop)
    }

    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()> {
        self.update_account(
            id,
            "SET #password_hash = :hash",
            "",
            vec![(":hash", s(hash))],
        )
        .await
        .map(drop)
    }

    /// Moves the username from the old holder item to a new one in one transaction with the
    /// profile, conditioned on the name read (so a concurrent rename is noticed and redone).
    async fn rename(&self, id: AccountId, username: &Username) -> StoreResult<()> {
        let new_key = username.key();
        for _ in 0..RACE_ATTEMPTS {
            let current = self.account(id).await?.ok_or(StoreError::NotFound)?;
            let old_key = current.username.key();
            if old_key == new_key {
                // Another spelling of one's own name: the holder item stays as it is.
                match self
                    .update_account(
                        id,
                        "SET #username = :username",
                        "#username_key = :key",
                        vec![(":username", s(username.as_str())), (":key", s(&new_key))],
                    )
                    .await
                {
                    // Renamed or deleted meanwhile: read again.
                    Err(StoreError::NotFound) => continue,
                    outcome => return outcome.map(drop),
                }
            }
            let actions = vec![
                self.update(
                    keys::profile(id),
                    "SET #username = :username, #username_key = :new_key",
                    Some(&format!("{ALIVE} AND #username_key = :old_key")),
                    vec![
                        (":username", s(username.as_str())),
                        (":new_key", s(&new_key)),
                        (":old_key", s(&old_key)),
                    ],
                )?,
                self.put(
                    holder(keys::username(&new_key), id),
                    Some(NOT_EXISTS),
                    vec![],
                )?,
                self.delete(
                    keys::username(&old_key),
                    Some("#account = :account"),
                    vec![(":account", s(id.0.hyphenated().to_string()))],
                )?,
            ];
            match self.transact(actions).await? {
                Ok(()) => return Ok(()),
                Err(cancelled) if cancelled.failed(1) => {
                    return Err(StoreError::Conflict(UniqueField::Username));
                }
                Err(cancelled) if cancelled.failed(2) => {
                    return Err(StoreError::Backend(
                        format!("the username `{old_key}` of {id} is held by another account")
                            .into(),
                    ));
                }
                // Renamed or deleted meanwhile: read again.
                Err(_) => continue,
            }
        }
        Err(StoreError::Unavailable(format!(
            "renaming {id} kept racing other writes"
        )))
    }

    async fn update_profile(&self, id: AccountId, change: ProfileChange) -> StoreResult<Account> {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut values: Values = Vec::new();
        if let Some(color) = change.color {
            set.push("#color = :color");
            values.push((":color", s(color.as_str())));
        }
        if let Some(avatar) = &change.avatar {
            set.push("#avatar = :avatar");
            values.push((":avatar", s(avatar_to_text(avatar))));
        }
        match change.banner {
            Some(Some(banner)) => {
                set.push("#banner = :banner");
                values.push((":banner", s(banner)));
            }
            Some(None) => remove.push("#banner"),
            None => {}
        }
        if set.is_empty() && remove.is_empty() {
            return self.account(id).await?.ok_or(StoreError::NotFound);
        }
        let mut update = String::new();
        if !set.is_empty() {
            update.push_str(&format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let item = self.update_account(id, update.trim(), "", values).await?;
        account_from_item(&item)?.ok_or(StoreError::NotFound)
    }

    async fn set_stream_key(&self, id: AccountId, stream_key: &str) -> StoreResult<()> {
        self.update_account(
            id,
            "SET #stream_key = :key",
            "",
            vec![(":key", s(stream_key))],
        )
        .await
        .map(drop)
    }

    /// Setting `live_pk` puts the profile in the live index; removing it takes it out.
    async fn set_live(&self, id: AccountId, since: Option<DateTime<Utc>>) -> StoreResult<()> {
        let outcome = match since {
            Some(since) => {
                self.update_account(
                    id,
                    "SET #live_since = :since, #live_pk = :live",
                    "",
                    vec![(":since", time(since)), (":live", s(LIVE))],
                )
                .await
            }
            None => {
                self.update_account(id, "REMOVE #live_since, #live_pk", "", vec![])
                    .await
            }
        };
        outcome.map(drop)
    }

    async fn set_stage(&self, id: AccountId, since: Option<DateTime<Utc>>) -> StoreResult<()> {
        let outcome = match since {
            Some(since) => {
                self.update_account(
                    id,
                    "SET #stage_since = :since, #stage_pk = :staged",
                    "",
                    vec![(":since", time(since)), (":staged", s(STAGED))],
                )
                .await
            }
            None => {
                self.update_account(id, "REMOVE #stage_since, #stage_pk", "", vec![])
                    .await
            }
        };
        outcome.map(drop)
    }

    async fn delete_account(&self, id: AccountId) -> StoreResult<()> {
        self.delete_account_everywhere(id).await
    }

    /// Two queries of sparse indexes, never a scan: the live index newest first, then the
    /// staged index newest first without the channels that are live.
    async fn live_channels(&self, limit: usize) -> StoreResult<Vec<Account>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let live = self
            .query(Query {
                index: Some(LIVE_INDEX),
                key_condition: "#live_pk = :live",
                values: vec![(":live", s(LIVE))],
                descending: true,
                want: Some(limit),
                ..Query::default()
            })
            .await?;
        let staged = self
            .query(Query {
                index: Some(STAGED_INDEX),
                key_condition: "#stage_pk = :staged",
                filter: Some("attribute_not_exists(#live_since)"),
                values: vec![(":staged", s(STAGED))],
                descending: true,
                want: Some(limit),
                ..Query::default()
            })
            .await?;
        let mut seen = HashSet::new();
        let mut live = Self::accounts_of(&live, &mut seen)?;
        live.sort_by(|a, b| b.live_since.cmp(&a.live_since).then(a.id.cmp(&b.id)));
        let mut staged = Self::accounts_of(&staged, &mut seen)?;
        staged.retain(|a| a.live_since.is_none());
        staged.sort_by(|a, b| b.stage_since.cmp(&a.stage_since).then(a.id.cmp(&b.id)));
        live.extend(staged);
        Ok(live)
    }
}
