//! Twilio's status callbacks and inbound webhooks, normalised.

use crate::capability::WebhookError;
use crate::events::{
    CallEvent, CallStatus, EventKind, InboundCall, InboundMessage, MessageEvent, MessageStatus,
    ProviderEvent, ProviderPrice,
};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// A Twilio call status word.
pub fn call_status(word: &str) -> Option<CallStatus> {
    Some(match word {
        "queued" | "initiated" => CallStatus::Initiated,
        "ringing" => CallStatus::Ringing,
        "in-progress" | "answered" => CallStatus::Answered,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "no-answer" => CallStatus::NoAnswer,
        "failed" => CallStatus::Failed,
        "canceled" => CallStatus::Canceled,
        _ => return None,
    })
}

/// A Twilio message status word (outbound).
pub fn message_status(word: &str) -> Option<MessageStatus> {
    Some(match word {
        "accepted" | "scheduled" | "queued" | "sending" => MessageStatus::Queued,
        "sent" => MessageStatus::Sent,
        "delivered" | "read" => MessageStatus::Delivered,
        "undelivered" => MessageStatus::Undelivered,
        "failed" | "canceled" => MessageStatus::Failed,
        _ => return None,
    })
}

/// Twilio prices are negative decimal strings (`"-0.01300"`) with a separate unit.
pub fn price(amount: Option<&str>, unit: Option<&str>) -> Option<ProviderPrice> {
    let amount: Decimal = amount?.trim().parse().ok()?;
    Some(ProviderPrice {
        amount: amount.abs(),
        currency: unit.unwrap_or("USD").to_ascii_uppercase(),
    })
}

/// Reads a form-encoded webhook.
pub fn parse_form(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| WebhookError::Malformed(format!("not a form body ({e})")))?;
    let mut form: HashMap<&str, &str> = HashMap::new();
    for (k, v) in &pairs {
        form.entry(k.as_str()).or_insert(v.as_str());
    }
    let get = |k: &str| form.get(k).copied().filter(|v| !v.is_empty());
    let need =
        |k: &'static str| get(k).ok_or_else(|| WebhookError::Malformed(format!("{k} is missing")));

    if let Some(sid) = get("MessageSid").or(get("SmsSid")) {
        let word = need("MessageStatus").or_else(|_| need("SmsStatus"))?;
        if word == "received" {
            let media = (0..get("NumMedia")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0))
                .filter_map(|i| get(&format!("MediaUrl{i}")).map(str::to_owned))
                .collect();
            return Ok(vec![ProviderEvent {
                dedupe_key: format!("twilio:inbound-message:{sid}"),
                occurred_at_ms: None,
                kind: EventKind::InboundMessage(InboundMessage {
                    message_id: sid.to_string(),
                    from: need("From")?.to_string(),
                    to: need("To")?.to_string(),
                    body: get("Body").unwrap_or_default().to_string(),
                    media_urls: media,
                }),
            }]);
        }
        let kind = match message_status(word) {
            Some(status) => EventKind::Message(MessageEvent {
                message_id: sid.to_string(),
                status,
                error_code: get("ErrorCode").map(str::to_owned),
                price: price(get("Price"), get("PriceUnit")),
            }),
            None => EventKind::Unknown {
                event_type: format!("message.{word}"),
            },
        };
        return Ok(vec![ProviderEvent {
            dedupe_key: format!("twilio:message:{sid}:{word}"),
            occurred_at_ms: None,
            kind,
        }]);
    }

    if let Some(sid) = get("CallSid") {
        let word = need("CallStatus")?;
        let inbound = get("Direction").is_some_and(|d| d.starts_with("inbound"));
        if inbound && word == "ringing" {
            return Ok(vec![ProviderEvent {
                dedupe_key: format!("twilio:inbound-call:{sid}"),
                occurred_at_ms: None,
                kind: EventKind::InboundCall(InboundCall {
                    call_id: sid.to_string(),
                    from: need("From")?.to_string(),
                    to: need("To")?.to_string(),
                }),
            }]);
        }
        let kind = match call_status(word) {
            Some(status) => EventKind::Call(CallEvent {
                call_id: sid.to_string(),
                status,
                duration_secs: get("CallDuration").and_then(|d| d.parse().ok()),
                price: None,
                reason: get("ErrorCode")
                    .or(get("SipResponseCode"))
                    .map(str::to_owned),
                client_state: None,
            }),
            None => EventKind::Unknown {
                event_type: format!("call.{word}"),
            },
        };
        return Ok(vec![ProviderEvent {
            dedupe_key: format!("twilio:call:{sid}:{word}"),
            occurred_at_ms: get("Timestamp").and_then(rfc2822_ms),
            kind,
        }]);
    }

    Ok(vec![unknown("form", body)])
}

/// Reads a JSON webhook (the `bodySHA256` kind, as Event Streams and some products send).
pub fn parse_json(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not JSON ({e})")))?;
    let kind = v
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("json");
    Ok(vec![unknown(kind, body)])
}

fn unknown(kind: &str, body: &[u8]) -> ProviderEvent {
    ProviderEvent {
        dedupe_key: format!("twilio:other:{}", super::signature::body_sha256(body)),
        occurred_at_ms: None,
        kind: EventKind::Unknown {
            event_type: kind.to_string(),
        },
    }
}

/// Twilio's `Timestamp` is RFC 2822 (`Mon, 16 Aug 2010 03:45:01 +0000`).
fn rfc2822_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_callback() {
        let body = b"CallSid=CA1&CallStatus=completed&CallDuration=42&Direction=outbound-api&From=%2B1&To=%2B2&Timestamp=Mon%2C+16+Aug+2010+03%3A45%3A01+%2B0000";
        let events = parse_form(body).expect("parsed");
        assert_eq!(events[0].name(), "call.completed");
        assert_eq!(events[0].occurred_at_ms, Some(1_281_930_301_000));
        let EventKind::Call(c) = &events[0].kind else {
            panic!("not a call event")
        };
        assert_eq!(c.duration_secs, Some(42));
    }

    #[test]
    fn inbound_and_receipts() {
        let inbound = parse_form(b"MessageSid=SM1&SmsStatus=received&MessageStatus=received&From=%2B1&To=%2B2&Body=STOP&NumMedia=1&MediaUrl0=https%3A%2F%2Fm").expect("parsed");
        let EventKind::InboundMessage(m) = &inbound[0].kind else {
            panic!("not inbound")
        };
        assert_eq!((m.body.as_str(), m.media_urls.len()), ("STOP", 1));
        let failed = parse_form(b"MessageSid=SM2&MessageStatus=undelivered&ErrorCode=30003")
            .expect("parsed");
        assert_eq!(failed[0].name(), "message.undelivered");
        assert_eq!(failed[0].dedupe_key, "twilio:message:SM2:undelivered");
        let call =
            parse_form(b"CallSid=CA9&CallStatus=ringing&Direction=inbound&From=%2B1&To=%2B2")
                .expect("parsed");
        assert_eq!(call[0].name(), "call.inbound");
    }

    #[test]
    fn odd_bodies_are_unknown_or_malformed() {
        assert_eq!(
            parse_form(b"Foo=bar").expect("parsed")[0].name(),
            "unknown.form"
        );
        assert!(matches!(
            parse_form(b"CallSid=CA1"),
            Err(WebhookError::Malformed(_))
        ));
        assert_eq!(
            parse_form(b"CallSid=CA1&CallStatus=teleported").expect("parsed")[0].name(),
            "unknown.call.teleported"
        );
        assert!(parse_json(b"{").is_err());
    }

    #[test]
    fn prices_are_positive_decimals() {
        let p = price(Some("-0.01300"), Some("usd")).expect("price");
        assert_eq!(p.amount.to_string(), "0.01300");
        assert_eq!(p.currency, "USD");
        assert_eq!(price(Some("n/a"), None), None);
    }
}
