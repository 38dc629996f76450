use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::AccountId;

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The account.
    pub sub: AccountId,
    /// The login session (refresh-token family); revoking it revokes the token early.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("access token expired")]
    Expired,
    #[error("access token invalid")]
    Invalid,
}

/// Issues and checks access tokens with one HMAC key.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: i64,
}

impl AccessTokens {
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl_secs: ttl_secs as i64,
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    pub fn issue(&self, account: AccountId, session: Uuid, now: DateTime<Utc>) -> String {
        let claims = AccessClaims {
            sub: account,
            sid: session,
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_secs,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of a small struct cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> AccessTokens {
        AccessTokens::new(&[7u8; 32], 900)
    }

    #[test]
    fn an_issued_token_verifies_to_its_claims() {
        let (account, session) = (AccountId::new(), Uuid::new_v4());
        let claims = tokens()
            .verify(&tokens().issue(account, session, Utc::now()))
            .unwrap();
        assert_eq!((claims.sub, claims.sid), (account, session));
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let old = Utc::now() - chrono::Duration::seconds(1000);
        let token = tokens().issue(AccountId::new(), Uuid::new_v4(), old);
        assert!(matches!(tokens().verify(&token), Err(TokenError::Expired)));
    }

    #[test]
    fn a_token_signed_with_another_key_or_tampered_is_invalid() {
        let other = AccessTokens::new(&[8u8; 32], 900);
        let token = other.issue(AccountId::new(), Uuid::new_v4(), Utc::now());
        assert!(matches!(tokens().verify(&token), Err(TokenError::Invalid)));
        assert!(matches!(tokens().verify("a.b.c"), Err(TokenError::Invalid)));
    }
}
