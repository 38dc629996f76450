//! Showrunner: the live, shared side of a user-generated live-streaming platform on Amazon IVS.
//!
//! # Layout
//! - [`config`]: the one configuration tree; its default is the embedded local mode.
//! - [`startup`]: builds the app; the only place that chooses local or AWS adapters.
//! - [`domain`]: pure types and rules (usernames, emails, passwords, profile choices).
//! - [`accounts`]: account flows (register, login, sessions, profile) over the ports.
//! - [`auth`]: password hashing, access tokens and opaque secrets.
//! - [`catalog`]: the product-search port (Amazon PA-API 5) behind the "Amazon product" action.
//! - [`store`]: persistence ports and the embedded SQLite implementation.
//! - [`aws`]: the AWS adapters (DynamoDB store, IVS media, IVS Chat rooms, IVS Real-Time
//!   stages, S3 assets, CloudWatch metrics); the only module that imports `aws-sdk-*`.
//! - [`media`]: the video-service port (IVS channels, stream keys, the live stream, timed
//!   metadata); local implementation.
//! - [`chat_rooms`]: the optional managed-chat port (IVS Chat rooms and their tokens).
//! - [`assets`]: uploaded images: checking, re-encoding, storing.
//! - [`mail`]: outgoing mail over SMTP, or into an outbox folder.
//! - [`http`]: the axum API: router, error mapping, extractors, one module per resource.
//! - [`simulator`]: `showrunner simulate`, a stand-in for an encoder and IVS that drives a
//!   channel through a stream session against a running server.
//! - [`streams`]: stream health: IVS events in, stream sessions and their metrics out (the
//!   `Metrics` port; CloudWatch in `aws::cloudwatch`), and the live state they drive.

pub mod accounts;
pub mod actors;
pub mod assets;
pub mod auth;
pub mod aws;
pub mod catalog;
pub mod chat_rooms;
pub mod config;
pub mod domain;
pub mod gateway;
pub mod http;
pub mod mail;
pub mod media;
pub mod simulator;
pub mod stages;
pub mod startup;
pub mod store;
pub mod streams;
pub mod telemetry;
