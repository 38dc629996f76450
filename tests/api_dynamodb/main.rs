//! The HTTP API flows of `tests/api/` once more, with the server's store on DynamoDB (moto)
//! instead of SQLite: the same test files, compiled into a second binary whose [`STORE`] says
//! which store `spawn_app()` opens (a fresh table per data dir). So "the same integration flows
//! pass in both modes" is checked by the flows themselves, not by copies of them.
//!
//! Left out: what does not touch the store or already runs on AWS adapters (`aws_*`,
//! `products`, `uploads`), and `recovery`, which kills the real binary in local mode. Two
//! transport load tests are filtered out of this binary in `.config/nextest.toml` (moto serves
//! one request at a time; they would measure moto).
//!
//! Needs moto: `SHOWRUNNER_TEST_VENV` or `SHOWRUNNER_TEST_MOTO_URL` (see `support/moto.rs`).

use helpers::TestStore;

/// The store of every server these tests start.
pub const STORE: TestStore = TestStore::DynamoDb;

#[path = "../api/auth.rs"]
mod auth;
#[path = "../api/channels.rs"]
mod channels;
#[path = "../api/chat_rooms.rs"]
mod chat_rooms;
#[path = "../api/helpers.rs"]
#[allow(dead_code)] // not every flow is run here
mod helpers;
#[path = "../api/presets.rs"]
mod presets;
#[path = "../api/profile.rs"]
mod profile;
#[path = "../api/realtime_chat.rs"]
mod realtime_chat;
#[path = "../api/realtime_polls.rs"]
mod realtime_polls;
#[path = "../api/realtime_stage.rs"]
mod realtime_stage;
#[path = "../api/stream_health.rs"]
mod stream_health;
#[path = "../api/system.rs"]
mod system;
#[path = "../api/ws.rs"]
#[allow(dead_code)]
mod ws;

#[path = "../support/moto.rs"]
mod moto;
#[path = "../support/smtp.rs"]
mod smtp;
