//! SendGrid's Signed Event Webhook, as SendGrid documents it
//! (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features):
//! an ECDSA P-256 signature with SHA-256 over `{timestamp}{raw body}`, base64 of its ASN.1
//! DER form in `X-Twilio-Email-Event-Webhook-Signature`, the Unix timestamp in
//! `X-Twilio-Email-Event-Webhook-Timestamp`, and the verification key shown in the
//! SendGrid console as base64 DER (SubjectPublicKeyInfo). SendGrid documents no replay
//! window, so timestamps more than five minutes away are refused as replays.

use crate::capability::{WebhookError, WebhookRequest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey};

/// Signature header.
pub const SIGNATURE_HEADER: &str = "x-twilio-email-event-webhook-signature";
/// Timestamp header (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-twilio-email-event-webhook-timestamp";
/// Largest accepted distance between the timestamp and now.
pub const TOLERANCE_SECS: i64 = 300;

/// The verification key as SendGrid shows it: base64 DER, or the same in PEM armour.
pub fn public_key(text: &str) -> Result<VerifyingKey, String> {
    let base64: String = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD
        .decode(base64)
        .map_err(|_| "not base64".to_string())?;
    VerifyingKey::from_public_key_der(&der)
        .map_err(|_| "not an ECDSA P-256 public key (base64 DER)".to_string())
}

/// A key in the form SendGrid shows it (base64 DER), for a sandbox to hand out.
pub fn encode_public_key(key: &VerifyingKey) -> String {
    key.to_public_key_der()
        .map(|der| STANDARD.encode(der.as_bytes()))
        .unwrap_or_default()
}

fn signed_message(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(timestamp.len() + body.len());
    msg.extend_from_slice(timestamp.as_bytes());
    msg.extend_from_slice(body);
    msg
}

/// The signature header SendGrid would send for this body at this time.
pub fn sign(key: &SigningKey, timestamp: i64, body: &[u8]) -> String {
    let signature: Signature = key.sign(&signed_message(&timestamp.to_string(), body));
    STANDARD.encode(signature.to_der().as_bytes())
}

/// Checks the headers, the replay window and the signature.
pub fn verify(key: &VerifyingKey, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
    let sig = req.header(SIGNATURE_HEADER).ok_or(WebhookError::Unsigned(
        "X-Twilio-Email-Event-Webhook-Signature",
    ))?;
    let ts_text = req.header(TIMESTAMP_HEADER).ok_or(WebhookError::Unsigned(
        "X-Twilio-Email-Event-Webhook-Timestamp",
    ))?;
    let ts: i64 = ts_text
        .trim()
        .parse()
        .map_err(|_| WebhookError::BadSignature)?;
    if req.now_secs.abs_diff(ts) > TOLERANCE_SECS.unsigned_abs() {
        return Err(WebhookError::Stale(TOLERANCE_SECS));
    }
    let der = STANDARD
        .decode(sig.trim())
        .map_err(|_| WebhookError::BadSignature)?;
    let signature = Signature::from_der(&der).map_err(|_| WebhookError::BadSignature)?;
    key.verify(&signed_message(ts_text.trim(), req.body), &signature)
        .map_err(|_| WebhookError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    /// SendGrid's own test vector, from its Python helper library's tests
    /// (sendgrid/sendgrid-python `test/unit/test_eventwebhook.py`): the documented
    /// algorithm, checked against a key, payload and signature SendGrid published.
    const PUBLIC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
    const SIGNATURE: &str = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
    const TIMESTAMP: i64 = 1_600_112_502;
    /// Another key from the same tests, which did not sign the payload.
    const OTHER_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
    const PAYLOAD: &str = include_str!("fixtures/signed_dropped.json");

    fn headers(signature: Option<&str>, timestamp: Option<i64>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(s) = signature {
            h.insert(SIGNATURE_HEADER, s.parse().expect("header"));
        }
        if let Some(t) = timestamp {
            h.insert(TIMESTAMP_HEADER, t.to_string().parse().expect("header"));
        }
        h
    }

    fn check(key: &str, h: &HeaderMap, body: &str, now: i64) -> Result<(), WebhookError> {
        verify(
            &public_key(key).expect("key"),
            &WebhookRequest {
                url: "https://x.example/v1/webhooks/p",
                headers: h,
                body: body.as_bytes(),
                now_secs: now,
            },
        )
    }

    #[test]
    fn sendgrid_published_vector() {
        // The payload ends with the CRLF SendGrid sends after the JSON array.
        assert!(PAYLOAD.ends_with("}]\r\n"), "fixture keeps its CRLF");
        let h = headers(Some(SIGNATURE), Some(TIMESTAMP));
        assert_eq!(check(PUBLIC_KEY, &h, PAYLOAD, TIMESTAMP + 10), Ok(()));
        assert_eq!(
            check(
                PUBLIC_KEY,
                &h,
                &PAYLOAD.replace("dropped", "delivered"),
                TIMESTAMP
            ),
            Err(WebhookError::BadSignature),
            "tampered body"
        );
        assert_eq!(
            check(OTHER_KEY, &h, PAYLOAD, TIMESTAMP),
            Err(WebhookError::BadSignature),
            "wrong key"
        );
        assert_eq!(
            check(
                PUBLIC_KEY,
                &headers(Some(SIGNATURE), Some(TIMESTAMP + 1)),
                PAYLOAD,
                TIMESTAMP
            ),
            Err(WebhookError::BadSignature),
            "the timestamp is signed"
        );
        assert_eq!(
            check(PUBLIC_KEY, &h, PAYLOAD, TIMESTAMP + TOLERANCE_SECS + 1),
            Err(WebhookError::Stale(TOLERANCE_SECS)),
            "a replay of a genuine old webhook"
        );
        assert_eq!(
            check(PUBLIC_KEY, &h, PAYLOAD, i64::MIN),
            Err(WebhookError::Stale(TOLERANCE_SECS)),
            "no overflow at the edges"
        );
        assert_eq!(
            check(
                PUBLIC_KEY,
                &headers(None, Some(TIMESTAMP)),
                PAYLOAD,
                TIMESTAMP
            ),
            Err(WebhookError::Unsigned(
                "X-Twilio-Email-Event-Webhook-Signature"
            ))
        );
        assert_eq!(
            check(
                PUBLIC_KEY,
                &headers(Some(SIGNATURE), None),
                PAYLOAD,
                TIMESTAMP
            ),
            Err(WebhookError::Unsigned(
                "X-Twilio-Email-Event-Webhook-Timestamp"
            ))
        );
        assert_eq!(
            check(
                PUBLIC_KEY,
                &headers(Some("bm90IERFUg=="), Some(TIMESTAMP)),
                PAYLOAD,
                TIMESTAMP
            ),
            Err(WebhookError::BadSignature),
            "not a DER signature"
        );
    }

    #[test]
    fn keys_in_base64_or_pem() {
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{PUBLIC_KEY}\n-----END PUBLIC KEY-----\n");
        assert_eq!(
            public_key(&pem).expect("pem"),
            public_key(PUBLIC_KEY).expect("der")
        );
        assert_eq!(
            encode_public_key(&public_key(PUBLIC_KEY).expect("key")),
            PUBLIC_KEY
        );
        assert!(public_key("AAAA").is_err());
        assert!(public_key("not base64!").is_err());
    }

    #[test]
    fn signs_as_it_verifies() {
        let key = SigningKey::from_slice(&[7u8; 32]).expect("scalar");
        let public = encode_public_key(key.verifying_key());
        let body = r#"[{"event":"delivered"}]"#;
        let h = headers(
            Some(&sign(&key, 1_700_000_000, body.as_bytes())),
            Some(1_700_000_000),
        );
        assert_eq!(check(&public, &h, body, 1_700_000_000), Ok(()));
        assert_eq!(
            check(PUBLIC_KEY, &h, body, 1_700_000_000),
            Err(WebhookError::BadSignature)
        );
    }
}
