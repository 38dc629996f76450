//! Login sessions and their rotating refresh tokens.
//!
//! A session is a partition of its own: the session item (`SESSION#<id>`/`SESSION`, holding the
//! hash of the current token) and one `TOKEN#<hash>` item per token it ever issued. A token is
//! found by `REFRESH#<hash>`, and an account's sessions by `SESSION#<id>` items in the account's
//! partition. Rotation is one transaction conditioned on the session's current token, so of two
//! concurrent rotations exactly one succeeds; the other then finds the token spent.
//!
//! Everything carries the session's expiry as its TTL. A spent token is remembered until the
//! instant it would have expired had it not been rotated: replaying it before then revokes the
//! session (`Reused`); after that it is as unknown as any expired token (`Invalid`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::item::{Attrs, expiry, s, time, with};
use super::{DynamoStore, keys};
use crate::domain::AccountId;
use crate::store::{NewSession, Rotation, SessionStore, StoreError, StoreResult};

/// How often a rotation that raced another write of its session is tried again.
const RACE_ATTEMPTS: usize = 5;

fn uuid_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

impl DynamoStore {
    /// Deletes a session and every token it issued. Returns whether the session item existed.
    /// Idempotent, and a retry after a failure finishes the job: the session and its listing
    /// under the account go first (together), then the tokens, found in the session's partition.
    pub(super) async fn revoke(&self, session: Uuid) -> StoreResult<bool> {
        let existed = match self.get(keys::session(session)).await? {
            Some(item) => {
                let account = Attrs(&item).account("account")?;
                let actions = vec![
                    self.delete(keys::session(session), None, vec![])?,
                    self.delete(keys::account_session(account, session), None, vec![])?,
                ];
                self.transact(actions).await?.map_err(|c| {
                    StoreError::Backend(format!("revoking a session: {c:?}").into())
                })?;
                true
            }
            None => false,
        };
        let tokens = self
            .partition(&keys::session_pk(session), keys::SESSION_TOKEN)
            .await?;
        let mut doomed = Vec::with_capacity(tokens.len() * 2);
        for token in &tokens {
            let hash = Attrs(token).str("hash")?;
            doomed.push(keys::refresh_token(hash));
            doomed.push(keys::session_token(session, hash));
        }
        self.delete_keys(doomed).await?;
        Ok(existed)
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    /// `NotFound` if the account does not exist.
    async fn create_session(&self, session: NewSession) -> StoreResult<()> {
        let ttl = expiry(session.expires_at);
        let sid = uuid_text(session.id);
        let actions = vec![
            self.put(
                with(
                    keys::session(session.id),
                    [
                        ("account", s(uuid_text(session.account.0))),
                        ("created_at", time(session.created_at)),
                        ("expires_at", time(session.expires_at)),
                        ("current", s(&session.token_hash)),
                        ("ttl", ttl.clone()),
                    ],
                ),
                Some("attribute_not_exists(#pk)"),
                vec![],
            )?,
            self.put(
                with(
                    keys::session_token(session.id, &session.token_hash),
                    [("hash", s(&session.token_hash)), ("ttl", ttl.clone())],
                ),
                None,
                vec![],
            )?,
            self.put(
                with(
                    keys::refresh_token(&session.token_hash),
                    [("session", s(&sid)), ("ttl", ttl.clone())],
                ),
                Some("attribute_not_exists(#pk)"),
                vec![],
            )?,
            self.put(
                with(
                    keys::account_session(session.account, session.id),
                    [("session", s(&sid)), ("ttl", ttl)],
                ),
                None,
                vec![],
            )?,
            self.check_alive(session.account)?,
        ];
        match self.transact(actions).await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed(4) => Err(StoreError::NotFound),
            Err(cancelled) => Err(StoreError::Backend(
                format!(
                    "session {} or its token already exists: {cancelled:?}",
                    session.id
                )
                .into(),
            )),
        }
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        new_expiry: DateTime<Utc>,
        grace_since: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        let Some(token) = self.get(keys::refresh_token(old_hash)).await? else {
            return Ok(Rotation::Invalid);
        };
        let session = Attrs(&token).uuid("session")?;
        for _ in 0..RACE_ATTEMPTS {
            let Some(item) = self.get(keys::session(session)).await? else {
                return Ok(Rotation::Invalid);
            };
            let a = Attrs(&item);
            let account = a.account("account")?;
            if a.time("expires_at")? <= now {
                // Dead already; dropping it here spares waiting for its TTL.
                self.revoke(session).await?;
                return Ok(Rotation::Invalid);
            }
            let current = a.str("current")?;
            // The presented token is current: a rotation, remembered as the latest. Or it is the
            // one the latest rotation spent, within the grace: the token that rotation made is
            // spent instead, and the latest rotation stays the one that spent `old_hash`.
            let (set, condition) = if current == old_hash {
                (
                    "SET #current = :new, #previous = :old, #rotated_at = :now, \
                     #expires_at = :expiry, #ttl = :ttl",
                    "#current = :current AND #expires_at > :now",
                )
            } else if a.opt_str("previous")? == Some(old_hash)
                && a.opt_time("rotated_at")?
                    .is_some_and(|at| at >= grace_since)
            {
                (
                    "SET #current = :new, #expires_at = :expiry, #ttl = :ttl",
                    "#current = :current AND #previous = :old AND #expires_at > :now",
                )
            } else {
                self.revoke(session).await?;
                return Ok(Rotation::Reused { session, account });
            };
            let ttl = expiry(new_expiry);
            let session_update = self.update(
                keys::session(session),
                set,
                Some(condition),
                vec![
                    (":new", s(new_hash)),
                    (":expiry", time(new_expiry)),
                    (":ttl", ttl.clone()),
                    (":current", s(current)),
                    (":old", s(old_hash)),
                    (":now", time(now)),
                ],
            )?;
            let actions = vec![
                session_update,
                self.put(
                    with(
                        keys::refresh_token(new_hash),
                        [("session", s(uuid_text(session))), ("ttl", ttl.clone())],
                    ),
                    Some("attribute_not_exists(#pk)"),
                    vec![],
                )?,
                self.put(
                    with(
                        keys::session_token(session, new_hash),
                        [("hash", s(new_hash)), ("ttl", ttl.clone())],
                    ),
                    None,
                    vec![],
                )?,
                // The listing under the account lives as long as the session.
                self.put(
                    with(
                        keys::account_session(account, session),
                        [("session", s(uuid_text(session))), ("ttl", ttl)],
                    ),
                    None,
                    vec![],
                )?,
            ];
            match self.transact(actions).await? {
                Ok(()) => return Ok(Rotation::Rotated { session, account }),
                Err(cancelled) if cancelled.failed(1) => {
                    return Err(StoreError::Backend(
                        "a new refresh token's hash is already in use".into(),
                    ));
                }
                // Rotated, revoked or expired meanwhile: look again.
                Err(_) => continue,
            }
        }
        Err(StoreError::Unavailable(
            "rotating a refresh token kept racing other writes".into(),
        ))
    }

    async fn session_alive(
        &self,
        session: Uuid,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let Some(item) = self.get(keys::session(session)).await? else {
            return Ok(false);
        };
        let a = Attrs(&item);
        Ok(a.account("account")? == account && a.time("expires_at")? > now)
    }

    async fn revoke_session(&self, session: Uuid) -> StoreResult<()> {
        self.revoke(session).await.map(drop)
    }

    async fn revoke_sessions(&self, account: AccountId, keep: Option<Uuid>) -> StoreResult<u64> {
        let listed = self
            .partition(&keys::account_pk(account), keys::ACCOUNT_SESSION)
            .await?;
        let mut revoked = 0;
        for item in &listed {
            let session = Attrs(item).uuid("session")?;
            if Some(session) == keep {
                continue;
            }
            if self.revoke(session).await? {
                revoked += 1;
            } else {
                // A listing whose session expired and was removed by its TTL first.
                self.delete_keys(vec![keys::account_session(account, session)])
                    .await?;
            }
        }
        Ok(revoked)
    }
}
