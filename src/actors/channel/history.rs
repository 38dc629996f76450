//! The channel's recent chat, for snapshots, kept as the JSON a snapshot carries.
//!
//! Every subscriber's snapshot holds the history (200 lines by default), and all of a channel's
//! subscribes go through its one actor: serialising the lines again for each was most of what a
//! subscribe cost. A line never changes once sent, so its JSON is made once, when it arrives,
//! and leaves with it (deleted or aged out); there is no cache to invalidate.

use std::collections::VecDeque;

use crate::gateway::protocol::ChatLine;

pub(super) struct History {
    /// Oldest first.
    lines: VecDeque<KeptLine>,
    /// How many lines are kept (`RealtimeSettings::chat_history`).
    keep: usize,
}

struct KeptLine {
    offset: u64,
    json: Box<[u8]>,
}

impl History {
    pub(super) fn new(keep: usize) -> Self {
        Self {
            lines: VecDeque::new(),
            keep,
        }
    }

    /// Appends a line newer than any kept, forgetting the oldest beyond what is kept.
    pub(super) fn push(&mut self, line: &ChatLine) {
        let json = serde_json::to_vec(line).expect("chat lines always serialise");
        self.lines.push_back(KeptLine {
            offset: line.offset,
            json: json.into_boxed_slice(),
        });
        while self.lines.len() > self.keep {
            self.lines.pop_front();
        }
    }

    /// Forgets a line; whether it was kept.
    pub(super) fn remove(&mut self, offset: u64) -> bool {
        let before = self.lines.len();
        self.lines.retain(|l| l.offset != offset);
        self.lines.len() != before
    }

    /// The oldest offset kept.
    pub(super) fn oldest(&self) -> Option<u64> {
        self.lines.front().map(|l| l.offset)
    }

    /// The serialised lines newer than `after` (all with `None`), oldest first.
    pub(super) fn since(&self, after: Option<u64>) -> impl Iterator<Item = &[u8]> + Clone {
        self.lines
            .iter()
            .filter(move |l| after.is_none_or(|seen| l.offset > seen))
            .map(|l| &*l.json)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::domain::Color;

    fn line(offset: u64) -> ChatLine {
        ChatLine {
            offset,
            user_id: Uuid::now_v7(),
            username: "anna".into(),
            color: Color::Blue,
            text: format!("line {offset}"),
            sent_at: Utc::now(),
        }
    }

    fn offsets<'a>(json: impl Iterator<Item = &'a [u8]>) -> Vec<u64> {
        json.map(|j| serde_json::from_slice::<ChatLine>(j).unwrap().offset)
            .collect()
    }

    #[test]
    fn keeps_the_newest_lines_and_replays_those_after_an_offset() {
        let mut history = History::new(3);
        for offset in 1..=5 {
            history.push(&line(offset));
        }

        assert_eq!(history.oldest(), Some(3));
        assert_eq!(offsets(history.since(None)), [3, 4, 5]);
        assert_eq!(offsets(history.since(Some(3))), [4, 5]);
        assert_eq!(offsets(history.since(Some(5))), Vec::<u64>::new());
    }

    #[test]
    fn a_removed_line_is_gone_from_every_replay() {
        let mut history = History::new(3);
        for offset in 1..=3 {
            history.push(&line(offset));
        }

        assert!(history.remove(2));
        assert!(!history.remove(2));

        assert_eq!(offsets(history.since(None)), [1, 3]);
        assert_eq!(offsets(history.since(Some(1))), [3]);
    }

    #[test]
    fn a_kept_line_is_the_json_of_the_line() {
        let mut history = History::new(1);
        let sent = line(1);
        history.push(&sent);

        assert_eq!(
            history.since(None).collect::<Vec<_>>(),
            [serde_json::to_vec(&sent).unwrap()]
        );
    }
}
