use std::sync::Arc;

use serde_json::json;
use showrunner::store::{Preset, Store};
use uuid::Uuid;

use crate::helpers::{at, create_account, new_preset};

fn names(presets: &[Preset]) -> Vec<&str> {
    presets.iter().map(|p| p.name.as_str()).collect()
}

pub async fn a_put_preset_reads_back_as_stored(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    let preset = new_preset(
        owner.id,
        "Confetti",
        json!({"kind": "confetti", "colors": ["#ff0000", "#00ff00"], "seconds": 2.5}),
    );

    let stored = store.put_preset(preset.clone()).await.unwrap();

    assert_eq!(stored, preset);
    assert_eq!(store.presets(owner.id).await.unwrap(), vec![preset]);
}

pub async fn putting_a_preset_of_a_taken_name_replaces_it_and_keeps_its_id(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    let first = new_preset(
        owner.id,
        "Intro",
        json!({"kind": "banner", "text": "Hello"}),
    );
    store.put_preset(first.clone()).await.unwrap();
    let second = Preset {
        action: json!({"kind": "banner", "text": "Welcome back"}),
        updated_at: at(60),
        ..new_preset(owner.id, "Intro", json!(null))
    };

    let stored = store.put_preset(second.clone()).await.unwrap();

    let expected = Preset {
        id: first.id,
        ..second
    };
    assert_eq!(stored, expected);
    assert_eq!(store.presets(owner.id).await.unwrap(), vec![expected]);
}

pub async fn preset_names_are_unique_per_owner_and_compared_exactly(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    let other = create_account(&*store, "Other").await;
    let mine = new_preset(owner.id, "Intro", json!(1));
    let lower_case = new_preset(owner.id, "intro", json!(2));
    let theirs = new_preset(other.id, "Intro", json!(3));

    for preset in [&mine, &lower_case, &theirs] {
        store.put_preset(preset.clone()).await.unwrap();
    }

    let mut owners = store.presets(owner.id).await.unwrap();
    owners.sort_by_key(|p| p.id);
    let mut expected = vec![mine, lower_case];
    expected.sort_by_key(|p| p.id);
    assert_eq!(owners, expected);
    assert_eq!(store.presets(other.id).await.unwrap(), vec![theirs]);
}

pub async fn presets_are_listed_by_name(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    for name in ["Outro", "Break", "Intro"] {
        store
            .put_preset(new_preset(owner.id, name, json!({})))
            .await
            .unwrap();
    }

    let listed = store.presets(owner.id).await.unwrap();

    assert_eq!(names(&listed), vec!["Break", "Intro", "Outro"]);
}

pub async fn deleting_a_preset_needs_its_owner(store: Arc<dyn Store>) {
    let owner = create_account(&*store, "Owner").await;
    let other = create_account(&*store, "Other").await;
    let preset = new_preset(owner.id, "Intro", json!({}));
    store.put_preset(preset.clone()).await.unwrap();

    let by_other = store.delete_preset(other.id, preset.id).await.unwrap();
    let kept = store.presets(owner.id).await.unwrap();
    let by_owner = store.delete_preset(owner.id, preset.id).await.unwrap();
    let again = store.delete_preset(owner.id, preset.id).await.unwrap();
    let unknown = store.delete_preset(owner.id, Uuid::now_v7()).await.unwrap();

    assert!(!by_other);
    assert_eq!(kept, vec![preset]);
    assert!(by_owner);
    assert!(!again);
    assert!(!unknown);
    assert_eq!(store.presets(owner.id).await.unwrap(), vec![]);
}
