use crate::error::ProviderError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// An address with an optional display name. Built only from checked input: the engine
/// refuses addresses with control characters before a request reaches an adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// Display name (`Ada Lovelace`).
    pub name: Option<String>,
    /// `local@domain`.
    pub address: String,
}

impl Mailbox {
    /// An address without a display name.
    pub fn new(address: impl Into<String>) -> Self {
        Mailbox {
            name: None,
            address: address.into(),
        }
    }

    /// Reads `local@domain` or `Name <local@domain>` as a user typed it. Line breaks and
    /// other control characters are refused (they would let a caller inject headers), as
    /// is anything that is not an RFC 5321 address; the error says why.
    pub fn parse(text: &str) -> Result<Mailbox, String> {
        if text.chars().any(char::is_control) {
            return Err("contains a line break or another control character".into());
        }
        let parsed: lettre::message::Mailbox = text
            .trim()
            .parse()
            .map_err(|e| format!("{text:?} is not an email address ({e})"))?;
        Ok(Mailbox {
            name: parsed.name.filter(|n| !n.trim().is_empty()),
            address: parsed.email.to_string(),
        })
    }

    /// `"Name" <address>` or the bare address, for APIs that take one string. Quotes and
    /// backslashes in the name are escaped as RFC 5322 quoted strings require.
    pub fn formatted(&self) -> String {
        match &self.name {
            Some(name) if !name.is_empty() => {
                let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{escaped}\" <{}>", self.address)
            }
            _ => self.address.clone(),
        }
    }
}

/// A file sent with an email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name shown to the recipient.
    pub filename: String,
    /// MIME type (`application/pdf`).
    pub content_type: String,
    /// The bytes.
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
}

/// An email to send: one message, as the recipients will see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailRequest {
    /// Switchyard's id of the email. Adapters pass it along where the provider echoes it
    /// back in its events (custom arguments, metadata, tags, the `Message-ID`), so that an
    /// event can be matched even before the provider's own id is stored.
    pub email_id: String,
    /// Sender.
    pub from: Mailbox,
    /// Recipients.
    pub to: Vec<Mailbox>,
    /// Copy recipients.
    pub cc: Vec<Mailbox>,
    /// Blind copy recipients.
    pub bcc: Vec<Mailbox>,
    /// Where replies go.
    pub reply_to: Option<Mailbox>,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body (tracking links and pixel already in place, when asked for).
    pub html: Option<String>,
    /// Files.
    pub attachments: Vec<Attachment>,
    /// Extra headers, in order (`List-Unsubscribe`, `List-Unsubscribe-Post`).
    pub headers: Vec<(String, String)>,
    /// Tags (categories) for the provider's own reporting.
    pub tags: Vec<String>,
    /// Whether the provider should track opens and clicks itself (only when the caller
    /// chose provider tracking; Switchyard's own tracking is already in `html`). Adapters
    /// turn provider tracking off otherwise, so that links are not rewritten twice.
    pub provider_tracking: bool,
    /// Our unique id for this attempt (for providers that take an idempotency key).
    pub idempotency_key: String,
}

impl EmailRequest {
    /// Every recipient, `to` then `cc` then `bcc`.
    pub fn recipients(&self) -> impl Iterator<Item = &Mailbox> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }
}

/// An email the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentEmail {
    /// The provider's id for the message (what its events name).
    pub message_id: String,
}

/// Sending email.
#[async_trait]
pub trait Email: Send + Sync {
    /// Hands the email to the provider; what happens to it next arrives as webhooks.
    async fn send_email(&self, req: &EmailRequest) -> Result<SentEmail, ProviderError>;
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_refuses_injection_and_bad_addresses() {
        let m = Mailbox::parse("Ada Lovelace <ada@example.com>").expect("named");
        assert_eq!(
            (m.name.as_deref(), m.address.as_str()),
            (Some("Ada Lovelace"), "ada@example.com")
        );
        assert_eq!(
            Mailbox::parse(" bob@example.org ").expect("bare").address,
            "bob@example.org"
        );
        let err = Mailbox::parse("a@example.com\r\nBcc: victim@example.com").expect_err("crlf");
        assert!(err.contains("line break"), "{err}");
        assert!(Mailbox::parse("not-an-address").is_err());
        assert!(Mailbox::parse("a@@example.com").is_err());
    }

    #[test]
    fn display_names_are_quoted_and_escaped() {
        let plain = Mailbox::new("a@example.com");
        assert_eq!(plain.formatted(), "a@example.com");
        let named = Mailbox {
            name: Some("Ada \"The Countess\" L".into()),
            address: "ada@example.com".into(),
        };
        assert_eq!(
            named.formatted(),
            "\"Ada \\\"The Countess\\\" L\" <ada@example.com>"
        );
    }
}
