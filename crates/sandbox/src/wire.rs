//! What every carrier API of the sandbox reads and writes the same way: Basic credentials,
//! query and form parameters, JSON string lists, E.164 checks, timestamps.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// The user and password of `Authorization: Basic`.
pub fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let raw = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let text = String::from_utf8(STANDARD.decode(raw.trim()).ok()?).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// A raw query string's pairs, in order.
pub fn query_pairs(q: &Option<String>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default()
}

/// A form body's pairs, in order.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The first non-empty value of `name`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A body that is a JSON object.
pub fn json_object(body: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
}

/// The strings of a JSON list field (media URLs and the like).
pub fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `+` and 4 to 15 digits.
pub fn valid_e164(s: &str) -> bool {
    s.len() > 4 && s.len() <= 16 && s.starts_with('+') && s[1..].chars().all(|c| c.is_ascii_digit())
}

/// RFC 3339 with milliseconds, in UTC.
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
