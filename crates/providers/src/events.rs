//! Provider webhooks normalised: what every adapter's parser produces and what the engine
//! consumes, whatever the provider's own vocabulary.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A number as providers that drop the `+` write it (country code and digits: Plivo,
/// Vonage) in E.164; anything else (a SIP URI, an alphanumeric sender) as it is.
pub fn e164_from_digits(number: &str) -> String {
    let n = number.trim();
    if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// An E.164 number as those providers take it: country code and digits, no `+`.
pub fn digits_of(e164: &str) -> &str {
    e164.trim_start_matches('+')
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// Accepted by the provider, dialling.
    Initiated,
    /// The far end is ringing.
    Ringing,
    /// Answered and in progress.
    Answered,
    /// Ended after being answered.
    Completed,
    /// The far end was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// Could not be connected.
    Failed,
    /// Hung up by us before it was answered.
    Canceled,
}

impl CallStatus {
    /// Whether nothing follows this status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CallStatus::Completed
                | CallStatus::Busy
                | CallStatus::NoAnswer
                | CallStatus::Failed
                | CallStatus::Canceled
        )
    }

    /// Order in a call's life, so a late webhook never moves a call backwards.
    pub fn rank(self) -> u8 {
        match self {
            CallStatus::Initiated => 0,
            CallStatus::Ringing => 1,
            CallStatus::Answered => 2,
            _ => 3,
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Accepted by the provider.
    Queued,
    /// Handed to the carrier.
    Sent,
    /// The handset confirmed it.
    Delivered,
    /// The carrier could not deliver it.
    Undelivered,
    /// The provider could not send it.
    Failed,
}

impl MessageStatus {
    /// Whether nothing follows this status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            MessageStatus::Delivered | MessageStatus::Undelivered | MessageStatus::Failed
        )
    }

    /// Order in a message's life.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Queued => 0,
            MessageStatus::Sent => 1,
            _ => 2,
        }
    }
}

/// An amount the provider charged, as it reported it (positive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderPrice {
    /// Amount.
    pub amount: Decimal,
    /// ISO currency code.
    pub currency: String,
}

/// A change in an outbound call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    /// The provider's call id.
    pub call_id: String,
    /// New status.
    pub status: CallStatus,
    /// Billable seconds, on final statuses when the provider reports them.
    pub duration_secs: Option<u32>,
    /// The provider's price, when it gives one.
    pub price: Option<ProviderPrice>,
    /// Provider's reason code for a failure (`hangup_cause`, SIP code).
    pub reason: Option<String>,
    /// Opaque state we attached when creating the call.
    pub client_state: Option<String>,
}

/// A change in an outbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    /// The provider's message id.
    pub message_id: String,
    /// New status.
    pub status: MessageStatus,
    /// The provider's error code on failure (`30003`, `40001`).
    pub error_code: Option<String>,
    /// The provider's price, when it gives one.
    pub price: Option<ProviderPrice>,
}

/// A message someone sent to one of our numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The provider's message id.
    pub message_id: String,
    /// Sender.
    pub from: String,
    /// Our number.
    pub to: String,
    /// Text.
    pub body: String,
    /// Attached media.
    pub media_urls: Vec<String>,
}

/// A call someone placed to one of our numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundCall {
    /// The provider's call id.
    pub call_id: String,
    /// Caller.
    pub from: String,
    /// Our number.
    pub to: String,
}

/// What happened to an email, in Switchyard's words, whatever the provider calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailEventType {
    /// The provider took it and is sending it (SendGrid `processed`).
    Sent,
    /// The receiving server accepted it.
    Delivered,
    /// The receiving server asked to retry later; the provider goes on trying.
    Deferred,
    /// The receiving server refused it for good (unknown mailbox, domain) or the provider
    /// gave up retrying.
    HardBounce,
    /// Refused for now (mailbox full, message too large); not a reason to suppress.
    SoftBounce,
    /// The provider would not send it (its own suppression list, invalid address).
    Dropped,
    /// The recipient marked it as spam.
    Complained,
    /// The recipient opened it.
    Opened,
    /// The recipient followed a link.
    Clicked,
    /// The recipient unsubscribed through the provider's own link or list header.
    Unsubscribed,
}

impl EmailEventType {
    /// The name in the API and in stored events (`hard_bounce`).
    pub fn as_str(self) -> &'static str {
        match self {
            EmailEventType::Sent => "sent",
            EmailEventType::Delivered => "delivered",
            EmailEventType::Deferred => "deferred",
            EmailEventType::HardBounce => "hard_bounce",
            EmailEventType::SoftBounce => "soft_bounce",
            EmailEventType::Dropped => "dropped",
            EmailEventType::Complained => "complained",
            EmailEventType::Opened => "opened",
            EmailEventType::Clicked => "clicked",
            EmailEventType::Unsubscribed => "unsubscribed",
        }
    }

    /// Whether the address must not be mailed again (added to the suppression list).
    pub fn suppresses(self) -> bool {
        matches!(
            self,
            EmailEventType::HardBounce | EmailEventType::Complained | EmailEventType::Unsubscribed
        )
    }
}

/// Something that happened to an email at one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailEvent {
    /// The provider's message id (as [`SentEmail`](crate::capability::SentEmail) gave it).
    pub message_id: String,
    /// Switchyard's email id, when the provider echoed it back.
    pub email_id: Option<String>,
    /// The recipient it is about.
    pub recipient: Option<String>,
    /// What happened.
    pub event: EmailEventType,
    /// The provider's or the receiving server's explanation (`550 5.1.1 user unknown`).
    pub reason: Option<String>,
    /// The link followed, for clicks.
    pub url: Option<String>,
}

/// What happened, as one webhook reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// An outbound call changed.
    Call(CallEvent),
    /// An outbound message changed.
    Message(MessageEvent),
    /// An inbound message.
    InboundMessage(InboundMessage),
    /// An inbound call.
    InboundCall(InboundCall),
    /// Something happened to an email.
    Email(EmailEvent),
    /// A verified event this adapter does not interpret; stored for inspection.
    Unknown {
        /// The provider's event name.
        event_type: String,
    },
}

/// One normalised event with the key that makes it unique: the same webhook delivered
/// twice has the same key, so it is stored once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEvent {
    /// Unique per provider and event.
    pub dedupe_key: String,
    /// When the provider says it happened (Unix milliseconds), if it says.
    pub occurred_at_ms: Option<i64>,
    /// The event.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl ProviderEvent {
    /// The provider's id of the call or message the event is about.
    pub fn resource_id(&self) -> Option<&str> {
        match &self.kind {
            EventKind::Call(c) => Some(&c.call_id),
            EventKind::Message(m) => Some(&m.message_id),
            EventKind::InboundMessage(m) => Some(&m.message_id),
            EventKind::InboundCall(c) => Some(&c.call_id),
            EventKind::Email(e) => Some(&e.message_id),
            EventKind::Unknown { .. } => None,
        }
    }

    /// The short name used in storage and metrics (`call.answered`).
    pub fn name(&self) -> String {
        match &self.kind {
            EventKind::Call(c) => format!("call.{}", kebab(&c.status)),
            EventKind::Message(m) => format!("message.{}", kebab(&m.status)),
            EventKind::InboundMessage(_) => "message.inbound".into(),
            EventKind::InboundCall(_) => "call.inbound".into(),
            EventKind::Email(e) => format!("email.{}", e.event.as_str()),
            EventKind::Unknown { event_type } => format!("unknown.{event_type}"),
        }
    }
}

fn kebab(v: &impl Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_status_vocabulary() {
        let e = ProviderEvent {
            dedupe_key: "k".into(),
            occurred_at_ms: None,
            kind: EventKind::Call(CallEvent {
                call_id: "CA1".into(),
                status: CallStatus::NoAnswer,
                duration_secs: None,
                price: None,
                reason: None,
                client_state: None,
            }),
        };
        assert_eq!(e.name(), "call.no-answer");
        assert!(CallStatus::NoAnswer.is_final());
        assert!(CallStatus::Ringing.rank() < CallStatus::Busy.rank());
        assert!(!MessageStatus::Sent.is_final());
    }
}
