//! Bandwidth callbacks, normalised: Voice API v2 events (one JSON object with `eventType`)
//! and Messaging API v2 events (a JSON array of `{type, time, to, message}`).

use crate::capability::WebhookError;
use crate::events::{
    CallEvent, CallStatus, EventKind, InboundCall, InboundMessage, MessageEvent, MessageStatus,
    ProviderEvent,
};
use crate::json::text;
use serde_json::Value;

fn time_ms(v: &Value, key: &str) -> Option<i64> {
    text(v, key)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.timestamp_millis())
}

/// A disconnect `cause` as a final status
/// (https://dev.bandwidth.com/docs/voice/webhooks/disconnect). A callee's rejection is
/// reported as busy, as the caller hears it.
pub fn disconnect_status(cause: &str) -> CallStatus {
    match cause {
        "hangup" => CallStatus::Completed,
        "busy" | "rejected" => CallStatus::Busy,
        "timeout" => CallStatus::NoAnswer,
        "cancel" => CallStatus::Canceled,
        _ => CallStatus::Failed,
    }
}

/// A call's state (`GET …/calls/{callId}`) as a status.
pub fn call_state(state: &str, cause: Option<&str>) -> CallStatus {
    match (state, cause) {
        ("queued" | "initiated", _) => CallStatus::Initiated,
        ("answered", _) => CallStatus::Answered,
        (_, Some(cause)) => disconnect_status(cause),
        _ => CallStatus::Failed,
    }
}

/// The status a `message-failed` error code means
/// (https://dev.bandwidth.com/docs/messaging/errors): 47xx and 9999 are the carrier's or
/// the handset's refusal (undelivered); Bandwidth's own refusals (4xxx otherwise) and its
/// server errors (5xxx) mean it was never sent (failed); 9902, an expired delivery receipt,
/// does not say it was undelivered, so the message stays sent.
pub fn failed_status(code: Option<&str>) -> MessageStatus {
    match code.unwrap_or_default() {
        "9902" => MessageStatus::Sent,
        "9999" => MessageStatus::Undelivered,
        c if c.starts_with("47") => MessageStatus::Undelivered,
        _ => MessageStatus::Failed,
    }
}

/// A message's status in the message list (`messageStatus`).
pub fn listed_status(word: &str) -> Option<MessageStatus> {
    Some(match word {
        "RECEIVED" | "QUEUED" | "ACCEPTED" => MessageStatus::Queued,
        "SENDING" | "SENT" => MessageStatus::Sent,
        "DELIVERED" => MessageStatus::Delivered,
        "UNDELIVERED" => MessageStatus::Undelivered,
        "FAILED" => MessageStatus::Failed,
        _ => return None,
    })
}

fn voice(v: &Value) -> Result<ProviderEvent, WebhookError> {
    let need = |key: &str| {
        text(v, key).ok_or_else(|| WebhookError::Malformed(format!("{key} is missing")))
    };
    let event_type = need("eventType")?;
    let call_id = need("callId")?;
    let call = |status: CallStatus, reason: Option<String>, duration_secs: Option<u32>| {
        EventKind::Call(CallEvent {
            call_id: call_id.clone(),
            status,
            duration_secs,
            price: None,
            reason,
            client_state: text(v, "tag"),
        })
    };
    let kind = match event_type.as_str() {
        "initiate" => EventKind::InboundCall(InboundCall {
            call_id: call_id.clone(),
            from: need("from")?,
            to: need("to")?,
        }),
        "answer" => call(CallStatus::Answered, None, None),
        "disconnect" => {
            let cause = need("cause")?;
            let status = disconnect_status(&cause);
            // Bandwidth bills from answer to end; it reports no billable seconds itself.
            let talked = match (time_ms(v, "answerTime"), time_ms(v, "endTime")) {
                (Some(a), Some(e)) if e >= a => Some(((e - a + 999) / 1000) as u32),
                _ => None,
            };
            let reason = (status != CallStatus::Completed).then(|| match text(v, "errorMessage") {
                Some(m) => format!("{cause}: {m}"),
                None => cause.clone(),
            });
            call(status, reason, talked)
        }
        other => EventKind::Unknown {
            event_type: other.to_string(),
        },
    };
    let time = text(v, "eventTime").unwrap_or_default();
    Ok(ProviderEvent {
        dedupe_key: format!("bandwidth:{call_id}:{event_type}:{time}"),
        occurred_at_ms: time_ms(v, "eventTime"),
        kind,
    })
}

fn message(v: &Value) -> Result<ProviderEvent, WebhookError> {
    let kind_word =
        text(v, "type").ok_or_else(|| WebhookError::Malformed("type is missing".into()))?;
    let m = v
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| WebhookError::Malformed("message is missing".into()))?;
    let id =
        text(m, "id").ok_or_else(|| WebhookError::Malformed("message.id is missing".into()))?;
    let to = text(v, "to").unwrap_or_default();
    let update = |status: MessageStatus, error_code: Option<String>| {
        EventKind::Message(MessageEvent {
            message_id: id.clone(),
            status,
            error_code,
            price: None,
        })
    };
    let kind = match kind_word.as_str() {
        "message-received" => EventKind::InboundMessage(InboundMessage {
            message_id: id.clone(),
            from: text(m, "from")
                .ok_or_else(|| WebhookError::Malformed("message.from is missing".into()))?,
            to: Some(to.clone())
                .filter(|t| !t.is_empty())
                .or_else(|| text(m, "owner"))
                .ok_or_else(|| WebhookError::Malformed("to is missing".into()))?,
            body: text(m, "text").unwrap_or_default(),
            media_urls: m
                .get("media")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        }),
        "message-sending" => update(MessageStatus::Sent, None),
        "message-delivered" => update(MessageStatus::Delivered, None),
        "message-failed" => {
            let code = text(v, "errorCode");
            update(failed_status(code.as_deref()), code)
        }
        other => EventKind::Unknown {
            event_type: other.to_string(),
        },
    };
    Ok(ProviderEvent {
        dedupe_key: format!("bandwidth:{id}:{kind_word}:{to}"),
        occurred_at_ms: time_ms(v, "time"),
        kind,
    })
}

/// Reads one callback body: a voice event, or a list of message events.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not JSON ({e})")))?;
    match &v {
        Value::Array(items) => items.iter().map(message).collect(),
        Value::Object(_) => Ok(vec![voice(&v)?]),
        _ => Err(WebhookError::Malformed(
            "neither a voice event nor a list of message events".into(),
        )),
    }
}
