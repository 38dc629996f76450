use std::sync::Arc;

use showrunner::store::{PollRecord, Store, StoreError};
use uuid::Uuid;

use crate::helpers::{at, create_account, new_poll};

fn poll_ids(polls: &[PollRecord]) -> Vec<Uuid> {
    polls.iter().map(|p| p.id).collect()
}

pub async fn a_created_poll_reads_back_with_no_votes(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let poll = new_poll(channel.id, &["Left", "Right", "Straight on"], at(10));
    // A new poll has no votes, whatever the caller put in the tally.
    let with_made_up_tally = PollRecord {
        tally: vec![5, 6, 7],
        ..poll.clone()
    };

    store.create_poll(&with_made_up_tally).await.unwrap();

    assert_eq!(store.poll(poll.id).await.unwrap(), Some(poll.clone()));
    assert_eq!(store.votes(poll.id).await.unwrap(), vec![]);
    assert_eq!(store.poll(Uuid::now_v7()).await.unwrap(), None);
}

pub async fn the_tally_counts_the_stored_votes_per_option(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let ann = create_account(&*store, "Anna").await;
    let ben = create_account(&*store, "Benny").await;
    let cat = create_account(&*store, "Cathy").await;
    let poll = new_poll(channel.id, &["Left", "Right", "Straight on"], at(10));
    store.create_poll(&poll).await.unwrap();

    let counted = store
        .record_votes(poll.id, &[(ann.id, 2), (ben.id, 0), (cat.id, 2)], at(11))
        .await
        .unwrap();

    assert_eq!(counted, vec![true, true, true]);
    let stored = store.poll(poll.id).await.unwrap().unwrap();
    assert_eq!(stored.tally, vec![1, 0, 2]);
    let mut votes = store.votes(poll.id).await.unwrap();
    votes.sort();
    let mut expected = vec![(ann.id, 2), (ben.id, 0), (cat.id, 2)];
    expected.sort();
    assert_eq!(votes, expected);
}

pub async fn a_second_vote_in_the_same_batch_is_not_counted(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let ann = create_account(&*store, "Anna").await;
    let ben = create_account(&*store, "Benny").await;
    let poll = new_poll(channel.id, &["Yes", "No"], at(10));
    store.create_poll(&poll).await.unwrap();

    let counted = store
        .record_votes(poll.id, &[(ann.id, 0), (ben.id, 1), (ann.id, 1)], at(11))
        .await
        .unwrap();

    assert_eq!(counted, vec![true, true, false]);
    // The first vote is the one that counts.
    assert_eq!(
        store.poll(poll.id).await.unwrap().unwrap().tally,
        vec![1, 1]
    );
    let mut votes = store.votes(poll.id).await.unwrap();
    votes.sort();
    let mut expected = vec![(ann.id, 0), (ben.id, 1)];
    expected.sort();
    assert_eq!(votes, expected);
}

pub async fn a_vote_after_an_earlier_batch_is_not_counted(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let ann = create_account(&*store, "Anna").await;
    let ben = create_account(&*store, "Benny").await;
    let poll = new_poll(channel.id, &["Yes", "No"], at(10));
    let other_poll = new_poll(channel.id, &["Tea", "Coffee"], at(5));
    store.create_poll(&poll).await.unwrap();
    store.create_poll(&other_poll).await.unwrap();
    store
        .record_votes(poll.id, &[(ann.id, 0)], at(11))
        .await
        .unwrap();

    let counted = store
        .record_votes(poll.id, &[(ben.id, 1), (ann.id, 1)], at(12))
        .await
        .unwrap();
    // One vote per poll: voting in another poll is unaffected.
    let elsewhere = store
        .record_votes(other_poll.id, &[(ann.id, 1)], at(12))
        .await
        .unwrap();

    assert_eq!(counted, vec![true, false]);
    assert_eq!(elsewhere, vec![true]);
    assert_eq!(
        store.poll(poll.id).await.unwrap().unwrap().tally,
        vec![1, 1]
    );
    assert_eq!(
        store.poll(other_poll.id).await.unwrap().unwrap().tally,
        vec![0, 1]
    );
}

pub async fn two_concurrent_votes_by_one_voter_count_once(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let ann = create_account(&*store, "Anna").await;
    let poll = new_poll(channel.id, &["Yes", "No"], at(10));
    store.create_poll(&poll).await.unwrap();
    let (one, other) = (Arc::clone(&store), Arc::clone(&store));

    let first =
        tokio::spawn(async move { one.record_votes(poll.id, &[(ann.id, 0)], at(11)).await });
    let second =
        tokio::spawn(async move { other.record_votes(poll.id, &[(ann.id, 1)], at(11)).await });
    let outcomes = [
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    ];

    let counted = outcomes.iter().flatten().filter(|&&c| c).count();
    assert_eq!(counted, 1, "{outcomes:?}");
    let tally = store.poll(poll.id).await.unwrap().unwrap().tally;
    assert_eq!(tally.iter().sum::<u64>(), 1, "{tally:?}");
    assert_eq!(store.votes(poll.id).await.unwrap().len(), 1);
}

pub async fn votes_for_a_missing_poll_are_not_found(store: Arc<dyn Store>) {
    let ann = create_account(&*store, "Anna").await;

    let outcome = store
        .record_votes(Uuid::now_v7(), &[(ann.id, 0)], at(11))
        .await;

    assert!(matches!(outcome, Err(StoreError::NotFound)), "{outcome:?}");
}

pub async fn a_vote_for_an_option_the_poll_lacks_rejects_the_whole_batch(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let ann = create_account(&*store, "Anna").await;
    let ben = create_account(&*store, "Benny").await;
    let poll = new_poll(channel.id, &["Yes", "No"], at(10));
    store.create_poll(&poll).await.unwrap();

    let outcome = store
        .record_votes(poll.id, &[(ann.id, 0), (ben.id, 2)], at(11))
        .await;

    assert!(
        matches!(outcome, Err(StoreError::Backend(_))),
        "{outcome:?}"
    );
    assert_eq!(store.votes(poll.id).await.unwrap(), vec![]);
    assert_eq!(
        store.poll(poll.id).await.unwrap().unwrap().tally,
        vec![0, 0]
    );
    // Nothing was recorded, so the valid vote can still be cast.
    assert_eq!(
        store
            .record_votes(poll.id, &[(ann.id, 0)], at(12))
            .await
            .unwrap(),
        vec![true]
    );
}

pub async fn closing_a_poll_twice_keeps_the_first_close_time(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let ann = create_account(&*store, "Anna").await;
    let poll = new_poll(channel.id, &["Yes", "No"], at(10));
    store.create_poll(&poll).await.unwrap();
    store
        .record_votes(poll.id, &[(ann.id, 1)], at(11))
        .await
        .unwrap();

    store.close_poll(poll.id, at(70)).await.unwrap();
    store.close_poll(poll.id, at(90)).await.unwrap();

    assert_eq!(
        store.poll(poll.id).await.unwrap(),
        Some(PollRecord {
            closed_at: Some(at(70)),
            tally: vec![0, 1],
            ..poll
        })
    );
}

pub async fn open_polls_are_those_not_closed_with_their_tallies(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let other = create_account(&*store, "Other").await;
    let ann = create_account(&*store, "Anna").await;
    let closed = new_poll(channel.id, &["Yes", "No"], at(10));
    let open = new_poll(channel.id, &["Yes", "No"], at(20));
    let open_elsewhere = new_poll(other.id, &["Tea", "Coffee", "Water"], at(30));
    for poll in [&closed, &open, &open_elsewhere] {
        store.create_poll(poll).await.unwrap();
    }
    store
        .record_votes(open_elsewhere.id, &[(ann.id, 2)], at(31))
        .await
        .unwrap();
    store.close_poll(closed.id, at(15)).await.unwrap();

    // The order is not part of the contract.
    let mut polls = store.open_polls().await.unwrap();
    polls.sort_by_key(|p| p.started_at);

    assert_eq!(
        polls,
        vec![
            open,
            PollRecord {
                tally: vec![0, 0, 1],
                ..open_elsewhere
            }
        ]
    );
}

pub async fn a_channels_polls_are_listed_newest_first_up_to_the_limit(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let other = create_account(&*store, "Other").await;
    let ann = create_account(&*store, "Anna").await;
    let oldest = new_poll(channel.id, &["Yes", "No"], at(10));
    let newest = new_poll(channel.id, &["Yes", "No"], at(30));
    let middle = new_poll(channel.id, &["Yes", "No"], at(20));
    let elsewhere = new_poll(other.id, &["Yes", "No"], at(25));
    for poll in [&oldest, &newest, &middle, &elsewhere] {
        store.create_poll(poll).await.unwrap();
    }
    store.close_poll(oldest.id, at(15)).await.unwrap();
    store
        .record_votes(middle.id, &[(ann.id, 0)], at(21))
        .await
        .unwrap();

    let all = store.channel_polls(channel.id, 10).await.unwrap();
    let newest_two = store.channel_polls(channel.id, 2).await.unwrap();

    assert_eq!(poll_ids(&all), vec![newest.id, middle.id, oldest.id]);
    assert_eq!(all[1].tally, vec![1, 0]);
    assert_eq!(all[2].closed_at, Some(at(15)));
    assert_eq!(poll_ids(&newest_two), vec![newest.id, middle.id]);
    assert_eq!(store.channel_polls(channel.id, 0).await.unwrap(), vec![]);
    assert_eq!(store.channel_polls(ann.id, 10).await.unwrap(), vec![]);
}
