//! The two JSON Web Token forms providers use (RFC 7519): RS256 tokens an adapter signs with
//! an application's private key to call an API (Vonage's Voice and Messages APIs), and
//! HS256 tokens a provider signs its webhooks with a shared secret (Vonage's signed
//! callbacks). Only the compact form with these two algorithms is read or written.

use crate::pkcs1::{SHA256_DIGEST_INFO, pkcs1v15};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
pub use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts with JSON header and claims.
    #[error("not a compact JWT")]
    Malformed,
    /// Signed with another algorithm than the one expected.
    #[error("the token is not signed with {0}")]
    Algorithm(&'static str),
    /// The signature does not match.
    #[error("the token's signature does not match")]
    Signature,
}

fn encode(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap_or_default())
}

fn hs256(secret: &[u8], text: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(text.as_bytes());
    mac
}

/// An RSA private key from PEM, PKCS#8 (`BEGIN PRIVATE KEY`, what Vonage hands out) or
/// PKCS#1 (`BEGIN RSA PRIVATE KEY`).
pub fn private_key(pem: &str) -> Result<RsaPrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let pem = pem.trim().replace("\\n", "\n");
    RsaPrivateKey::from_pkcs8_pem(&pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&pem))
        .map_err(|_| "not an RSA private key in PEM (PKCS#8 or PKCS#1)".to_string())
}

/// `claims` signed with RS256.
pub fn sign_rs256(key: &RsaPrivateKey, claims: &Value) -> Result<String, String> {
    let text = format!(
        "{}.{}",
        encode(&json!({ "alg": "RS256", "typ": "JWT" })),
        encode(claims)
    );
    let signature = key
        .sign(
            pkcs1v15(SHA256_DIGEST_INFO, 32),
            &Sha256::digest(text.as_bytes()),
        )
        .map_err(|e| format!("RSA signing failed ({e})"))?;
    Ok(format!("{text}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// Whether an RS256 `token` was signed by the key whose public half is `key`; its claims.
pub fn verify_rs256(token: &str, key: &rsa::RsaPublicKey) -> Result<Value, JwtError> {
    let (text, signature, claims) = split(token, "RS256")?;
    key.verify(
        pkcs1v15(SHA256_DIGEST_INFO, 32),
        &Sha256::digest(text.as_bytes()),
        &signature,
    )
    .map_err(|_| JwtError::Signature)?;
    Ok(claims)
}

/// `claims` signed with HS256.
pub fn sign_hs256(secret: &[u8], claims: &Value) -> String {
    let text = format!(
        "{}.{}",
        encode(&json!({ "alg": "HS256", "typ": "JWT" })),
        encode(claims)
    );
    let signature = hs256(secret, &text).finalize().into_bytes();
    format!("{text}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Whether an HS256 `token` was signed with `secret` (constant time); its claims.
pub fn verify_hs256(token: &str, secret: &[u8]) -> Result<Value, JwtError> {
    let (text, signature, claims) = split(token, "HS256")?;
    hs256(secret, text)
        .verify_slice(&signature)
        .map_err(|_| JwtError::Signature)?;
    Ok(claims)
}

/// The signed text, the signature and the claims of a token whose header names `alg`.
fn split<'a>(token: &'a str, alg: &'static str) -> Result<(&'a str, Vec<u8>, Value), JwtError> {
    let token = token.trim();
    let (text, signature) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
    let (header, claims) = text.split_once('.').ok_or(JwtError::Malformed)?;
    let decode = |part: &str| -> Result<Value, JwtError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| JwtError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
    };
    let header = decode(header)?;
    if header.get("alg").and_then(Value::as_str) != Some(alg) {
        return Err(JwtError::Algorithm(alg));
    }
    let claims = decode(claims)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    Ok((text, signature, claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The HS256 token of Vonage's Python SDK tests (`jwt/tests/test_verify_jwt.py`).
    #[test]
    fn vonage_sdk_hs256_vector() {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM";
        let claims = verify_hs256(token, b"qwertyuiopasdfghjklzxcvbnm123456").expect("valid");
        assert_eq!(claims["iss"], "Online JWT Builder");
        assert_eq!(verify_hs256(token, b"asdf"), Err(JwtError::Signature));
        assert_eq!(verify_hs256("a.b", b"x"), Err(JwtError::Malformed));
    }

    /// RFC 7515 appendix A.1: the HS256 example's key, header and payload; the signature
    /// is the RFC's, so signing is pinned to the standard, not only to itself.
    #[test]
    fn rfc7515_hs256_example() {
        let key = URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .expect("key");
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let claims = verify_hs256(token, &key).expect("the RFC's token verifies");
        assert_eq!(claims["iss"], "joe");
        let ours = sign_hs256(&key, &json!({ "iss": "joe" }));
        assert_eq!(verify_hs256(&ours, &key).expect("round trip")["iss"], "joe");
        assert_eq!(
            verify_rs256(&ours, &test_key().to_public_key()),
            Err(JwtError::Algorithm("RS256"))
        );
    }

    fn test_key() -> RsaPrivateKey {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
        private_key(&pair.serialize_pem()).expect("PKCS#8 PEM")
    }

    #[test]
    fn rs256_round_trip() {
        let key = test_key();
        let token =
            sign_rs256(&key, &json!({ "application_id": "app", "iat": 1 })).expect("signed");
        let claims = verify_rs256(&token, &key.to_public_key()).expect("verifies");
        assert_eq!(claims["application_id"], "app");
        let other = test_key();
        assert_eq!(
            verify_rs256(&token, &other.to_public_key()),
            Err(JwtError::Signature)
        );
        assert!(
            private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err()
        );
    }
}
