//! SES events as they arrive through SNS, normalised. The SNS `Message` is an SES event
//! record: event publishing through a configuration set (`eventType`, documented in
//! https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html)
//! or the older identity feedback notifications (`notificationType`, documented in
//! https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html). One event per
//! recipient the record names; the dedupe key is the SNS message id plus the recipient, so
//! a redelivered notification is stored once.

use super::EMAIL_ID_TAG;
use super::sns::Envelope;
use crate::capability::WebhookError;
use crate::events::{EmailEvent, EmailEventType, EventKind, ProviderEvent};
use serde_json::Value;

/// Normalises a (verified) SNS POST.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let envelope = Envelope::parse(body)?;
    if envelope.kind != "Notification" {
        // Subscription and unsubscribe confirmations: `prepare` has acted on them.
        return Ok(vec![unknown(&envelope.message_id, &envelope.kind)]);
    }
    let record: Value = serde_json::from_str(&envelope.message).map_err(|e| {
        WebhookError::Malformed(format!("the SNS Message is not an SES event ({e})"))
    })?;
    let kind = ["eventType", "notificationType"]
        .iter()
        .find_map(|k| text(&record, &[k]))
        .ok_or_else(|| {
            WebhookError::Malformed("the SES event has no eventType or notificationType".into())
        })?;
    let Some(mapped) = Kind::of(kind) else {
        return Ok(vec![unknown(&envelope.message_id, kind)]);
    };
    let message_id = text(&record, &["mail", "messageId"])
        .ok_or_else(|| WebhookError::Malformed("the SES event has no mail.messageId".into()))?;
    let email_id = record
        .pointer(&format!("/mail/tags/{EMAIL_ID_TAG}/0"))
        .and_then(Value::as_str);
    let detail = record.get(mapped.detail_key()).unwrap_or(&Value::Null);
    let at = text(detail, &["timestamp"])
        .or_else(|| text(&record, &["mail", "timestamp"]))
        .or(Some(envelope.timestamp.as_str()))
        .and_then(millis);
    let destination = strings(record.pointer("/mail/destination"));
    let sole_destination = match destination.as_slice() {
        [only] => Some(*only),
        _ => None,
    };
    // (recipient, type, reason) for each event the record makes.
    let mut found: Vec<(Option<&str>, EmailEventType, Option<&str>)> = Vec::new();
    match mapped {
        Kind::Bounce => {
            let event = match text(detail, &["bounceType"]) {
                Some("Permanent") => EmailEventType::HardBounce,
                // Transient and Undetermined: not a reason to stop mailing the address.
                _ => EmailEventType::SoftBounce,
            };
            for r in list(detail, "bouncedRecipients") {
                let reason = text(r, &["diagnosticCode"])
                    .or_else(|| text(r, &["status"]))
                    .or_else(|| text(detail, &["bounceSubType"]));
                found.push((text(r, &["emailAddress"]), event, reason));
            }
        }
        Kind::Complaint => {
            for r in list(detail, "complainedRecipients") {
                found.push((
                    text(r, &["emailAddress"]),
                    EmailEventType::Complained,
                    text(detail, &["complaintFeedbackType"]),
                ));
            }
        }
        Kind::Delivery => {
            for r in strings(detail.get("recipients")) {
                found.push((
                    Some(r),
                    EmailEventType::Delivered,
                    text(detail, &["smtpResponse"]),
                ));
            }
        }
        Kind::DeliveryDelay => {
            for r in list(detail, "delayedRecipients") {
                let reason = text(r, &["diagnosticCode"]).or_else(|| text(detail, &["delayType"]));
                found.push((text(r, &["emailAddress"]), EmailEventType::Deferred, reason));
            }
        }
        Kind::Send | Kind::Reject => {
            let (event, reason) = if mapped == Kind::Send {
                (EmailEventType::Sent, None)
            } else {
                (EmailEventType::Dropped, text(detail, &["reason"]))
            };
            for r in destination.iter().copied() {
                found.push((Some(r), event, reason));
            }
        }
        Kind::Open => found.push((sole_destination, EmailEventType::Opened, None)),
        Kind::Click => found.push((sole_destination, EmailEventType::Clicked, None)),
        Kind::Subscription => {
            if !opted_out(detail) {
                return Ok(vec![unknown(&envelope.message_id, kind)]);
            }
            found.push((
                sole_destination,
                EmailEventType::Unsubscribed,
                text(detail, &["source"]),
            ));
        }
    }
    if found.is_empty() {
        // Every documented record of these types names at least one recipient.
        return Err(WebhookError::Malformed(format!(
            "the SES {kind} event names no recipient"
        )));
    }
    let url = (mapped == Kind::Click)
        .then(|| text(detail, &["link"]))
        .flatten();
    Ok(found
        .into_iter()
        .map(|(recipient, event, reason)| ProviderEvent {
            dedupe_key: match recipient {
                Some(r) => format!("{}:{r}", envelope.message_id),
                None => envelope.message_id.clone(),
            },
            occurred_at_ms: at,
            kind: EventKind::Email(EmailEvent {
                message_id: message_id.to_string(),
                email_id: email_id.map(str::to_owned),
                recipient: recipient.map(str::to_owned),
                event,
                reason: reason.map(str::to_owned),
                url: url.map(str::to_owned),
            }),
        })
        .collect())
}

/// The SES event types Switchyard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bounce,
    Complaint,
    Delivery,
    DeliveryDelay,
    Send,
    Reject,
    Open,
    Click,
    Subscription,
}

impl Kind {
    fn of(name: &str) -> Option<Kind> {
        Some(match name {
            "Bounce" => Kind::Bounce,
            "Complaint" => Kind::Complaint,
            "Delivery" => Kind::Delivery,
            "DeliveryDelay" => Kind::DeliveryDelay,
            "Send" => Kind::Send,
            "Reject" => Kind::Reject,
            "Open" => Kind::Open,
            "Click" => Kind::Click,
            "Subscription" => Kind::Subscription,
            _ => return None,
        })
    }

    /// The record's field with the type's details.
    fn detail_key(self) -> &'static str {
        match self {
            Kind::Bounce => "bounce",
            Kind::Complaint => "complaint",
            Kind::Delivery => "delivery",
            Kind::DeliveryDelay => "deliveryDelay",
            Kind::Send => "send",
            Kind::Reject => "reject",
            Kind::Open => "open",
            Kind::Click => "click",
            Kind::Subscription => "subscription",
        }
    }
}

/// Whether a subscription change is an opt-out (of everything, or of a topic); a record
/// without new preferences comes from the unsubscribe header or link, which opts out.
fn opted_out(subscription: &Value) -> bool {
    let Some(new) = subscription.get("newTopicPreferences") else {
        return true;
    };
    new.get("unsubscribeAll").and_then(Value::as_bool) == Some(true)
        || list(new, "topicSubscriptionStatus")
            .any(|t| text(t, &["subscriptionStatus"]) == Some("OptOut"))
}

fn unknown(sns_message_id: &str, event_type: &str) -> ProviderEvent {
    ProviderEvent {
        dedupe_key: sns_message_id.to_string(),
        occurred_at_ms: None,
        kind: EventKind::Unknown {
            event_type: event_type.to_string(),
        },
    }
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, key| v.get(key))
        .and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn millis(rfc3339: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.timestamp_millis())
}
