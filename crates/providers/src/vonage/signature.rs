//! Vonage's two webhook signatures.
//!
//! **SMS API** (delivery receipts, inbound SMS): a `sig` parameter over every other
//! parameter, sorted by name, with `&` and `=` in values replaced by `_`, written
//! `&name=value…`; then either MD5 of that string followed by the signature secret
//! (`md5hash`, the dashboard's default) or an HMAC keyed with the secret (`md5`, `sha1`,
//! `sha256`, `sha512`), in hex (compared without regard to case). Empty values are left
//! out, as Vonage's Java SDK does, and a `timestamp` more than five minutes from now is
//! refused as a replay.
//!
//! **Voice and Messages API** callbacks: `Authorization: Bearer` with an HS256 JWT signed
//! with the signature secret, whose `payload_hash` claim is the hex SHA-256 of the body.

use crate::capability::WebhookError;
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// Largest accepted distance between a signed SMS callback's `timestamp` and now.
pub const TOLERANCE_SECS: i64 = 300;

/// How SMS API requests and callbacks are signed, as set in the Vonage dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// MD5 of the string followed by the secret.
    Md5Hash,
    /// HMAC-MD5.
    Md5,
    /// HMAC-SHA1.
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Method {
    /// The method by its dashboard name (`md5hash`, `md5`, `sha1`, `sha256`, `sha512`).
    pub fn parse(name: &str) -> Option<Method> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "md5hash" | "md5_hash" => Method::Md5Hash,
            "md5" | "md5hmac" => Method::Md5,
            "sha1" | "sha1hmac" => Method::Sha1,
            "sha256" | "sha256hmac" => Method::Sha256,
            "sha512" | "sha512hmac" => Method::Sha512,
            _ => return None,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac_hex<M: Mac + KeyInit>(secret: &str, text: &str) -> String {
    let mut mac = <M as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(text.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// The string `sig` is computed over: every parameter but `sig` with a value, sorted.
pub fn signed_string(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params
        .iter()
        .filter(|(k, v)| k != "sig" && !v.is_empty())
        .collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("&{k}={}", v.replace(['&', '='], "_")))
        .collect()
}

/// The `sig` of these parameters.
pub fn sign(method: Method, secret: &str, params: &[(String, String)]) -> String {
    let text = signed_string(params);
    match method {
        Method::Md5Hash => hex(&Md5::digest(format!("{text}{secret}").as_bytes())),
        Method::Md5 => hmac_hex::<Hmac<Md5>>(secret, &text),
        Method::Sha1 => hmac_hex::<Hmac<Sha1>>(secret, &text),
        Method::Sha256 => hmac_hex::<Hmac<Sha256>>(secret, &text),
        Method::Sha512 => hmac_hex::<Hmac<Sha512>>(secret, &text),
    }
}

/// Checks a signed SMS callback's `sig` and `timestamp`.
pub fn verify_sms(
    method: Method,
    secret: &str,
    params: &[(String, String)],
    now_secs: i64,
) -> Result<(), WebhookError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let given = get("sig").ok_or(WebhookError::Unsigned("sig"))?;
    let ts: i64 = get("timestamp")
        .and_then(|t| t.trim().parse().ok())
        .ok_or(WebhookError::BadSignature)?;
    let want = sign(method, secret, params);
    if !bool::from(
        given
            .trim()
            .to_ascii_lowercase()
            .as_bytes()
            .ct_eq(want.as_bytes()),
    ) {
        return Err(WebhookError::BadSignature);
    }
    if now_secs.abs_diff(ts) > TOLERANCE_SECS.unsigned_abs() {
        return Err(WebhookError::Stale(TOLERANCE_SECS));
    }
    Ok(())
}

/// Checks a Voice or Messages API callback's bearer JWT: HS256 with the signature secret,
/// issued by Vonage for this account, over exactly this body.
pub fn verify_jwt(
    token: &str,
    secret: &str,
    api_key: &str,
    body: &[u8],
) -> Result<(), WebhookError> {
    let claims = crate::jwt::verify_hs256(token, secret.as_bytes())
        .map_err(|_| WebhookError::BadSignature)?;
    let claim = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    if claim("payload_hash").map(str::to_ascii_lowercase) != Some(hex(&Sha256::digest(body))) {
        return Err(WebhookError::BadSignature);
    }
    if claim("api_key").is_some_and(|k| k != api_key) {
        return Err(WebhookError::BadSignature);
    }
    Ok(())
}

/// The claims Vonage signs a callback body with (for the sandbox).
pub fn callback_claims(
    api_key: &str,
    application_id: &str,
    body: &[u8],
    now_secs: i64,
    jti: &str,
) -> serde_json::Value {
    serde_json::json!({
        "iat": now_secs, "jti": jti, "iss": "Vonage",
        "payload_hash": hex(&Sha256::digest(body)), "api_key": api_key, "application_id": application_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::double::pairs as p;

    /// Vonage's Java SDK (`RequestSigningTest`): `a=alphabet`, `b=bananas`,
    /// `timestamp=2100`, secret `abcde`.
    #[test]
    fn java_sdk_vectors() {
        let params = p(&[("a", "alphabet"), ("b", "bananas"), ("timestamp", "2100")]);
        assert_eq!(
            signed_string(&params),
            "&a=alphabet&b=bananas&timestamp=2100"
        );
        for (method, want) in [
            (Method::Md5Hash, "7d43241108912b32cc315b48ce681acf"),
            (Method::Md5, "e0afe267aefd6dd18a848c1681517a19"),
            (Method::Sha1, "b7f749de27b4adcf736cc95c9a7e059a16c85127"),
            (
                Method::Sha256,
                "8d1b0428276b6a070578225914c3502cc0687a454dfbbbb370c76a14234cb546",
            ),
            (
                Method::Sha512,
                "1c834a1f6a377d4473971387b065cb38e2ad6c4869ba77b7b53e207a344e87ba04b456dfc697b371a2d1ce476d01dafd4394aa97525eff23badad39d2389a710",
            ),
        ] {
            assert_eq!(sign(method, "abcde", &params), want, "{method:?}");
        }
        let with_empty = p(&[("a", "alphabet"), ("b", ""), ("timestamp", "2100")]);
        assert_eq!(
            sign(Method::Md5Hash, "abcde", &with_empty),
            "a3368bf718ba104dcb392d8877e8eb2b"
        );
    }

    /// Vonage's Node SDK (`packages/sms/__tests__/__dataSets__/signature.ts`): a signed
    /// inbound SMS, secret `my_secret_key_for_testing`, signatures in upper case.
    #[test]
    fn node_sdk_inbound_vectors() {
        let mut params = p(&[
            ("message-timestamp", "2013-11-21 15:27:30"),
            ("messageId", "020000001B0FE827"),
            ("msisdn", "14843472194"),
            ("text", "Test again"),
            ("timestamp", "1385047698"),
            ("to", "13239877404"),
            ("type", "text"),
        ]);
        let secret = "my_secret_key_for_testing";
        for (method, sig) in [
            (Method::Md5Hash, "d2e7b1dc968737c5998ad624e02f90b7"),
            (Method::Md5, "DDEBD46008C2D4E93CCE578A332A52D5"),
            (Method::Sha1, "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A"),
            (
                Method::Sha256,
                "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330",
            ),
            (
                Method::Sha512,
                "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82",
            ),
        ] {
            params.retain(|(k, _)| k != "sig");
            params.push(("sig".into(), sig.into()));
            assert_eq!(
                verify_sms(method, secret, &params, 1_385_047_698 + 60),
                Ok(()),
                "{method:?}"
            );
        }
        assert_eq!(
            verify_sms(Method::Sha512, secret, &params, 1_385_047_698 + 301),
            Err(WebhookError::Stale(300))
        );
        params.push(("text2".into(), "tampered".into()));
        assert_eq!(
            verify_sms(Method::Sha512, secret, &params, 1_385_047_698),
            Err(WebhookError::BadSignature)
        );
    }

    /// Vonage's Python SDK (`http_client/tests/test_auth.py`): `&` and `=` in values.
    #[test]
    fn python_sdk_vectors() {
        let params = p(&[
            ("param1", "value1"),
            ("param2", "value2"),
            ("timestamp", "1234567890"),
        ]);
        assert_eq!(
            sign(Method::Md5, "signature_secret", &params),
            "724c2bf6ca423c36e20631b11d1c5753"
        );
        assert_eq!(
            sign(Method::Sha256, "signature_secret", &params),
            "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287"
        );
        let odd = p(&[
            ("param1", "value&1"),
            ("param2", "value=2"),
            ("timestamp", "1234567890"),
        ]);
        assert_eq!(
            sign(Method::Md5, "signature_secret", &odd),
            "2bbf0abafb2c55e5af6231513896a2ac"
        );
        assert_eq!(Method::parse("SHA256"), Some(Method::Sha256));
        assert_eq!(Method::parse("md5hash"), Some(Method::Md5Hash));
        assert_eq!(Method::parse("crc32"), None);
    }

    #[test]
    fn callback_jwts() {
        let body =
            br#"{"message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","status":"delivered"}"#;
        // Shaped as Vonage documents its signed callbacks (claims iat, jti, iss,
        // payload_hash, api_key, application_id); signed here with a test secret.
        let token = crate::jwt::sign_hs256(
            b"test_signature_secret_0123456789abcdef",
            &callback_claims(
                "a1b2c3d",
                "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
                body,
                1_587_494_962,
                "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
            ),
        );
        let secret = "test_signature_secret_0123456789abcdef";
        assert_eq!(verify_jwt(&token, secret, "a1b2c3d", body), Ok(()));
        assert_eq!(
            verify_jwt(&token, secret, "a1b2c3d", b"{}"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_jwt(&token, secret, "other", body),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_jwt(&token, "wrong", "a1b2c3d", body),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            hex(&Sha256::digest(body)),
            "32138b6475c4c4b55b24b5620e92cdcf326d44d72f5c42535e0d2e865af5b5c7"
        );
    }
}
