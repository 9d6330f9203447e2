//! Vonage callbacks, normalised: Voice API events and answer requests (JSON), Messages API
//! status and inbound messages (JSON), and SMS API delivery receipts and inbound SMS (form
//! or JSON parameters).

use crate::capability::WebhookError;
use crate::events::{
    CallEvent, CallStatus, EventKind, InboundCall, InboundMessage, MessageEvent, MessageStatus,
    ProviderEvent, ProviderPrice, e164_from_digits,
};
use serde_json::{Map, Value};

/// A field as text, whether Vonage sent a string or a number.
fn field(v: &Map<String, Value>, key: &str) -> Option<String> {
    crate::json::as_text(v.get(key))
}

fn eur(amount: Option<String>, currency: Option<String>) -> Option<ProviderPrice> {
    Some(ProviderPrice {
        amount: amount?.trim().parse().ok()?,
        currency: currency.unwrap_or_else(|| "EUR".into()),
    })
}

fn rfc3339_ms(text: Option<String>) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(&text?)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A Voice API event `status` (with its `detail`) as a call status. A call the callee
/// declined is reported busy, as the caller hears it.
pub fn call_status(status: &str, detail: Option<&str>) -> Option<CallStatus> {
    Some(match (status, detail) {
        ("started", _) => CallStatus::Initiated,
        ("ringing", _) => CallStatus::Ringing,
        ("answered", _) => CallStatus::Answered,
        ("completed", _) => CallStatus::Completed,
        ("busy", _) | ("rejected", Some("declined")) => CallStatus::Busy,
        ("timeout" | "unanswered", _) => CallStatus::NoAnswer,
        ("cancelled", _) => CallStatus::Canceled,
        ("failed" | "rejected", _) => CallStatus::Failed,
        _ => return None,
    })
}

/// A Messages API status as a message status.
pub fn messages_status(word: &str) -> Option<MessageStatus> {
    Some(match word {
        "submitted" => MessageStatus::Sent,
        "delivered" | "read" => MessageStatus::Delivered,
        "undeliverable" => MessageStatus::Undelivered,
        "rejected" => MessageStatus::Failed,
        _ => return None,
    })
}

/// An SMS delivery receipt's status as a message status; `unknown` says nothing.
pub fn receipt_status(word: &str) -> Option<MessageStatus> {
    Some(match word {
        "accepted" | "buffered" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "expired" | "failed" | "rejected" => MessageStatus::Undelivered,
        _ => return None,
    })
}

/// A callback's parameters: a JSON object, or a form.
pub fn params(body: &[u8]) -> Result<Map<String, Value>, WebhookError> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        match serde_json::from_slice(trimmed) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(WebhookError::Malformed("not a JSON object".into())),
        }
    } else {
        Ok(url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect())
    }
}

fn need(v: &Map<String, Value>, key: &str) -> Result<String, WebhookError> {
    field(v, key).ok_or_else(|| WebhookError::Malformed(format!("{key} is missing")))
}

/// Reads one callback body.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let v = params(body)?;
    let event = if v.contains_key("message_uuid") {
        messages_api(&v)?
    } else if v.contains_key("messageId") {
        sms_api(&v)?
    } else if v.contains_key("uuid")
        || v.contains_key("call_uuid")
        || v.contains_key("conversation_uuid")
    {
        voice(&v)?
    } else {
        return Err(WebhookError::Malformed(
            "neither a call (uuid), a message (message_uuid) nor an SMS (messageId)".into(),
        ));
    };
    Ok(vec![event])
}

fn voice(v: &Map<String, Value>) -> Result<ProviderEvent, WebhookError> {
    // Machine detection events name the call `call_uuid`.
    let uuid = field(v, "uuid")
        .or_else(|| field(v, "call_uuid"))
        .ok_or_else(|| WebhookError::Malformed("uuid is missing".into()))?;
    let at = rfc3339_ms(field(v, "timestamp"));
    let Some(word) = field(v, "status") else {
        // No status: the answer request of an inbound call.
        return Ok(ProviderEvent {
            dedupe_key: format!("vonage:call:{uuid}:inbound"),
            occurred_at_ms: at,
            kind: EventKind::InboundCall(InboundCall {
                call_id: uuid,
                from: e164_from_digits(&need(v, "from")?),
                to: e164_from_digits(&need(v, "to")?),
            }),
        });
    };
    let detail = field(v, "detail");
    let kind = match call_status(&word, detail.as_deref()) {
        Some(status) => EventKind::Call(CallEvent {
            call_id: uuid.clone(),
            status,
            duration_secs: field(v, "duration").and_then(|d| d.parse().ok()),
            price: eur(field(v, "price"), None),
            reason: detail.filter(|_| status.is_final() && status != CallStatus::Completed),
            client_state: None,
        }),
        None => EventKind::Unknown {
            event_type: format!("call.{word}"),
        },
    };
    Ok(ProviderEvent {
        dedupe_key: format!("vonage:call:{uuid}:{word}"),
        occurred_at_ms: at,
        kind,
    })
}

fn messages_api(v: &Map<String, Value>) -> Result<ProviderEvent, WebhookError> {
    let uuid = need(v, "message_uuid")?;
    let at = rfc3339_ms(field(v, "timestamp"));
    let usage = v.get("usage").and_then(Value::as_object);
    let price = usage.and_then(|u| eur(field(u, "price"), field(u, "currency")));
    let Some(word) = field(v, "status") else {
        let channel = field(v, "channel").unwrap_or_default();
        let address = |key: &str| -> Result<String, WebhookError> {
            let raw = need(v, key)?;
            Ok(match channel.as_str() {
                "whatsapp" => format!("whatsapp:{}", e164_from_digits(&raw)),
                _ => e164_from_digits(&raw),
            })
        };
        let media = ["image", "audio", "video", "file"]
            .iter()
            .filter_map(|k| {
                v.get(*k)
                    .and_then(Value::as_object)
                    .and_then(|m| field(m, "url"))
            })
            .collect();
        return Ok(ProviderEvent {
            dedupe_key: format!("vonage:message:{uuid}:inbound"),
            occurred_at_ms: at,
            kind: EventKind::InboundMessage(InboundMessage {
                message_id: uuid,
                from: address("from")?,
                to: address("to")?,
                body: field(v, "text").unwrap_or_default(),
                media_urls: media,
            }),
        });
    };
    let kind = match messages_status(&word) {
        Some(status) => EventKind::Message(MessageEvent {
            message_id: uuid.clone(),
            status,
            // The error's `title` is its numeric code (a string or a number).
            error_code: v
                .get("error")
                .and_then(Value::as_object)
                .and_then(|e| field(e, "title")),
            price,
        }),
        None => EventKind::Unknown {
            event_type: format!("message.{word}"),
        },
    };
    Ok(ProviderEvent {
        dedupe_key: format!("vonage:message:{uuid}:{word}"),
        occurred_at_ms: at,
        kind,
    })
}

fn sms_api(v: &Map<String, Value>) -> Result<ProviderEvent, WebhookError> {
    let id = need(v, "messageId")?;
    let at = field(v, "message-timestamp").and_then(|t| {
        chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|d| d.and_utc().timestamp_millis())
    });
    let Some(word) = field(v, "status") else {
        return Ok(ProviderEvent {
            dedupe_key: format!("vonage:sms:{id}:inbound"),
            occurred_at_ms: at,
            kind: EventKind::InboundMessage(InboundMessage {
                message_id: id,
                from: e164_from_digits(&need(v, "msisdn")?),
                to: e164_from_digits(&need(v, "to")?),
                body: field(v, "text").unwrap_or_default(),
                media_urls: Vec::new(),
            }),
        });
    };
    let kind = match receipt_status(&word) {
        Some(status) => EventKind::Message(MessageEvent {
            message_id: id.clone(),
            status,
            error_code: field(v, "err-code").filter(|c| c != "0"),
            price: eur(field(v, "price"), None),
        }),
        None => EventKind::Unknown {
            event_type: format!("sms.{word}"),
        },
    };
    Ok(ProviderEvent {
        dedupe_key: format!("vonage:sms:{id}:{word}"),
        occurred_at_ms: at,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> ProviderEvent {
        parse(body.as_bytes()).expect("parsed").remove(0)
    }

    /// https://developer.vonage.com/en/voice/voice-api/webhook-reference: event fields,
    /// and the call record of Vonage's Python SDK (`voice/tests/data/get_call.json`).
    #[test]
    fn voice_events() {
        let completed = one(
            r#"{"end_time":"2020-01-01T12:00:00.000Z","uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","network":"GB-FIXED","duration":"2","start_time":"2020-01-01T12:00:00.000Z","rate":"0.00450000","price":"0.00015000","from":"442079460000","to":"447700900000","conversation_uuid":"CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab","status":"completed","direction":"outbound","timestamp":"2020-01-01T12:00:00.000Z"}"#,
        );
        assert_eq!(
            completed.dedupe_key,
            "vonage:call:aaaaaaaa-bbbb-cccc-dddd-0123456789ab:completed"
        );
        assert_eq!(completed.occurred_at_ms, Some(1_577_880_000_000));
        let EventKind::Call(c) = &completed.kind else {
            panic!("{completed:?}")
        };
        assert_eq!(
            (c.status, c.duration_secs),
            (CallStatus::Completed, Some(2))
        );
        assert_eq!(
            c.price
                .as_ref()
                .map(|p| (p.amount.to_string(), p.currency.as_str())),
            Some(("0.00015000".into(), "EUR"))
        );
        // Numbers as JSON numbers, as Vonage's Java SDK tests send them.
        let numbers = one(
            r#"{"uuid":"u1","status":"completed","duration":62,"price":0.01,"timestamp":"2020-01-01T12:00:00.000Z"}"#,
        );
        assert!(matches!(&numbers.kind, EventKind::Call(c) if c.duration_secs == Some(62)));
        for (status, detail, want) in [
            ("started", None, CallStatus::Initiated),
            ("ringing", None, CallStatus::Ringing),
            ("answered", None, CallStatus::Answered),
            ("busy", None, CallStatus::Busy),
            ("rejected", Some("declined"), CallStatus::Busy),
            ("rejected", Some("invalid_number"), CallStatus::Failed),
            ("failed", Some("cannot_route"), CallStatus::Failed),
            ("unanswered", Some("unavailable"), CallStatus::NoAnswer),
            ("timeout", None, CallStatus::NoAnswer),
            ("cancelled", None, CallStatus::Canceled),
        ] {
            let detail_json = detail
                .map(|d| format!(r#","detail":"{d}""#))
                .unwrap_or_default();
            let e = one(&format!(
                r#"{{"uuid":"u2","status":"{status}","from":"1","to":"2","timestamp":"2020-01-01T12:00:00.000Z"{detail_json}}}"#
            ));
            let EventKind::Call(c) = &e.kind else {
                panic!("{e:?}")
            };
            assert_eq!(c.status, want, "{status}");
            if want == CallStatus::Failed {
                assert_eq!(c.reason.as_deref(), detail);
            }
        }
        let machine = one(
            r#"{"call_uuid":"u3","status":"machine","conversation_uuid":"CON-1","timestamp":"2020-01-01T12:00:00.000Z"}"#,
        );
        assert_eq!(machine.name(), "unknown.call.machine");
        let answer = one(
            r#"{"from":"442079460000","to":"447700900000","uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","conversation_uuid":"CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab","SipHeader_X-UserId":"1938ND9"}"#,
        );
        assert_eq!(
            answer.kind,
            EventKind::InboundCall(InboundCall {
                call_id: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into(),
                from: "+442079460000".into(),
                to: "+447700900000".into(),
            })
        );
    }

    /// Vonage's .NET SDK fixtures (`Vonage.Test/Messages/Webhooks/Data`).
    #[test]
    fn messages_api_callbacks() {
        let status = one(
            r#"{"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab","to":"447700900000","from":"447700900001","timestamp":"2025-02-03T12:14:25Z","status":"submitted","error":{"type":"https://developer.vonage.com/api-errors/messages#1000","title":"1000","detail":"Throttled - You have exceeded the submission capacity allowed on this account. Please wait and retry","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"},"client_ref":"abc123","usage":{"currency":"EUR","price":"0.0333"},"channel":"sms","destination":{"network_code":"12345"},"sms":{"count_total":"2"}}"#,
        );
        let EventKind::Message(m) = &status.kind else {
            panic!("{status:?}")
        };
        assert_eq!(
            (m.status, m.error_code.as_deref()),
            (MessageStatus::Sent, Some("1000"))
        );
        assert_eq!(
            m.price.as_ref().map(|p| p.amount.to_string()),
            Some("0.0333".into())
        );
        let numeric =
            one(r#"{"message_uuid":"m2","status":"undeliverable","error":{"title":1250}}"#);
        assert!(
            matches!(&numeric.kind, EventKind::Message(m) if m.status == MessageStatus::Undelivered && m.error_code.as_deref() == Some("1250"))
        );
        let inbound = one(
            r#"{"channel":"sms","message_uuid":"52afe398-e31a-4362-8c42-beb0c3b1d098","to":"447700900000","from":"447700900001","timestamp":"2020-01-01T14:00:00.000Z","text":"Hello From Vonage!","sms":{"total_count":"2","num_messages":"2","keyword":"HELLO"},"usage":{"currency":"EUR","price":"0.0333"},"origin":{"network_code":"12345"}}"#,
        );
        assert!(
            matches!(&inbound.kind, EventKind::InboundMessage(m) if m.from == "+447700900001" && m.body == "Hello From Vonage!")
        );
        let whatsapp = one(
            r#"{"channel":"whatsapp","message_uuid":"m3","to":"447700900000","from":"447700900001","message_type":"image","image":{"url":"https://x.example/a.jpg"}}"#,
        );
        assert!(
            matches!(&whatsapp.kind, EventKind::InboundMessage(m) if m.from == "whatsapp:+447700900001" && m.media_urls == ["https://x.example/a.jpg"])
        );
    }

    /// https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts, as JSON and
    /// as a form; an inbound SMS as Vonage's Node SDK tests have it.
    #[test]
    fn sms_api_callbacks() {
        let receipt = one(
            r#"{"err-code":"0","message-timestamp":"2018-10-25 12:10:29","messageId":"0B00000127FDBC63","msisdn":"447547232824","network-code":"23410","price":"0.03330000","scts":"1810251310","status":"delivered","to":"Nexmo CLI"}"#,
        );
        assert_eq!(receipt.dedupe_key, "vonage:sms:0B00000127FDBC63:delivered");
        assert_eq!(receipt.occurred_at_ms, Some(1_540_469_429_000));
        assert!(
            matches!(&receipt.kind, EventKind::Message(m) if m.status == MessageStatus::Delivered && m.error_code.is_none())
        );
        let failed = one("err-code=9&messageId=0B1&msisdn=447547232824&status=failed&to=Acme");
        assert!(
            matches!(&failed.kind, EventKind::Message(m) if m.status == MessageStatus::Undelivered && m.error_code.as_deref() == Some("9"))
        );
        let buffered = one("err-code=0&messageId=0B1&status=buffered");
        assert!(matches!(&buffered.kind, EventKind::Message(m) if m.status == MessageStatus::Sent));
        assert_eq!(
            one("messageId=0B1&status=unknown").name(),
            "unknown.sms.unknown"
        );
        let inbound = one(
            "message-timestamp=2013-11-21+15%3A27%3A30&messageId=020000001B0FE827&msisdn=14843472194&text=Test+again&timestamp=1385047698&to=13239877404&type=text",
        );
        assert_eq!(
            inbound.kind,
            EventKind::InboundMessage(InboundMessage {
                message_id: "020000001B0FE827".into(),
                from: "+14843472194".into(),
                to: "+13239877404".into(),
                body: "Test again".into(),
                media_urls: Vec::new(),
            })
        );
    }

    #[test]
    fn malformed() {
        assert!(parse(b"{\"foo\":1}").is_err());
        assert!(parse(b"[1]").is_err());
        assert!(
            parse(b"messageId=1").is_err(),
            "an inbound SMS needs a sender"
        );
        assert!(
            parse(br#"{"uuid":"u"}"#).is_err(),
            "an answer request needs from and to"
        );
    }
}
