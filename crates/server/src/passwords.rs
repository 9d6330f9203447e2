//! Password hashing for dashboard users: Argon2id with the crate's default (OWASP-level)
//! parameters, in PHC strings so parameters can be raised later without a migration.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// Why a password cannot be set.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Too short to resist guessing.
    #[error("password must be at least {MIN_LENGTH} characters")]
    TooShort,
    /// Longer than anyone types; refused so hashing cannot be used to burn CPU.
    #[error("password must be at most 1024 characters")]
    TooLong,
    /// The hasher failed (no randomness, say).
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Hashes a new password (slow on purpose: run it off the async threads).
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    if password.len() > 1024 {
        return Err(PasswordError::TooLong);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches a stored hash; an unreadable hash matches nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    password.len() <= 1024
        && Argon2::default()
            .verify_password(password.as_bytes(), stored)
            .is_ok()
}

/// Runs [`hash`] on the blocking pool.
pub async fn hash_off_thread(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
}

/// Runs [`verify`] on the blocking pool.
pub async fn verify_off_thread(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, &stored))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let a = hash("correct horse battery").expect("hash");
        let b = hash("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("correct horse battery", "not a hash"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
        assert!(matches!(
            hash(&"x".repeat(2000)),
            Err(PasswordError::TooLong)
        ));
    }
}
