//! Built-in call instructions as BXML (Bandwidth's call document). Bandwidth fetches it
//! from the answer URL (or a redirect's URL), so it travels as [`crate::xml::answer_url`]
//! describes.

use crate::capability::Instruction;
use crate::xml::escape;

/// What Switchyard answers callbacks that carry no document with: Bandwidth ignores the
/// body of asynchronous callbacks, and an empty document ends a call cleanly.
pub const EMPTY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Bxml></Bxml>";

/// A `<Bxml>` document performing `steps` in order.
pub fn render(steps: &[Instruction]) -> String {
    let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Bxml>");
    for step in steps {
        match step {
            // BXML locales are written `en_US`.
            Instruction::Say { text, language } => doc.push_str(&format!(
                "<SpeakSentence locale=\"{}\" gender=\"female\">{}</SpeakSentence>",
                escape(&language.as_deref().unwrap_or("en-US").replace('-', "_")),
                escape(text)
            )),
            Instruction::Play { url } => {
                doc.push_str(&format!("<PlayAudio>{}</PlayAudio>", escape(url)))
            }
            Instruction::Forward { to } => doc.push_str(&format!(
                "<Transfer><PhoneNumber>{}</PhoneNumber></Transfer>",
                escape(to)
            )),
            Instruction::Pause { seconds } => {
                doc.push_str(&format!("<Pause duration=\"{seconds}\"/>"))
            }
            Instruction::Hangup => doc.push_str("<Hangup/>"),
        }
    }
    doc.push_str("</Bxml>");
    doc
}

/// A document handing the call to the customer's own answer URL.
pub fn redirect(url: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Bxml><Redirect redirectUrl=\"{}\" redirectMethod=\"POST\"/></Bxml>",
        escape(url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let doc = render(&crate::capability::every_instruction());
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Bxml><SpeakSentence locale=\"en_GB\" gender=\"female\">Tom &amp; &lt;Jerry&gt;</SpeakSentence>\
             <Pause duration=\"2\"/><PlayAudio>https://x.example/a.mp3?a=1&amp;b=2</PlayAudio><Transfer><PhoneNumber>+442071234567</PhoneNumber></Transfer><Hangup/></Bxml>"
        );
        assert!(
            redirect("https://x.example/a?b=1&c=2")
                .contains("redirectUrl=\"https://x.example/a?b=1&amp;c=2\"")
        );
    }
}
