//! The websocket gateway at `/ws`: browsers and load tests connect here.
//!
//! - [`protocol`]: the frames (documented in `docs/protocol.md`).
//! - [`connection`]: the per-connection loop, independent of the websocket library.
//! - [`socket`]: the upgrade, and the socket's two halves as the loop's sink and stream.

pub mod connection;
pub mod protocol;
pub mod socket;

use axum::{extract::State, response::Response};
use serde::Deserialize;

pub use connection::{ConnectionSettings, GatewayDeps, WsMessage};

use crate::http::AppState;

/// tungstenite zero-fills its whole read buffer before every read of the socket: axum's
/// 128 KiB default made every connection touch 128 KiB of memory at its first read (idle
/// connections included) and cost a 128 KiB memset per client frame. Client frames are small
/// (a vote is ~150 bytes); a larger one still arrives whole, over several reads.
const READ_BUFFER_BYTES: usize = 512;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectParams {
    /// An access token, to connect signed in (or send an `auth` frame later).
    access_token: Option<String>,
}

/// Open a websocket. Anonymous connections may subscribe and read; signed-in ones may also
/// chat and vote. The protocol is documented in `docs/protocol.md`.
#[utoipa::path(get, path = "/ws", tag = "realtime", params(ConnectParams),
    responses((status = 101, description = "Switching to the websocket protocol"),
        (status = 400, description = "Not a websocket handshake", body = crate::http::error::ErrorBody)))]
pub async fn upgrade(State(state): State<AppState>, request: socket::WebSocketRequest) -> Response {
    let deps = state.gateway.clone();
    // The loop refuses frames over `max_frame_bytes` with a close code; the reader's own limit,
    // which would just drop the connection, sits well above it.
    let config = socket::WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(deps.settings.max_frame_bytes * 4))
        .max_frame_size(Some(deps.settings.max_frame_bytes * 4));
    let token = request.params.access_token.clone();
    request.on_upgrade(config, move |sink, stream, socket| {
        connection::run(sink, stream, deps, token, Some(socket))
    })
}
