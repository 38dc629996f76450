//! Votes whose store writes the test holds or fails ([`GatedStore`]): what a connection and a
//! poll answer while a write is in flight; and a poll whose creation fails.

use std::{pin::pin, sync::Arc, time::Duration};

use futures::poll;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use showrunner::{
    actors::{ChannelError, ChannelResult},
    domain::AccountId,
    gateway::connection::MAX_VOTES_IN_FLIGHT,
};
use uuid::Uuid;

use crate::{
    gated_store::{GatedStore, HeldWrite},
    helpers::{TestApp, spawn_app_with_backends},
    realtime_polls::{start_poll, vote},
    ws::WsClient,
};

/// How long a test watches for a reply that must not come yet.
const NOT_READ_WINDOW: Duration = Duration::from_millis(300);

/// An app on a [`GatedStore`]; the temp dir holds its data.
async fn spawn_gated_app() -> (TestApp, Arc<GatedStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut gated = None;
    let app = spawn_app_with_backends(
        dir.path().to_path_buf(),
        |_| {},
        |backends| {
            let store = GatedStore::new(backends.store.clone());
            backends.store = store.clone();
            gated = Some(store);
        },
    )
    .await;
    (app, gated.unwrap(), dir)
}

async fn account_id(app: &TestApp, username: &str) -> AccountId {
    app.state
        .store
        .account_by_username(username)
        .await
        .unwrap()
        .expect("account exists")
        .id
}

/// Starts a poll on `host`'s channel; returns (channel id, poll id).
async fn running_poll(app: &TestApp, host: &str) -> (AccountId, Uuid) {
    let owner = app.user(host).await;
    let poll = start_poll(app, &owner, host).await;
    let poll_id = poll["id"].as_str().unwrap().parse().unwrap();
    (account_id(app, host).await, poll_id)
}

/// A vote frame with the given request id.
fn vote_numbered(id: u64, channel: AccountId, poll: Uuid, option: usize) -> Value {
    let mut frame = vote(&channel.0.to_string(), &poll.to_string(), option);
    frame["id"] = json!(id);
    frame
}

/// The next reply (`ack`, `error` or `pong`) to a request, skipping events.
async fn next_reply(ws: &mut WsClient) -> Value {
    loop {
        let frame = ws.next_any().await;
        if ["ack", "error", "pong"].contains(&frame["type"].as_str().unwrap_or(""))
            && frame["id"].is_u64()
        {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_vote_waiting_for_its_write_does_not_hold_up_the_same_connections_vote_in_another_poll() {
    // Arrange: two channels run a poll each; the first poll's writes wait for the test.
    let (app, gated, _dir) = spawn_gated_app().await;
    let (slow_channel, slow_poll) = running_poll(&app, "slowpollhost").await;
    let (quick_channel, quick_poll) = running_poll(&app, "quickpollhost").await;
    let voter = app.user("twopollfan").await;
    let mut slow_writes = gated.hold(slow_poll);
    let mut ws = WsClient::connect(&app, Some(&voter.token)).await;

    // Act: one vote in each poll, back to back.
    ws.send_raw(vote_numbered(1, slow_channel, slow_poll, 0))
        .await;
    ws.send_raw(vote_numbered(2, quick_channel, quick_poll, 1))
        .await;
    let held = slow_writes.next().await;
    let first = next_reply(&mut ws).await;
    held.store();
    let second = next_reply(&mut ws).await;

    // Assert: the second vote was answered while the first was still being written.
    assert_eq!(
        (&first["type"], &first["id"]),
        (&json!("ack"), &json!(2)),
        "{first}"
    );
    assert_eq!(
        (&second["type"], &second["id"]),
        (&json!("ack"), &json!(1)),
        "{second}"
    );
}

#[tokio::test]
async fn a_connection_with_its_votes_in_flight_at_the_bound_reads_nothing_more_until_one_is_answered()
 {
    // Arrange: a poll whose writes wait for the test.
    let (app, gated, _dir) = spawn_gated_app().await;
    let (channel, poll) = running_poll(&app, "boundpollhost").await;
    let voter = app.user("boundfan").await;
    let mut writes = gated.hold(poll);
    let mut ws = WsClient::connect(&app, Some(&voter.token)).await;

    // Act: as many votes as may be in flight (all wait for the first one's write), then a ping.
    for id in 1..=MAX_VOTES_IN_FLIGHT as u64 {
        ws.send_raw(vote_numbered(id, channel, poll, 0)).await;
    }
    ws.send_raw(json!({"type": "ping", "id": 1000})).await;
    let held = writes.next().await;
    // Nothing can be answered before the write is let through, so a reply in this window means
    // the ping was read past the bound. (A window only bounds how sensitive the check is: a
    // server reading on would answer within milliseconds.)
    let early = tokio::time::timeout(NOT_READ_WINDOW, next_reply(&mut ws))
        .await
        .ok();
    held.store();
    let mut replies: Vec<Value> = early.iter().cloned().collect();
    while replies.len() <= MAX_VOTES_IN_FLIGHT {
        replies.push(next_reply(&mut ws).await);
    }

    // Assert: the ping was read only once a vote was answered; every vote got its answer.
    assert_eq!(early, None, "answered while the votes were at the bound");
    let pong = replies.iter().position(|r| r["type"] == "pong");
    assert!(
        pong.is_some_and(|at| at > 0),
        "pong at {pong:?} of {replies:?}"
    );
    let mut answered: Vec<u64> = replies
        .iter()
        .filter(|r| r["type"] != "pong")
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    answered.sort_unstable();
    assert_eq!(
        answered,
        (1..=MAX_VOTES_IN_FLIGHT as u64).collect::<Vec<_>>()
    );
    let acks = replies.iter().filter(|r| r["type"] == "ack").count();
    assert_eq!(
        acks, 1,
        "one vote counted, the others already_voted: {replies:?}"
    );
}

#[tokio::test]
async fn a_vote_in_flight_when_its_connection_closes_is_still_counted() {
    // Arrange
    let (app, gated, _dir) = spawn_gated_app().await;
    let (channel, poll) = running_poll(&app, "leavepollhost").await;
    let voter = app.user("leavingfan").await;
    let mut writes = gated.hold(poll);
    let mut ws = WsClient::connect(&app, Some(&voter.token)).await;
    ws.send_raw(vote_numbered(1, channel, poll, 2)).await;
    let held = writes.next().await;

    // Act: the voter leaves before the vote is answered.
    drop(ws);
    held.store();

    // Assert
    let mut again = WsClient::connect(&app, Some(&voter.token)).await;
    let snapshot = again.subscribe("leavepollhost").await;
    assert_eq!(snapshot["you"]["poll_vote"], 2, "{}", snapshot["you"]);
}

/// A voter's two votes in one poll, and what each was answered.
struct TwoVotes {
    channel: AccountId,
    poll: Uuid,
    voter: AccountId,
    first: ChannelResult<()>,
    second: ChannelResult<()>,
}

/// A voter votes twice, and both votes reach the poll while it writes an earlier voter's vote:
/// so the second is handled while the first waits for its own write, which `decide` lets
/// through or fails.
async fn vote_twice_behind_a_write(
    app: &TestApp,
    gated: &GatedStore,
    decide: impl FnOnce(HeldWrite),
) -> TwoVotes {
    let (channel, poll) = running_poll(app, "dupepollhost").await;
    app.user("earlyfan").await;
    app.user("twicefan").await;
    let early = account_id(app, "earlyfan").await;
    let voter = account_id(app, "twicefan").await;
    let realtime = app.state.realtime.clone();
    let mut writes = gated.hold(poll);
    let early_vote = tokio::spawn({
        let realtime = realtime.clone();
        async move { realtime.vote(channel, early, poll, 0).await }
    });
    let early_write = writes.next().await;

    // Polled once, each vote is sent to the channel actor, which forwards votes in the order
    // it gets them: once it has answered a later request, both wait in the busy poll's mailbox.
    let mut first = pin!(realtime.vote(channel, voter, poll, 1));
    let mut second = pin!(realtime.vote(channel, voter, poll, 2));
    assert!(poll!(first.as_mut()).is_pending());
    assert!(poll!(second.as_mut()).is_pending());
    realtime.state(channel).await.unwrap();
    early_write.store();
    early_vote.await.unwrap().unwrap();

    let write = writes.next().await;
    assert_eq!(write.votes, [(voter, 1)], "only the first vote is written");
    assert!(
        poll!(second.as_mut()).is_pending(),
        "the second vote is answered only after the first one's write"
    );
    decide(write);
    TwoVotes {
        channel,
        poll,
        voter,
        first: first.await,
        second: second.await,
    }
}

/// The voter's option as the store has it.
async fn stored_choice(app: &TestApp, votes: &TwoVotes) -> Option<u32> {
    let stored = app.state.store.votes(votes.poll).await.unwrap();
    stored
        .into_iter()
        .find_map(|(voter, option)| (voter == votes.voter).then_some(option))
}

#[tokio::test]
async fn a_second_vote_arriving_while_the_first_is_written_is_refused_once_the_first_is_stored() {
    // Arrange
    let (app, gated, _dir) = spawn_gated_app().await;

    // Act
    let votes = vote_twice_behind_a_write(&app, &gated, HeldWrite::store).await;

    // Assert
    assert!(votes.first.is_ok(), "{:?}", votes.first);
    assert_eq!(votes.second, Err(ChannelError::AlreadyVoted));
    assert_eq!(stored_choice(&app, &votes).await, Some(1));
}

#[tokio::test]
async fn a_second_vote_arriving_while_the_first_is_written_is_told_unavailable_if_the_write_fails()
{
    // Arrange
    let (app, gated, _dir) = spawn_gated_app().await;

    // Act
    let votes = vote_twice_behind_a_write(&app, &gated, HeldWrite::fail).await;
    let retry = app
        .state
        .realtime
        .vote(votes.channel, votes.voter, votes.poll, 2)
        .await;

    // Assert: neither vote counted, so the voter may vote again.
    assert!(
        matches!(votes.first, Err(ChannelError::Unavailable(_))),
        "{:?}",
        votes.first
    );
    assert!(
        matches!(votes.second, Err(ChannelError::Unavailable(_))),
        "{:?}",
        votes.second
    );
    assert!(retry.is_ok(), "{retry:?}");
    assert_eq!(stored_choice(&app, &votes).await, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_that_cannot_be_stored_leaves_the_overlay_it_replaced_ended_after_a_restart() {
    // Arrange: a notice on screen, and a store that will refuse the next poll.
    let (app, gated, _dir) = spawn_gated_app().await;
    let host = app.user("gatehost").await;
    let path = "/api/channels/gatehost/actions";
    let notice =
        json!({"type": "notice", "title": "Break", "message": "Back soon", "duration_secs": 30});
    let r = app
        .send_as(Method::POST, path, &host.token, Some(notice))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    gated.fail_poll_creation();
    let poll = json!({"type": "poll", "question": "Best colour?", "options": ["red", "blue"], "duration_secs": 10});

    // Act: the poll fails to start (ending the notice), then the channel's actor restarts.
    let r = app
        .send_as(Method::POST, path, &host.token, Some(poll))
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    app.state
        .realtime
        .crash_channel(account_id(&app, "gatehost").await)
        .await;

    // Assert: the restarted channel shows no overlay, as viewers were told.
    let mut ws = WsClient::connect(&app, None).await;
    let snapshot = ws.subscribe("gatehost").await;
    assert!(snapshot["action"].is_null(), "{snapshot}");
}
