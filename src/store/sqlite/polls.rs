//! Polls (`polls`, options as a JSON array) and their votes (`votes`, one row per poll and
//! voter). Tallies are never stored: they are counted from the votes on every read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqlJson, SqlTime, SqlUuid, SqliteStore, expect_one_row, sql_limit};
use crate::domain::AccountId;
use crate::store::{PollRecord, PollStore, StoreError, StoreResult};

/// The columns [`poll_from_row`] reads, in its order.
const POLL_COLUMNS: &str = "id, channel_id, question, options, started_at, deadline, closed_at";

/// The poll without its tally, which [`with_tallies`] counts.
fn poll_from_row(row: &Row<'_>) -> rusqlite::Result<PollRecord> {
    Ok(PollRecord {
        id: row.get::<_, SqlUuid>(0)?.0,
        channel: AccountId(row.get::<_, SqlUuid>(1)?.0),
        question: row.get(2)?,
        options: row.get::<_, SqlJson<Vec<String>>>(3)?.0,
        started_at: row.get::<_, SqlTime>(4)?.0,
        deadline: row.get::<_, SqlTime>(5)?.0,
        closed_at: row.get::<_, Option<SqlTime>>(6)?.map(|t| t.0),
        tally: Vec::new(),
    })
}

/// Counts each poll's votes per option. Call it in the transaction that read the polls, so the
/// tallies belong to the same state.
fn with_tallies(
    connection: &Connection,
    mut polls: Vec<PollRecord>,
) -> StoreResult<Vec<PollRecord>> {
    let mut count = connection.prepare_cached(
        "SELECT option_index, count(*) FROM votes WHERE poll_id = ?1 GROUP BY option_index",
    )?;
    for poll in &mut polls {
        poll.tally = vec![0; poll.options.len()];
        let counts = count
            .query_map([SqlUuid(poll.id)], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (option, votes) in counts {
            // `record_votes` checks indexes, so this only fails on a database written by
            // something else.
            let slot = usize::try_from(option)
                .ok()
                .and_then(|option| poll.tally.get_mut(option))
                .ok_or_else(|| {
                    StoreError::Backend(
                        format!(
                            "poll {} has votes for option {option}, which it lacks",
                            poll.id
                        )
                        .into(),
                    )
                })?;
            *slot = u64::try_from(votes).unwrap_or(0);
        }
    }
    Ok(polls)
}

#[async_trait]
impl PollStore for SqliteStore {
    /// `NotFound` if the channel does not exist.
    async fn create_poll(&self, poll: &PollRecord) -> StoreResult<()> {
        let poll = poll.clone();
        self.with_connection(move |connection| {
            connection.execute(
                "INSERT INTO polls
                     (id, channel_id, question, options, started_at, deadline, closed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    SqlUuid(poll.id),
                    SqlUuid(poll.channel.0),
                    poll.question,
                    SqlJson(&poll.options),
                    SqlTime(poll.started_at),
                    SqlTime(poll.deadline),
                    poll.closed_at.map(SqlTime),
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// A vote for an option the poll does not have fails the whole batch as `Backend` (callers
    /// check options first; this guards the tally). A vote by an account that no longer exists
    /// is not counted (`false`) rather than failing the others.
    async fn record_votes(
        &self,
        poll: Uuid,
        votes: &[(AccountId, u32)],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>> {
        let votes = votes.to_vec();
        self.with_connection(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let options = transaction
                .query_row(
                    "SELECT options FROM polls WHERE id = ?1",
                    [SqlUuid(poll)],
                    |row| row.get::<_, SqlJson<Vec<String>>>(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound)?
                .0;
            let out_of_range = votes
                .iter()
                .find(|(_, option)| u64::from(*option) >= options.len() as u64);
            if let Some((voter, option)) = out_of_range {
                return Err(StoreError::Backend(
                    format!(
                        "vote by {voter} for option {option} of poll {poll}, which has {} options",
                        options.len()
                    )
                    .into(),
                ));
            }
            let counted = {
                // The unique (poll, voter) index decides: a second vote, in this batch or an
                // earlier one, inserts nothing.
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO votes (poll_id, voter_id, option_index, voted_at)
                     SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?2)
                     ON CONFLICT DO NOTHING",
                )?;
                votes
                    .iter()
                    .map(|(voter, option)| {
                        let inserted = insert.execute(params![
                            SqlUuid(poll),
                            SqlUuid(voter.0),
                            option,
                            SqlTime(at)
                        ])?;
                        Ok(inserted == 1)
                    })
                    .collect::<StoreResult<Vec<_>>>()?
            };
            transaction.commit()?;
            Ok(counted)
        })
        .await
    }

    async fn poll(&self, id: Uuid) -> StoreResult<Option<PollRecord>> {
        self.with_connection(move |connection| {
            let transaction = connection.transaction()?;
            let poll = transaction
                .prepare_cached(&format!("SELECT {POLL_COLUMNS} FROM polls WHERE id = ?1"))?
                .query_row([SqlUuid(id)], poll_from_row)
                .optional()?;
            let poll = with_tallies(&transaction, poll.into_iter().collect())?.pop();
            transaction.commit()?;
            Ok(poll)
        })
        .await
    }

    /// In the order they were recorded. Votes whose voter's account was deleted still count in
    /// the tally but are not listed, since they no longer name anyone.
    async fn votes(&self, poll: Uuid) -> StoreResult<Vec<(AccountId, u32)>> {
        self.with_connection(move |connection| {
            let votes = connection
                .prepare_cached(
                    "SELECT voter_id, option_index FROM votes
                     WHERE poll_id = ?1 AND voter_id IS NOT NULL
                     ORDER BY rowid",
                )?
                .query_map([SqlUuid(poll)], |row| {
                    Ok((AccountId(row.get::<_, SqlUuid>(0)?.0), row.get(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(votes)
        })
        .await
    }

    /// `NotFound` if there is no such poll.
    async fn close_poll(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        self.with_connection(move |connection| {
            expect_one_row(connection.execute(
                "UPDATE polls SET closed_at = coalesce(closed_at, ?2) WHERE id = ?1",
                params![SqlUuid(id), SqlTime(at)],
            )?)
        })
        .await
    }

    /// Oldest first.
    async fn open_polls(&self) -> StoreResult<Vec<PollRecord>> {
        self.with_connection(move |connection| {
            let transaction = connection.transaction()?;
            let polls = transaction
                .prepare_cached(&format!(
                    "SELECT {POLL_COLUMNS} FROM polls
                     WHERE closed_at IS NULL
                     ORDER BY started_at, id"
                ))?
                .query_map([], poll_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let polls = with_tallies(&transaction, polls)?;
            transaction.commit()?;
            Ok(polls)
        })
        .await
    }

    async fn channel_polls(
        &self,
        channel: AccountId,
        limit: usize,
    ) -> StoreResult<Vec<PollRecord>> {
        self.with_connection(move |connection| {
            let transaction = connection.transaction()?;
            let polls = transaction
                .prepare_cached(&format!(
                    "SELECT {POLL_COLUMNS} FROM polls
                     WHERE channel_id = ?1
                     ORDER BY started_at DESC, id DESC
                     LIMIT ?2"
                ))?
                .query_map(params![SqlUuid(channel.0), sql_limit(limit)], poll_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let polls = with_tallies(&transaction, polls)?;
            transaction.commit()?;
            Ok(polls)
        })
        .await
    }
}
