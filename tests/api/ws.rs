//! A websocket client for tests: numbered requests, buffered events, bounded waits.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

use crate::helpers::TestApp;

const WAIT: Duration = Duration::from_secs(15);

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    next_id: u64,
    buffered: VecDeque<Value>,
    pub welcome: Value,
}

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed(Option<u16>),
    Dropped,
}

impl WsClient {
    pub async fn connect(app: &TestApp, token: Option<&str>) -> Self {
        Self::connect_to(&app.base, token).await
    }

    /// Connects to a server at `base` (`http://host:port`), e.g. one running as a child process.
    pub async fn connect_to(base: &str, token: Option<&str>) -> Self {
        let base = base.replace("http://", "ws://");
        let url = match token {
            Some(t) => format!("{base}/ws?access_token={t}"),
            None => format!("{base}/ws"),
        };
        let (socket, _) = connect_async(url).await.expect("websocket connects");
        let mut client = Self {
            socket,
            next_id: 1,
            buffered: VecDeque::new(),
            welcome: Value::Null,
        };
        client.welcome = client.next_frame().await.expect("welcome frame");
        assert_eq!(client.welcome["type"], "welcome");
        client
    }

    async fn next_frame(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a frame within the wait")?
                .ok()?;
            match message {
                Message::Text(text) => {
                    return Some(serde_json::from_str(&text).expect("frames are JSON"));
                }
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    pub async fn send_raw(&mut self, frame: Value) {
        self.socket
            .send(Message::text(frame.to_string()))
            .await
            .expect("send");
    }

    /// Sends a command with a fresh id and returns its answer (ack, error or snapshot); other
    /// frames that arrive meanwhile are kept for `next_event`.
    pub async fn request(&mut self, mut frame: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        frame["id"] = json!(id);
        self.send_raw(frame).await;
        loop {
            let f = self
                .next_frame()
                .await
                .expect("connection open while waiting for a reply");
            if f["id"] == json!(id)
                && ["ack", "error", "snapshot", "pong"].contains(&f["type"].as_str().unwrap_or(""))
            {
                return f;
            }
            self.buffered.push_back(f);
        }
    }

    pub async fn subscribe(&mut self, channel: &str) -> Value {
        let reply = self
            .request(json!({"type": "subscribe", "channel": channel}))
            .await;
        assert_eq!(reply["type"], "snapshot", "{reply}");
        reply
    }

    pub async fn subscribe_from(&mut self, channel: &str, chat_offset: u64) -> Value {
        self.request(json!({"type": "subscribe", "channel": channel, "chat_offset": chat_offset}))
            .await
    }

    /// The next event of `kind`, skipping others.
    pub async fn next_event(&mut self, kind: &str) -> Value {
        if let Some(i) = self.buffered.iter().position(|f| f["type"] == kind) {
            return self.buffered.remove(i).unwrap();
        }
        loop {
            let f = self
                .next_frame()
                .await
                .unwrap_or_else(|| panic!("connection closed while waiting for {kind}"));
            if f["type"] == kind {
                return f;
            }
            self.buffered.push_back(f);
        }
    }

    /// Every frame up to and including the next one of `kind`, each with the moment it was read
    /// (frames already buffered by `request` count as read now). For measuring frame spacing.
    pub async fn frames_until(&mut self, kind: &str) -> Vec<(Instant, Value)> {
        let mut frames: Vec<(Instant, Value)> = self
            .buffered
            .drain(..)
            .map(|f| (Instant::now(), f))
            .collect();
        if let Some(end) = frames.iter().position(|(_, f)| f["type"] == kind) {
            self.buffered
                .extend(frames.drain(end + 1..).map(|(_, f)| f));
            return frames;
        }
        loop {
            let f = self
                .next_frame()
                .await
                .unwrap_or_else(|| panic!("connection closed while waiting for {kind}"));
            let done = f["type"] == kind;
            frames.push((Instant::now(), f));
            if done {
                return frames;
            }
        }
    }

    /// The next frame, buffered or new.
    pub async fn next_any(&mut self) -> Value {
        match self.buffered.pop_front() {
            Some(f) => f,
            None => self.next_frame().await.expect("connection open"),
        }
    }

    /// Chat lines received (flattening coalesced frames) until `count` have arrived.
    pub async fn chat_lines(&mut self, count: usize) -> Vec<Value> {
        let mut lines = Vec::new();
        while lines.len() < count {
            let frame = self.next_event("chat").await;
            lines.extend(frame["messages"].as_array().unwrap().iter().cloned());
        }
        lines
    }

    /// Reads until the connection ends and reports how.
    pub async fn ended(mut self) -> Ended {
        loop {
            match tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("connection ends within the wait")
            {
                Some(Ok(Message::Close(frame))) => {
                    return Ended::Closed(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Ended::Dropped,
            }
        }
    }
}
