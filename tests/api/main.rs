//! Black-box tests of the HTTP API: each test starts its own server on a random port with a
//! fresh data dir and talks to it over real HTTP. The store is SQLite here; `tests/api_dynamodb/`
//! runs the flows that use the store again on DynamoDB.

/// The store of every server these tests start (`aws_*` put theirs in themselves).
pub const STORE: helpers::TestStore = helpers::TestStore::Sqlite;

mod auth;
mod aws_media;
mod aws_mode;
mod aws_stage;
mod channels;
mod chat_rooms;
mod helpers;
mod presets;
mod products;
mod profile;
mod realtime_chat;
mod realtime_polls;
mod realtime_stage;
mod realtime_votes;
mod recovery;
mod stream_health;
mod system;
mod uploads;
mod ws;

#[path = "../support/gated_store.rs"]
mod gated_store;
#[path = "../support/moto.rs"]
mod moto;
#[path = "../support/smtp.rs"]
mod smtp;
