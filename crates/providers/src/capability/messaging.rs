use crate::error::ProviderError;
use crate::events::{MessageStatus, ProviderPrice};
use async_trait::async_trait;
use serde::Serialize;

/// The kind of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    /// Text message.
    Sms,
    /// Multimedia message.
    Mms,
    /// WhatsApp.
    Whatsapp,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRequest {
    /// Channel.
    pub channel: MessageChannel,
    /// E.164 destination.
    pub to: String,
    /// E.164 sender.
    pub from: String,
    /// Text.
    pub body: String,
    /// Media for MMS and WhatsApp.
    pub media_urls: Vec<String>,
    /// Our unique id for this attempt.
    pub idempotency_key: String,
}

/// A message the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentMessage {
    /// The provider's id.
    pub message_id: String,
    /// Status at acceptance.
    pub status: MessageStatus,
    /// Segments the provider counted, if it says.
    pub segments: Option<u32>,
    /// Price, if the provider gives it at once.
    pub price: Option<ProviderPrice>,
}

/// Sending messages.
#[async_trait]
pub trait Messaging: Send + Sync {
    /// Sends; delivery receipts arrive as webhooks.
    async fn send_message(&self, req: &MessageRequest) -> Result<SentMessage, ProviderError>;
    /// The message's current state.
    async fn message_status(&self, message_id: &str) -> Result<SentMessage, ProviderError>;
    /// Looks for a message already sent as `req` (same sender, recipient and text, created at
    /// or after `since_ms`, unix ms): how a send a crash interrupted is settled without
    /// sending it twice. `Ok(None)` when the provider has no such message; providers whose
    /// API cannot tell answer `unsupported`.
    async fn find_sent(
        &self,
        req: &MessageRequest,
        since_ms: i64,
    ) -> Result<Option<SentMessage>, ProviderError> {
        let _ = (req, since_ms);
        Err(ProviderError::unsupported(
            "provider",
            "looking up sent messages",
        ))
    }
}
