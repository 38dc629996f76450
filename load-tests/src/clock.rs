//! One process-wide clock and the marker that carries a publish time inside a frame.
//!
//! Publisher and receivers live in this one process, so a publish→receive latency is the
//! difference of two readings of the same monotonic clock: no clock skew to correct for.
//! A marker is `lt|<seq>|<micros>|`, placed in chat text or an overlay's title; it needs no
//! JSON escaping, so it can be found in a frame's raw bytes without parsing the frame.

use std::{sync::LazyLock, time::Instant};

static START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Microseconds since the process's clock started.
pub fn now_us() -> u64 {
    START.elapsed().as_micros() as u64
}

/// A marker for message `seq` published now, padded with dots to `len` bytes (if longer).
pub fn marker(seq: u64, len: usize) -> String {
    let mut text = format!("lt|{seq}|{}|", now_us());
    while text.len() < len {
        text.push('.');
    }
    text
}

/// Calls `found(seq, published_us)` for every marker in `frame`.
pub fn scan_markers(frame: &[u8], mut found: impl FnMut(u64, u64)) {
    static FINDER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"lt|"));
    for at in FINDER.find_iter(frame) {
        let rest = &frame[at + 3..];
        let Some((seq, rest)) = number(rest) else {
            continue;
        };
        let Some((published, _)) = number(rest) else {
            continue;
        };
        found(seq, published);
    }
}

/// A decimal number followed by `|`, and what follows it.
fn number(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let end = bytes.iter().position(|b| !b.is_ascii_digit())?;
    if end == 0 || end > 19 || bytes.get(end) != Some(&b'|') {
        return None;
    }
    let value = bytes[..end]
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some((value, &bytes[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_in_a_coalesced_chat_frame() {
        let a = marker(7, 40);
        let b = marker(8, 10);
        assert_eq!(a.len(), 40);
        let frame = format!(
            r#"{{"type":"chat","messages":[{{"text":"{a}"}},{{"text":"{b}"}},{{"text":"lt|x|"}}]}}"#
        );
        let mut seen = Vec::new();
        scan_markers(frame.as_bytes(), |seq, _| seen.push(seq));
        assert_eq!(seen, vec![7, 8]);
    }
}
