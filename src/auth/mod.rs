//! Credentials: password hashing, signed access tokens and opaque secrets.
//!
//! Access tokens are short-lived JWTs (HS256) naming the account and the login session; refresh
//! tokens and mailed tokens are random secrets of which only a SHA-256 digest is stored.

mod access;
mod password;
mod secret;

pub use access::{AccessClaims, AccessTokens, TokenError};
pub use password::{PasswordHasher, hash_password, verify_password};
pub use secret::{Secret, digest};
