use argon2::{
    Argon2,
    password_hash::{PasswordHasher as _, PasswordVerifier, phc::PasswordHash},
};

use crate::domain::Password;

/// Hashes with Argon2id and the crate's default (OWASP-recommended) parameters.
///
/// CPU-heavy by design (tens of milliseconds): call it from `spawn_blocking`.
pub fn hash_password(password: &Password) -> String {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .expect("argon2 with default parameters and a random salt cannot fail")
        .to_string()
}

/// Checks a password against a stored PHC string. A malformed stored hash never verifies.
pub fn verify_password(candidate: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Runs hashing and verification off the async threads.
#[derive(Debug, Clone, Default)]
pub struct PasswordHasher;

impl PasswordHasher {
    pub async fn hash(&self, password: Password) -> String {
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .expect("password hashing does not panic")
    }

    pub async fn verify(&self, candidate: String, stored: String) -> bool {
        tokio::task::spawn_blocking(move || verify_password(&candidate, &stored))
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let pw = Password::parse("Correct#Horse1", "password").unwrap();
        let hash = hash_password(&pw);
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Correct#Horse1", &hash));
        assert!(!verify_password("correct#Horse1", &hash));
        assert!(!verify_password("Correct#Horse1", "not a phc string"));
    }

    #[test]
    fn hashing_twice_salts_differently() {
        let pw = Password::parse("Correct#Horse1", "password").unwrap();
        assert_ne!(hash_password(&pw), hash_password(&pw));
    }
}
