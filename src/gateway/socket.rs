//! The websocket on the wire: the HTTP/1.1 upgrade, reading client frames with tungstenite, and
//! writing server frames with our own framing.
//!
//! Why not axum's `WebSocket` for the writing side: tungstenite copies every frame into a write
//! buffer that never shrinks, so each connection kept, for its whole life, a buffer as large as
//! the largest frame it was ever sent (the `snapshot` with 200 lines of chat history is ~75 KB:
//! ~80 KiB per idle viewer of a channel with chat). Framing a server frame is trivial (no mask,
//! RFC 6455 §5.2), so [`FrameWriter`] does it into a buffer it frees after a large write, and
//! skips the per-recipient UTF-8 re-check and the lock that axum's split socket takes per send.
//! Client frames (masked, possibly fragmented, with control frames in between) are still parsed
//! by tungstenite.
//!
//! The TCP socket is shared ([`SharedSocket`]): hyper serves HTTP on it, and after the upgrade
//! the connection task reads and writes it, while whoever fans a frame out may write that frame
//! straight to it (see [`crate::actors::hub`]): most frames to most viewers then cost one
//! `write` in the broadcasting thread instead of a task wake-up, a queue and a `write`.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Query, connect_info::Connected},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use bytes::{BufMut, Bytes};
use futures::{Sink, Stream, StreamExt};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message, handshake::derive_accept_key, protocol::Role},
};

pub use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{ConnectParams, connection::WsMessage};
use crate::http::error::ApiError;

/// The write buffer is freed after a write that grew it past this, so an idle connection keeps
/// at most this much of it: a chat or presence frame fits, the snapshot (~1 KB even without chat
/// history) does not.
const KEEP_WRITE_BUFFER: usize = 512;

/// A websocket handshake request (`GET /ws` with `Upgrade: websocket`), checked.
pub struct WebSocketRequest {
    key: HeaderValue,
    on_upgrade: hyper::upgrade::OnUpgrade,
    socket: SharedSocket,
    pub params: ConnectParams,
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let refuse = |what: &str| ApiError::Malformed(format!("not a websocket handshake: {what}"));
        if parts.method != Method::GET || parts.version > axum::http::Version::HTTP_11 {
            return Err(refuse("the method must be GET, over HTTP/1.1"));
        }
        if !header_has_token(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(refuse("the Connection header must include `upgrade`"));
        }
        if !header_has_token(&parts.headers, header::UPGRADE, "websocket") {
            return Err(refuse("the Upgrade header must be `websocket`"));
        }
        if parts.headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13"))
        {
            return Err(refuse("Sec-WebSocket-Version must be 13"));
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .cloned()
            .ok_or_else(|| refuse("Sec-WebSocket-Key is missing"))?;
        let Query(params) = Query::<ConnectParams>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::Malformed(e.body_text()))?;
        let socket = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|ConnectInfo(peer)| peer.socket.clone())
            .ok_or_else(|| ApiError::Internal("served without `Peer` connect info".into()))?;
        let on_upgrade = parts
            .extensions
            .remove::<hyper::upgrade::OnUpgrade>()
            .ok_or_else(|| refuse("this connection cannot be upgraded"))?;
        Ok(Self {
            key,
            on_upgrade,
            socket,
            params,
        })
    }
}

impl WebSocketRequest {
    /// Answers `101 Switching Protocols` and, once the client has it, runs `serve` with a
    /// writer of frames, the client's frames, and the socket (for direct writes).
    pub fn on_upgrade<F, Fut>(self, config: WebSocketConfig, serve: F) -> Response
    where
        F: FnOnce(FrameWriter<SharedSocket>, ClientFrames, SharedSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (on_upgrade, socket) = (self.on_upgrade, self.socket);
        tokio::spawn(async move {
            // hyper hands the connection over once the 101 is written. Its side is dropped: the
            // task uses the shared socket. (Bytes a client sent before reading the 101 would be
            // in hyper's buffer; clients wait for it, as RFC 6455 §4.1 requires.)
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            drop(upgraded);
            let frames = WebSocketStream::from_raw_socket(
                ReadOnly(socket.clone()),
                Role::Server,
                Some(config),
            )
            .await;
            serve(
                FrameWriter::new(socket.clone()),
                client_frames(frames),
                socket.clone(),
            )
            .await;
            socket.shut_down();
        });
        (
            StatusCode::SWITCHING_PROTOCOLS,
            [
                (header::CONNECTION, HeaderValue::from_static("upgrade")),
                (header::UPGRADE, HeaderValue::from_static("websocket")),
                (
                    header::SEC_WEBSOCKET_ACCEPT,
                    HeaderValue::from_str(&derive_accept_key(self.key.as_bytes()))
                        .expect("base64 is a valid header value"),
                ),
            ],
        )
            .into_response()
    }
}

/// Whether a comma-separated header lists `token` (case-insensitively).
fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

pub type ClientFrames = Pin<Box<dyn Stream<Item = WsMessage> + Send>>;

fn client_frames(frames: WebSocketStream<ReadOnly<SharedSocket>>) -> ClientFrames {
    Box::pin(frames.filter_map(|m| async move {
        Some(match m.ok()? {
            Message::Text(text) => WsMessage::Text(Bytes::from(text)),
            Message::Binary(bytes) => WsMessage::Binary(bytes),
            Message::Ping(bytes) => WsMessage::Ping(bytes),
            Message::Pong(bytes) => WsMessage::Pong(bytes),
            Message::Close(frame) => {
                WsMessage::Close(frame.map(|f| (f.code.into(), f.reason.to_string())))
            }
            Message::Frame(_) => return None,
        })
    }))
}

/// One accepted TCP connection, shared by hyper (HTTP), the connection task and broadcasters
/// writing frames directly. Reads and writes are non-blocking attempts behind tokio's readiness.
#[derive(Debug, Clone)]
pub struct SharedSocket(Arc<TcpStream>);

impl From<TcpStream> for SharedSocket {
    fn from(stream: TcpStream) -> Self {
        Self(Arc::new(stream))
    }
}

impl SharedSocket {
    /// Writes what the socket takes now, without waiting; `WouldBlock` when it takes nothing.
    ///
    /// Straight to the kernel with `send` rather than through tokio's `try_write`: `send` skips
    /// the file layer that `write` goes through (~8 % of a fan-out's server CPU), and tokio's
    /// readiness needs no update here: a `WouldBlock` is seen again, and then waited for, by the
    /// connection task's own write.
    pub fn try_write(&self, bytes: &[u8]) -> io::Result<usize> {
        socket2::SockRef::from(&*self.0).send(bytes)
    }

    /// Ends the connection for the peer even while broadcasters still hold the socket.
    fn shut_down(&self) {
        let _ = socket2::SockRef::from(&*self.0).shutdown(std::net::Shutdown::Both);
    }
}

impl AsyncRead for SharedSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // Readiness was stale; `try_read` cleared it, so the next poll waits.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for SharedSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                written => return Poll::Ready(written),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(&*self.0).shutdown(std::net::Shutdown::Write))
    }
}

/// The server's listener: accepted connections become [`SharedSocket`]s.
pub struct SocketListener(pub TcpListener);

impl axum::serve::Listener for SocketListener {
    type Io = SharedSocket;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (SharedSocket, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => return (stream.into(), addr),
                Err(e) => {
                    // Out of file descriptors, mostly: wait for some to be freed.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// Who is on the other end of a request's connection (axum's connect info).
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    socket: SharedSocket,
}

impl Connected<axum::serve::IncomingStream<'_, SocketListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, SocketListener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            socket: stream.io().clone(),
        }
    }
}

/// The reading half, for tungstenite. tungstenite also writes on its own (it answers pings and
/// a client's close); those writes are dropped here, because the connection loop answers both
/// itself through the [`FrameWriter`], and two writers on one socket would interleave frames.
struct ReadOnly<R>(R);

impl<R: AsyncRead + Unpin> AsyncRead for ReadOnly<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<R: Unpin> AsyncWrite for ReadOnly<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Writes server frames (unmasked, unfragmented): `feed` frames them into one buffer, `flush`
/// writes the buffer in as few syscalls as the socket allows. Closing sends a close frame first,
/// unless one was sent.
pub struct FrameWriter<W> {
    socket: W,
    buffer: Vec<u8>,
    written: usize,
    close_sent: bool,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    pub fn new(socket: W) -> Self {
        Self {
            socket,
            buffer: Vec::new(),
            written: 0,
            close_sent: false,
        }
    }

    fn poll_write_buffer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buffer.len() {
            let n =
                ready!(Pin::new(&mut self.socket).poll_write(cx, &self.buffer[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.written = 0;
        self.buffer.clear();
        if self.buffer.capacity() > KEEP_WRITE_BUFFER {
            self.buffer = Vec::new();
        }
        Poll::Ready(Ok(()))
    }
}

/// A server text frame as written on the wire, built once and shared by every recipient.
#[derive(Debug, Clone)]
pub struct WireFrame {
    wire: Bytes,
    header: usize,
}

impl WireFrame {
    pub fn text(payload: &[u8]) -> Self {
        let mut wire = Vec::with_capacity(payload.len() + 10);
        encode_frame(&mut wire, 0x1, payload);
        let header = wire.len() - payload.len();
        Self {
            wire: wire.into(),
            header,
        }
    }

    /// Room left in front of a payload for its header, by [`Self::text_after_room`].
    pub const HEADER_ROOM: usize = 10;

    /// A text frame of `buf[HEADER_ROOM..]`, its header written into the room in front: a large
    /// payload (a snapshot) is not copied into a second buffer.
    pub fn text_after_room(mut buf: Vec<u8>) -> Self {
        let mut header = [0u8; Self::HEADER_ROOM];
        let mut room = &mut header[..];
        encode_header(&mut room, 0x1, buf.len() - Self::HEADER_ROOM);
        let header_len = Self::HEADER_ROOM - room.len();
        let start = Self::HEADER_ROOM - header_len;
        buf[start..Self::HEADER_ROOM].copy_from_slice(&header[..header_len]);
        Self {
            wire: Bytes::from(buf).slice(start..),
            header: header_len,
        }
    }

    /// Header and payload.
    pub fn wire(&self) -> &Bytes {
        &self.wire
    }

    pub fn payload(&self) -> Bytes {
        self.wire.slice(self.header..)
    }
}

/// Appends one frame (FIN set, no mask) to `out`.
pub fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.reserve(payload.len() + WireFrame::HEADER_ROOM);
    encode_header(out, opcode, payload.len());
    out.extend_from_slice(payload);
}

/// A frame's header (FIN set, no mask) for a payload of `len` bytes: at most
/// [`WireFrame::HEADER_ROOM`] bytes.
fn encode_header(out: &mut impl BufMut, opcode: u8, len: usize) {
    out.put_u8(0x80 | opcode);
    if len < 126 {
        out.put_u8(len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.put_u8(126);
        out.put_u16(len);
    } else {
        out.put_u8(127);
        out.put_u64(len as u64);
    }
}

impl<W: AsyncWrite + Unpin> Sink<WsMessage> for FrameWriter<W> {
    type Error = io::Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The caller bounds its batches; `flush` empties the buffer.
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: WsMessage) -> io::Result<()> {
        let this = self.get_mut();
        if this.close_sent {
            return Err(io::Error::other("the close frame was sent"));
        }
        let out = &mut this.buffer;
        match message {
            WsMessage::Text(payload) => encode_frame(out, 0x1, &payload),
            WsMessage::Binary(payload) => encode_frame(out, 0x2, &payload),
            WsMessage::Ping(payload) => encode_frame(out, 0x9, &payload),
            WsMessage::Pong(payload) => encode_frame(out, 0xA, &payload),
            WsMessage::Raw(bytes) => out.extend_from_slice(&bytes),
            WsMessage::Close(frame) => {
                this.close_sent = true;
                let mut payload = Vec::new();
                if let Some((code, reason)) = frame {
                    payload.put_u16(code);
                    // A control frame carries at most 125 bytes.
                    let mut end = reason.len().min(123);
                    while !reason.is_char_boundary(end) {
                        end -= 1;
                    }
                    payload.extend_from_slice(&reason.as_bytes()[..end]);
                }
                encode_frame(out, 0x8, &payload);
            }
        }
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_buffer(cx))?;
        Pin::new(&mut this.socket).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_sent {
            this.close_sent = true;
            encode_frame(&mut this.buffer, 0x8, &1000u16.to_be_bytes());
        }
        ready!(this.poll_write_buffer(cx))?;
        Pin::new(&mut this.socket).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    use super::*;

    /// What tungstenite, as a client, reads from what the writer wrote.
    async fn read_back(messages: Vec<WsMessage>) -> Vec<Message> {
        let (server, client) = tokio::io::duplex(1 << 20);
        let mut writer = FrameWriter::new(server);
        for m in messages {
            writer.feed(m).await.unwrap();
        }
        writer.close().await.unwrap();
        let client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        client.filter_map(|m| async move { m.ok() }).collect().await
    }

    #[tokio::test]
    async fn frames_of_every_length_class_read_back_as_sent() {
        let short = "a".repeat(125);
        let medium = "é".repeat(200); // 400 bytes: a 16-bit length
        let long = "x".repeat(70_000); // a 64-bit length
        let read = read_back(vec![
            WsMessage::Text(Bytes::from(short.clone())),
            WsMessage::Text(Bytes::from(medium.clone())),
            WsMessage::Ping(Bytes::from_static(b"p")),
            WsMessage::Text(Bytes::from(long.clone())),
            WsMessage::Close(Some((4008, "slow consumer".into()))),
        ])
        .await;
        assert_eq!(read.len(), 5, "{read:?}");
        assert_eq!(read[0], Message::text(short));
        assert_eq!(read[1], Message::text(medium));
        assert_eq!(read[2], Message::Ping(Bytes::from_static(b"p")));
        assert_eq!(read[3], Message::text(long));
        let Message::Close(Some(close)) = &read[4] else {
            panic!("no close frame: {:?}", read[4]);
        };
        assert_eq!(close.code, CloseCode::from(4008));
        assert_eq!(close.reason.as_str(), "slow consumer");
    }

    #[test]
    fn a_frame_built_after_room_for_its_header_is_the_frame_of_its_payload() {
        // Every length class: 7-bit, 16-bit and 64-bit lengths, and their edges.
        for len in [0, 125, 126, 65_535, 65_536, 70_000] {
            let payload = vec![b'x'; len];
            let mut buf = vec![0; WireFrame::HEADER_ROOM];
            buf.extend_from_slice(&payload);

            let framed = WireFrame::text_after_room(buf);

            let expected = WireFrame::text(&payload);
            assert_eq!(framed.wire(), expected.wire(), "{len} bytes");
            assert_eq!(framed.payload(), expected.payload(), "{len} bytes");
        }
    }

    #[tokio::test]
    async fn closing_without_a_close_frame_sends_a_normal_one() {
        let read = read_back(vec![WsMessage::Text(Bytes::from_static(b"{}"))]).await;
        assert_eq!(read[0], Message::text("{}"));
        let Message::Close(Some(close)) = &read[1] else {
            panic!("no close frame: {read:?}");
        };
        assert_eq!(close.code, CloseCode::Normal);
    }

    #[tokio::test]
    async fn a_long_close_reason_is_cut_at_a_character_boundary() {
        let read = read_back(vec![WsMessage::Close(Some((1001, "ü".repeat(100))))]).await;
        let Message::Close(Some(close)) = &read[0] else {
            panic!("no close frame: {read:?}");
        };
        assert_eq!(close.reason.as_str(), "ü".repeat(61));
    }

    #[tokio::test]
    async fn a_large_write_does_not_keep_its_buffer() {
        let (server, mut client) = tokio::io::duplex(1 << 20);
        let mut writer = FrameWriter::new(server);
        writer
            .send(WsMessage::Text(Bytes::from("y".repeat(75_000))))
            .await
            .unwrap();
        assert!(writer.buffer.capacity() <= KEEP_WRITE_BUFFER);
        writer
            .send(WsMessage::Text(Bytes::from_static(b"{}")))
            .await
            .unwrap();
        assert!(writer.buffer.capacity() > 0, "small writes keep theirs");
        let mut sink = Vec::new();
        drop(writer);
        tokio::io::AsyncReadExt::read_to_end(&mut client, &mut sink)
            .await
            .unwrap();
        // A 64-bit length header, the frame, a 2-byte header and `{}`.
        assert_eq!(sink.len(), 10 + 75_000 + 2 + 2);
    }
}
