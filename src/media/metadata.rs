//! Channel events as small JSON documents for services with a size limit: IVS timed metadata
//! (1 KB per `PutMetadata`) and IVS Chat events (1 KB of attributes per `SendEvent`).
//!
//! A payload is the event's websocket frame as JSON (`docs/protocol.md`), so a client handles
//! both the same way. When the frame does not fit, the longest texts are shortened (ending in
//! `…`), then optional fields are dropped (a product's description and links), and the payload
//! says `"truncated": true`: the client reads the full state from
//! `GET /api/channels/{username}/live`. Nothing else is ever cut: ids, kinds, times and
//! reasons are always whole.

use serde_json::{Map, Value};

use crate::gateway::protocol::ServerFrame;

/// The most a payload may take, in bytes of UTF-8 (IVS `PutMetadata`: 1 KB).
pub const MAX_BYTES: usize = 1024;

/// A shortened text keeps at least this many characters before its `…`.
const MIN_TEXT_CHARS: usize = 8;
const ELLIPSIS: char = '…';

/// Keys whose values are never shortened: they identify or time things.
const WHOLE: &[&str] = &[
    "type",
    "channel",
    "id",
    "action_id",
    "poll_id",
    "user_id",
    "started_at",
    "expires_at",
    "deadline",
    "reason",
    "until",
];

/// Keys that may be dropped, longest first, when shortening texts was not enough.
const OPTIONAL: &[&str] = &["description", "image_url", "product_url"];

/// Whether viewers on the video player need this frame in sync with the picture: an action
/// started or ended. (A poll is an action; its tallies go over chat, not the video.)
pub fn rides_with_video(frame: &ServerFrame) -> bool {
    matches!(
        frame,
        ServerFrame::ActionStarted { .. } | ServerFrame::ActionEnded { .. }
    )
}

/// The frame as timed metadata, within [`MAX_BYTES`]; `None` for frames that do not ride
/// with the video.
pub fn encode(frame: &ServerFrame) -> Option<String> {
    rides_with_video(frame).then(|| compact(frame, MAX_BYTES))
}

/// The frame as compact JSON of at most `limit` bytes (see the module documentation).
pub fn compact(frame: &ServerFrame, limit: usize) -> String {
    let Ok(mut value) = serde_json::to_value(frame) else {
        return String::new();
    };
    let whole = value.to_string();
    if whole.len() <= limit {
        return whole;
    }
    if let Value::Object(map) = &mut value {
        map.insert("truncated".into(), Value::Bool(true));
    }
    loop {
        let text = value.to_string();
        if text.len() <= limit {
            return text;
        }
        let overflow = text.len() - limit;
        // Texts first, unless even cutting them all short could not make room: then the
        // longest optional field goes first, and the texts keep what they can.
        type Step = fn(&mut Value, usize) -> bool;
        let (shorten, drop): (Step, Step) = (shorten_longest_text, |v, _| drop_longest_optional(v));
        let (first, second) = if text_room(&mut value) >= overflow {
            (shorten, drop)
        } else {
            (drop, shorten)
        };
        let progress = first(&mut value, overflow) || second(&mut value, overflow);
        if !progress {
            break;
        }
    }
    // Unreachable for the frames this is used with (their ids and times alone are ~200
    // bytes); for an absurdly small limit, say only what happened.
    let mut minimal = Map::new();
    minimal.insert("type".into(), value["type"].clone());
    minimal.insert("channel".into(), value["channel"].clone());
    minimal.insert("truncated".into(), Value::Bool(true));
    Value::Object(minimal).to_string()
}

/// The shortenable texts of `value`: every string not under a [`WHOLE`] key or a URL key.
fn texts<'a>(value: &'a mut Value, key: Option<&str>, out: &mut Vec<&'a mut String>) {
    let shortenable = key.is_none_or(|k| !WHOLE.contains(&k) && !k.ends_with("_url"));
    match value {
        Value::String(s) if shortenable => out.push(s),
        Value::Array(items) if shortenable => {
            for item in items {
                texts(item, None, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                texts(v, Some(k), out);
            }
        }
        _ => {}
    }
}

/// The byte offset keeping a text's first [`MIN_TEXT_CHARS`] characters.
fn floor(body: &str) -> usize {
    body.char_indices()
        .nth(MIN_TEXT_CHARS)
        .map_or(body.len(), |(i, _)| i)
}

/// How many bytes shortening every text to its minimum would save.
fn text_room(value: &mut Value) -> usize {
    let mut candidates = Vec::new();
    texts(value, None, &mut candidates);
    candidates
        .iter()
        .map(|s| {
            let body = s.trim_end_matches(ELLIPSIS);
            let kept = floor(body) + ELLIPSIS.len_utf8();
            s.len().saturating_sub(kept)
        })
        .sum()
}

/// Cuts the longest text by `overflow` bytes (plus its ellipsis), keeping whole characters
/// and at least [`MIN_TEXT_CHARS`]. Returns whether anything was cut.
fn shorten_longest_text(value: &mut Value, overflow: usize) -> bool {
    let mut candidates = Vec::new();
    texts(value, None, &mut candidates);
    let Some(longest) = candidates
        .into_iter()
        .filter(|s| s.trim_end_matches(ELLIPSIS).chars().count() > MIN_TEXT_CHARS)
        .max_by_key(|s| s.len())
    else {
        return false;
    };
    let body = longest.trim_end_matches(ELLIPSIS);
    let floor = floor(body);
    // Removing raw bytes removes at least as many bytes of JSON (escapes only add).
    let wanted = body
        .len()
        .saturating_sub(overflow + ELLIPSIS.len_utf8())
        .max(floor);
    let mut cut = wanted;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = cut.max(floor);
    if cut >= body.len() {
        return false;
    }
    let mut shortened = body[..cut].trim_end().to_owned();
    shortened.push(ELLIPSIS);
    *longest = shortened;
    true
}

/// Drops the longest [`OPTIONAL`] field anywhere in `value`. Returns whether one was dropped.
fn drop_longest_optional(value: &mut Value) -> bool {
    type Found = Option<(usize, Vec<String>, &'static str)>;
    fn longest(value: &Value, path: &mut Vec<String>, best: &mut Found) {
        let Value::Object(map) = value else {
            return;
        };
        for key in OPTIONAL {
            if let Some(v) = map.get(*key) {
                let len = v.to_string().len();
                if best.as_ref().is_none_or(|(b, ..)| len > *b) {
                    *best = Some((len, path.clone(), key));
                }
            }
        }
        for (k, v) in map {
            path.push(k.clone());
            longest(v, path, best);
            path.pop();
        }
    }
    let mut best = None;
    longest(value, &mut Vec::new(), &mut best);
    let Some((_, path, key)) = best else {
        return false;
    };
    let mut target = value;
    for k in &path {
        target = &mut target[k.as_str()];
    }
    target
        .as_object_mut()
        .is_some_and(|map| map.remove(key).is_some())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::{
        domain::{AmazonProduct, Celebration, Notice, Quiz, StreamAction},
        gateway::protocol::ActiveActionView,
    };

    fn started(action: StreamAction) -> ServerFrame {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        ServerFrame::ActionStarted {
            channel: Uuid::from_u128(1),
            action: ActiveActionView {
                id: Uuid::from_u128(2),
                action,
                started_at: at,
                expires_at: Some(at + chrono::Duration::seconds(30)),
            },
        }
    }

    fn notice(message: &str) -> ServerFrame {
        started(StreamAction::Notice(Notice {
            title: "Heads up".into(),
            message: message.into(),
            duration: Duration::from_secs(30),
        }))
    }

    fn parsed(payload: &str) -> Value {
        serde_json::from_str(payload).expect("a payload is always valid JSON")
    }

    #[test]
    fn a_frame_that_fits_is_its_websocket_json_unchanged() {
        let frame = started(StreamAction::Celebration(Celebration {}));

        let payload = encode(&frame).unwrap();

        assert_eq!(payload, serde_json::to_string(&frame).unwrap());
        assert!(!payload.contains("truncated"));
        let ended = ServerFrame::ActionEnded {
            channel: Uuid::from_u128(1),
            action_id: Uuid::from_u128(2),
            reason: "stopped".into(),
        };
        assert_eq!(
            encode(&ended).unwrap(),
            serde_json::to_string(&ended).unwrap()
        );
    }

    #[test]
    fn only_action_starts_and_ends_ride_with_the_video() {
        let tally = ServerFrame::PollTally {
            channel: Uuid::from_u128(1),
            poll_id: Uuid::from_u128(2),
            tally: vec![1, 2],
            total: 3,
        };
        assert_eq!(encode(&tally), None);
    }

    #[test]
    fn exactly_at_the_limit_is_whole_and_one_byte_over_is_shortened_to_fit() {
        // Find the message length that makes the frame exactly MAX_BYTES long.
        let overhead = serde_json::to_string(&notice("")).unwrap().len();
        let at_limit = notice(&"a".repeat(MAX_BYTES - overhead));
        let over = notice(&"a".repeat(MAX_BYTES - overhead + 1));

        let whole = encode(&at_limit).unwrap();
        let shortened = encode(&over).unwrap();

        assert_eq!(whole.len(), MAX_BYTES);
        assert_eq!(whole, serde_json::to_string(&at_limit).unwrap());
        assert!(shortened.len() <= MAX_BYTES, "{}", shortened.len());
        let value = parsed(&shortened);
        assert_eq!(value["truncated"], true);
        let message = value["action"]["action"]["message"].as_str().unwrap();
        assert!(message.ends_with('…'), "{message}");
        assert_eq!(value["action"]["action"]["title"], "Heads up");
        assert_eq!(value["action"]["id"], Uuid::from_u128(2).to_string());
    }

    #[test]
    fn the_largest_quiz_in_four_byte_characters_fits_with_whole_characters() {
        let long = |n: usize| "😀".repeat(n);
        let frame = started(StreamAction::Quiz(Quiz {
            question: long(Quiz::MAX_QUESTION),
            answers: (0..5).map(|_| long(Quiz::MAX_ANSWER)).collect(),
            correct_index: 4,
            duration: Duration::from_secs(30),
        }));
        assert!(serde_json::to_string(&frame).unwrap().len() > 3 * MAX_BYTES);

        let payload = encode(&frame).unwrap();

        assert!(payload.len() <= MAX_BYTES, "{}", payload.len());
        let value = parsed(&payload);
        let quiz = &value["action"]["action"];
        assert_eq!(quiz["type"], "quiz");
        assert_eq!(quiz["correct_index"], 4);
        assert_eq!(quiz["answers"].as_array().unwrap().len(), 5);
        for text in std::iter::once(&quiz["question"]).chain(quiz["answers"].as_array().unwrap()) {
            let text = text.as_str().unwrap();
            assert!(text.chars().count() > MIN_TEXT_CHARS, "{text}");
            assert!(text.trim_end_matches('…').chars().all(|c| c == '😀'));
        }
    }

    #[test]
    fn links_are_dropped_rather_than_cut_when_texts_are_not_enough() {
        let url = |n: usize| format!("https://example.com/{}", "p".repeat(n));
        let frame = started(StreamAction::AmazonProduct(AmazonProduct {
            title: "A very good kettle".into(),
            price: "$25.00".into(),
            image_url: url(1500),
            product_url: url(500),
        }));

        let payload = encode(&frame).unwrap();

        assert!(payload.len() <= MAX_BYTES, "{}", payload.len());
        let product = &parsed(&payload)["action"]["action"];
        // The longer link went; the other one is whole.
        assert!(product.get("image_url").is_none(), "{product}");
        assert_eq!(product["product_url"], url(500));
        assert_eq!(product["title"], "A very good kettle");
    }

    #[test]
    fn a_tiny_limit_still_gives_valid_json_naming_the_event() {
        let payload = compact(&notice(&"x".repeat(200)), 120);
        let value = parsed(&payload);
        assert_eq!(value["type"], "action_started");
        assert_eq!(value["truncated"], true);
    }
}
