//! Provider credentials at rest: AES-256-GCM under the master key, a fresh random nonce per
//! encryption, stored as `nonce ‖ ciphertext`. Also the masking every response uses.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use std::path::Path;

/// Why the master key or a secret could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key text is not 32 bytes of hex or base64.
    #[error("the master key must be 32 bytes as 64 hex digits or base64")]
    BadKey,
    /// The key file could not be read or written.
    #[error("master key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The stored value is not decryptable with this key (wrong key or tampered data).
    #[error("stored credentials cannot be decrypted with this master key")]
    Decrypt,
}

/// The master key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
    links: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(****)")
    }
}

const NONCE_LEN: usize = 12;

impl MasterKey {
    /// Parses 64 hex digits or base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<MasterKey, SecretError> {
        let t = text.trim();
        let bytes = hex::decode(t)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(t).ok())
            .filter(|b| b.len() == 32)
            .ok_or(SecretError::BadKey)?;
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SecretError::BadKey)?;
        // A separate key for signing links, so that a link signature reveals nothing about
        // the key that encrypts credentials.
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(&bytes)
            .map_err(|_| SecretError::BadKey)?;
        hmac::Mac::update(&mut mac, b"switchyard email links v1");
        let links = hmac::Mac::finalize(mac).into_bytes().into();
        Ok(MasterKey { cipher, links })
    }

    /// Reads the key file, or creates it with a new random key (mode 0600) when
    /// `create` is set and it does not exist.
    pub fn from_file(path: &Path, create: bool) -> Result<MasterKey, SecretError> {
        let file_error = |reason: String| SecretError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => MasterKey::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key: [u8; 32] = rand::random();
                let text = hex::encode(key);
                write_private(path, &text).map_err(|e| file_error(e.to_string()))?;
                MasterKey::parse(&text)
            }
            Err(e) => Err(file_error(e.to_string())),
        }
    }

    /// Encrypts a plaintext.
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        let mut out = nonce_bytes.to_vec();
        // Encryption of an in-memory buffer with a valid key cannot fail.
        out.extend(self.cipher.encrypt(&nonce, plaintext).unwrap_or_default());
        out
    }

    /// The key that signs unsubscribe and tracking links (derived from the master key, so
    /// every instance sharing the master key accepts the links of the others).
    pub fn link_key(&self) -> &[u8; 32] {
        &self.links
    }

    /// Decrypts what [`MasterKey::encrypt`] produced.
    pub fn decrypt(&self, stored: &[u8]) -> Result<Vec<u8>, SecretError> {
        if stored.len() < NONCE_LEN {
            return Err(SecretError::Decrypt);
        }
        let (nonce, ciphertext) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretError::Decrypt)?;
        self.cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| SecretError::Decrypt)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{text}\n"))
}

/// Masks a credential value: `****` plus the last four characters when the value is long
/// enough that they do not give it away, `****` alone otherwise.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 16 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("****{tail}")
    } else {
        "****".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_tampering() {
        let key = MasterKey::parse(&"ab".repeat(32)).expect("key");
        let sealed = key.encrypt(b"{\"auth_token\":\"s3cret\"}");
        assert!(
            !sealed.windows(6).any(|w| w == b"s3cret"),
            "ciphertext hides the secret"
        );
        assert_eq!(
            key.decrypt(&sealed).expect("opens"),
            b"{\"auth_token\":\"s3cret\"}"
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(key.decrypt(&tampered).is_err());
        let other = MasterKey::parse(&"cd".repeat(32)).expect("key");
        assert!(other.decrypt(&sealed).is_err());
        assert_ne!(
            key.encrypt(b"x"),
            key.encrypt(b"x"),
            "fresh nonce each time"
        );
    }

    #[test]
    fn bad_keys_are_refused_and_debug_hides_the_key() {
        assert!(MasterKey::parse("short").is_err());
        let key = MasterKey::parse(&"ab".repeat(32)).expect("key");
        assert_eq!(format!("{key:?}"), "MasterKey(****)");
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("sy-key-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("switchyard.key");
        let a = MasterKey::from_file(&path, true).expect("created");
        let b = MasterKey::from_file(&path, false).expect("read");
        assert_eq!(b.decrypt(&a.encrypt(b"x")).expect("same key"), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn masking() {
        assert_eq!(mask("short"), "****");
        assert_eq!(mask("0123456789abcdefWXYZ"), "****WXYZ");
    }
}
