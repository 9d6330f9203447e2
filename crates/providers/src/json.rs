//! Reading provider JSON, whose fields come as strings one day and numbers the next.

use serde_json::Value;

/// A field as text: a non-empty string, or a number written out.
pub fn text(v: &Value, key: &str) -> Option<String> {
    as_text(v.get(key))
}

/// A value as text, as [`text`] reads fields.
pub fn as_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_numbers() {
        let v = serde_json::json!({ "a": "x", "b": 4720, "c": "", "d": null, "e": 0.5 });
        assert_eq!(text(&v, "a").as_deref(), Some("x"));
        assert_eq!(text(&v, "b").as_deref(), Some("4720"));
        assert_eq!(text(&v, "e").as_deref(), Some("0.5"));
        assert_eq!(
            (text(&v, "c"), text(&v, "d"), text(&v, "z")),
            (None, None, None)
        );
    }
}
