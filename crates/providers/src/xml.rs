//! The small XML documents carriers take call instructions in (TwiML, Plivo XML, BXML), and
//! how a document reaches a carrier that can only fetch it from a URL.
//!
//! Plivo and Bandwidth take no inline instructions: they fetch them from the call's answer
//! URL. So the document rides in that URL's query, base64url, pointed at Switchyard's own
//! webhook, and the webhook's answer to that callback is the document. The callback is
//! authenticated like any other (Plivo signs the whole URL, query included; Bandwidth sends
//! the callback credentials), so the document served is the one the adapter sent.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The query parameter holding the document.
pub const ANSWER_PARAM: &str = "sy_answer";

/// `webhook_url` with `doc` in its query.
pub fn answer_url(webhook_url: &str, doc: &str) -> String {
    let sep = if webhook_url.contains('?') { '&' } else { '?' };
    format!(
        "{webhook_url}{sep}{ANSWER_PARAM}={}",
        URL_SAFE_NO_PAD.encode(doc)
    )
}

/// The document a (verified) callback URL carries, if any.
pub fn document_in(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let (_, encoded) =
        url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == ANSWER_PARAM)?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded.as_bytes()).ok()?;
    String::from_utf8(bytes).ok()
}

/// `s` with XML's five special characters escaped, for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_through_the_url() {
        let doc = "<Response><Hangup/></Response>";
        let url = answer_url("https://sy.example/v1/webhooks/p1", doc);
        assert!(url.starts_with("https://sy.example/v1/webhooks/p1?sy_answer="));
        assert_eq!(document_in(&url).as_deref(), Some(doc));
        let more = answer_url("https://sy.example/h?a=1", doc);
        assert!(more.starts_with("https://sy.example/h?a=1&sy_answer="));
        assert_eq!(document_in(&more).as_deref(), Some(doc));
        assert_eq!(document_in("https://sy.example/v1/webhooks/p1"), None);
        assert_eq!(document_in("https://sy.example/h?sy_answer=%%%"), None);
        assert_eq!(escape("a&<>\"'"), "a&amp;&lt;&gt;&quot;&apos;");
    }
}
