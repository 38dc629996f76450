//! A resumed stage against the media service: while the process was down, publishers may have
//! left (closed the tab, lost the network) without the actor hearing of it. Their slots would
//! stay taken for good, so a resumed snapshot keeps only the publishers the service still lists
//! as connected.

use super::StageSnapshot;
use crate::{domain::AccountId, stages::Stages};

/// Drops from `snap` every publisher but the host whom the media service does not list as
/// connected to the stage (by their token's participant id or user id), and returns them.
/// The host stays: their absence is the host grace period's business. When the service cannot
/// tell, or cannot be asked now, nobody is dropped: a wrong drop costs a guest their slot.
/// (A guest admitted just before the restart who had not connected yet is dropped too; they
/// ask again.)
pub(super) async fn drop_departed(stages: &dyn Stages, snap: &mut StageSnapshot) -> Vec<AccountId> {
    let listed = match stages.participants(&snap.arn).await {
        Ok(Some(listed)) => listed,
        Ok(None) => return Vec::new(),
        Err(e) => {
            tracing::warn!(stage = %snap.arn, error = %e, "stage participants unknown; publishers kept");
            return Vec::new();
        }
    };
    let connected: Vec<_> = listed.iter().filter(|p| p.connected).collect();
    let host = snap.host;
    let departed: Vec<AccountId> = snap
        .publishers
        .iter()
        .filter(|(user, publisher)| {
            **user != host
                && !connected.iter().any(|p| {
                    p.user_id == publisher.user_id.to_string()
                        || publisher.participant_id.as_deref() == Some(p.participant_id.as_str())
                })
        })
        .map(|(user, _)| *user)
        .collect();
    for user in &departed {
        snap.publishers.remove(user);
    }
    if !departed.is_empty() {
        tracing::info!(stage = %snap.arn, ?departed, "publishers no longer on the stage dropped");
    }
    departed
}

#[cfg(test)]
mod tests {
    use std::{
        collections::{BTreeMap, HashSet, VecDeque},
        time::Duration,
    };

    use async_trait::async_trait;
    use chrono::Utc;

    use super::*;
    use crate::{
        actors::stage::{Publisher, Role},
        stages::{Capability, Participant, ParticipantToken, StagesError, local::LocalStages},
    };

    /// A stage service that only answers `participants`, as given.
    struct Listing(fn() -> Result<Option<Vec<Participant>>, StagesError>);

    #[async_trait]
    impl Stages for Listing {
        async fn create_stage(&self, _: AccountId) -> Result<String, StagesError> {
            unreachable!("reconciling creates nothing")
        }
        async fn participant_token(
            &self,
            _: &str,
            _: &str,
            _: &[Capability],
            _: BTreeMap<String, String>,
            _: Duration,
        ) -> Result<ParticipantToken, StagesError> {
            unreachable!("reconciling mints nothing")
        }
        async fn disconnect(&self, _: &str, _: &str, _: &str) -> Result<(), StagesError> {
            unreachable!("reconciling disconnects nobody")
        }
        async fn delete_stage(&self, _: &str) -> Result<(), StagesError> {
            unreachable!("reconciling deletes nothing")
        }
        async fn participants(&self, _: &str) -> Result<Option<Vec<Participant>>, StagesError> {
            (self.0)()
        }
        async fn sweep_idle(
            &self,
            _: Duration,
            _: &HashSet<String>,
        ) -> Result<Vec<String>, StagesError> {
            unreachable!("reconciling sweeps nothing")
        }
    }

    fn user(n: u128) -> AccountId {
        AccountId(uuid::Uuid::from_u128(n))
    }

    /// Host 1 and guests 2, 3 and 4, whose tokens are `p-2`, `p-3`, `p-4`.
    fn snapshot() -> StageSnapshot {
        let publisher = |n: u128, role| Publisher {
            user_id: user(n).0,
            username: format!("user{n}"),
            role,
            joined_at: Utc::now(),
            participant_id: Some(format!("p-{n}")),
        };
        StageSnapshot {
            id: uuid::Uuid::now_v7(),
            arn: "stage-1".into(),
            host: user(1),
            created_at: Utc::now(),
            publishers: BTreeMap::from([
                (user(1), publisher(1, Role::Host)),
                (user(2), publisher(2, Role::Invited)),
                (user(3), publisher(3, Role::Requested)),
                (user(4), publisher(4, Role::Invited)),
            ]),
            queue: VecDeque::new(),
            invite: None,
            host_away_since: None,
        }
    }

    #[tokio::test]
    async fn publishers_not_listed_as_connected_are_dropped_but_never_the_host() {
        // Guest 2 is there under a newer token (same user id); guest 3 left; guest 4 is not
        // listed at all; the host is not listed either.
        let stages = Listing(|| {
            Ok(Some(vec![
                Participant {
                    participant_id: "p-2-new".into(),
                    user_id: user(2).to_string(),
                    connected: true,
                    published: true,
                },
                Participant {
                    participant_id: "p-3".into(),
                    user_id: user(3).to_string(),
                    connected: false,
                    published: true,
                },
            ]))
        });
        let mut snap = snapshot();

        let mut dropped = drop_departed(&stages, &mut snap).await;

        dropped.sort();
        assert_eq!(dropped, [user(3), user(4)]);
        assert_eq!(
            snap.publishers.keys().copied().collect::<Vec<_>>(),
            [user(1), user(2)]
        );
    }

    #[tokio::test]
    async fn nobody_is_dropped_when_the_service_cannot_tell_or_cannot_be_asked() {
        let unavailable = Listing(|| Err(StagesError::Unavailable("down".into())));
        let local = LocalStages::new(b"a-secret-of-at-least-thirty-two-bytes!");
        for stages in [&unavailable as &dyn Stages, &local] {
            let mut snap = snapshot();

            let dropped = drop_departed(stages, &mut snap).await;

            assert!(dropped.is_empty());
            assert_eq!(snap.publishers.len(), 4);
        }
    }
}
