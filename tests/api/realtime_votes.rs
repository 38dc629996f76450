//! Votes whose store writes the test holds or fails ([`GatedStore`]): what a connection and a
//! poll answer while a write is in flight.

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use showrunner::{domain::AccountId, gateway::connection::MAX_VOTES_IN_FLIGHT};
use uuid::Uuid;

use crate::{
    gated_store::GatedStore,
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
