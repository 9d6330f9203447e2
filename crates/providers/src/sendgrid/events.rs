//! SendGrid Event Webhook bodies (a JSON array of events, each with `event`, `email`,
//! `timestamp`, `sg_event_id`, `sg_message_id` and the message's custom arguments),
//! normalised. Event names and fields as in SendGrid's Event Webhook Reference
//! (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event).

use super::EMAIL_ID_ARG;
use crate::capability::WebhookError;
use crate::events::{EmailEvent, EmailEventType, EventKind, ProviderEvent};
use serde::Deserialize;
use serde_json::Value;

/// The fields of one event this adapter reads; SendGrid adds others, and the message's
/// custom arguments, at the same level.
#[derive(Debug, Deserialize)]
struct Raw {
    event: String,
    email: Option<String>,
    /// Unix seconds (a number; some of SendGrid's older examples quote it).
    timestamp: Option<Value>,
    sg_event_id: Option<String>,
    sg_message_id: Option<String>,
    #[serde(rename = "smtp-id")]
    smtp_id: Option<String>,
    reason: Option<String>,
    response: Option<String>,
    /// For `bounce`: `bounce` (permanent) or `blocked` (temporary).
    #[serde(rename = "type")]
    bounce_type: Option<String>,
    bounce_classification: Option<String>,
    url: Option<String>,
}

/// A SendGrid event name (and bounce type) in Switchyard's words; `None` for events
/// Switchyard does not interpret (`group_resubscribe`, account events).
pub fn event_type(event: &str, bounce_type: Option<&str>) -> Option<EmailEventType> {
    Some(match event {
        "processed" => EmailEventType::Sent,
        "delivered" => EmailEventType::Delivered,
        "deferred" => EmailEventType::Deferred,
        // `type` tells a permanent bounce from a block the receiving server may lift.
        "bounce" if bounce_type == Some("blocked") => EmailEventType::SoftBounce,
        "bounce" => EmailEventType::HardBounce,
        "dropped" => EmailEventType::Dropped,
        "spamreport" => EmailEventType::Complained,
        "open" => EmailEventType::Opened,
        "click" => EmailEventType::Clicked,
        "unsubscribe" | "group_unsubscribe" => EmailEventType::Unsubscribed,
        _ => return None,
    })
}

/// The message id SendGrid answered Mail Send with (`X-Message-Id`): the part of
/// `sg_message_id` before its first `.` (the rest names SendGrid's filter server), or,
/// when an asynchronous bounce has no `sg_message_id`, the local part of `smtp-id`
/// (`<id@host>`). Empty when the event carries neither.
fn message_id(raw: &Raw) -> String {
    if let Some(id) = raw.sg_message_id.as_deref().filter(|id| !id.is_empty()) {
        return id.split('.').next().unwrap_or(id).to_string();
    }
    raw.smtp_id
        .as_deref()
        .map(|id| id.trim_start_matches('<'))
        .and_then(|id| id.split('@').next())
        .unwrap_or_default()
        .to_string()
}

fn seconds(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What the receiving server or SendGrid said, with SendGrid's bounce classification.
fn reason(raw: &Raw) -> Option<String> {
    let said = raw.reason.clone().or_else(|| raw.response.clone());
    match (said, raw.bounce_classification.as_deref()) {
        (Some(said), Some(class)) => Some(format!("{said} ({class})")),
        (None, Some(class)) => Some(class.to_string()),
        (said, None) => said,
    }
}

/// Reads one webhook body.
pub fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    let items: Vec<Value> = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not a JSON array of events ({e})")))?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let raw = Raw::deserialize(&item)
                .map_err(|e| WebhookError::Malformed(format!("event {i}: {e}")))?;
            let email_id = item.get(EMAIL_ID_ARG).and_then(Value::as_str);
            Ok(normalise(raw, email_id.map(str::to_owned)))
        })
        .collect()
}

fn normalise(raw: Raw, email_id: Option<String>) -> ProviderEvent {
    let occurred_at_secs = raw.timestamp.as_ref().and_then(seconds);
    let message_id = message_id(&raw);
    // `sg_event_id` is SendGrid's id for deduplication; without one, the fields that
    // identify the event stand in for it.
    let dedupe_key = raw
        .sg_event_id
        .clone()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| {
            let identity = format!(
                "{}\n{message_id}\n{}\n{}",
                raw.event,
                raw.email.as_deref().unwrap_or_default(),
                occurred_at_secs.unwrap_or_default()
            );
            crate::twilio::signature::body_sha256(identity.as_bytes())
        });
    let kind = match event_type(&raw.event, raw.bounce_type.as_deref()) {
        Some(event) => EventKind::Email(EmailEvent {
            message_id,
            reason: reason(&raw),
            url: raw.url.filter(|_| event == EmailEventType::Clicked),
            email_id,
            recipient: raw.email,
            event,
        }),
        None => EventKind::Unknown {
            event_type: raw.event,
        },
    };
    ProviderEvent {
        dedupe_key,
        occurred_at_ms: occurred_at_secs.map(|s| s.saturating_mul(1000)),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of every example in SendGrid's Event Webhook Reference, one of each
    /// event, with our custom argument as SendGrid adds it.
    const ALL: &str = include_str!("fixtures/events.json");

    fn email(e: &ProviderEvent) -> &EmailEvent {
        match &e.kind {
            EventKind::Email(email) => email,
            other => panic!("not an email event: {other:?}"),
        }
    }

    #[test]
    fn every_documented_event() {
        let events = parse(ALL.as_bytes()).expect("parses");
        let kinds: Vec<Option<EmailEventType>> = events
            .iter()
            .map(|e| match &e.kind {
                EventKind::Email(m) => Some(m.event),
                _ => None,
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                Some(EmailEventType::Sent),
                Some(EmailEventType::Dropped),
                Some(EmailEventType::Delivered),
                Some(EmailEventType::Deferred),
                Some(EmailEventType::HardBounce),
                Some(EmailEventType::SoftBounce),
                Some(EmailEventType::Opened),
                Some(EmailEventType::Clicked),
                Some(EmailEventType::Complained),
                Some(EmailEventType::Unsubscribed),
                Some(EmailEventType::Unsubscribed),
                None,
            ]
        );
        let processed = &events[0];
        assert_eq!(processed.dedupe_key, "rbtnWrG1DVDGGGFHFyun0A==");
        assert_eq!(processed.occurred_at_ms, Some(1_513_299_569_000));
        let m = email(processed);
        assert_eq!(m.message_id, "14c5d75ce93");
        assert_eq!(m.email_id.as_deref(), Some("eml_0001"));
        assert_eq!(m.recipient.as_deref(), Some("example@test.com"));
        assert_eq!(m.url, None);
        assert_eq!(email(&events[1]).reason.as_deref(), Some("Bounced Address"));
        assert_eq!(
            email(&events[3]).reason.as_deref(),
            Some("400 try again later")
        );
        assert_eq!(
            email(&events[4]).reason.as_deref(),
            Some("500 unknown recipient (Invalid Address)")
        );
        assert_eq!(
            email(&events[5]).reason.as_deref(),
            Some("421 Service not available (Technical)")
        );
        assert_eq!(
            email(&events[7]).url.as_deref(),
            Some("http://www.sendgrid.com/")
        );
        assert_eq!(email(&events[10]).url, None, "only clicks carry the URL");
        assert_eq!(
            events[11].kind,
            EventKind::Unknown {
                event_type: "group_resubscribe".into()
            }
        );
        let keys: std::collections::BTreeSet<&str> =
            events.iter().map(|e| e.dedupe_key.as_str()).collect();
        assert_eq!(keys.len(), events.len(), "every event has its own key");
    }

    #[test]
    fn ids_without_sg_fields() {
        // An asynchronous bounce carries no sg_message_id (the reference says so), and
        // legacy events no sg_event_id: the id comes from smtp-id, the key from the fields.
        let body = r#"[{"email":"a@example.com","timestamp":"1513299569","smtp-id":"<abc123@ismtpd-555>","event":"bounce","type":"bounce","reason":"550 5.1.1 user unknown"}]"#;
        let first = parse(body.as_bytes()).expect("parses");
        let again = parse(body.as_bytes()).expect("parses");
        assert_eq!(first, again, "the same event gives the same key");
        assert_eq!(first[0].occurred_at_ms, Some(1_513_299_569_000));
        let m = email(&first[0]);
        assert_eq!(m.message_id, "abc123");
        assert_eq!(m.event, EmailEventType::HardBounce);
        assert_eq!(m.email_id, None);
        assert_eq!(first[0].dedupe_key.len(), 64);
        let later = parse(body.replace("1513299569", "1513299570").as_bytes()).expect("parses");
        assert_ne!(later[0].dedupe_key, first[0].dedupe_key);
    }

    proptest::proptest! {
        /// Anything shaped like an event array is read or refused, never a panic, and
        /// every event read has a key.
        #[test]
        fn never_panics(
            event in "[a-z_]{0,12}",
            id in proptest::option::of(".{0,8}"),
            timestamp in proptest::prelude::any::<i64>(),
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let body = serde_json::json!([{
                "event": event, "sg_event_id": id, "sg_message_id": id,
                "timestamp": timestamp, "type": id, "email": id,
            }]);
            for bytes in [serde_json::to_vec(&body).unwrap_or_default(), raw] {
                if let Ok(events) = parse(&bytes) {
                    proptest::prop_assert!(events.iter().all(|e| !e.dedupe_key.is_empty()));
                }
            }
        }
    }

    #[test]
    fn malformed_bodies() {
        for body in [
            &b"not json"[..],
            b"{\"event\":\"open\"}",
            b"[{\"email\":\"a@example.com\"}]",
            b"[{\"event\":5}]",
            b"[\"open\"]",
        ] {
            assert!(
                matches!(parse(body), Err(WebhookError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(parse(b"[]"), Ok(Vec::new()));
    }
}
