//! Polls and stream actions end to end: started over HTTP, watched and voted on over real
//! websockets, with the server's clock deciding when they end.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::{
    helpers::{TestApp, User, assert_error, error_fields, spawn_app, spawn_app_with},
    ws::WsClient,
};

const OPTIONS: [&str; 3] = ["Red", "Green", "Blue"];

/// Tallies go out at most this often (the poll actor's `TALLY_EVERY`).
const TALLY_EVERY: Duration = Duration::from_millis(250);

/// How late an event timed by the server may reach a test client on this (2-core) machine.
const DELIVERY_SLACK: chrono::TimeDelta = chrono::TimeDelta::milliseconds(1500);

/// A crowd logs in from one address, more often than the default login throttle allows.
async fn spawn_app_for_crowds() -> TestApp {
    spawn_app_with(|c| c.throttle.logins_per_ip = 10_000).await
}

async fn start_action(app: &TestApp, owner: &User, channel: &str, action: Value) -> Response {
    app.send_as(
        Method::POST,
        &format!("/api/channels/{channel}/actions"),
        &owner.token,
        Some(action),
    )
    .await
}

/// Starts a poll over the options in [`OPTIONS`]; returns the started action.
pub(crate) async fn start_poll(app: &TestApp, owner: &User, channel: &str) -> Value {
    let r = start_action(
        app,
        owner,
        channel,
        json!({"type": "poll", "question": "Best colour?", "options": OPTIONS, "duration_secs": 10}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"))
        .parse()
        .unwrap()
}

pub(crate) fn vote(channel: &str, poll_id: &str, option: usize) -> Value {
    json!({"type": "vote", "channel": channel, "poll_id": poll_id, "option": option})
}

/// `ack`, or the error code of a reply.
fn outcome(reply: &Value) -> String {
    match reply["type"].as_str() {
        Some("ack") => "ack".into(),
        _ => reply["code"].as_str().unwrap_or("no code").into(),
    }
}

fn tally_of(choices: impl IntoIterator<Item = usize>) -> Vec<u64> {
    let mut tally = vec![0; OPTIONS.len()];
    for c in choices {
        tally[c] += 1;
    }
    tally
}

fn tally(frame: &Value) -> Vec<u64> {
    serde_json::from_value(frame["tally"].clone()).unwrap()
}

/// What one viewer of the vote storm saw.
struct Voter {
    ws: WsClient,
    /// The option the server acknowledged.
    counted: Option<usize>,
    /// Every answer to this viewer's vote frames.
    outcomes: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_viewers_vote_in_a_storm_and_the_poll_closes_on_time_with_the_exact_tally() {
    const VIEWERS: usize = 200;
    /// Viewers who also vote, at the same moment, from a second socket of the same account.
    const TWINS: usize = 20;
    /// Viewers vote in this many waves, this far apart.
    const STORM_STEPS: usize = 40;
    const STORM_STEP: Duration = Duration::from_millis(50);

    // Arrange: two hundred signed-in viewers and an anonymous one, all subscribed.
    let app = spawn_app_for_crowds().await;
    let host = app.user("stormhost").await;
    let viewers = app.users("stormer", VIEWERS).await;
    let mut watcher = WsClient::connect(&app, None).await;
    let channel = watcher.subscribe("stormhost").await["channel"]
        .as_str()
        .unwrap()
        .to_owned();
    let ready = Arc::new(Barrier::new(VIEWERS + 1));
    let mut tasks = Vec::new();
    for (i, viewer) in viewers.into_iter().enumerate() {
        let (base, ready, channel) = (app.base.clone(), ready.clone(), channel.clone());
        tasks.push(tokio::spawn(async move {
            let mut ws = WsClient::connect_to(&base, Some(&viewer.token)).await;
            ws.subscribe("stormhost").await;
            let mut twin = None;
            if i < TWINS {
                let mut second = WsClient::connect_to(&base, Some(&viewer.token)).await;
                second.subscribe("stormhost").await;
                twin = Some(second);
            }
            ready.wait().await;

            // Act: told that a poll started, every viewer votes, within two seconds.
            let started = ws.next_event("poll_started").await;
            let poll_id = started["poll"]["id"].as_str().unwrap().to_owned();
            tokio::time::sleep(STORM_STEP * (i % STORM_STEPS) as u32).await;
            let (mine, other) = (i % OPTIONS.len(), (i + 1) % OPTIONS.len());
            let (counted, outcomes) = match twin.as_mut() {
                Some(twin) => {
                    let (a, b) = tokio::join!(
                        ws.request(vote(&channel, &poll_id, mine)),
                        twin.request(vote(&channel, &poll_id, other)),
                    );
                    let counted = if outcome(&a) == "ack" {
                        Some(mine)
                    } else if outcome(&b) == "ack" {
                        Some(other)
                    } else {
                        None
                    };
                    (counted, vec![outcome(&a), outcome(&b)])
                }
                None => {
                    let first = outcome(&ws.request(vote(&channel, &poll_id, mine)).await);
                    let again = outcome(&ws.request(vote(&channel, &poll_id, other)).await);
                    ((first == "ack").then_some(mine), vec![first, again])
                }
            };
            Voter {
                ws,
                counted,
                outcomes,
            }
        }));
    }
    ready.wait().await;

    // Act: the streamer starts a poll over HTTP and never connects.
    let poll = start_poll(&app, &host, "stormhost").await;
    let poll_id = poll["id"].as_str().unwrap().to_owned();
    let deadline = time(&poll["expires_at"]);
    watcher.next_event("poll_started").await;
    let anonymous_vote = watcher.request(vote(&channel, &poll_id, 0)).await;
    let watching = tokio::spawn(async move { watcher.frames_until("poll_closed").await });
    let mut voters = Vec::new();
    for task in tasks {
        voters.push(task.await.expect("viewer task"));
    }
    let expected = tally_of(voters.iter().filter_map(|v| v.counted));

    // A late joiner, once the last tally had time to go out.
    tokio::time::sleep(TALLY_EVERY * 2 + Duration::from_millis(100)).await;
    let mut late = WsClient::connect(&app, None).await;
    let late_snapshot = late.subscribe("stormhost").await;
    let late_at = Utc::now();

    let mut closings = Vec::new();
    for mut voter in voters.drain(..) {
        closings.push(tokio::spawn(async move {
            let closed = voter.ws.next_event("poll_closed").await;
            (Utc::now(), closed, voter.outcomes)
        }));
    }
    let late_closed = late.next_event("poll_closed").await;
    let late_closed_at = Utc::now();
    let watched = watching.await.unwrap();

    // Assert: every vote counted once, duplicates refused, even when sent at the same moment.
    assert_eq!(anonymous_vote["code"], "unauthenticated");
    let mut received = Vec::new();
    for (i, closing) in closings.into_iter().enumerate() {
        let (at, closed, mut outcomes) = closing.await.unwrap();
        if i < TWINS {
            // Which of the two sockets wins the race is up to the server.
            outcomes.sort();
        }
        assert_eq!(outcomes, ["ack", "already_voted"], "viewer {i}");
        received.push((at, closed));
    }
    assert_eq!(expected.iter().sum::<u64>(), VIEWERS as u64);

    // The late joiner got the running poll with its current tally, and the action's expiry.
    assert!(
        late_at < deadline,
        "the test set up too slowly to join late"
    );
    assert_eq!(late_snapshot["poll"]["id"], poll_id.as_str());
    assert_eq!(late_snapshot["poll"]["closed"], false);
    assert_eq!(tally(&late_snapshot["poll"]), expected);
    assert_eq!(late_snapshot["action"]["id"], poll_id.as_str());
    assert_eq!(late_snapshot["action"]["action"]["type"], "poll");
    assert_eq!(time(&late_snapshot["action"]["expires_at"]), deadline);

    // The poll closed on the server at its deadline, for everyone, with the exact tally.
    received.push((late_closed_at, late_closed));
    let (watcher_closed_at, watcher_closed) = watched.last().cloned().unwrap();
    received.push((chrono_of(watcher_closed_at), watcher_closed));
    for (at, closed) in &received {
        assert_eq!(closed["poll"]["id"], poll_id.as_str());
        assert_eq!(closed["poll"]["closed"], true);
        assert_eq!(tally(&closed["poll"]), expected);
        assert!(
            *at >= deadline,
            "closed {} before the deadline",
            deadline - *at
        );
        assert!(
            *at <= deadline + DELIVERY_SLACK,
            "closed {} after the deadline",
            *at - deadline
        );
    }

    // Tallies reached the anonymous watcher coalesced: at most four a second.
    let tallies: Vec<Instant> = watched
        .iter()
        .filter(|(_, f)| f["type"] == "poll_tally")
        .map(|(at, _)| *at)
        .collect();
    assert!(!tallies.is_empty(), "the watcher saw the tally move");
    let gaps: Vec<Duration> = tallies.windows(2).map(|w| w[1] - w[0]).collect();
    // Delivery to the client may bunch two frames up a little; never below 150 ms apart, and
    // never five within a second.
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(150)),
        "tally gaps: {gaps:?}"
    );
    assert!(
        tallies
            .windows(5)
            .all(|w| w[4] - w[0] >= Duration::from_millis(900)),
        "tally gaps: {gaps:?}"
    );
    let last_tally = watched
        .iter()
        .rev()
        .find(|(_, f)| f["type"] == "poll_tally")
        .map(|(_, f)| tally(f))
        .unwrap();
    assert_eq!(
        last_tally, expected,
        "the last tally before closing is final"
    );

    // History shows the final results.
    let history: Value = app
        .get("/api/channels/stormhost/polls")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["polls"][0]["id"], poll_id.as_str());
    assert_eq!(history["polls"][0]["closed"], true);
    assert_eq!(tally(&history["polls"][0]), expected);
    assert_eq!(history["polls"][0]["total"], VIEWERS as u64);
    drop(late);
    app.stop().await;
}

/// The wall-clock time an `Instant` taken a moment ago stands for.
fn chrono_of(at: Instant) -> DateTime<Utc> {
    Utc::now() - chrono::TimeDelta::from_std(at.elapsed()).unwrap()
}

#[tokio::test]
async fn a_voter_who_comes_back_sees_the_running_poll_with_their_own_choice() {
    // Arrange
    let app = spawn_app().await;
    let host = app.user("comebackhost").await;
    let voter = app.user("comebackfan").await;
    let poll = start_poll(&app, &host, "comebackhost").await;
    let poll_id = poll["id"].as_str().unwrap();
    let mut ws = WsClient::connect(&app, Some(&voter.token)).await;
    let channel = ws.subscribe("comebackhost").await["channel"]
        .as_str()
        .unwrap()
        .to_owned();
    let ack = ws.request(vote(&channel, poll_id, 2)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    drop(ws);

    // Act: the voter reloads the page.
    let mut again = WsClient::connect(&app, Some(&voter.token)).await;
    let snapshot = again.subscribe("comebackhost").await;

    // Assert
    assert_eq!(snapshot["poll"]["id"], poll_id);
    assert_eq!(
        snapshot["you"]["poll_vote"], 2,
        "the snapshot tells a voter what they chose: {}",
        snapshot["you"]
    );
}

#[tokio::test]
async fn a_quiz_and_a_notice_reach_viewers_and_expire_on_the_server_near_their_duration() {
    let app = spawn_app().await;
    let quiz = json!({"type": "quiz", "question": "2 + 2?", "answers": ["3", "4", "5"],
        "correct_index": 1, "duration_secs": 5});
    let notice = json!({"type": "notice", "title": "Break", "message": "Back in five",
        "duration_secs": 5});

    // Both channels run at once; each checks the same story.
    let scenario = |name: &'static str, action: Value| {
        let app = &app;
        async move {
            // Arrange
            let owner = app.user(name).await;
            let mut viewer = WsClient::connect(app, None).await;
            viewer.subscribe(name).await;

            // Act
            let r = start_action(app, &owner, name, action.clone()).await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let started_view: Value = r.json().await.unwrap();
            let started = viewer.next_event("action_started").await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let mut joiner = WsClient::connect(app, None).await;
            let mid = joiner.subscribe(name).await;
            let ended = viewer.next_event("action_ended").await;
            let ended_at = Utc::now();
            let after = WsClient::connect(app, None).await.subscribe(name).await;

            // Assert
            let id = started_view["id"].clone();
            assert_eq!(started["action"]["id"], id);
            assert_eq!(started["action"]["action"]["type"], action["type"]);
            let (from, until) = (
                time(&started["action"]["started_at"]),
                time(&started["action"]["expires_at"]),
            );
            assert_eq!(until - from, chrono::TimeDelta::seconds(5), "{name}");
            assert_eq!(mid["action"]["id"], id, "{name}: joined mid-action");
            assert_eq!(time(&mid["action"]["expires_at"]), until, "{name}");
            assert_eq!(ended["action_id"], id);
            assert_eq!(ended["reason"], "expired");
            assert!(ended_at >= until, "{name} ended {} early", until - ended_at);
            assert!(
                ended_at <= until + DELIVERY_SLACK,
                "{name} ended {} late",
                ended_at - until
            );
            assert!(after["action"].is_null(), "{name}: {}", after["action"]);
            joiner.next_event("action_ended").await;
        }
    };
    tokio::join!(scenario("quizhost", quiz), scenario("noticehost", notice));
}

#[tokio::test]
async fn a_new_action_replaces_the_current_one_and_a_replaced_poll_closes_with_its_results_kept() {
    // Arrange
    let app = spawn_app().await;
    let owner = app.user("swaphost").await;
    let fans = [app.user("swapfan1").await, app.user("swapfan2").await];
    let mut viewer = WsClient::connect(&app, None).await;
    viewer.subscribe("swaphost").await;
    let notice =
        json!({"type": "notice", "title": "Hi", "message": "Welcome", "duration_secs": 30});
    let r = start_action(&app, &owner, "swaphost", notice).await;
    let notice_id = r.json::<Value>().await.unwrap()["id"].clone();
    viewer.next_event("action_started").await;

    // Act 1: a poll replaces the notice.
    let poll = start_poll(&app, &owner, "swaphost").await;
    let poll_id = poll["id"].as_str().unwrap().to_owned();
    let notice_ended = viewer.next_event("action_ended").await;
    let poll_started = viewer.next_event("poll_started").await;
    let votes = format!("/api/channels/swaphost/polls/{poll_id}/votes");
    for (fan, option) in fans.iter().zip([0, 2]) {
        let r = app
            .send_as(
                Method::POST,
                &votes,
                &fan.token,
                Some(json!({"option": option})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }

    // Act 2: a product replaces the poll.
    let product = json!({"type": "product", "title": "Mug", "price": "9.99",
        "image_url": "https://example.com/mug.png", "description": ""});
    let r = start_action(&app, &owner, "swaphost", product).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let poll_ended = viewer.next_event("action_ended").await;
    let poll_closed = viewer.next_event("poll_closed").await;
    let late_vote = app
        .send_as(
            Method::POST,
            &votes,
            &owner.token,
            Some(json!({"option": 1})),
        )
        .await;

    // Assert
    assert_eq!(notice_ended["action_id"], notice_id);
    assert_eq!(notice_ended["reason"], "replaced");
    assert_eq!(poll_started["poll"]["id"], poll_id.as_str());
    assert_eq!(poll_ended["action_id"], poll_id.as_str());
    assert_eq!(poll_ended["reason"], "replaced");
    assert_eq!(poll_closed["poll"]["id"], poll_id.as_str());
    assert_eq!(poll_closed["poll"]["closed"], true);
    assert_eq!(tally(&poll_closed["poll"]), [1, 0, 1]);
    assert!(
        [StatusCode::NOT_FOUND, StatusCode::CONFLICT].contains(&late_vote.status()),
        "a vote after the poll ended: {}",
        late_vote.status()
    );
    let history: Value = app
        .get("/api/channels/swaphost/polls")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["polls"][0]["id"], poll_id.as_str());
    assert_eq!(history["polls"][0]["closed"], true);
    assert_eq!(tally(&history["polls"][0]), [1, 0, 1]);
    let live: Value = app
        .get("/api/channels/swaphost/live")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["action"]["action"]["type"], "product");
    assert!(live["poll"].is_null(), "{}", live["poll"]);
}

#[tokio::test]
async fn only_the_owner_starts_and_stops_actions_and_invalid_ones_are_refused_field_by_field() {
    // Arrange
    let app = spawn_app().await;
    let owner = app.user("stophost").await;
    let nosy = app.user("nosyviewer").await;
    let mut viewer = WsClient::connect(&app, None).await;
    viewer.subscribe("stophost").await;
    let current = "/api/channels/stophost/actions/current";
    let celebration = json!({"type": "celebration"});

    // Act & Assert: strangers may neither start nor stop.
    let r = start_action(&app, &nosy, "stophost", celebration.clone()).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .send_as(Method::DELETE, current, &owner.token, None)
        .await;
    assert_error(r, StatusCode::NOT_FOUND, "no_action").await;

    // Invalid actions name every broken field.
    let bad_quiz = json!({"type": "quiz", "question": " ", "answers": ["a", "A"],
        "correct_index": 4, "duration_secs": 31});
    let body = assert_error(
        start_action(&app, &owner, "stophost", bad_quiz).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&body);
    for field in [
        "question",
        "answers",
        "answers.1",
        "correct_index",
        "duration_secs",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    let bad_poll =
        json!({"type": "poll", "question": "?", "options": ["only"], "duration_secs": 9});
    let body = assert_error(
        start_action(&app, &owner, "stophost", bad_poll).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields = error_fields(&body);
    for field in ["options", "duration_secs"] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    let bad_notice = json!({"type": "notice", "title": "t".repeat(25), "message": "m",
        "duration_secs": 10});
    let body = assert_error(
        start_action(&app, &owner, "stophost", bad_notice).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&body), ["title"]);

    // The owner stops a celebration, and a poll (which closes it).
    let r = start_action(&app, &owner, "stophost", celebration).await;
    let celebration_id = r.json::<Value>().await.unwrap()["id"].clone();
    let r = app
        .send_as(Method::DELETE, current, &nosy.token, None)
        .await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .send_as(Method::DELETE, current, &owner.token, None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let ended = viewer.next_event("action_ended").await;
    assert_eq!(ended["action_id"], celebration_id);
    assert_eq!(ended["reason"], "stopped");

    let poll = start_poll(&app, &owner, "stophost").await;
    let r = app
        .send_as(Method::DELETE, current, &owner.token, None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let ended = viewer.next_event("action_ended").await;
    assert_eq!(ended["action_id"], poll["id"]);
    assert_eq!(ended["reason"], "stopped");
    let closed = viewer.next_event("poll_closed").await;
    assert_eq!(closed["poll"]["id"], poll["id"]);
    let after = WsClient::connect(&app, None)
        .await
        .subscribe("stophost")
        .await;
    assert!(after["action"].is_null(), "{}", after["action"]);
    assert!(after["poll"].is_null(), "{}", after["poll"]);
}
