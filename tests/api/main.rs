//! Black-box tests of the HTTP API: each test starts its own server on a random port with a
//! fresh data dir and talks to it over real HTTP.

mod auth;
mod channels;
mod helpers;
mod profile;
mod realtime_chat;
mod system;
mod uploads;
mod ws;

#[path = "../support/smtp.rs"]
mod smtp;
