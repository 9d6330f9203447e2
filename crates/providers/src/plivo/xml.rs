//! Built-in call instructions as Plivo XML. Plivo fetches them from the answer URL (or a
//! transfer's `aleg_url`), so they travel as [`crate::xml::answer_url`] describes.

use crate::capability::Instruction;
use crate::xml::escape;
pub use crate::xml::{answer_url, document_in};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let steps = crate::capability::every_instruction();
        let doc = render(&steps);
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Speak voice=\"WOMAN\" language=\"en-GB\">Tom &amp; &lt;Jerry&gt;</Speak>\
             <Wait length=\"2\"/><Play>https://x.example/a.mp3?a=1&amp;b=2</Play><Dial><Number>442071234567</Number></Dial><Hangup/></Response>"
        );
        assert_eq!(
            redirect("https://x.example/a?b=1&c=2"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Redirect method=\"POST\">https://x.example/a?b=1&amp;c=2</Redirect></Response>"
        );
    }
}
