//! Plivo webhook signatures, as Plivo documents them and its SDKs check them.
//!
//! **V3** (`X-Plivo-Signature-V3`, `X-Plivo-Signature-V3-Nonce`): base64 HMAC-SHA256, keyed
//! with the auth token, over the URL with its query parameters re-sorted, then for a POST
//! the body parameters sorted by name and written as name+value with no separators, then
//! `.` and the nonce. The header may hold several signatures separated by commas (one per
//! auth token while a token is being rotated); any one matching is enough.
//!
//! **V2** (`X-Plivo-Signature-V2`, `X-Plivo-Signature-V2-Nonce`): base64 HMAC-SHA256 over the
//! URL without its query, followed by the nonce. Older messaging callbacks carry only V2.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// V3 signature header.
pub const V3_HEADER: &str = "x-plivo-signature-v3";
/// V3 signature made with the main account's token, sent beside V3 for subaccounts.
pub const MA_V3_HEADER: &str = "x-plivo-signature-ma-v3";
/// V3 nonce header.
pub const V3_NONCE_HEADER: &str = "x-plivo-signature-v3-nonce";
/// V2 signature header.
pub const V2_HEADER: &str = "x-plivo-signature-v2";
/// V2 nonce header.
pub const V2_NONCE_HEADER: &str = "x-plivo-signature-v2-nonce";

fn mac(auth_token: &str) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// `name=value` pairs sorted by name, then value, joined with `&`.
fn sorted_query(pairs: &mut [(String, String)]) -> String {
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The string V3 signs (before `.nonce`) for a POST of `params` to `url`.
pub fn v3_base(url: &str, params: &[(String, String)]) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut query_pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let query = sorted_query(&mut query_pairs);
    let mut out = base.to_string();
    if !query.is_empty() || !params.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    if !query.is_empty() && !params.is_empty() {
        out.push('.');
    }
    let mut body: Vec<&(String, String)> = params.iter().collect();
    body.sort();
    for (k, v) in body {
        out.push_str(k);
        out.push_str(v);
    }
    out
}

fn sign_text(auth_token: &str, text: &str) -> String {
    let mut m = mac(auth_token);
    m.update(text.as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

fn matches_text(auth_token: &str, text: &str, signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let mut m = mac(auth_token);
    m.update(text.as_bytes());
    m.verify_slice(&given).is_ok()
}

/// The V3 signature of a POST of form `params` to `url` with `nonce`.
pub fn sign_v3(auth_token: &str, url: &str, params: &[(String, String)], nonce: &str) -> String {
    sign_text(auth_token, &format!("{}.{nonce}", v3_base(url, params)))
}

/// Whether any of the comma-separated V3 `signatures` is right (constant time each).
pub fn matches_v3(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    nonce: &str,
    signatures: &str,
) -> bool {
    let text = format!("{}.{nonce}", v3_base(url, params));
    signatures
        .split(',')
        .any(|s| matches_text(auth_token, &text, s))
}

/// The V2 signature of a request to `url` with `nonce`.
pub fn sign_v2(auth_token: &str, url: &str, nonce: &str) -> String {
    sign_text(auth_token, &format!("{}{nonce}", v2_base(url)))
}

fn v2_base(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Whether the V2 `signature` is right.
pub fn matches_v2(auth_token: &str, url: &str, nonce: &str, signature: &str) -> bool {
    matches_text(auth_token, &format!("{}{nonce}", v2_base(url)), signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::double::pairs as p;

    /// Vectors of Plivo's SDK tests (plivo-python `tests/resources/test_signature.py`,
    /// plivo-node `test/utils.js`, plivo-go `utils_test.go`): V2, and V3 for a POST of
    /// `CallUUID` and `Duration` with token `my_auth_token` and nonce `12345`, as
    /// plivo-python's `validate_v3_signature` computes them.
    #[test]
    fn plivo_sdk_vectors() {
        let token = "my_auth_token";
        assert_eq!(
            sign_v2(token, "https://answer.url", "12345"),
            "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="
        );
        assert!(matches_v2(
            token,
            "https://answer.url:8000",
            "24725744043720739450",
            "LDphWoWimP4QM5AoWI1uwP6WmlWtt5ITPZjXIWYvCNU="
        ));
        assert!(matches_v2(
            "my_auth_tokens",
            "https://answer.url:8080",
            "123456",
            "xeV6S6BPIQJ/rgKCjCm/Fo2ve5zNe1fatQoHyRT8vxQ="
        ));
        let params = p(&[
            ("CallUUID", "97ceeb52-58b6-11e1-86da-77300b68f8bb"),
            ("Duration", "300"),
        ]);
        for (url, params, want) in [
            (
                "https://answer.url",
                params.clone(),
                "lGsA7wORSRimdxCEqlJfbyxIYTxOsbYjbXU05rrpSpE=",
            ),
            (
                "https://answer.url/",
                params.clone(),
                "6oPAGokSSfsTsDM0Guez0ncB2LjKG3kF+2pxxTQXf7s=",
            ),
            (
                "https://example.com/answer/?a=1&b=2",
                params.clone(),
                "2SdkR9Yu8K26L+sijgv96U1Q3y0M75ShDGMz6uswvPs=",
            ),
            (
                "https://example.com/answer/",
                Vec::new(),
                "5TEt2q+aUFkNfuE19svlYCxzcFLYNYRRPQFI11CQhYI=",
            ),
        ] {
            assert_eq!(sign_v3(token, url, &params, "12345"), want, "{url}");
            assert!(matches_v3(token, url, &params, "12345", want));
        }
    }

    /// The string to sign, for each of the shapes Plivo's SDKs distinguish.
    #[test]
    fn v3_base_strings() {
        let url = "https://answer.url/path?b=2&a=1";
        assert_eq!(
            v3_base(url, &p(&[("To", "+1"), ("From", "+2")])),
            "https://answer.url/path?a=1&b=2.From+2To+1"
        );
        assert_eq!(v3_base(url, &[]), "https://answer.url/path?a=1&b=2");
        assert_eq!(
            v3_base("https://answer.url/path", &p(&[("a", "x")])),
            "https://answer.url/path?ax"
        );
        assert_eq!(
            v3_base("https://answer.url/path", &[]),
            "https://answer.url/path"
        );
    }

    #[test]
    fn v3_round_trip_and_rotation() {
        let params = p(&[("CallUUID", "c1"), ("CallStatus", "completed")]);
        let url = "https://sy.example/v1/webhooks/p1";
        let sig = sign_v3("token", url, &params, "12345");
        assert!(matches_v3("token", url, &params, "12345", &sig));
        let rotated = format!("{},{sig}", sign_v3("old", url, &params, "12345"));
        assert!(matches_v3("token", url, &params, "12345", &rotated));
        assert!(!matches_v3("token", url, &params, "12346", &sig));
        let tampered = p(&[("CallUUID", "c1"), ("CallStatus", "busy")]);
        assert!(!matches_v3("token", url, &tampered, "12345", &sig));
        assert!(!matches_v3("token", url, &params, "12345", "not base64!"));
    }

    #[test]
    fn v2_ignores_the_query() {
        let sig = sign_v2("token", "https://sy.example/h", "n1");
        assert!(matches_v2("token", "https://sy.example/h?x=1", "n1", &sig));
        assert!(!matches_v2("token", "https://sy.example/h", "n2", &sig));
    }
}
