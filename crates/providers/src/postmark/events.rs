//! Postmark webhooks, one record per request told apart by `RecordType`, normalised:
//! Delivery, Bounce, SpamComplaint, Open, Click and SubscriptionChange, as documented under
//! https://postmarkapp.com/developer/webhooks/webhooks-overview.

use super::EMAIL_ID_KEY;
use crate::capability::WebhookError;
use crate::events::{EmailEvent, EmailEventType, EventKind, ProviderEvent};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn need(v: &Value, key: &str) -> Result<String, WebhookError> {
    text(v, key).ok_or_else(|| WebhookError::Malformed(format!("{key} is missing")))
}

/// An ISO 8601 time (`2019-11-05T16:33:54.9070259Z`) in Unix milliseconds.
fn millis(v: &Value, key: &str) -> Option<i64> {
    text(v, key)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.timestamp_millis())
}

/// What a bounce of this type means, from Postmark's bounce type table
/// (https://postmarkapp.com/developer/api/bounce-api#bounce-types). Types that report no
/// failure of this message (an auto-reply, a subscribe request, an open-relay test, a
/// challenge to verify the sender, an address-change notice, an inbound error) are not
/// email events. A type Postmark adds later counts as a soft bounce: a failure that does
/// not suppress the address.
fn bounce_event(kind: &str) -> Option<EmailEventType> {
    Some(match kind {
        // Unknown user or mailbox; not a valid address.
        "HardBounce" | "BadEmailAddress" => EmailEventType::HardBounce,
        // "Message delayed": Postmark keeps trying.
        "Transient" => EmailEventType::Deferred,
        // The recipient asked to be removed.
        "Unsubscribe" => EmailEventType::Unsubscribed,
        "SpamComplaint" => EmailEventType::Complained,
        // Postmark will not send: deactivated by hand, registration not confirmed, its
        // SMTP API refused the message, or the template did not render.
        "ManuallyDeactivated" | "Unconfirmed" | "SMTPApiError" | "TemplateRenderingFailed" => {
            EmailEventType::Dropped
        }
        "Subscribe"
        | "AutoResponder"
        | "AddressChange"
        | "OpenRelayTest"
        | "ChallengeVerification"
        | "InboundError" => return None,
        // SoftBounce, DnsError, SpamNotification, Unknown, VirusNotification, Blocked,
        // DMARCPolicy and anything newer: refused for now or for this content, not for the
        // address.
        _ => EmailEventType::SoftBounce,
    })
}

/// What a change to the stream's suppression list means. A recipient who unsubscribes is
/// suppressed with the reason `ManualSuppression`; hard bounces and spam complaints
/// suppress too (and arrive as their own Bounce and SpamComplaint records as well). A
/// reactivation (`SuppressSending` false) is not an email event.
fn suppression_event(v: &Value) -> Option<EmailEventType> {
    if v.get("SuppressSending").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    match text(v, "SuppressionReason").as_deref() {
        Some("ManualSuppression") => Some(EmailEventType::Unsubscribed),
        Some("HardBounce") => Some(EmailEventType::HardBounce),
        Some("SpamComplaint") => Some(EmailEventType::Complained),
        _ => None,
    }
}

/// The bounce record's numeric `ID`.
fn record_id(v: &Value) -> Result<String, WebhookError> {
    match v.get("ID") {
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(WebhookError::Malformed("ID is missing".into())),
    }
}

/// The parts of one record that the normalised event is built from.
struct Record {
    event: Option<EmailEventType>,
    dedupe_key: String,
    occurred_at_ms: Option<i64>,
    recipient: Option<String>,
    reason: Option<String>,
    url: Option<String>,
}

/// Reads the record type's own fields. Dedupe keys use what Postmark documents as
/// identifying each record: the bounce `ID`; one delivery per message and recipient; an
/// open or click by its time (and link); a suppression change by its time.
fn record(kind: &str, v: &Value, message_id: Option<&str>) -> Result<Record, WebhookError> {
    let message = || {
        message_id
            .map(str::to_owned)
            .ok_or_else(|| WebhookError::Malformed("MessageID is missing".into()))
    };
    Ok(match kind {
        "Delivery" => {
            let recipient = need(v, "Recipient")?;
            Record {
                event: Some(EmailEventType::Delivered),
                dedupe_key: format!("Delivery:{}:{recipient}", message()?),
                occurred_at_ms: millis(v, "DeliveredAt"),
                recipient: Some(recipient),
                reason: None,
                url: None,
            }
        }
        "Bounce" | "SpamComplaint" => {
            let bounce_type = text(v, "Type").unwrap_or_else(|| kind.to_string());
            Record {
                event: bounce_event(&bounce_type),
                dedupe_key: format!("{kind}:{}", record_id(v)?),
                occurred_at_ms: millis(v, "BouncedAt"),
                recipient: text(v, "Email"),
                reason: text(v, "Details").or_else(|| text(v, "Description")),
                url: None,
            }
        }
        "Open" | "Click" => {
            let recipient = need(v, "Recipient")?;
            let at = need(v, "ReceivedAt")?;
            let url = text(v, "OriginalLink").filter(|_| kind == "Click");
            let dedupe_key = format!(
                "{kind}:{}:{recipient}:{at}:{}",
                message()?,
                url.as_deref().unwrap_or_default()
            );
            Record {
                event: Some(if kind == "Open" {
                    EmailEventType::Opened
                } else {
                    EmailEventType::Clicked
                }),
                dedupe_key,
                occurred_at_ms: millis(v, "ReceivedAt"),
                recipient: Some(recipient),
                reason: None,
                url,
            }
        }
        "SubscriptionChange" => {
            let recipient = need(v, "Recipient")?;
            let suppress = v
                .get("SuppressSending")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            Record {
                // A suppression Postmark records without a message (made by the
                // customer or an admin) is about the address alone.
                event: message_id.and(suppression_event(v)),
                dedupe_key: format!(
                    "SubscriptionChange:{}:{recipient}:{}:{suppress}",
                    message_id.unwrap_or("-"),
                    need(v, "ChangedAt")?
                ),
                occurred_at_ms: millis(v, "ChangedAt"),
                recipient: Some(recipient),
                reason: text(v, "SuppressionReason"),
                url: None,
            }
        }
        _ => Record {
            event: None,
            dedupe_key: format!(
                "{kind}:{}",
                base16ct::lower::encode_string(&Sha256::digest(v.to_string().as_bytes()))
            ),
            occurred_at_ms: None,
            recipient: None,
            reason: None,
            url: None,
        },
    })
}

/// Reads one webhook body.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not JSON ({e})")))?;
    let kind = need(&v, "RecordType")?;
    // The delivery webhook's own reference spells it `MessageId`.
    let message_id = text(&v, "MessageID").or_else(|| text(&v, "MessageId"));
    let r = record(&kind, &v, message_id.as_deref())?;
    let event_kind = match (r.event, message_id) {
        (Some(event), Some(message_id)) => EventKind::Email(EmailEvent {
            message_id,
            email_id: v.get("Metadata").and_then(|m| text(m, EMAIL_ID_KEY)),
            recipient: r.recipient,
            event,
            reason: r.reason,
            url: r.url,
        }),
        (Some(_), None) => return Err(WebhookError::Malformed("MessageID is missing".into())),
        (None, _) => EventKind::Unknown {
            event_type: match text(&v, "Type") {
                Some(bounce_type) if kind == "Bounce" => format!("Bounce.{bounce_type}"),
                _ => kind,
            },
        },
    };
    Ok(vec![ProviderEvent {
        dedupe_key: r.dedupe_key,
        occurred_at_ms: r.occurred_at_ms,
        kind: event_kind,
    }])
}
