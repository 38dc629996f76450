//! A client websocket read by hand, for the thousands of viewers and voters of one run.
//!
//! In a chat storm the client reads ~850 MB/s of frames on the same two cores as the server,
//! and every cycle it spends is counted in the latency it reports. Through tokio-tungstenite a
//! viewer woken for one batch zero-filled its read buffer before each of several 4 KiB reads,
//! validated every frame as UTF-8 and allocated a message for each: together about half of the
//! client's CPU. Here a viewer reads whatever its socket holds with one `recv` into a buffer
//! shared by all viewers on a thread, and looks at each frame where it lies. Only the bytes of
//! an unfinished frame are kept per connection.
//!
//! It speaks what this client needs of RFC 6455: the opening handshake (checking the accept
//! key), masked text frames out, unmasked frames in (fragmented ones joined), pong for ping,
//! and the closing handshake. Publishers and churn's connections use
//! tokio-tungstenite (`ws.rs`).

use std::{
    cell::RefCell,
    collections::VecDeque,
    io::{self, Read, Write},
    time::Duration,
};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncWriteExt, unix::AsyncFd},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::handshake::{client::generate_key, derive_accept_key};

/// Shared by the viewers of one thread: a storm's batch for one viewer is ~15 KiB.
const SCRATCH: usize = 64 * 1024;
/// Frames bigger than this are refused (a snapshot with full history is ~100 KiB).
const MAX_FRAME: usize = 16 * 1024 * 1024;

thread_local! {
    static SCRATCH_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Why a connection ended.
#[derive(Debug)]
pub enum Ended {
    /// The server sent a close frame with this code (and reason).
    Closed(Option<u16>, String),
    /// The connection ended without a close frame, or broke.
    Broken(String),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Closed(Some(code), reason) => write!(f, "closed: {code} {reason}"),
            Ended::Closed(None, _) => write!(f, "closed without a code"),
            Ended::Broken(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Ended {}

pub struct Socket {
    /// Not tokio's `TcpStream`: that forgets a socket's readiness only when a read finds
    /// nothing, which costs every wake a second `recv`. A short read already says the socket
    /// is drained, and `AsyncFd` lets us say so.
    stream: AsyncFd<std::net::TcpStream>,
    /// Received bytes that do not yet make a whole frame.
    partial: Vec<u8>,
    /// A fragmented message being put together.
    message: Vec<u8>,
    /// Text frames read but not yet handed out (read along with the one asked for).
    inbox: VecDeque<Vec<u8>>,
    /// Control frames owed to the server (pongs), written before anything else.
    outgoing: Vec<u8>,
    ended: Option<String>,
    mask_seed: u32,
}

impl Socket {
    /// The opening handshake over a connected stream, for `url` (`ws://host:port/path?query`).
    pub async fn handshake(mut stream: TcpStream, url: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("ws://").context("a ws:// URL")?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let key = generate_key();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::with_capacity(512);
        let head_end = loop {
            if let Some(at) = memchr::memmem::find(&response, b"\r\n\r\n") {
                break at + 4;
            }
            if response.len() > 16 * 1024 {
                bail!("handshake response too long");
            }
            stream.readable().await?;
            let mut chunk = [0u8; 2048];
            match stream.try_read(&mut chunk) {
                Ok(0) => bail!("connection closed during the handshake"),
                Ok(n) => response.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        };
        let head = std::str::from_utf8(&response[..head_end]).context("handshake response")?;
        let status = head.lines().next().unwrap_or_default();
        if !status.starts_with("HTTP/1.1 101") {
            bail!("handshake refused: {status}");
        }
        let accept = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-accept")
                .then(|| value.trim())
        });
        if accept != Some(derive_accept_key(key.as_bytes()).as_str()) {
            bail!("handshake: wrong or missing Sec-WebSocket-Accept");
        }
        let stream = stream.into_std()?;
        // SAFETY: the AsyncFd owns the stream, so its descriptor stays open and the same for
        // the AsyncFd's whole life.
        let stream = unsafe { AsyncFd::register(stream) }.map_err(|e| e.into_parts().1)?;
        let mut socket = Self {
            stream,
            partial: Vec::new(),
            message: Vec::new(),
            inbox: VecDeque::new(),
            outgoing: Vec::new(),
            ended: None,
            mask_seed: (crate::clock::now_us() as u32) | 1,
        };
        // The server may write its first frames right behind its answer.
        let mut early = Vec::new();
        socket.take_in(&response[head_end..], &mut |t| early.push(t.to_vec()))?;
        socket.inbox.extend(early);
        Ok(socket)
    }

    /// Sends text frames in one write.
    pub async fn send_texts<S: AsRef<str>>(&mut self, texts: &[S]) -> anyhow::Result<()> {
        let mut buf = std::mem::take(&mut self.outgoing);
        for t in texts {
            self.frame(0x1, t.as_ref().as_bytes(), &mut buf);
        }
        self.write_all(&buf).await?;
        Ok(())
    }

    pub async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.send_texts(&[text]).await
    }

    async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let mut guard = self.stream.writable().await?;
            if let Ok(written) = guard.try_io(|s| s.get_ref().write(buf)) {
                buf = &buf[written?..];
            }
        }
        Ok(())
    }

    /// Waits for the socket to be readable and reads what it holds, calling `on_text` for
    /// every whole text frame; frames read earlier by `next_text` come first. Cancel-safe: it
    /// only awaits readiness.
    pub async fn read(&mut self, mut on_text: impl FnMut(&[u8])) -> Result<(), Ended> {
        if !self.inbox.is_empty() {
            for t in std::mem::take(&mut self.inbox) {
                on_text(&t);
            }
            return Ok(());
        }
        if let Some(e) = &self.ended {
            return Err(Ended::Broken(e.clone()));
        }
        loop {
            if !self.outgoing.is_empty() {
                self.flush_owed();
            }
            let mut guard = match self.stream.readable().await {
                Ok(g) => g,
                Err(e) => return Err(self.broken(format!("error: {e}"))),
            };
            // Bytes go into this thread's scratch buffer behind an unfinished frame's, or, for a
            // frame too long for it, straight onto that frame's own buffer.
            let long = self.partial.len() >= SCRATCH / 2;
            let mut buf = if long {
                std::mem::take(&mut self.partial)
            } else {
                let mut scratch = SCRATCH_BUF.take();
                scratch.resize(SCRATCH, 0);
                scratch[..self.partial.len()].copy_from_slice(&self.partial);
                scratch
            };
            let kept = if long { buf.len() } else { self.partial.len() };
            if long {
                buf.resize(kept + SCRATCH, 0);
            }
            let space = buf.len() - kept;
            let read = guard.get_inner().read(&mut buf[kept..]);
            match &read {
                Ok(n) if *n < space => guard.clear_ready(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                _ => {}
            }
            drop(guard);
            let outcome = match read {
                Ok(0) => Some(Err(self.broken("ended".into()))),
                Ok(n) => {
                    self.partial.clear();
                    Some(self.take_in(&buf[..kept + n], &mut on_text))
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
                Err(e) => Some(Err(self.broken(format!("error: {e}")))),
            };
            if long {
                if outcome.is_none() {
                    buf.truncate(kept);
                    self.partial = buf;
                }
            } else {
                SCRATCH_BUF.set(buf);
            }
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// The next text frame, within `timeout`.
    pub async fn next_text(&mut self, timeout: Duration) -> anyhow::Result<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.inbox.is_empty() {
            let mut got = Vec::new();
            tokio::time::timeout_at(deadline, self.read(|t| got.push(t.to_vec())))
                .await
                .context("timed out waiting for a frame")??;
            self.inbox.extend(got);
        }
        let text = self.inbox.pop_front().unwrap_or_default();
        String::from_utf8(text).context("a text frame that is not UTF-8")
    }

    /// The closing handshake: our close frame, then the server's answer (or `timeout`).
    pub async fn close(&mut self, timeout: Duration) {
        let mut buf = std::mem::take(&mut self.outgoing);
        self.frame(0x8, &1000u16.to_be_bytes(), &mut buf);
        if self.write_all(&buf).await.is_err() {
            return;
        }
        let _ =
            tokio::time::timeout(timeout, async { while self.read(|_| {}).await.is_ok() {} }).await;
    }

    /// Parses whole frames out of `bytes`, keeping an unfinished one in `partial`.
    fn take_in(&mut self, bytes: &[u8], on_text: &mut impl FnMut(&[u8])) -> Result<(), Ended> {
        let mut at = 0;
        while let Some(RawFrame {
            opcode,
            fin,
            payload,
            len,
        }) = parse_frame(&bytes[at..])?
        {
            at += len;
            match opcode {
                0x1 | 0x2 if fin && self.message.is_empty() => on_text(payload),
                0x0..=0x2 => {
                    self.message.extend_from_slice(payload);
                    if fin {
                        let whole = std::mem::take(&mut self.message);
                        on_text(&whole);
                    }
                }
                0x8 => {
                    let code =
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    let reason =
                        String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
                    self.ended = Some(format!("closed: {code:?}"));
                    // Answer it, as the protocol asks; the server closes the TCP connection.
                    let mut buf = std::mem::take(&mut self.outgoing);
                    self.frame(0x8, payload.get(..2).unwrap_or_default(), &mut buf);
                    self.outgoing = buf;
                    self.flush_owed();
                    return Err(Ended::Closed(code, reason));
                }
                0x9 => {
                    let mut buf = std::mem::take(&mut self.outgoing);
                    self.frame(0xA, payload, &mut buf);
                    self.outgoing = buf;
                    self.flush_owed();
                }
                0xA => {}
                other => return Err(self.broken(format!("unknown opcode {other:#x}"))),
            }
        }
        self.partial.extend_from_slice(&bytes[at..]);
        Ok(())
    }

    /// Writes owed control frames if the socket takes them now; the rest wait for the next
    /// read or send.
    fn flush_owed(&mut self) {
        match self.stream.get_ref().write(&self.outgoing) {
            Ok(n) => {
                self.outgoing.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => self.outgoing.clear(),
        }
    }

    fn broken(&mut self, why: String) -> Ended {
        self.ended = Some(why.clone());
        Ended::Broken(why)
    }

    /// Appends a masked client frame (RFC 6455 §5.3: every client frame is masked).
    fn frame(&mut self, opcode: u8, payload: &[u8], buf: &mut Vec<u8>) {
        buf.push(0x80 | opcode);
        match payload.len() {
            n if n < 126 => buf.push(0x80 | n as u8),
            n if n <= usize::from(u16::MAX) => {
                buf.push(0x80 | 126);
                buf.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                buf.push(0x80 | 127);
                buf.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        // xorshift: masks need not be secret here, only varied.
        let mut x = self.mask_seed;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.mask_seed = x;
        let mask = x.to_be_bytes();
        buf.extend_from_slice(&mask);
        buf.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    }
}

/// One frame from the server.
struct RawFrame<'a> {
    opcode: u8,
    /// The last (or only) frame of its message.
    fin: bool,
    payload: &'a [u8],
    /// Its length with the header.
    len: usize,
}

/// The server frame at the start of `bytes`, or None if it is not all there yet.
fn parse_frame(bytes: &[u8]) -> Result<Option<RawFrame<'_>>, Ended> {
    let [b0, b1, ..] = *bytes else {
        return Ok(None);
    };
    if b1 & 0x80 != 0 {
        return Err(Ended::Broken("the server sent a masked frame".into()));
    }
    let (len, header) = match b1 & 0x7f {
        126 => match bytes.get(2..4) {
            Some(b) => (usize::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match bytes.get(2..10) {
            Some(b) => (u64::from_be_bytes(b.try_into().unwrap()) as usize, 10),
            None => return Ok(None),
        },
        n => (usize::from(n), 2),
    };
    if len > MAX_FRAME {
        return Err(Ended::Broken(format!("a {len}-byte frame")));
    }
    match bytes.get(header..header + len) {
        Some(payload) => Ok(Some(RawFrame {
            opcode: b0 & 0x0f,
            fin: b0 & 0x80 != 0,
            payload,
            len: header + len,
        })),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use futures::{SinkExt, StreamExt};
    use tokio::net::TcpListener;
    use tokio_tungstenite::tungstenite::{
        Message,
        protocol::{CloseFrame, frame::coding::CloseCode},
    };

    use super::*;

    /// A tungstenite server on loopback that runs `script` on its one connection.
    async fn server<F, Fut>(script: F) -> (String, tokio::task::JoinHandle<()>)
    where
        F: FnOnce(tokio_tungstenite::WebSocketStream<TcpStream>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws?x=1", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            script(ws).await;
        });
        (url, task)
    }

    async fn open(url: &str) -> Socket {
        let addr = url.trim_start_matches("ws://").split('/').next().unwrap();
        let stream = TcpStream::connect(addr).await.unwrap();
        Socket::handshake(stream, url).await.unwrap()
    }

    #[tokio::test]
    async fn frames_of_every_size_arrive_whole_and_in_order() {
        // Around the header-length boundaries, and longer than the scratch buffer.
        let sizes = [0, 1, 125, 126, 65_535, 65_536, 3 * SCRATCH + 17, 10];
        let (url, server) = server(move |mut ws| async move {
            // Written as fast as possible, so reads split frames at arbitrary points.
            for (i, n) in sizes.iter().enumerate() {
                let text = format!("{i}:{}", "x".repeat(*n));
                ws.feed(Message::Text(text.into())).await.unwrap();
            }
            ws.flush().await.unwrap();
            ws.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }))
            .await
            .unwrap();
            while ws.next().await.is_some() {}
        })
        .await;
        let mut socket = open(&url).await;
        let mut got = Vec::new();
        loop {
            let r = socket
                .read(|t| got.push(String::from_utf8(t.to_vec()).unwrap()))
                .await;
            if let Err(e) = r {
                assert!(matches!(e, Ended::Closed(Some(1000), _)), "{e}");
                break;
            }
        }
        let want: Vec<String> = sizes
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{i}:{}", "x".repeat(*n)))
            .collect();
        assert_eq!(got.len(), want.len());
        assert!(got == want, "frames differ");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn texts_sent_are_masked_frames_the_server_reads_and_pings_are_answered() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (url, server) = server(move |mut ws| async move {
            ws.send(Message::Ping(b"are you there".to_vec().into()))
                .await
                .unwrap();
            let mut seen = Vec::new();
            while let Some(Ok(m)) = ws.next().await {
                match m {
                    Message::Text(t) => {
                        seen.push(t.to_string());
                        if seen.len() == 3 {
                            ws.send(Message::Close(Some(CloseFrame {
                                code: CloseCode::Library(4008),
                                reason: "slow".into(),
                            })))
                            .await
                            .unwrap();
                        }
                    }
                    Message::Pong(p) => seen.push(format!("pong {}", String::from_utf8_lossy(&p))),
                    _ => {}
                }
            }
            let _ = tx.send(seen);
        })
        .await;
        let mut socket = open(&url).await;
        // The ping is read (and answered) before the texts go out.
        let _ = tokio::time::timeout(Duration::from_millis(300), socket.read(|_| {})).await;
        socket.send_texts(&["one", "two"]).await.unwrap();
        socket.send_text(&"é".repeat(200)).await.unwrap();
        let ended = loop {
            if let Err(e) = socket.read(|_| {}).await {
                break e;
            }
        };
        assert!(
            matches!(&ended, Ended::Closed(Some(4008), r) if r == "slow"),
            "{ended}"
        );
        server.await.unwrap();
        let seen = rx.await.unwrap();
        assert_eq!(
            seen,
            vec![
                "pong are you there".to_string(),
                "one".into(),
                "two".into(),
                "é".repeat(200)
            ]
        );
    }

    #[tokio::test]
    async fn a_refused_handshake_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await;
            stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let err = Socket::handshake(stream, &format!("ws://{addr}/ws"))
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains("400"), "{err}");
    }
}
