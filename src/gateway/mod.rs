//! The websocket gateway at `/ws`: browsers and load tests connect here.
//!
//! - [`protocol`]: the frames (documented in `docs/protocol.md`).
//! - [`connection`]: the per-connection loop, independent of the websocket library.
//! - This module: the axum upgrade and the adapter between axum's socket and the loop.

pub mod connection;
pub mod protocol;

use axum::{
    extract::{
        Query, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket},
    },
    response::Response,
};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;

pub use connection::{ConnectionSettings, GatewayDeps, WsMessage};

use crate::http::AppState;

/// tungstenite zero-fills its whole read buffer before every read of the socket: axum's
/// 128 KiB default made every connection touch 128 KiB of memory at its first read (idle
/// connections included) and cost a 128 KiB memset per client frame. Client frames are small
/// (a vote is ~150 bytes); a larger one still arrives whole, over several reads.
const READ_BUFFER_BYTES: usize = 1024;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConnectParams {
    /// An access token, to connect signed in (or send an `auth` frame later).
    access_token: Option<String>,
}

/// Open a websocket. Anonymous connections may subscribe and read; signed-in ones may also
/// chat and vote. The protocol is documented in `docs/protocol.md`.
#[utoipa::path(get, path = "/ws", tag = "realtime", params(ConnectParams),
    responses((status = 101, description = "Switching to the websocket protocol")))]
pub async fn upgrade(
    State(state): State<AppState>,
    Query(params): Query<ConnectParams>,
    ws: WebSocketUpgrade,
) -> Response {
    let deps = state.gateway.clone();
    // The loop refuses frames over `max_frame_bytes` with a close code; axum's own limit, which
    // would just drop the connection, sits well above it.
    ws.max_message_size(deps.settings.max_frame_bytes * 4)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| serve(socket, deps, params.access_token))
}

async fn serve(socket: WebSocket, deps: GatewayDeps, token: Option<String>) {
    let (sink, stream) = socket.split();
    let sink = sink.with(|m: WsMessage| async move { Ok::<_, axum::Error>(to_axum(m)) });
    let stream = stream.filter_map(|m| async move { m.ok().and_then(from_axum) });
    connection::run(Box::pin(sink), Box::pin(stream), deps, token).await;
}

fn to_axum(message: WsMessage) -> Message {
    match message {
        // Frames are serialised JSON, so always UTF-8.
        WsMessage::Text(bytes) => Message::Text(Utf8Bytes::try_from(bytes).unwrap_or_default()),
        WsMessage::Binary(bytes) => Message::Binary(bytes),
        WsMessage::Ping(bytes) => Message::Ping(bytes),
        WsMessage::Pong(bytes) => Message::Pong(bytes),
        WsMessage::Close(frame) => Message::Close(frame.map(|(code, reason)| CloseFrame {
            code,
            reason: reason.into(),
        })),
    }
}

fn from_axum(message: Message) -> Option<WsMessage> {
    Some(match message {
        Message::Text(text) => WsMessage::Text(bytes::Bytes::from(text)),
        Message::Binary(bytes) => WsMessage::Binary(bytes),
        Message::Ping(bytes) => WsMessage::Ping(bytes),
        Message::Pong(bytes) => WsMessage::Pong(bytes),
        Message::Close(frame) => WsMessage::Close(frame.map(|f| (f.code, f.reason.to_string()))),
    })
}
