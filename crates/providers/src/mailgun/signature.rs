//! Mailgun webhook signatures, as documented in "Securing Webhooks"
//! (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks):
//! the JSON body carries `{"signature": {"timestamp", "token", "signature"}}`, where
//! `signature` is the hex HMAC-SHA256 of `timestamp` followed by `token` (no separator),
//! keyed with the account's HTTP webhook signing key. Events of a subaccount's domain also
//! carry `parent-signature`, made the same way with the primary account's key, so either
//! may match the configured key.
//!
//! The signature covers the timestamp and token, not the event: a captured signature
//! could be pasted onto another body. Two defences stand in for what the scheme lacks.
//! Timestamps more than five minutes from now are refused (Mailgun asks for a freshness
//! check without giving a number, and warns that its own delays can be long, so this is
//! the usual window of timestamped webhook schemes). Mailgun also suggests remembering
//! tokens to refuse a second use; a pure verifier has no memory, so instead every event is
//! stored under its event id (the dedupe key) and a replay inside the window is a
//! duplicate that changes nothing.

use crate::capability::WebhookError;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Largest accepted distance between the signed timestamp and now.
pub const TOLERANCE_SECS: i64 = 300;

/// The signed fields of a webhook body.
struct Signed<'a> {
    timestamp: String,
    token: &'a str,
    signatures: Vec<&'a str>,
}

fn signed_fields(body: &Value) -> Result<Signed<'_>, WebhookError> {
    let block = body
        .get("signature")
        .filter(|b| b.is_object())
        .ok_or(WebhookError::Unsigned("signature"))?;
    // Mailgun sends the timestamp as a string; a number is read the same way.
    let timestamp = match block.get("timestamp") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(WebhookError::Unsigned("signature.timestamp")),
    };
    let token = block
        .get("token")
        .and_then(Value::as_str)
        .ok_or(WebhookError::Unsigned("signature.token"))?;
    let signatures: Vec<&str> = ["signature", "parent-signature"]
        .iter()
        .filter_map(|key| block.get(*key).and_then(Value::as_str))
        .collect();
    if signatures.is_empty() {
        return Err(WebhookError::Unsigned("signature.signature"));
    }
    Ok(Signed {
        timestamp,
        token,
        signatures,
    })
}

/// Whether `hex_signature` is the HMAC of `timestamp` and `token` under `key`, compared in
/// constant time (the MAC's own check).
fn matches(key: &str, timestamp: &str, token: &str, hex_signature: &str) -> bool {
    let mut given = [0u8; 32];
    let Ok(decoded) = base16ct::mixed::decode(hex_signature.trim(), &mut given) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return false;
    };
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    mac.verify_slice(decoded).is_ok()
}

/// Checks the signature block of a webhook body received at `now_secs`.
pub fn verify(key: &str, body: &[u8], now_secs: i64) -> Result<(), WebhookError> {
    // A body that is not JSON cannot carry Mailgun's signature block.
    let value: Value =
        serde_json::from_slice(body).map_err(|_| WebhookError::Unsigned("signature"))?;
    let signed = signed_fields(&value)?;
    let ts: i64 = signed
        .timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookError::BadSignature)?;
    if now_secs.abs_diff(ts) > TOLERANCE_SECS.unsigned_abs() {
        return Err(WebhookError::Stale(TOLERANCE_SECS));
    }
    if signed
        .signatures
        .iter()
        .any(|sig| matches(key, &signed.timestamp, signed.token, sig))
    {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}
