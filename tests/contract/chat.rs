use std::sync::Arc;

use showrunner::store::{ChatRecord, Store};

use crate::helpers::{chat_message, create_account};

/// Room enough that nothing is trimmed.
const KEEP_ALL: usize = 1000;

fn offsets(messages: &[ChatRecord]) -> Vec<u64> {
    messages.iter().map(|m| m.offset).collect()
}

pub async fn recent_chat_is_the_newest_messages_oldest_first(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let other = create_account(&*store, "Other").await;
    let viewer = create_account(&*store, "Viewer").await;
    let messages: Vec<_> = (1..=5)
        .map(|offset| chat_message(channel.id, offset, &viewer))
        .collect();
    for message in &messages {
        store.append_chat(message, KEEP_ALL).await.unwrap();
    }
    store
        .append_chat(&chat_message(other.id, 9, &viewer), KEEP_ALL)
        .await
        .unwrap();

    let newest_three = store.recent_chat(channel.id, 3).await.unwrap();
    let all = store.recent_chat(channel.id, 10).await.unwrap();

    assert_eq!(newest_three, messages[2..].to_vec());
    assert_eq!(all, messages);
    assert_eq!(store.recent_chat(channel.id, 0).await.unwrap(), vec![]);
    assert_eq!(store.recent_chat(viewer.id, 10).await.unwrap(), vec![]);
}

pub async fn appending_keeps_only_the_newest_keep_messages_of_the_channel(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let other = create_account(&*store, "Other").await;
    let viewer = create_account(&*store, "Viewer").await;
    for offset in 1..=3 {
        store
            .append_chat(&chat_message(other.id, offset, &viewer), KEEP_ALL)
            .await
            .unwrap();
    }

    for offset in 1..=6 {
        store
            .append_chat(&chat_message(channel.id, offset, &viewer), 3)
            .await
            .unwrap();
    }

    assert_eq!(
        offsets(&store.recent_chat(channel.id, 10).await.unwrap()),
        vec![4, 5, 6]
    );
    // Trimming is per channel.
    assert_eq!(
        offsets(&store.recent_chat(other.id, 10).await.unwrap()),
        vec![1, 2, 3]
    );
}

pub async fn a_retried_append_overwrites_the_message_at_that_offset(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let viewer = create_account(&*store, "Viewer").await;
    let first = chat_message(channel.id, 1, &viewer);
    let retried = ChatRecord {
        text: "message 1, sent again".to_owned(),
        ..first.clone()
    };

    store.append_chat(&first, KEEP_ALL).await.unwrap();
    store.append_chat(&retried, KEEP_ALL).await.unwrap();

    assert_eq!(
        store.recent_chat(channel.id, 10).await.unwrap(),
        vec![retried]
    );
}

pub async fn a_deleted_message_is_never_replayed(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let viewer = create_account(&*store, "Viewer").await;
    for offset in 1..=4 {
        store
            .append_chat(&chat_message(channel.id, offset, &viewer), KEEP_ALL)
            .await
            .unwrap();
    }

    let deleted = store.delete_chat(channel.id, 4).await.unwrap();
    let newest_two = store.recent_chat(channel.id, 2).await.unwrap();
    // A retried append of the deleted message must not bring it back.
    store
        .append_chat(&chat_message(channel.id, 4, &viewer), KEEP_ALL)
        .await
        .unwrap();
    let after_retry = store.recent_chat(channel.id, 10).await.unwrap();

    assert!(deleted);
    // The limit counts messages that are shown.
    assert_eq!(offsets(&newest_two), vec![2, 3]);
    assert_eq!(offsets(&after_retry), vec![1, 2, 3]);
}

pub async fn deleting_a_message_returns_whether_it_existed(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let other = create_account(&*store, "Other").await;
    let viewer = create_account(&*store, "Viewer").await;
    store
        .append_chat(&chat_message(channel.id, 1, &viewer), KEEP_ALL)
        .await
        .unwrap();

    let never_sent = store.delete_chat(channel.id, 2).await.unwrap();
    let other_channel = store.delete_chat(other.id, 1).await.unwrap();
    let existing = store.delete_chat(channel.id, 1).await.unwrap();

    assert!(!never_sent);
    assert!(!other_channel);
    assert!(existing);
    assert_eq!(store.recent_chat(channel.id, 10).await.unwrap(), vec![]);
}

pub async fn the_last_offset_survives_deleting_and_trimming(store: Arc<dyn Store>) {
    let channel = create_account(&*store, "Streamer").await;
    let other = create_account(&*store, "Other").await;
    let viewer = create_account(&*store, "Viewer").await;
    let before_any = store.last_chat_offset(channel.id).await.unwrap();
    for offset in 1..=3 {
        store
            .append_chat(&chat_message(channel.id, offset, &viewer), 2)
            .await
            .unwrap();
    }

    let after_trim = store.last_chat_offset(channel.id).await.unwrap();
    store.delete_chat(channel.id, 3).await.unwrap();
    let after_delete = store.last_chat_offset(channel.id).await.unwrap();
    // Keeping none forgets every message, and still not the offset.
    store
        .append_chat(&chat_message(channel.id, 4, &viewer), 0)
        .await
        .unwrap();
    let after_forgetting_all = store.last_chat_offset(channel.id).await.unwrap();
    let history_left = store.recent_chat(channel.id, 10).await.unwrap();
    // A late retry of an older message does not move it back.
    store
        .append_chat(&chat_message(channel.id, 2, &viewer), 2)
        .await
        .unwrap();
    let after_late_retry = store.last_chat_offset(channel.id).await.unwrap();

    assert_eq!(before_any, None);
    assert_eq!(after_trim, Some(3));
    assert_eq!(after_delete, Some(3));
    assert_eq!(history_left, vec![]);
    assert_eq!(after_forgetting_all, Some(4));
    assert_eq!(after_late_retry, Some(4));
    assert_eq!(store.last_chat_offset(other.id).await.unwrap(), None);
}
