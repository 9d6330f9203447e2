//! Mailgun event webhooks (`{"signature": …, "event-data": {…}}`, one event per request),
//! normalised. Event types and fields as in "Webhook Payloads"
//! (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads)
//! and "Event Types"
//! (https://documentation.mailgun.com/docs/mailgun/user-manual/events/event-types).

use super::{EMAIL_ID_VAR, bare_message_id};
use crate::capability::WebhookError;
use crate::events::{EmailEvent, EmailEventType, EventKind, ProviderEvent};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// What a Mailgun event means. `failed` depends on its `severity`: `temporary` means
/// Mailgun keeps retrying (deferred); `permanent` means it gave up, either because the
/// receiving server refused (a hard bounce) or because the address is on the domain's own
/// suppression lists (`reason` `suppress-bounce`, `suppress-unsubscribe`,
/// `suppress-complaint`: dropped, never sent). A failure without a severity is treated as
/// a soft bounce, which neither claims Mailgun is still trying nor suppresses the address.
fn event_type(event: &str, data: &Value) -> Option<EmailEventType> {
    Some(match event {
        "accepted" => EmailEventType::Sent,
        "rejected" => EmailEventType::Dropped,
        "delivered" => EmailEventType::Delivered,
        "failed" => match data.get("severity").and_then(Value::as_str) {
            Some("temporary") => EmailEventType::Deferred,
            Some("permanent")
                if text(data, "reason").is_some_and(|r| r.starts_with("suppress-")) =>
            {
                EmailEventType::Dropped
            }
            Some("permanent") => EmailEventType::HardBounce,
            _ => EmailEventType::SoftBounce,
        },
        "complained" => EmailEventType::Complained,
        "opened" => EmailEventType::Opened,
        "clicked" => EmailEventType::Clicked,
        "unsubscribed" => EmailEventType::Unsubscribed,
        _ => return None,
    })
}

/// The event's timestamp exactly as Mailgun wrote it.
#[derive(Deserialize)]
struct RawBody<'a> {
    #[serde(rename = "event-data", borrow)]
    data: RawData<'a>,
}

#[derive(Deserialize)]
struct RawData<'a> {
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
}

/// When the event happened, in milliseconds. Mailgun sends Unix seconds with up to seven
/// decimals (`1770146431.6585283`), more than a binary float holds, so the digits are read
/// as text into a decimal and truncated: no rounding ever moves a millisecond.
fn millis(body: &[u8]) -> Option<i64> {
    let raw = serde_json::from_slice::<RawBody<'_>>(body)
        .ok()?
        .data
        .timestamp?;
    let seconds: Decimal = raw.get().trim_matches('"').trim().parse().ok()?;
    i64::try_from(seconds.checked_mul(Decimal::ONE_THOUSAND)?.trunc()).ok()
}

/// The receiving server's or Mailgun's explanation of a failure or refusal.
fn reason(data: &Value) -> Option<String> {
    let status = data.get("delivery-status").unwrap_or(&Value::Null);
    let reject = data.get("reject").unwrap_or(&Value::Null);
    text(status, "description")
        .or_else(|| text(status, "message"))
        .or_else(|| text(reject, "description"))
        .or_else(|| text(reject, "reason"))
        .or_else(|| text(data, "reason"))
}

/// Reads one webhook body.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not JSON ({e})")))?;
    let data = v
        .get("event-data")
        .filter(|d| d.is_object())
        .ok_or_else(|| WebhookError::Malformed("event-data is missing".into()))?;
    let event = text(data, "event")
        .ok_or_else(|| WebhookError::Malformed("event-data.event is missing".into()))?;
    let id = text(data, "id")
        .ok_or_else(|| WebhookError::Malformed("event-data.id is missing".into()))?;
    let occurred_at_ms = millis(body);
    // Mailgun's event id is unique only within a day; with the event's own timestamp the
    // key stays unique and is still the same on every redelivery.
    let dedupe_key = match occurred_at_ms {
        Some(ms) => format!("{id}:{ms}"),
        None => id,
    };
    let Some(kind) = event_type(&event, data) else {
        return Ok(vec![ProviderEvent {
            dedupe_key,
            occurred_at_ms,
            kind: EventKind::Unknown { event_type: event },
        }]);
    };
    let message_id = data
        .pointer("/message/headers/message-id")
        .and_then(Value::as_str)
        .map(bare_message_id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            WebhookError::Malformed("event-data.message.headers.message-id is missing".into())
        })?;
    // `user-variables` is an object, or an empty array when the message had none.
    let email_id = data
        .get("user-variables")
        .and_then(|vars| text(vars, EMAIL_ID_VAR));
    let failure = matches!(
        kind,
        EmailEventType::Dropped
            | EmailEventType::Deferred
            | EmailEventType::HardBounce
            | EmailEventType::SoftBounce
    );
    Ok(vec![ProviderEvent {
        dedupe_key,
        occurred_at_ms,
        kind: EventKind::Email(EmailEvent {
            message_id,
            email_id,
            recipient: text(data, "recipient"),
            event: kind,
            reason: if failure { reason(data) } else { None },
            url: if kind == EmailEventType::Clicked {
                text(data, "url")
            } else {
                None
            },
        }),
    }])
}
