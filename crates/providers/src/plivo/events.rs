//! Plivo callbacks (form-encoded: the call's answer, ring and hangup URLs, a message's
//! status URL, an application's message URL), normalised.
//!
//! Plivo sends no event id, so an event's dedupe key is the call or message and the status
//! it reports: a redelivery has the same key, a new status a new one.

use crate::capability::WebhookError;
pub use crate::events::e164_from_digits as e164;
use crate::events::{
    CallEvent, CallStatus, EventKind, InboundCall, InboundMessage, MessageEvent, MessageStatus,
    ProviderEvent, ProviderPrice,
};
use std::collections::HashMap;

/// A Plivo `CallStatus` as Switchyard's.
pub fn call_status(word: &str) -> Option<CallStatus> {
    Some(match word {
        "queued" => CallStatus::Initiated,
        "ringing" | "early-media" => CallStatus::Ringing,
        "in-progress" => CallStatus::Answered,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "no-answer" | "timeout" => CallStatus::NoAnswer,
        "cancel" => CallStatus::Canceled,
        "failed" => CallStatus::Failed,
        _ => return None,
    })
}

/// A Plivo message `Status` (or `message_state`) as Switchyard's. `read` (WhatsApp) comes
/// after delivery, so it is delivered; `rejected` never left Plivo, so it failed.
pub fn message_status(word: &str) -> Option<MessageStatus> {
    Some(match word {
        "queued" => MessageStatus::Queued,
        "sent" => MessageStatus::Sent,
        "delivered" | "read" => MessageStatus::Delivered,
        "undelivered" => MessageStatus::Undelivered,
        "failed" | "rejected" => MessageStatus::Failed,
        _ => return None,
    })
}

/// An amount in US dollars, as Plivo bills.
pub fn usd(amount: &str) -> Option<ProviderPrice> {
    Some(ProviderPrice {
        amount: amount.trim().parse().ok()?,
        currency: "USD".into(),
    })
}

/// `2026-01-01 10:00:05` (UTC) or with an offset, as Unix milliseconds.
fn time_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    chrono::DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%:z")
        .map(|d| d.timestamp_millis())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
                .map(|d| d.and_utc().timestamp_millis())
        })
        .ok()
}

/// Reads one callback body.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let need = |k: &str| {
        get(k)
            .map(str::to_owned)
            .ok_or_else(|| WebhookError::Malformed(format!("{k} is missing")))
    };
    let (dedupe_key, occurred_at_ms, kind) = if let Some(call_uuid) = get("CallUUID") {
        let word = need("CallStatus")?;
        // Outbound legs name the request the API returned, which is the id Switchyard holds.
        let call_id = get("ALegRequestUUID")
            .or_else(|| get("RequestUUID"))
            .unwrap_or(call_uuid)
            .to_string();
        let inbound = get("Direction") == Some("inbound");
        let status = call_status(&word);
        let kind = match status {
            Some(s) if inbound && !s.is_final() => EventKind::InboundCall(InboundCall {
                call_id,
                from: e164(&need("From")?),
                to: e164(&need("To")?),
            }),
            Some(status) => EventKind::Call(CallEvent {
                call_id,
                status,
                duration_secs: get("BillDuration")
                    .or_else(|| get("Duration"))
                    .and_then(|d| d.parse().ok()),
                price: get("TotalCost").and_then(usd),
                reason: (status.is_final() && status != CallStatus::Completed)
                    .then(|| get("HangupCauseName").or_else(|| get("HangupCause")))
                    .flatten()
                    .map(str::to_owned),
                client_state: None,
            }),
            None => EventKind::Unknown {
                event_type: format!("call.{word}"),
            },
        };
        let at = get("EndTime")
            .filter(|_| status.is_some_and(CallStatus::is_final))
            .or_else(|| get("AnswerTime").filter(|_| status == Some(CallStatus::Answered)))
            .or_else(|| get("StartTime"))
            .and_then(time_ms);
        (format!("plivo:call:{call_uuid}:{word}"), at, kind)
    } else if let Some(uuid) = get("MessageUUID") {
        match get("Status").filter(|s| *s != "received") {
            None => {
                let mut media: Vec<(u32, String)> = form
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("Media")?.parse().ok()?, v.clone())))
                    .collect();
                media.sort();
                let kind = EventKind::InboundMessage(InboundMessage {
                    message_id: uuid.to_string(),
                    from: e164(&need("From")?),
                    to: e164(&need("To")?),
                    body: get("Text")
                        .or_else(|| get("Body"))
                        .unwrap_or_default()
                        .to_string(),
                    media_urls: media.into_iter().map(|(_, url)| url).collect(),
                });
                (format!("plivo:message:{uuid}:received"), None, kind)
            }
            Some(word) => {
                let kind = match message_status(word) {
                    Some(status) => EventKind::Message(MessageEvent {
                        message_id: uuid.to_string(),
                        status,
                        error_code: get("ErrorCode")
                            .filter(|c| !c.trim_start_matches('0').is_empty())
                            .map(str::to_owned),
                        price: get("TotalAmount").and_then(usd),
                    }),
                    None => EventKind::Unknown {
                        event_type: format!("message.{word}"),
                    },
                };
                let at = get("DeliveryReportTime")
                    .or_else(|| get("SentTime"))
                    .or_else(|| get("MessageTime"))
                    .and_then(time_ms);
                (format!("plivo:message:{uuid}:{word}"), at, kind)
            }
        }
    } else {
        return Err(WebhookError::Malformed(
            "neither CallUUID nor MessageUUID is present".into(),
        ));
    };
    Ok(vec![ProviderEvent {
        dedupe_key,
        occurred_at_ms,
        kind,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> ProviderEvent {
        let mut events = parse(body.as_bytes()).expect("parsed");
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    /// Parameters as Plivo's answer and hangup URL documentation lists them
    /// (https://www.plivo.com/docs/voice/xml/request/).
    #[test]
    fn outbound_call_lifecycle() {
        let answered = one(
            "CallUUID=c1&RequestUUID=r1&ALegRequestUUID=r1&ALegUUID=c1&From=14155550100\
             &To=442071234567&CallStatus=in-progress&Direction=outbound&Event=StartApp\
             &AnswerTime=2026-01-01+10%3A00%3A05",
        );
        assert_eq!(answered.name(), "call.answered");
        assert_eq!(answered.dedupe_key, "plivo:call:c1:in-progress");
        assert_eq!(answered.occurred_at_ms, Some(1_767_261_605_000));
        let EventKind::Call(c) = &answered.kind else {
            panic!("{answered:?}")
        };
        assert_eq!(c.call_id, "r1", "matched by the request the API returned");
        let hangup = one(
            "CallUUID=c1&ALegRequestUUID=r1&From=14155550100&To=442071234567\
             &CallStatus=busy&Direction=outbound&Event=Hangup&HangupCause=USER_BUSY\
             &HangupCauseName=Busy+Line&HangupCauseCode=3010&Duration=0&BillDuration=0\
             &TotalCost=0.00000&EndTime=2026-01-01+10%3A00%3A09%2B00%3A00",
        );
        let EventKind::Call(c) = &hangup.kind else {
            panic!("{hangup:?}")
        };
        assert_eq!(
            (c.status, c.reason.as_deref(), c.duration_secs),
            (CallStatus::Busy, Some("Busy Line"), Some(0))
        );
        assert_eq!(hangup.occurred_at_ms, Some(1_767_261_609_000));
        let done = one(
            "CallUUID=c1&RequestUUID=r1&CallStatus=completed&Direction=outbound\
             &Duration=62&BillDuration=120&TotalCost=0.01000&HangupCause=NORMAL_CLEARING",
        );
        let EventKind::Call(c) = &done.kind else {
            panic!("{done:?}")
        };
        assert_eq!(c.duration_secs, Some(120), "billed seconds win");
        assert_eq!(c.reason, None);
        assert_eq!(
            c.price.as_ref().map(|p| p.amount.to_string()),
            Some("0.01000".into())
        );
        for (word, want) in [
            ("no-answer", CallStatus::NoAnswer),
            ("timeout", CallStatus::NoAnswer),
            ("cancel", CallStatus::Canceled),
            ("failed", CallStatus::Failed),
            ("ringing", CallStatus::Ringing),
        ] {
            let e = one(&format!("CallUUID=c2&CallStatus={word}&Direction=outbound"));
            assert!(
                matches!(&e.kind, EventKind::Call(c) if c.status == want && c.call_id == "c2"),
                "{word}"
            );
        }
    }

    #[test]
    fn inbound_call_and_message() {
        let call = one(
            "CallUUID=c9&From=447700900555&To=14155550100&CallStatus=ringing&Direction=inbound",
        );
        assert_eq!(
            call.kind,
            EventKind::InboundCall(InboundCall {
                call_id: "c9".into(),
                from: "+447700900555".into(),
                to: "+14155550100".into(),
            })
        );
        // https://plivo.com/docs/messaging/api/message/handling-incoming
        let sms = one(
            "From=447700900555&To=14155550100&Text=STOP&Type=mms&MessageUUID=m9&Units=1\
             &TotalRate=0&TotalAmount=0&MediaCount=2&Media1=https%3A%2F%2Fm%2F1&Media0=https%3A%2F%2Fm%2F0",
        );
        assert_eq!(sms.dedupe_key, "plivo:message:m9:received");
        assert_eq!(
            sms.kind,
            EventKind::InboundMessage(InboundMessage {
                message_id: "m9".into(),
                from: "+447700900555".into(),
                to: "+14155550100".into(),
                body: "STOP".into(),
                media_urls: vec!["https://m/0".into(), "https://m/1".into()],
            })
        );
    }

    /// Fields of https://plivo.com/docs/messaging/api/message/message-status-callbacks.
    #[test]
    fn message_statuses_and_error_codes() {
        let failed = one(
            "MessageUUID=m1&To=447700900123&From=14155550100&Type=sms&Status=undelivered\
             &Units=1&TotalRate=0.0050&TotalAmount=0.0050&ErrorCode=50&Sequence=3\
             &DeliveryReportTime=2026-01-01+10%3A00%3A05.123456",
        );
        assert_eq!(failed.dedupe_key, "plivo:message:m1:undelivered");
        assert_eq!(failed.occurred_at_ms, Some(1_767_261_605_123));
        let EventKind::Message(m) = &failed.kind else {
            panic!("{failed:?}")
        };
        assert_eq!(
            (m.status, m.error_code.as_deref()),
            (MessageStatus::Undelivered, Some("50"))
        );
        assert_eq!(
            m.price.as_ref().map(|p| p.amount.to_string()),
            Some("0.0050".into())
        );
        let delivered = one("MessageUUID=m1&Status=delivered&ErrorCode=000");
        assert!(matches!(&delivered.kind, EventKind::Message(m)
            if m.status == MessageStatus::Delivered && m.error_code.is_none()));
        for (word, want) in [
            ("queued", MessageStatus::Queued),
            ("sent", MessageStatus::Sent),
            ("read", MessageStatus::Delivered),
            ("failed", MessageStatus::Failed),
            ("rejected", MessageStatus::Failed),
        ] {
            let e = one(&format!("MessageUUID=m2&Status={word}"));
            assert!(
                matches!(&e.kind, EventKind::Message(m) if m.status == want),
                "{word}"
            );
        }
    }

    #[test]
    fn unknown_and_malformed() {
        assert_eq!(
            one("MessageUUID=m3&Status=accepted").name(),
            "unknown.message.accepted"
        );
        assert_eq!(
            one("CallUUID=c3&CallStatus=parked").name(),
            "unknown.call.parked"
        );
        assert!(parse(b"Foo=bar").is_err());
        assert!(
            parse(b"CallUUID=c4").is_err(),
            "a call callback without a status"
        );
        assert!(
            parse(b"MessageUUID=m4").is_err(),
            "an inbound message without a sender"
        );
    }
}
