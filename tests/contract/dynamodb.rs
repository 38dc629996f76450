//! The contract against the DynamoDB store, on moto: every check on a table of its own, made by
//! the same code as `showrunner aws init`.

use std::sync::Arc;

use showrunner::aws::dynamodb::DynamoStore;
use showrunner::store::Store;

#[path = "../support/moto.rs"]
mod moto;

/// A store on a fresh table of the process's moto server. Tables are left to the server, which
/// ends with the test process (or, with `SHOWRUNNER_TEST_MOTO_URL`, holds one small table per
/// test).
async fn open_store() -> (Arc<dyn Store>, String) {
    let sdk = moto::Moto::shared().sdk_config().await;
    let table = moto::table_name();
    let store = DynamoStore::new(&sdk, &table);
    store
        .create_table()
        .await
        .unwrap_or_else(|e| panic!("creating table {table} on moto: {e:#}"));
    (Arc::new(store), table)
}

store_contract!(open_store);

/// Every attribute of every item in the table, as text (keys included).
async fn table_contents(table: &str) -> Vec<String> {
    let client = aws_sdk_dynamodb::Client::new(&moto::Moto::shared().sdk_config().await);
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(
            page.items
                .unwrap_or_default()
                .iter()
                .map(|i| format!("{i:?}")),
        );
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return items,
        }
    }
}

/// Beyond the contract's checks, which read through the store: after `delete_account` no item
/// anywhere in the table names the account, or its email, whatever relation put it there.
#[tokio::test]
async fn deleting_an_account_leaves_no_item_that_names_it() {
    use serde_json::json;
    use showrunner::domain::stream::{MetricSample, StreamEvent, StreamEventType, names};
    use showrunner::store::{RestrictionKind, TokenPurpose};

    use crate::helpers::{
        at, chat_message, create_account, new_poll, new_preset, new_session, no_grace, restriction,
    };

    let (store, table) = open_store().await;
    let alice = create_account(&*store, "Alice").await;
    let bobby = create_account(&*store, "Bobby").await;
    let carol = create_account(&*store, "Carol").await;
    let (a, b, c) = (alice.id, bobby.id, carol.id);
    // Follows, both ways.
    store.follow(a, b, at(1)).await.unwrap();
    store.follow(b, a, at(1)).await.unwrap();
    // A session with a spent token, and mailed tokens.
    store
        .create_session(new_session(a, "alice-1", at(3600)))
        .await
        .unwrap();
    store
        .rotate_refresh_token("alice-1", "alice-2", at(2), at(7200), no_grace())
        .await
        .unwrap();
    store
        .put_token(TokenPurpose::VerifyEmail, "alice-mail", a, at(3600))
        .await
        .unwrap();
    // Restrictions: in her channel, of her, and issued by her as Bobby's moderator.
    for r in [
        restriction(a, b, RestrictionKind::Ban, None, a, at(3)),
        restriction(b, a, RestrictionKind::Timeout, Some(at(600)), b, at(3)),
        restriction(b, c, RestrictionKind::Ban, None, a, at(3)),
    ] {
        store.restrict(r).await.unwrap();
    }
    store.add_moderator(a, b).await.unwrap();
    store.add_moderator(b, a).await.unwrap();
    // Chat: Bobby in her channel, she in Bobby's; settings.
    store
        .append_chat(&chat_message(a, 1, &bobby), 10)
        .await
        .unwrap();
    store
        .append_chat(&chat_message(b, 1, &alice), 10)
        .await
        .unwrap();
    store
        .append_chat(&chat_message(b, 2, &carol), 10)
        .await
        .unwrap();
    store
        .set_chat_settings(a, &Default::default())
        .await
        .unwrap();
    // Polls: Bobby votes in hers, she votes in Bobby's.
    let hers = new_poll(a, &["Yes", "No"], at(4));
    let his = new_poll(b, &["Yes", "No"], at(4));
    store.create_poll(&hers).await.unwrap();
    store.create_poll(&his).await.unwrap();
    store.record_votes(hers.id, &[(b, 0)], at(5)).await.unwrap();
    store
        .record_votes(his.id, &[(a, 1), (c, 0)], at(5))
        .await
        .unwrap();
    // Presets, snapshots, a stream session with samples and cached metrics.
    store
        .put_preset(new_preset(a, "Intro", json!({})))
        .await
        .unwrap();
    store
        .put_snapshot(&format!("channel:{a}"), &json!({"x": 1}))
        .await
        .unwrap();
    let start = StreamEvent {
        id: "event-of-alice".to_owned(),
        event_type: StreamEventType::StreamStateChange,
        name: names::STREAM_START.to_owned(),
        at: at(6),
    };
    store
        .record_stream_event(a, Some("st-alice"), &start)
        .await
        .unwrap();
    store
        .put_metric_samples(
            a,
            "st-alice",
            &[MetricSample {
                at: at(7),
                ingest_video_bitrate: Some(2.5e6),
                ingest_framerate: Some(30.0),
                keyframe_interval: None,
                concurrent_views: Some(3.0),
            }],
        )
        .await
        .unwrap();
    store
        .put_cached_metrics(a, "st-alice", "k", &json!([1]))
        .await
        .unwrap();
    let before = table_contents(&table).await;
    let named = |items: &[String]| {
        items
            .iter()
            .filter(|i| i.contains(&a.to_string()) || i.contains("alice@example.com"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(named(&before).len() > 30, "the setup names her widely");

    store.delete_account(a).await.unwrap();

    let after = table_contents(&table).await;
    assert_eq!(named(&after), Vec::<String>::new());
    // Bobby's and Carol's own things are still there: his poll keeps counting her vote.
    assert_eq!(store.poll(his.id).await.unwrap().unwrap().tally, vec![1, 1]);
    assert_eq!(store.votes(his.id).await.unwrap(), vec![(c, 0)]);
    assert_eq!(
        store.restrictions(b, at(10)).await.unwrap(),
        vec![restriction(b, c, RestrictionKind::Ban, None, b, at(3))]
    );
    assert_eq!(store.recent_chat(b, 10).await.unwrap().len(), 1);
}
