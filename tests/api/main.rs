//! Black-box tests of the HTTP API: each test starts its own server on a random port with a
//! fresh data dir and talks to it over real HTTP.

mod auth;
mod aws_media;
mod aws_mode;
mod channels;
mod chat_rooms;
mod helpers;
mod presets;
mod products;
mod profile;
mod realtime_chat;
mod realtime_polls;
mod realtime_stage;
mod recovery;
mod stream_health;
mod system;
mod uploads;
mod ws;

#[path = "../support/moto.rs"]
mod moto;
#[path = "../support/smtp.rs"]
mod smtp;
