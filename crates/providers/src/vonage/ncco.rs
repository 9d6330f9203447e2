//! Built-in call instructions as an NCCO (Vonage's Call Control Object, a JSON list of
//! actions), which the Voice API takes inline when a call is created or transferred.

use crate::capability::Instruction;
use serde_json::{Value, json};

/// The NCCO performing `steps` in order. A call ends when its NCCO does, so `hangup` ends
/// the list; a pause is a silent `talk` (SSML break), as NCCO has no wait action.
pub fn render(steps: &[Instruction]) -> Value {
    let mut actions = Vec::new();
    for step in steps {
        match step {
            Instruction::Say { text, language } => actions.push(json!({
                "action": "talk", "text": text, "language": language.as_deref().unwrap_or("en-US"),
            })),
            Instruction::Play { url } => {
                actions.push(json!({ "action": "stream", "streamUrl": [url] }))
            }
            Instruction::Forward { to } => actions.push(json!({
                "action": "connect",
                "endpoint": [{ "type": "phone", "number": to.trim_start_matches('+') }],
            })),
            Instruction::Pause { seconds } => actions.push(json!({
                "action": "talk", "text": format!("<speak><break time=\"{seconds}s\"/></speak>"),
            })),
            Instruction::Hangup => break,
        }
    }
    Value::Array(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_instruction() {
        let ncco = render(&[
            Instruction::Say {
                text: "Hi".into(),
                language: Some("en-GB".into()),
            },
            Instruction::Pause { seconds: 2 },
            Instruction::Play {
                url: "https://x.example/a.mp3".into(),
            },
            Instruction::Forward {
                to: "+442071234567".into(),
            },
            Instruction::Hangup,
            Instruction::Say {
                text: "never said".into(),
                language: None,
            },
        ]);
        assert_eq!(
            ncco,
            json!([
                { "action": "talk", "text": "Hi", "language": "en-GB" },
                { "action": "talk", "text": "<speak><break time=\"2s\"/></speak>" },
                { "action": "stream", "streamUrl": ["https://x.example/a.mp3"] },
                { "action": "connect", "endpoint": [{ "type": "phone", "number": "442071234567" }] },
            ])
        );
    }
}
