//! Black-box tests of the HTTP API: each test starts its own server on a random port with a
//! fresh data dir and talks to it over real HTTP.

mod auth;
mod channels;
mod helpers;
mod profile;
mod system;
mod uploads;

#[path = "../support/smtp.rs"]
mod smtp;
