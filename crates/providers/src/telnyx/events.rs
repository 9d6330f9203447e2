//! Telnyx webhook payloads (`{"data": {"event_type", "id", "occurred_at", "payload"}}`),
//! normalised.

use crate::capability::WebhookError;
use crate::events::{
    CallEvent, CallStatus, EventKind, InboundCall, InboundMessage, MessageEvent, MessageStatus,
    ProviderEvent, ProviderPrice,
};
use serde_json::Value;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A Telnyx `hangup_cause` as a final call status.
pub fn hangup_status(cause: &str) -> CallStatus {
    match cause {
        "normal_clearing" | "time_limit" => CallStatus::Completed,
        "user_busy" => CallStatus::Busy,
        "timeout" | "no_answer" => CallStatus::NoAnswer,
        "originator_cancel" => CallStatus::Canceled,
        _ => CallStatus::Failed,
    }
}

/// A Telnyx recipient status as a message status.
pub fn message_status(word: &str) -> Option<MessageStatus> {
    Some(match word {
        "queued" | "sending" => MessageStatus::Queued,
        "sent" | "delivery_unconfirmed" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "delivery_failed" => MessageStatus::Undelivered,
        "sending_failed" => MessageStatus::Failed,
        _ => return None,
    })
}

/// `{"amount": "0.0051", "currency": "USD"}`.
pub fn cost(v: &Value) -> Option<ProviderPrice> {
    let c = v.get("cost")?;
    let amount = match c.get("amount")? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.to_string().parse().ok()?,
        _ => return None,
    };
    Some(ProviderPrice {
        amount,
        currency: text(c, "currency").unwrap_or_else(|| "USD".into()),
    })
}

/// The first recipient's status of a message payload.
pub fn recipient_status(payload: &Value) -> Option<String> {
    payload
        .get("to")
        .and_then(Value::as_array)
        .and_then(|to| to.first())
        .and_then(|r| text(r, "status"))
}

/// Reads one webhook body.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not JSON ({e})")))?;
    let data = v
        .get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| WebhookError::Malformed("data is missing".into()))?;
    let event_type = text(data, "event_type")
        .ok_or_else(|| WebhookError::Malformed("data.event_type is missing".into()))?;
    let id =
        text(data, "id").ok_or_else(|| WebhookError::Malformed("data.id is missing".into()))?;
    let occurred_at_ms = text(data, "occurred_at")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.timestamp_millis());
    let empty = Value::Null;
    let payload = data.get("payload").unwrap_or(&empty);
    let need = |key: &str| {
        text(payload, key)
            .ok_or_else(|| WebhookError::Malformed(format!("data.payload.{key} is missing")))
    };
    let call = |status: CallStatus, reason: Option<String>| -> Result<EventKind, WebhookError> {
        Ok(EventKind::Call(CallEvent {
            call_id: need("call_control_id")?,
            status,
            duration_secs: None,
            price: None,
            reason,
            client_state: text(payload, "client_state"),
        }))
    };
    let kind = match event_type.as_str() {
        "call.initiated" if text(payload, "direction").as_deref() == Some("incoming") => {
            EventKind::InboundCall(InboundCall {
                call_id: need("call_control_id")?,
                from: need("from")?,
                to: need("to")?,
            })
        }
        "call.initiated" => call(CallStatus::Initiated, None)?,
        "call.answered" => call(CallStatus::Answered, None)?,
        "call.hangup" => {
            let cause = text(payload, "hangup_cause").unwrap_or_default();
            call(hangup_status(&cause), Some(cause).filter(|c| !c.is_empty()))?
        }
        "message.sent" | "message.finalized" => {
            let word = recipient_status(payload).ok_or_else(|| {
                WebhookError::Malformed("data.payload.to[0].status is missing".into())
            })?;
            match message_status(&word) {
                Some(status) => EventKind::Message(MessageEvent {
                    message_id: need("id")?,
                    status,
                    error_code: payload
                        .get("errors")
                        .and_then(Value::as_array)
                        .and_then(|e| e.first())
                        .and_then(|e| match e.get("code") {
                            Some(Value::String(s)) => Some(s.clone()),
                            Some(Value::Number(n)) => Some(n.to_string()),
                            _ => None,
                        }),
                    price: cost(payload),
                }),
                None => EventKind::Unknown {
                    event_type: format!("{event_type}.{word}"),
                },
            }
        }
        "message.received" => EventKind::InboundMessage(InboundMessage {
            message_id: need("id")?,
            from: payload
                .get("from")
                .and_then(|f| text(f, "phone_number"))
                .ok_or_else(|| {
                    WebhookError::Malformed("data.payload.from.phone_number is missing".into())
                })?,
            to: payload
                .get("to")
                .and_then(Value::as_array)
                .and_then(|to| to.first())
                .and_then(|r| text(r, "phone_number"))
                .ok_or_else(|| {
                    WebhookError::Malformed("data.payload.to[0].phone_number is missing".into())
                })?,
            body: text(payload, "text").unwrap_or_default(),
            media_urls: payload
                .get("media")
                .and_then(Value::as_array)
                .map(|m| m.iter().filter_map(|x| text(x, "url")).collect())
                .unwrap_or_default(),
        }),
        other => EventKind::Unknown {
            event_type: other.to_string(),
        },
    };
    Ok(vec![ProviderEvent {
        dedupe_key: format!("telnyx:{id}"),
        occurred_at_ms,
        kind,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_lifecycle() {
        let hangup = br#"{"data":{"event_type":"call.hangup","id":"e1","occurred_at":"2026-01-01T00:00:05.000000Z","record_type":"event","payload":{"call_control_id":"v3:abc","hangup_cause":"user_busy","client_state":"aGk="}}}"#;
        let events = parse(hangup).expect("parsed");
        assert_eq!(events[0].name(), "call.busy");
        assert_eq!(events[0].dedupe_key, "telnyx:e1");
        assert_eq!(events[0].occurred_at_ms, Some(1_767_225_605_000));
        let incoming = br#"{"data":{"event_type":"call.initiated","id":"e2","payload":{"call_control_id":"v3:x","direction":"incoming","from":"+1","to":"+2"}}}"#;
        assert_eq!(parse(incoming).expect("parsed")[0].name(), "call.inbound");
    }

    #[test]
    fn messages() {
        let done = br#"{"data":{"event_type":"message.finalized","id":"e3","payload":{"id":"m1","to":[{"phone_number":"+1","status":"delivery_failed"}],"errors":[{"code":"40002","title":"Blocked"}],"cost":{"amount":"0.0040","currency":"USD"}}}}"#;
        let e = parse(done).expect("parsed");
        let EventKind::Message(m) = &e[0].kind else {
            panic!("not a message event")
        };
        assert_eq!(m.status, MessageStatus::Undelivered);
        assert_eq!(m.error_code.as_deref(), Some("40002"));
        assert_eq!(
            m.price.as_ref().map(|p| p.amount.to_string()),
            Some("0.0040".into())
        );
        let inbound = br#"{"data":{"event_type":"message.received","id":"e4","payload":{"id":"m2","from":{"phone_number":"+1"},"to":[{"phone_number":"+2"}],"text":"STOP","media":[{"url":"https://m"}]}}}"#;
        assert_eq!(parse(inbound).expect("parsed")[0].name(), "message.inbound");
    }

    #[test]
    fn unknown_and_malformed() {
        let odd = br#"{"data":{"event_type":"call.dtmf.received","id":"e5","payload":{}}}"#;
        assert_eq!(
            parse(odd).expect("parsed")[0].name(),
            "unknown.call.dtmf.received"
        );
        assert!(parse(b"[]").is_err());
        assert!(parse(br#"{"data":{"id":"x"}}"#).is_err());
        assert!(
            parse(br#"{"data":{"event_type":"call.answered","id":"x","payload":{}}}"#).is_err()
        );
    }
}
