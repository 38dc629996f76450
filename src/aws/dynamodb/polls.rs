//! Polls: a partition per poll (`POLL#<id>`) with the poll item and one `VOTE#<voter>` item per
//! vote; the poll listed under its channel (`POLL#<started>#<id>` in the channel's partition)
//! and each vote under its voter (`VOTED#<poll>`).
//!
//! The tally is kept in the poll item (`v0`, `v1`, ... one counter per option) and changed only
//! in the transaction that stores the votes it counts, so it always equals the votes recorded.
//! A vote whose voter account is deleted is removed with the account but stays counted.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::item::{Attrs, Item, id, n, s, strings, time, with};
use super::keys::{self, OPEN_POLLS_INDEX};
use super::{DynamoStore, Query};
use crate::domain::AccountId;
use crate::store::{PollRecord, PollStore, StoreError, StoreResult};

/// `open_pk` while a poll is open: the one partition of the open-polls index.
const OPEN: &str = "OPEN";

/// One action for the tally plus three per vote (the vote, its mirror, the voter's check)
/// within DynamoDB's 100 actions per transaction.
const VOTES_PER_TRANSACTION: usize = 33;

/// The tally counter of option `index`.
fn counter(index: usize) -> String {
    format!("v{index}")
}

fn poll_from_item(item: &Item) -> StoreResult<PollRecord> {
    let a = Attrs(item);
    let options = a.strings("options")?;
    let tally = (0..options.len())
        .map(|i| Ok(a.opt_int(&counter(i))?.unwrap_or(0).max(0).unsigned_abs()))
        .collect::<StoreResult<Vec<u64>>>()?;
    Ok(PollRecord {
        id: a.uuid("id")?,
        channel: a.account("channel")?,
        question: a.string("question")?,
        options,
        started_at: a.time("started_at")?,
        deadline: a.time("deadline")?,
        closed_at: a.opt_time("closed_at")?,
        tally,
    })
}

impl DynamoStore {
    /// The polls with these ids that exist, in the order of `ids`.
    async fn polls_in_order(&self, ids: &[Uuid]) -> StoreResult<Vec<PollRecord>> {
        let items = self
            .batch_get(ids.iter().map(|poll| keys::poll(*poll)).collect())
            .await?;
        let mut by_id = HashMap::with_capacity(items.len());
        for item in &items {
            let poll = poll_from_item(item)?;
            by_id.insert(poll.id, poll);
        }
        Ok(ids.iter().filter_map(|poll| by_id.remove(poll)).collect())
    }

    /// Records `candidates` (indexes into `votes`, one per voter) in one transaction, dropping
    /// those whose voter already voted or does not exist and trying again with the rest.
    /// Returns the indexes counted.
    async fn record_vote_chunk(
        &self,
        poll: Uuid,
        votes: &[(AccountId, u32)],
        mut candidates: Vec<usize>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<usize>> {
        // Each round either succeeds or drops at least one candidate.
        while !candidates.is_empty() {
            let mut per_option: HashMap<u32, u64> = HashMap::new();
            for &i in &candidates {
                *per_option.entry(votes[i].1).or_default() += 1;
            }
            let mut adds = Vec::new();
            let mut values = HashMap::new();
            for (option, count) in &per_option {
                adds.push(format!("#{} :c{option}", counter(*option as usize)));
                values.insert(format!(":c{option}"), n(count));
            }
            let mut actions = vec![self.update_with(
                keys::poll(poll),
                &format!("ADD {}", adds.join(", ")),
                Some("attribute_exists(#pk)"),
                Some(values),
            )?];
            for &i in &candidates {
                let (voter, option) = votes[i];
                actions.push(self.put(
                    with(
                        keys::vote(poll, voter),
                        [
                            ("voter", id(voter.0)),
                            ("option", n(option)),
                            ("voted_at", time(at)),
                        ],
                    ),
                    Some("attribute_not_exists(#pk)"),
                    vec![],
                )?);
                actions.push(self.put(
                    with(keys::voted(voter, poll), [("poll", id(poll))]),
                    None,
                    vec![],
                )?);
                actions.push(self.check_alive(voter)?);
            }
            match self.transact(actions).await? {
                Ok(()) => return Ok(candidates),
                Err(cancelled) if cancelled.failed(0) => return Err(StoreError::NotFound),
                Err(cancelled) => {
                    let before = candidates.len();
                    candidates = candidates
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| {
                            !cancelled.failed(1 + 3 * j) && !cancelled.failed(3 + 3 * j)
                        })
                        .map(|(_, i)| *i)
                        .collect();
                    if candidates.len() == before {
                        return Err(StoreError::Backend(
                            format!("recording votes was cancelled: {cancelled:?}").into(),
                        ));
                    }
                }
            }
        }
        Ok(candidates)
    }
}

#[async_trait]
impl PollStore for DynamoStore {
    /// `NotFound` if the channel does not exist.
    async fn create_poll(&self, poll: &PollRecord) -> StoreResult<()> {
        let mut item = with(
            keys::poll(poll.id),
            [
                ("id", id(poll.id)),
                ("channel", id(poll.channel.0)),
                ("question", s(&poll.question)),
                ("options", strings(&poll.options)),
                ("started_at", time(poll.started_at)),
                ("deadline", time(poll.deadline)),
            ],
        );
        match poll.closed_at {
            Some(closed_at) => item.insert("closed_at".to_owned(), time(closed_at)),
            None => item.insert("open_pk".to_owned(), s(OPEN)),
        };
        for i in 0..poll.options.len() {
            item.insert(counter(i), n(0));
        }
        let actions = vec![
            self.put(item, Some("attribute_not_exists(#pk)"), vec![])?,
            self.put(
                with(
                    keys::channel_poll(poll.channel, poll.started_at.timestamp_millis(), poll.id),
                    [("poll", id(poll.id))],
                ),
                None,
                vec![],
            )?,
            self.check_alive(poll.channel)?,
        ];
        match self.transact(actions).await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed(2) => Err(StoreError::NotFound),
            Err(_) => Err(StoreError::Backend(
                format!("poll id {} is already taken", poll.id).into(),
            )),
        }
    }

    /// A vote for an option the poll does not have fails the whole batch as `Backend`. A vote by
    /// an account that does not exist is not counted. Batches of more than 33 distinct voters
    /// are stored 33 votes per transaction: each vote is still counted exactly once, but a
    /// failure part-way leaves the earlier transactions stored.
    async fn record_votes(
        &self,
        poll: Uuid,
        votes: &[(AccountId, u32)],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>> {
        let item = self
            .get(keys::poll(poll))
            .await?
            .ok_or(StoreError::NotFound)?;
        let options = Attrs(&item).strings("options")?;
        if let Some((voter, option)) = votes
            .iter()
            .find(|(_, option)| *option as usize >= options.len())
        {
            return Err(StoreError::Backend(
                format!(
                    "vote by {voter} for option {option} of poll {poll}, which has {} options",
                    options.len()
                )
                .into(),
            ));
        }
        // A second vote of a voter within the batch is never a candidate.
        let mut voters = HashSet::new();
        let first_votes: Vec<usize> = (0..votes.len())
            .filter(|&i| voters.insert(votes[i].0))
            .collect();
        let mut counted = vec![false; votes.len()];
        for chunk in first_votes.chunks(VOTES_PER_TRANSACTION) {
            for i in self
                .record_vote_chunk(poll, votes, chunk.to_vec(), at)
                .await?
            {
                counted[i] = true;
            }
        }
        Ok(counted)
    }

    async fn poll(&self, id: Uuid) -> StoreResult<Option<PollRecord>> {
        self.get(keys::poll(id))
            .await?
            .as_ref()
            .map(poll_from_item)
            .transpose()
    }

    /// By voter id. Votes of deleted accounts are gone from here but still counted.
    async fn votes(&self, poll: Uuid) -> StoreResult<Vec<(AccountId, u32)>> {
        let items = self.partition(&keys::poll_pk(poll), keys::VOTE).await?;
        items
            .iter()
            .map(|item| {
                let a = Attrs(item);
                Ok((a.account("voter")?, a.uint("option")?))
            })
            .collect()
    }

    /// Removing `open_pk` takes the poll out of the open-polls index. `NotFound` if there is no
    /// such poll.
    async fn close_poll(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        let action = "SET #closed_at = if_not_exists(#closed_at, :at) REMOVE #open_pk";
        let condition = "attribute_exists(#pk)";
        let outcome = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::poll(id)))
            .update_expression(action)
            .condition_expression(condition)
            .set_expression_attribute_names(super::item::names([action, condition]))
            .set_expression_attribute_values(super::item::values(vec![(":at", time(at))]))
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(()),
            Err(e) if super::error::condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(self.fail("UpdateItem", e)),
        }
    }

    /// Oldest first: the open-polls index (keys only), then the polls themselves, read strongly
    /// consistently for their tallies.
    async fn open_polls(&self) -> StoreResult<Vec<PollRecord>> {
        let listed = self
            .query(Query {
                index: Some(OPEN_POLLS_INDEX),
                key_condition: "#open_pk = :open",
                values: vec![(":open", s(OPEN))],
                ..Query::default()
            })
            .await?;
        let ids = listed
            .iter()
            .map(|item| {
                let pk = Attrs(item).str("pk")?;
                Uuid::parse_str(pk.trim_start_matches("POLL#"))
                    .map_err(|_| StoreError::Backend(format!("poll key {pk:?}").into()))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let mut polls = self.polls_in_order(&ids).await?;
        // The index lags the table a little; the table decides.
        polls.retain(|p| p.closed_at.is_none());
        polls.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        Ok(polls)
    }

    async fn channel_polls(
        &self,
        channel: AccountId,
        limit: usize,
    ) -> StoreResult<Vec<PollRecord>> {
        let listed = self
            .query(Query {
                key_condition: "#pk = :pk AND begins_with(#sk, :prefix)",
                values: vec![
                    (":pk", s(keys::account_pk(channel))),
                    (":prefix", s(keys::CHANNEL_POLL)),
                ],
                descending: true,
                want: Some(limit),
                ..Query::default()
            })
            .await?;
        let ids = listed
            .iter()
            .map(|item| Attrs(item).uuid("poll"))
            .collect::<StoreResult<Vec<_>>>()?;
        self.polls_in_order(&ids).await
    }
}
