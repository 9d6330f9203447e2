//! Built-in call instructions as TwiML.

use crate::capability::Instruction;
use crate::xml::escape;

/// A `<Response>` document performing `steps` in order.
pub fn render(steps: &[Instruction]) -> String {
    let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>");
    for step in steps {
        match step {
            Instruction::Say { text, language } => {
                match language {
                    Some(l) => doc.push_str(&format!("<Say language=\"{}\">", escape(l))),
                    None => doc.push_str("<Say>"),
                }
                doc.push_str(&escape(text));
                doc.push_str("</Say>");
            }
            Instruction::Play { url } => doc.push_str(&format!("<Play>{}</Play>", escape(url))),
            Instruction::Forward { to } => doc.push_str(&format!("<Dial>{}</Dial>", escape(to))),
            Instruction::Pause { seconds } => {
                doc.push_str(&format!("<Pause length=\"{seconds}\"/>"))
            }
            Instruction::Hangup => doc.push_str("<Hangup/>"),
        }
    }
    doc.push_str("</Response>");
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let doc = render(&crate::capability::every_instruction());
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say language=\"en-GB\">Tom &amp; &lt;Jerry&gt;</Say>\
             <Pause length=\"2\"/><Play>https://x.example/a.mp3?a=1&amp;b=2</Play><Dial>+442071234567</Dial><Hangup/></Response>"
        );
    }
}
