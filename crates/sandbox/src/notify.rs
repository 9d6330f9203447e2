//! Status, inbound and email event webhooks, formatted and signed as each provider does,
//! delivered with a few retries like a real provider's.

use crate::Sandbox;
use crate::accounts::{Account, Call, Email, Message, Style};
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_core::scoring::mix64;
use switchyard_providers::{plivo, sendgrid, telnyx, twilio, vonage};

/// A webhook body before signing.
pub enum Payload {
    /// Twilio-style form parameters.
    Form(Vec<(String, String)>),
    /// Telnyx-style event (`data` object; the envelope is added here).
    Event(Value),
    /// Plivo-style form parameters, signed with V3 and V2.
    Plivo(Vec<(String, String)>),
    /// A Bandwidth-style callback (a voice event object or a list of message events), posted
    /// as JSON with Basic credentials: the call's own, else the application's.
    Bandwidth {
        /// The body.
        body: Value,
        /// Credentials the call set, if any.
        auth: Option<(String, String)>,
    },
    /// A Vonage Voice or Messages API callback: JSON with a bearer HS256 JWT.
    VonageJwt(Value),
    /// A Vonage SMS API callback: a form with `timestamp`, `nonce` and `sig`.
    VonageSigned(Vec<(String, String)>),
    /// SendGrid-style events, posted together as one JSON array.
    EmailEvents(Vec<Value>),
}

fn pairs(list: &[(&str, String)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn rfc2822(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc2822()
}

/// A Twilio call status callback.
pub fn twilio_call(account: &Account, call: &Call, now_ms: i64) -> Payload {
    let mut p = vec![
        ("AccountSid", account.creds.key()),
        ("ApiVersion", "2010-04-01".to_string()),
        ("CallSid", call.id.clone()),
        ("CallStatus", call.status.clone()),
        ("Direction", "outbound-api".to_string()),
        ("From", call.from.clone()),
        ("To", call.to.clone()),
        ("Timestamp", rfc2822(now_ms)),
        ("SequenceNumber", call.sequence.to_string()),
    ];
    if matches!(
        call.status.as_str(),
        "completed" | "busy" | "no-answer" | "failed" | "canceled"
    ) {
        p.push(("CallDuration", call.duration.to_string()));
    }
    Payload::Form(pairs(&p))
}

/// Plivo's `CallStatus`, hangup cause and cause name for a sandbox (Twilio-vocabulary)
/// status (https://www.plivo.com/docs/voice/troubleshooting/hangup-causes).
fn plivo_status(status: &str) -> (&'static str, &'static str, &'static str) {
    match status {
        "ringing" => ("ringing", "", ""),
        "in-progress" => ("in-progress", "", ""),
        "completed" => ("completed", "NORMAL_CLEARING", "Normal Hangup"),
        "busy" => ("busy", "USER_BUSY", "Busy Line"),
        "no-answer" => ("no-answer", "NO_ANSWER", "No Answer"),
        "canceled" => ("cancel", "ORIGINATOR_CANCEL", "Canceled"),
        _ => ("failed", "CALL_REJECTED", "Invalid Destination Address"),
    }
}

fn plivo_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A Plivo ring, answer or hangup callback (https://www.plivo.com/docs/voice/xml/request/):
/// numbers without `+`, the request UUID beside the call UUID.
pub fn plivo_call(call: &Call, price: &str, now_ms: i64) -> Payload {
    let (word, cause, cause_name) = plivo_status(&call.status);
    let event = match word {
        "ringing" => "Ring",
        "in-progress" => "StartApp",
        _ => "Hangup",
    };
    let mut p = vec![
        ("CallUUID", call.id.clone()),
        ("RequestUUID", call.id.clone()),
        ("ALegUUID", call.id.clone()),
        ("ALegRequestUUID", call.id.clone()),
        ("CallStatus", word.to_string()),
        ("Direction", "outbound".to_string()),
        ("Event", event.to_string()),
        ("From", call.from.trim_start_matches('+').to_string()),
        ("To", call.to.trim_start_matches('+').to_string()),
        ("StartTime", plivo_time(call.created_ms)),
    ];
    if event == "Hangup" {
        p.extend([
            ("Duration", call.duration.to_string()),
            ("BillDuration", call.duration.to_string()),
            ("TotalCost", price.to_string()),
            ("HangupCause", cause.to_string()),
            ("HangupCauseName", cause_name.to_string()),
            ("HangupSource", "Callee".to_string()),
            ("EndTime", plivo_time(now_ms)),
        ]);
    }
    Payload::Plivo(pairs(&p))
}

/// A Plivo message status callback
/// (https://plivo.com/docs/messaging/api/message/message-status-callbacks).
pub fn plivo_message(m: &Message, rate: &str, price: &str, now_ms: i64) -> Payload {
    let mut p = vec![
        ("MessageUUID", m.id.clone()),
        ("ParentMessageUUID", m.id.clone()),
        ("From", m.from.trim_start_matches('+').to_string()),
        ("To", m.to.trim_start_matches('+').to_string()),
        (
            "Type",
            if m.media.is_empty() { "sms" } else { "mms" }.to_string(),
        ),
        ("Status", m.status.clone()),
        ("Units", m.segments.to_string()),
        ("TotalRate", rate.to_string()),
        ("TotalAmount", price.to_string()),
        ("MCC", "234".to_string()),
        ("MNC", "10".to_string()),
        ("PartInfo", "1 of 1".to_string()),
        (
            "Sequence",
            if m.status == "sent" { "1" } else { "2" }.to_string(),
        ),
        ("MessageTime", plivo_time(m.created_ms)),
    ];
    if let Some(code) = &m.error_code {
        p.push(("ErrorCode", code.clone()));
    }
    if m.status != "sent" {
        p.push(("DeliveryReportTime", plivo_time(now_ms)));
    }
    Payload::Plivo(pairs(&p))
}

/// Bandwidth's disconnect `cause` for a sandbox (Twilio-vocabulary) final status.
fn bandwidth_cause(status: &str) -> &'static str {
    match status {
        "completed" => "hangup",
        "busy" => "busy",
        "no-answer" => "timeout",
        "canceled" => "cancel",
        _ => "error",
    }
}

/// A Bandwidth voice event (https://dev.bandwidth.com/docs/voice/webhooks): `answer` when
/// answered, `disconnect` with its cause at the end, `redirect` after a redirect.
pub fn bandwidth_call(
    account: &Account,
    call: &Call,
    event_type: &str,
    answered_ms: Option<i64>,
    now_ms: i64,
) -> Payload {
    let acct = account.creds.key();
    let mut v = json!({
        "eventType": event_type, "eventTime": rfc3339(now_ms), "accountId": acct,
        "applicationId": account.creds.voice_application_id, "from": call.from, "to": call.to,
        "direction": "outbound", "callId": call.id,
        "callUrl": format!("https://voice.bandwidth.com/api/v2/accounts/{acct}/calls/{}", call.id),
        "enqueuedTime": rfc3339(call.created_ms), "startTime": rfc3339(call.created_ms),
    });
    if let Some(at) = answered_ms {
        v["answerTime"] = json!(rfc3339(at));
    }
    if event_type == "disconnect" {
        v["endTime"] = json!(rfc3339(now_ms));
        v["cause"] = json!(bandwidth_cause(&call.status));
        if call.status == "failed" {
            v["errorMessage"] = json!("Call could not be completed");
            v["errorId"] = json!(format!("{:08x}-0000-4000-8000-000000000000", call.seq));
        }
    }
    Payload::Bandwidth {
        body: v,
        auth: call.callback_auth.clone(),
    }
}

/// A Bandwidth message event list (https://dev.bandwidth.com/docs/messaging/webhooks):
/// the outbound message's text is never echoed.
pub fn bandwidth_message(account: &Account, m: &Message, now_ms: i64) -> Payload {
    let (kind, description) = match m.status.as_str() {
        "sent" => ("message-sending", "Message is sending to carrier"),
        "delivered" => ("message-delivered", "ok"),
        _ => ("message-failed", "invalid-destination-address"),
    };
    let mut event = json!({
        "type": kind, "time": rfc3339(now_ms), "description": description, "to": m.to,
        "message": {
            "id": m.id, "owner": m.from, "applicationId": account.creds.messaging_application_id,
            "time": rfc3339(m.created_ms), "segmentCount": m.segments, "direction": "out",
            "to": [m.to], "from": m.from, "text": "", "media": m.media,
        },
    });
    if let Some(code) = &m.error_code {
        event["errorCode"] = json!(code.parse::<u32>().unwrap_or(4720));
    }
    Payload::Bandwidth {
        body: json!([event]),
        auth: None,
    }
}

/// Vonage's event `status` (and `detail`) for a sandbox (Twilio-vocabulary) status.
fn vonage_status(status: &str) -> (&'static str, Option<&'static str>) {
    match status {
        "initiated" => ("started", None),
        "ringing" => ("ringing", None),
        "in-progress" => ("answered", None),
        "completed" => ("completed", None),
        "busy" => ("busy", None),
        "no-answer" => ("unanswered", Some("unavailable")),
        "canceled" => ("cancelled", None),
        _ => ("failed", Some("cannot_route")),
    }
}

/// A Vonage Voice API event (https://developer.vonage.com/en/voice/voice-api/webhook-reference).
pub fn vonage_call(account: &Account, call: &Call, price: &str, now_ms: i64) -> Payload {
    let (status, detail) = vonage_status(&call.status);
    let mut v = json!({
        "uuid": call.id, "conversation_uuid": format!("CON-{}", call.id), "status": status,
        "direction": "outbound", "from": call.from.trim_start_matches('+'),
        "to": call.to.trim_start_matches('+'), "timestamp": rfc3339(now_ms),
    });
    if let Some(detail) = detail {
        v["detail"] = json!(detail);
    }
    match status {
        "answered" => {
            v["start_time"] = json!(rfc3339(now_ms));
            v["network"] = json!("");
        }
        "completed" => {
            v["start_time"] = json!(rfc3339(now_ms - i64::from(call.duration) * 1000));
            v["end_time"] = json!(rfc3339(now_ms));
            v["duration"] = json!(call.duration.to_string());
            v["rate"] = json!(account.profile().voice_per_minute.to_string());
            v["price"] = json!(price);
            v["network"] = json!("23410");
        }
        _ => {}
    }
    Payload::VonageJwt(v)
}

/// Whether a sandbox message was sent through Vonage's Messages API (its ids are UUIDs) rather
/// than the SMS API (16 hex digits).
pub fn via_messages_api(m: &Message) -> bool {
    m.id.contains('-')
}

/// A Vonage SMS delivery receipt (https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts)
/// or Messages API status callback, as the message was sent.
pub fn vonage_message(account: &Account, m: &Message, price: &str, now_ms: i64) -> Payload {
    if via_messages_api(m) {
        let status = match m.status.as_str() {
            "sent" => "submitted",
            "delivered" => "delivered",
            _ => "undeliverable",
        };
        let mut v = json!({
            "message_uuid": m.id, "to": m.to.trim_start_matches('+'), "from": m.from.trim_start_matches('+'),
            "timestamp": rfc3339(now_ms), "status": status,
            "channel": if m.media.is_empty() { "whatsapp" } else { "mms" },
            "usage": { "currency": "EUR", "price": price },
        });
        if let Some(code) = &m.error_code {
            v["error"] = json!({
                "type": format!("https://developer.vonage.com/api-errors/messages#{code}"),
                "title": code, "detail": "Destination unreachable",
            });
        }
        return Payload::VonageJwt(v);
    }
    let stamp = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    Payload::VonageSigned(pairs(&[
        ("msisdn", m.to.trim_start_matches('+').to_string()),
        ("to", m.from.trim_start_matches('+').to_string()),
        ("network-code", "23410".to_string()),
        ("messageId", m.id.clone()),
        ("price", price.to_string()),
        (
            "status",
            if m.status == "delivered" {
                "delivered"
            } else {
                "failed"
            }
            .to_string(),
        ),
        ("scts", stamp.format("%y%m%d%H%M").to_string()),
        (
            "err-code",
            m.error_code.clone().unwrap_or_else(|| "0".into()),
        ),
        ("api-key", account.creds.key()),
        (
            "message-timestamp",
            stamp.format("%Y-%m-%d %H:%M:%S").to_string(),
        ),
    ]))
}

/// A Telnyx call event.
pub fn telnyx_call(
    account: &Account,
    call: &Call,
    event_type: &str,
    cause: Option<&str>,
    now_ms: i64,
) -> Payload {
    let mut payload = json!({
        "call_control_id": call.id,
        "call_leg_id": call.id.trim_start_matches("v3:"),
        "call_session_id": call.id.trim_start_matches("v3:"),
        "connection_id": account.creds.connection_id,
        "direction": "outgoing",
        "from": call.from,
        "to": call.to,
        "state": if event_type == "call.hangup" { "hangup" } else { "answered" },
    });
    if let Some(cause) = cause {
        payload["hangup_cause"] = json!(cause);
        payload["hangup_source"] = json!("callee");
    }
    Payload::Event(
        json!({ "event_type": event_type, "occurred_at": rfc3339(now_ms), "payload": payload }),
    )
}

/// A Twilio message status callback.
pub fn twilio_message(account: &Account, m: &Message) -> Payload {
    let mut p = vec![
        ("AccountSid", account.creds.key()),
        ("ApiVersion", "2010-04-01".to_string()),
        ("MessageSid", m.id.clone()),
        ("SmsSid", m.id.clone()),
        ("MessageStatus", m.status.clone()),
        ("SmsStatus", m.status.clone()),
        ("From", m.from.clone()),
        ("To", m.to.clone()),
    ];
    if let Some(code) = &m.error_code {
        p.push(("ErrorCode", code.clone()));
    }
    Payload::Form(pairs(&p))
}

/// A Telnyx message event.
pub fn telnyx_message(m: &Message, price: &str, now_ms: i64) -> Payload {
    let status = match m.status.as_str() {
        "delivered" => "delivered",
        "undelivered" => "delivery_failed",
        "failed" => "sending_failed",
        other => other,
    };
    let event_type = if m.status == "sent" {
        "message.sent"
    } else {
        "message.finalized"
    };
    let errors: Vec<Value> = m
        .error_code
        .iter()
        .map(|c| json!({ "code": c, "title": "Message delivery failed" }))
        .collect();
    Payload::Event(json!({
        "event_type": event_type,
        "occurred_at": rfc3339(now_ms),
        "payload": {
            "id": m.id, "record_type": "message", "direction": "outbound", "type": if m.media.is_empty() { "SMS" } else { "MMS" },
            "from": { "phone_number": m.from }, "to": [{ "phone_number": m.to, "status": status }],
            "text": m.body, "parts": m.segments, "errors": errors,
            "cost": { "amount": price, "currency": "USD" },
        }
    }))
}

/// An inbound message to one of the account's numbers.
pub fn inbound_message(
    style: Style,
    account: &Account,
    id: &str,
    from: &str,
    to: &str,
    body: &str,
    now_ms: i64,
) -> Payload {
    match style {
        Style::Twilio | Style::Signalwire => Payload::Form(pairs(&[
            ("AccountSid", account.creds.key()),
            ("ApiVersion", "2010-04-01".to_string()),
            ("MessageSid", id.to_string()),
            ("SmsSid", id.to_string()),
            ("SmsStatus", "received".to_string()),
            ("MessageStatus", "received".to_string()),
            ("From", from.to_string()),
            ("To", to.to_string()),
            ("Body", body.to_string()),
            ("NumMedia", "0".to_string()),
        ])),
        Style::Bandwidth => Payload::Bandwidth {
            body: json!([{
                "type": "message-received", "time": rfc3339(now_ms), "description": "Incoming message received",
                "to": to, "message": {
                    "id": id, "time": rfc3339(now_ms), "to": [to], "from": from, "text": body,
                    "applicationId": account.creds.messaging_application_id, "media": [], "owner": to,
                    "direction": "in", "segmentCount": 1,
                },
            }]),
            auth: None,
        },
        Style::Vonage => {
            let stamp = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
            Payload::VonageSigned(pairs(&[
                ("api-key", account.creds.key()),
                ("msisdn", from.trim_start_matches('+').to_string()),
                ("to", to.trim_start_matches('+').to_string()),
                ("messageId", id.to_string()),
                ("text", body.to_string()),
                ("type", "text".to_string()),
                (
                    "keyword",
                    body.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_uppercase(),
                ),
                (
                    "message-timestamp",
                    stamp.format("%Y-%m-%d %H:%M:%S").to_string(),
                ),
            ]))
        }
        Style::Plivo => Payload::Plivo(pairs(&[
            ("MessageUUID", id.to_string()),
            ("From", from.trim_start_matches('+').to_string()),
            ("To", to.trim_start_matches('+').to_string()),
            ("Text", body.to_string()),
            ("Type", "sms".to_string()),
            ("Units", "1".to_string()),
            ("TotalRate", "0.00000".to_string()),
            ("TotalAmount", "0.00000".to_string()),
        ])),
        Style::Telnyx | Style::Sendgrid => Payload::Event(json!({
            "event_type": "message.received",
            "occurred_at": rfc3339(now_ms),
            "payload": { "id": id, "direction": "inbound", "from": { "phone_number": from }, "to": [{ "phone_number": to, "status": "webhook_delivered" }], "text": body, "media": [] }
        })),
    }
}

/// An inbound call to one of the account's numbers.
pub fn inbound_call(
    style: Style,
    account: &Account,
    id: &str,
    from: &str,
    to: &str,
    now_ms: i64,
) -> Payload {
    match style {
        Style::Twilio | Style::Signalwire => Payload::Form(pairs(&[
            ("AccountSid", account.creds.key()),
            ("ApiVersion", "2010-04-01".to_string()),
            ("CallSid", id.to_string()),
            ("CallStatus", "ringing".to_string()),
            ("Direction", "inbound".to_string()),
            ("From", from.to_string()),
            ("To", to.to_string()),
        ])),
        Style::Bandwidth => Payload::Bandwidth {
            body: json!({
                "eventType": "initiate", "eventTime": rfc3339(now_ms), "accountId": account.creds.key(),
                "applicationId": account.creds.voice_application_id, "from": from, "to": to,
                "direction": "inbound", "callId": id, "startTime": rfc3339(now_ms),
            }),
            auth: None,
        },
        Style::Vonage => Payload::VonageJwt(json!({
            "uuid": id, "conversation_uuid": format!("CON-{id}"),
            "from": from.trim_start_matches('+'), "to": to.trim_start_matches('+'),
            "region_url": "https://api-eu-1.vonage.com",
        })),
        Style::Plivo => Payload::Plivo(pairs(&[
            ("CallUUID", id.to_string()),
            ("CallStatus", "ringing".to_string()),
            ("Direction", "inbound".to_string()),
            ("Event", "StartApp".to_string()),
            ("From", from.trim_start_matches('+').to_string()),
            ("To", to.trim_start_matches('+').to_string()),
        ])),
        Style::Telnyx | Style::Sendgrid => Payload::Event(json!({
            "event_type": "call.initiated",
            "occurred_at": rfc3339(now_ms),
            "payload": { "call_control_id": id, "connection_id": account.creds.connection_id, "direction": "incoming", "from": from, "to": to, "state": "parked" }
        })),
    }
}

/// A SendGrid event (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event)
/// about one recipient of `email`: the email's custom arguments and categories, then
/// SendGrid's own fields (which win over a custom argument of the same name), then what
/// the event type carries. `event` is SendGrid's name, or `blocked` for a temporary
/// bounce.
pub fn sendgrid_event(
    email: &Email,
    recipient: &str,
    event: &str,
    url: Option<&str>,
    sg_event_id: &str,
    now_ms: i64,
) -> Value {
    let mut v = email.custom_args.clone();
    let fields = json!({
        "email": recipient,
        "timestamp": now_ms / 1000,
        "smtp-id": format!("<{}@ismtpd-sandbox>", email.id),
        "event": if event == "blocked" { "bounce" } else { event },
        "sg_event_id": sg_event_id,
        "sg_message_id": format!("{}.sandbox-filter-{:x}.0", email.id, email.seq),
    });
    let extra = match event {
        "delivered" => json!({ "response": "250 2.0.0 OK", "tls": 1, "ip": "127.0.0.1" }),
        "deferred" => {
            json!({ "response": "451 4.7.1 Temporary failure, try again later", "attempt": "1", "tls": 1, "ip": "127.0.0.1" })
        }
        "bounce" => json!({
            "type": "bounce", "status": "5.1.1", "bounce_classification": "Invalid Address",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        }),
        "blocked" => json!({
            "type": "blocked", "status": "4.7.0", "bounce_classification": "Technical",
            "reason": "421 4.7.0 Try again later, closing connection",
        }),
        "open" => {
            json!({ "useragent": "Mozilla/5.0 (sandbox)", "ip": "127.0.0.1", "sg_machine_open": false })
        }
        "click" => json!({
            "useragent": "Mozilla/5.0 (sandbox)", "ip": "127.0.0.1",
            "url": url.unwrap_or("https://example.com/"), "url_offset": { "index": 0, "type": "html" },
        }),
        _ => json!({}),
    };
    for part in [fields, extra] {
        if let Value::Object(map) = part {
            v.extend(map);
        }
    }
    if !email.categories.is_empty() {
        v.insert("category".into(), json!(email.categories));
    }
    Value::Object(v)
}

/// Attempts at one webhook before the sandbox gives up on it. Real providers retry for
/// hours; a busy receiver (a batch of email events while the API takes thousands of sends
/// a second) must not lose reports to a short retry window.
const DELIVERY_ATTEMPTS: u32 = 10;

/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// Signs and posts `payload` to `url`, retrying with exponential backoff (up to
/// [`DELIVERY_ATTEMPTS`] times) while the receiver fails or times out; a 4xx is final.
pub fn deliver(sandbox: &Sandbox, account: &Account, url: Option<String>, payload: Payload) {
    let Some(url) = url else {
        return;
    };
    let event_id = sandbox.next_id();
    let (body, headers): (Vec<u8>, Vec<(&'static str, String)>) = match payload {
        Payload::Form(params) => {
            // Twilio signs with the auth token; SignalWire with the project's signing key,
            // under its own header name.
            let (key, header) = match account.creds.style {
                Style::Signalwire => (&account.creds.signing_key, "x-signalwire-signature"),
                _ => (&account.creds.auth_token, "x-twilio-signature"),
            };
            let signature =
                twilio::signature::sign(key.as_deref().unwrap_or_default(), &url, &params);
            let body = serde_urlencoded::to_string(&params)
                .unwrap_or_default()
                .into_bytes();
            (
                body,
                vec![
                    ("content-type", "application/x-www-form-urlencoded".into()),
                    (header, signature),
                    ("i-twilio-idempotency-token", format!("sandbox-{event_id}")),
                ],
            )
        }
        Payload::Plivo(params) => {
            // V3 over the URL and parameters, and V2 over the URL for older receivers; one
            // nonce per delivery, as Plivo does.
            let token = account.creds.auth_token.as_deref().unwrap_or_default();
            let nonce = format!("{:020}", mix64(event_id));
            let body = serde_urlencoded::to_string(&params)
                .unwrap_or_default()
                .into_bytes();
            (
                body,
                vec![
                    ("content-type", "application/x-www-form-urlencoded".into()),
                    (
                        plivo::signature::V3_HEADER,
                        plivo::signature::sign_v3(token, &url, &params, &nonce),
                    ),
                    (plivo::signature::V3_NONCE_HEADER, nonce.clone()),
                    (
                        plivo::signature::V2_HEADER,
                        plivo::signature::sign_v2(token, &url, &nonce),
                    ),
                    (plivo::signature::V2_NONCE_HEADER, nonce),
                ],
            )
        }
        Payload::Bandwidth { body, auth } => {
            let (user, password) = auth.unwrap_or_else(|| {
                (
                    account.creds.callback_username.clone().unwrap_or_default(),
                    account.creds.callback_password.clone().unwrap_or_default(),
                )
            });
            let basic = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{user}:{password}"),
            );
            (
                serde_json::to_vec(&body).unwrap_or_default(),
                vec![
                    ("content-type", "application/json; charset=utf-8".into()),
                    ("user-agent", "BandwidthAPI/v2".into()),
                    ("authorization", format!("Basic {basic}")),
                ],
            )
        }
        Payload::VonageJwt(body) => {
            let body = serde_json::to_vec(&body).unwrap_or_default();
            let claims = vonage::signature::callback_claims(
                &account.creds.key(),
                account.creds.application_id.as_deref().unwrap_or_default(),
                &body,
                chrono::Utc::now().timestamp(),
                &format!("{:016x}", mix64(event_id)),
            );
            let secret = account
                .creds
                .signature_secret
                .as_deref()
                .unwrap_or_default();
            let token = switchyard_providers::jwt::sign_hs256(secret.as_bytes(), &claims);
            (
                body,
                vec![
                    ("content-type", "application/json".into()),
                    ("authorization", format!("Bearer {token}")),
                ],
            )
        }
        Payload::VonageSigned(mut params) => {
            params.push((
                "timestamp".into(),
                chrono::Utc::now().timestamp().to_string(),
            ));
            params.push(("nonce".into(), format!("{:016x}", mix64(event_id))));
            let method = account
                .creds
                .signature_method
                .as_deref()
                .and_then(vonage::signature::Method::parse)
                .unwrap_or(vonage::signature::Method::Md5Hash);
            let secret = account
                .creds
                .signature_secret
                .as_deref()
                .unwrap_or_default();
            let sig = vonage::signature::sign(method, secret, &params);
            params.push(("sig".into(), sig));
            (
                serde_urlencoded::to_string(&params)
                    .unwrap_or_default()
                    .into_bytes(),
                vec![("content-type", "application/x-www-form-urlencoded".into())],
            )
        }
        Payload::Event(mut data) => {
            data["id"] = json!(format!(
                "{:08x}-0000-4000-8000-{:012x}",
                event_id >> 32,
                event_id
            ));
            data["record_type"] = json!("event");
            let body = serde_json::to_vec(
                &json!({ "data": data, "meta": { "attempt": 1, "delivered_to": url } }),
            )
            .unwrap_or_default();
            let ts = chrono::Utc::now().timestamp();
            let signature = account
                .creds
                .signer()
                .map(|key| telnyx::signature::sign(&key, ts, &body))
                .unwrap_or_default();
            (
                body,
                vec![
                    ("content-type", "application/json".into()),
                    ("telnyx-signature-ed25519", signature),
                    ("telnyx-timestamp", ts.to_string()),
                ],
            )
        }
        Payload::EmailEvents(events) => {
            // SendGrid ends the array with CRLF, and signs the body as sent.
            let mut body = serde_json::to_vec(&events).unwrap_or_default();
            body.extend_from_slice(b"\r\n");
            let ts = chrono::Utc::now().timestamp();
            let signature = account
                .creds
                .ecdsa_signer()
                .map(|key| sendgrid::signature::sign(&key, ts, &body))
                .unwrap_or_default();
            (
                body,
                vec![
                    ("content-type", "application/json".into()),
                    (sendgrid::signature::SIGNATURE_HEADER, signature),
                    (sendgrid::signature::TIMESTAMP_HEADER, ts.to_string()),
                ],
            )
        }
    };
    let http = sandbox.inner.http.clone();
    tokio::spawn(async move {
        for attempt in 0..DELIVERY_ATTEMPTS {
            let mut req = http.post(&url).body(body.clone());
            for (k, v) in &headers {
                req = req.header(*k, v);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return,
                Ok(r) if r.status().is_client_error() => {
                    tracing::debug!(%url, status = r.status().as_u16(), "sandbox webhook refused");
                    return;
                }
                Ok(r) => {
                    tracing::debug!(%url, status = r.status().as_u16(), attempt, "sandbox webhook failed")
                }
                Err(e) => tracing::debug!(%url, error = %e, attempt, "sandbox webhook failed"),
            }
            tokio::time::sleep(MAX_BACKOFF.min(Duration::from_millis(200 << attempt))).await;
        }
    });
}
