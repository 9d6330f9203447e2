//! `X-Twilio-Signature`, exactly as Twilio documents it: base64 of HMAC-SHA1, keyed with the
//! auth token, over the full URL followed by every POST parameter's name and value sorted
//! by name. JSON bodies are signed over the URL alone, and the URL's `bodySHA256` query
//! parameter carries the hex SHA-256 of the body.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The header Twilio signs with.
pub const HEADER: &str = "x-twilio-signature";

fn mac(auth_token: &str) -> Hmac<Sha1> {
    // HMAC takes keys of any length; this cannot fail.
    <Hmac<Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn signed_bytes(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.as_bytes().to_vec();
    for (k, v) in sorted {
        data.extend_from_slice(k.as_bytes());
        data.extend_from_slice(v.as_bytes());
    }
    data
}

/// The signature of a request to `url` with form `params`.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut m = mac(auth_token);
    m.update(&signed_bytes(url, params));
    STANDARD.encode(m.finalize().into_bytes())
}

/// The hex SHA-256 Twilio puts in `bodySHA256` for a JSON body.
pub fn body_sha256(body: &[u8]) -> String {
    hex_lower(&Sha256::digest(body))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `signature` is right for this URL and parameters (constant time).
pub fn matches(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let mut m = mac(auth_token);
    m.update(&signed_bytes(url, params));
    m.verify_slice(&given).is_ok()
}

/// The URL as Twilio may have signed it: as received, and with the scheme's default port
/// removed or written out (Twilio's own libraries try both, since proxies differ in what
/// they keep).
pub fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    if let Ok(parsed) = url::Url::parse(url)
        && parsed.port().is_none()
        && let (Some(port), Some(host)) = (parsed.port_or_known_default(), parsed.host_str())
    {
        // `Url` prints no default port, so this is the URL without it.
        let without = parsed.to_string();
        let prefix = format!("{}://{host}", parsed.scheme());
        let with = without.replacen(&prefix, &format!("{prefix}:{port}"), 1);
        for v in [without, with] {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// The value of `bodySHA256` in the URL's query, if present.
pub fn body_hash_param(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The worked example of Twilio's "Webhooks security" page
    /// (https://www.twilio.com/docs/usage/webhooks/webhooks-security), also used by
    /// twilio-node's `webhooks.spec.js`: auth token `12345`.
    #[test]
    fn twilios_documented_form_vector() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = pairs(&[
            ("To", "+18005551212"),
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("Caller", "+12349013030"),
        ]);
        assert_eq!(sign("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(matches(
            "12345",
            url,
            &params,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        let mut tampered = params.clone();
        tampered[2].1 = "9999".into();
        assert!(!matches(
            "12345",
            url,
            &tampered,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!matches(
            "54321",
            url,
            &params,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!matches("12345", url, &params, "not base64!"));
    }

    /// The JSON-body vector of Twilio's own helper libraries (twilio-python
    /// `tests/unit/test_request_validator.py`, twilio-node `webhooks.spec.js`), token
    /// `12345`.
    #[test]
    fn twilios_library_json_vector() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = body_sha256(body);
        assert_eq!(
            hash,
            "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        );
        let url = format!("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256={hash}");
        assert_eq!(body_hash_param(&url).as_deref(), Some(hash.as_str()));
        assert!(matches("12345", &url, &[], "a9nBmqA0ju/hNViExpshrM61xv4="));
        // And the same libraries' form vector with other caller numbers.
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]);
        assert_eq!(
            sign(
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &params
            ),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn port_variants_cover_both_forms() {
        assert_eq!(
            url_variants("https://a.example/x?y=1"),
            vec!["https://a.example/x?y=1", "https://a.example:443/x?y=1"]
        );
        assert_eq!(
            url_variants("https://a.example:443/x"),
            vec!["https://a.example:443/x", "https://a.example/x"]
        );
        assert_eq!(
            url_variants("http://a.example/"),
            vec!["http://a.example/", "http://a.example:80/"]
        );
        assert_eq!(
            url_variants("http://127.0.0.1:8080/x"),
            vec!["http://127.0.0.1:8080/x"]
        );
    }
}
