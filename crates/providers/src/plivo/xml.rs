//! Built-in call instructions as Plivo XML, and the answer URL that carries them.
//!
//! Plivo fetches a call's instructions from its `answer_url` (or a transfer's `aleg_url`)
//! and has no way to take them inline. So the document rides in that URL's query, as
//! base64url, pointed at Switchyard's own webhook: Plivo signs the whole URL (V3), so when
//! it calls back the document is known to be the one we sent, and the webhook's answer is
//! that document.

use crate::capability::Instruction;
use crate::xml::escape;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The query parameter holding the document.
pub const ANSWER_PARAM: &str = "sy_answer";

/// What the answer to any other callback is: Plivo ignores it, and for an answer URL it
/// ends the call cleanly.
pub const EMPTY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// A `<Response>` document performing `steps` in order.
pub fn render(steps: &[Instruction]) -> String {
    let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>");
    for step in steps {
        match step {
            Instruction::Say { text, language } => {
                doc.push_str(&format!(
                    "<Speak voice=\"WOMAN\" language=\"{}\">{}</Speak>",
                    escape(language.as_deref().unwrap_or("en-US")),
                    escape(text)
                ));
            }
            Instruction::Play { url } => doc.push_str(&format!("<Play>{}</Play>", escape(url))),
            Instruction::Forward { to } => doc.push_str(&format!(
                "<Dial><Number>{}</Number></Dial>",
                escape(to.trim_start_matches('+'))
            )),
            Instruction::Pause { seconds } => {
                doc.push_str(&format!("<Wait length=\"{seconds}\"/>"))
            }
            Instruction::Hangup => doc.push_str("<Hangup/>"),
        }
    }
    doc.push_str("</Response>");
    doc
}

/// A document handing the call to the customer's own answer URL (`<Redirect>`), so that
/// the answer still reaches Switchyard first and is reported.
pub fn redirect(url: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Redirect method=\"POST\">{}</Redirect></Response>",
        escape(url)
    )
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escapes_and_round_trips_through_the_url() {
        let steps = [
            Instruction::Say {
                text: "Tom & <Jerry>".into(),
                language: Some("en-GB".into()),
            },
            Instruction::Pause { seconds: 2 },
            Instruction::Play {
                url: "https://x.example/a.mp3?a=1&b=2".into(),
            },
            Instruction::Forward {
                to: "+442071234567".into(),
            },
            Instruction::Hangup,
        ];
        let doc = render(&steps);
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Speak voice=\"WOMAN\" language=\"en-GB\">Tom &amp; &lt;Jerry&gt;</Speak>\
             <Wait length=\"2\"/><Play>https://x.example/a.mp3?a=1&amp;b=2</Play><Dial><Number>442071234567</Number></Dial><Hangup/></Response>"
        );
        let url = answer_url("https://sy.example/v1/webhooks/p1", &doc);
        assert!(url.starts_with("https://sy.example/v1/webhooks/p1?sy_answer="));
        assert_eq!(document_in(&url), Some(doc));
        assert_eq!(document_in("https://sy.example/v1/webhooks/p1"), None);
        assert_eq!(document_in("https://sy.example/h?sy_answer=%%%"), None);
        assert_eq!(
            redirect("https://x.example/a?b=1&c=2"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Redirect method=\"POST\">https://x.example/a?b=1&amp;c=2</Redirect></Response>"
        );
    }
}
