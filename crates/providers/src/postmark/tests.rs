//! Postmark: the exact JSON the adapter posts, error classes, webhook credentials and
//! every documented record type.

use super::*;
use crate::capability::{Connection, Email, EmailRequest, WebhookError, WebhookRequest, Webhooks};
use crate::error::{Delivery, ErrorClass};
use crate::events::{EmailEventType, EventKind, ProviderEvent};
use crate::http::double::ExpectedEmail;
use crate::http::double::{Double, context, full_email};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

const TOKEN: &str = "f3a1c6d2-5b7e-4c8a-9d0f-1e2b3c4d5e6f";

fn client(base_url: &str) -> Postmark {
    from_credentials(&context(json!({
        "server_token": TOKEN,
        "webhook_username": "postmark",
        "webhook_password": "s3cr3t:pa55",
        "base_url": base_url,
    })))
    .expect("client")
}

/// The answer documented for `POST /email`
/// (https://postmarkapp.com/developer/api/email-api).
const SENT: &str = r#"{"To":"\"Zoë Ågren\" <zoe@example.com>","SubmittedAt":"2014-02-17T07:25:01.4178645-05:00","MessageID":"0a129aee-e1cd-480d-b08d-4f48548ff48d","ErrorCode":0,"Message":"OK"}"#;

#[tokio::test]
async fn sends_the_documented_json() {
    let double = Double::start(200, SENT).await;
    let sent = client(&double.base_url)
        .send_email(&full_email())
        .await
        .expect("sent");
    assert_eq!(sent.message_id, "0a129aee-e1cd-480d-b08d-4f48548ff48d");
    let seen = double.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, http::Method::POST);
    assert_eq!(r.path, "/email");
    assert_eq!(r.header("x-postmark-server-token"), TOKEN);
    assert_eq!(r.header("accept"), "application/json");
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("authorization"), "");
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(
        body,
        json!({
            "From": "\"Acme, Inc.\" <news@mg.example.com>",
            "To": "\"Zoë Ågren\" <zoe@example.com>, bob@example.com",
            "Cc": "carol@example.com",
            "Bcc": "audit@example.com",
            "ReplyTo": "\"Support\" <support@example.com>",
            "Subject": "Grüße aus Köln – your invoice ✓",
            "TextBody": "Hello Zoë",
            "HtmlBody": "<p>Hello Zoë</p>",
            "Tag": "invoice",
            "Headers": [
                {
                    "Name": "List-Unsubscribe",
                    "Value": "<https://sy.example/u/em_01HZX3>, <mailto:unsub@example.com?subject=em_01HZX3>"
                },
                {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}
            ],
            "Attachments": [{
                "Name": "invoice-€.pdf",
                "Content": STANDARD.encode(b"%PDF-1.4 \x00\x01\x02"),
                "ContentType": "application/pdf"
            }],
            "Metadata": {"switchyard_email_id": "em_01HZX3"},
            "TrackOpens": false,
            "TrackLinks": "None",
            "MessageStream": "outbound"
        })
    );
}

#[test]
fn tracking_and_stream_follow_the_request_and_credentials() {
    let broadcast = from_credentials(&context(json!({
        "server_token": TOKEN,
        "message_stream": "broadcast",
    })))
    .expect("client");
    let req = EmailRequest {
        provider_tracking: true,
        cc: vec![],
        bcc: vec![],
        reply_to: None,
        tags: vec![],
        headers: vec![],
        attachments: vec![],
        ..full_email()
    };
    let body = broadcast.message(&req);
    assert_eq!(body["TrackOpens"], json!(true));
    assert_eq!(body["TrackLinks"], json!("HtmlAndText"));
    assert_eq!(body["MessageStream"], json!("broadcast"));
    for absent in ["Cc", "Bcc", "ReplyTo", "Tag", "Headers", "Attachments"] {
        assert!(body.get(absent).is_none(), "{absent}: {body}");
    }
}

async fn send_error(status: u16, body: &'static str) -> (crate::ProviderError, usize) {
    let double = Double::start(status, body).await;
    let err = client(&double.base_url)
        .send_email(&full_email())
        .await
        .expect_err("refused");
    (err, double.requests().len())
}

/// Codes from Postmark's API error table
/// (https://postmarkapp.com/developer/api/overview#error-codes).
#[tokio::test]
async fn errors_are_classified_for_failover() {
    let (err, _) = send_error(
        401,
        r#"{"ErrorCode":10,"Message":"No Account or Server API tokens were supplied in the HTTP headers. Please add a header for either X-Postmark-Server-Token or X-Postmark-Account-Token."}"#,
    )
    .await;
    assert_eq!(
        (err.class, err.delivery, err.code.as_deref()),
        (
            ErrorClass::ProviderRefused,
            Delivery::NotAccepted,
            Some("10")
        )
    );

    let (err, _) = send_error(
        422,
        r#"{"ErrorCode":406,"Message":"You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: zoe@example.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression."}"#,
    )
    .await;
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.status, Some(422));
    assert!(!err.may_fail_over());

    let (err, _) = send_error(
        422,
        r#"{"ErrorCode":300,"Message":"Invalid 'To' address: 'zoe@'."}"#,
    )
    .await;
    assert_eq!(err.class, ErrorClass::Permanent);

    let (err, _) = send_error(
        422,
        r#"{"ErrorCode":300,"Message":"Invalid 'From' address: 'news@mg.example.com' is not a verified sender signature."}"#,
    )
    .await;
    assert_eq!(err.class, ErrorClass::ProviderRefused);
    assert!(err.may_fail_over());

    let (err, _) = send_error(
        422,
        r#"{"ErrorCode":412,"Message":"Your account is pending approval."}"#,
    )
    .await;
    assert_eq!(err.class, ErrorClass::ProviderRefused);

    // A refusal inside a 200 is still a refusal.
    let (err, _) = send_error(
        200,
        r#"{"ErrorCode":406,"Message":"You tried to send to a recipient that has been marked as inactive."}"#,
    )
    .await;
    assert_eq!(err.class, ErrorClass::Permanent);

    let (err, _) = send_error(429, r#"{"ErrorCode":429,"Message":"Rate limit exceeded"}"#).await;
    assert_eq!(
        (err.class, err.delivery),
        (ErrorClass::Retryable, Delivery::NotAccepted)
    );

    // Postmark has no idempotency key: a 500 is not repeated and may have been acted on.
    let (err, attempts) = send_error(500, "").await;
    assert_eq!(
        (err.class, err.delivery),
        (ErrorClass::Retryable, Delivery::MaybeAccepted)
    );
    assert_eq!(attempts, 1);

    let (err, _) = send_error(503, "").await;
    assert_eq!(
        (err.class, err.delivery),
        (ErrorClass::Retryable, Delivery::NotAccepted)
    );
}

#[tokio::test]
async fn connection_test_reads_the_server() {
    let double = Double::start(
        200,
        r#"{"ID":1,"Name":"Staging Testing","ApiTokens":["f3a1c6d2-5b7e-4c8a-9d0f-1e2b3c4d5e6f"],"Color":"red","SmtpApiActivated":true,"RawEmailEnabled":false,"DeliveryType":"Live","ServerLink":"https://postmarkapp.com/servers/1/streams","TrackOpens":false,"TrackLinks":"None"}"#,
    )
    .await;
    let info = client(&double.base_url)
        .test_connection()
        .await
        .expect("connected");
    assert_eq!(info.account, "Staging Testing");
    let seen = double.requests();
    assert_eq!(seen[0].method, http::Method::GET);
    assert_eq!(seen[0].path, "/server");
    assert_eq!(seen[0].header("x-postmark-server-token"), TOKEN);
    assert_eq!(seen[0].header("accept"), "application/json");

    let double = Double::start(
        401,
        r#"{"ErrorCode":10,"Message":"Bad or missing Server API token."}"#,
    )
    .await;
    let err = client(&double.base_url)
        .test_connection()
        .await
        .expect_err("bad token");
    assert_eq!(err.class, ErrorClass::ProviderRefused);
}

#[test]
fn webhook_credentials_go_together() {
    let half = context(json!({"server_token": TOKEN, "webhook_username": "postmark"}));
    assert!(from_credentials(&half).is_err());
}

// ---- webhook credentials ----------------------------------------------------------------

fn verify_with(
    client: &Postmark,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<(), WebhookError> {
    let mut headers = http::HeaderMap::new();
    if let Some(value) = authorization {
        headers.insert("authorization", value.parse().expect("header"));
    }
    client.verify(&WebhookRequest {
        url: "https://sy.example/v1/webhooks/p1",
        headers: &headers,
        body,
        now_secs: 1_700_000_000,
    })
}

/// The header a client sends for a webhook URL of the documented form
/// `https://<username>:<password>@example.com/webhook`
/// (https://postmarkapp.com/developer/webhooks/webhooks-overview).
fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

#[test]
fn webhook_basic_auth() {
    let pm = client("http://127.0.0.1:9");
    let body = include_bytes!("fixtures/delivery.json");
    assert_eq!(
        verify_with(&pm, Some(&basic("postmark", "s3cr3t:pa55")), body),
        Ok(())
    );
    // The scheme is case-insensitive (RFC 9110).
    let lower = basic("postmark", "s3cr3t:pa55").replacen("Basic", "basic", 1);
    assert_eq!(verify_with(&pm, Some(&lower), body), Ok(()));

    assert_eq!(
        verify_with(&pm, Some(&basic("postmark", "wrong")), body),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify_with(&pm, Some(&basic("someone", "s3cr3t:pa55")), body),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify_with(&pm, None, body),
        Err(WebhookError::Unsigned("Authorization"))
    );
    assert_eq!(
        verify_with(&pm, Some("Bearer s3cr3t"), body),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify_with(&pm, Some("Basic %%%"), body),
        Err(WebhookError::BadSignature)
    );

    // Postmark signs nothing: the credentials prove who sent the request, not what it
    // says, so an altered body is accepted, and so is a replay. A replay is stored once,
    // because it has the same dedupe key.
    let altered = String::from_utf8_lossy(body).replace("Delivery", "Bounce");
    assert_eq!(
        verify_with(
            &pm,
            Some(&basic("postmark", "s3cr3t:pa55")),
            altered.as_bytes()
        ),
        Ok(())
    );
    assert_eq!(
        parse(body).expect("first")[0].dedupe_key,
        parse(body).expect("replay")[0].dedupe_key
    );

    let unconfigured = from_credentials(&context(json!({"server_token": TOKEN}))).expect("client");
    assert!(matches!(
        verify_with(&unconfigured, Some(&basic("postmark", "s3cr3t:pa55")), body),
        Err(WebhookError::NotConfigured(_))
    ));
}

// ---- records ----------------------------------------------------------------------------

/// The client webhook tests use, built once: building one is far slower than a parse.
static WEBHOOKS: std::sync::LazyLock<Postmark> =
    std::sync::LazyLock::new(|| client("http://127.0.0.1:9"));

fn parse(body: &[u8]) -> Result<Vec<ProviderEvent>, WebhookError> {
    crate::http::double::parse_webhook(&*WEBHOOKS, body)
}

/// Fixtures are the examples of Postmark's webhook pages (delivery-webhook,
/// bounce-webhook, spam-complaint-webhook, open-tracking-webhook, click-webhook,
/// subscription-change-webhook under https://postmarkapp.com/developer/webhooks/), with
/// other bounce types from its bounce type table.
#[test]
fn every_documented_record_type_is_normalised() {
    let cases: [(&str, ExpectedEmail); 9] = [
        (
            include_str!("fixtures/delivery.json"),
            ExpectedEmail {
                event: EmailEventType::Delivered,
                message_id: "883953f4-6105-42a2-a16a-77a8eac79483",
                email_id: Some("em_01HZX3"),
                recipient: "john@example.com",
                reason: None,
                url: None,
                dedupe_key: "Delivery:883953f4-6105-42a2-a16a-77a8eac79483:john@example.com",
                occurred_at_ms: 1_572_971_634_907,
            },
        ),
        (
            include_str!("fixtures/bounce_hard.json"),
            ExpectedEmail {
                event: EmailEventType::HardBounce,
                message_id: "883953f4-6105-42a2-a16a-77a8eac79483",
                email_id: Some("em_01HZX3"),
                recipient: "john@example.com",
                reason: Some(
                    "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
                ),
                url: None,
                dedupe_key: "Bounce:4323372036854775807",
                occurred_at_ms: 1_572_971_634_907,
            },
        ),
        (
            include_str!("fixtures/bounce_transient.json"),
            ExpectedEmail {
                event: EmailEventType::Deferred,
                message_id: "883953f4-6105-42a2-a16a-77a8eac79483",
                email_id: Some("em_01HZX3"),
                recipient: "john@example.com",
                reason: Some(
                    "The server could not temporarily deliver your message (ex: Message is delayed due to network troubles).",
                ),
                url: None,
                dedupe_key: "Bounce:4323372036854775808",
                occurred_at_ms: 1_572_972_000_000,
            },
        ),
        (
            include_str!("fixtures/bounce_soft.json"),
            ExpectedEmail {
                event: EmailEventType::SoftBounce,
                message_id: "a8c4f7e2-0b1d-4c6e-9f3a-2d5b8e1c7a90",
                email_id: None,
                recipient: "jane@example.com",
                reason: Some(
                    "smtp;452 4.2.2 The email account that you tried to reach is over quota.",
                ),
                url: None,
                dedupe_key: "Bounce:692560173",
                occurred_at_ms: 1_709_298_930_500,
            },
        ),
        (
            include_str!("fixtures/bounce_manually_deactivated.json"),
            ExpectedEmail {
                event: EmailEventType::Dropped,
                message_id: "b9d5a8f3-1c2e-4d7f-8a4b-3e6c9f2d8b01",
                email_id: Some("em_01HZX7"),
                recipient: "gone@example.com",
                reason: Some("The email was manually deactivated."),
                url: None,
                dedupe_key: "Bounce:692560174",
                occurred_at_ms: 1_709_283_600_000,
            },
        ),
        (
            include_str!("fixtures/spam_complaint.json"),
            ExpectedEmail {
                event: EmailEventType::Complained,
                message_id: "00000000-0000-0000-0000-000000000000",
                email_id: Some("em_01HZX3"),
                recipient: "john@example.com",
                reason: Some("Test spam complaint details"),
                url: None,
                dedupe_key: "SpamComplaint:42",
                occurred_at_ms: 1_572_971_634_907,
            },
        ),
        (
            include_str!("fixtures/open.json"),
            ExpectedEmail {
                event: EmailEventType::Opened,
                message_id: "883953f4-6105-42a2-a16a-77a8eac79483",
                email_id: Some("em_01HZX3"),
                recipient: "john@example.com",
                reason: None,
                url: None,
                dedupe_key: "Open:883953f4-6105-42a2-a16a-77a8eac79483:john@example.com:2019-11-05T16:33:54.9070259Z:",
                occurred_at_ms: 1_572_971_634_907,
            },
        ),
        (
            include_str!("fixtures/click.json"),
            ExpectedEmail {
                event: EmailEventType::Clicked,
                message_id: "00000000-0000-0000-0000-000000000000",
                email_id: Some("em_01HZX3"),
                recipient: "john@example.com",
                reason: None,
                url: Some("https://example.com"),
                dedupe_key: "Click:00000000-0000-0000-0000-000000000000:john@example.com:2017-10-25T15:21:11.0000000Z:https://example.com",
                occurred_at_ms: 1_508_944_871_000,
            },
        ),
        (
            include_str!("fixtures/subscription_change.json"),
            ExpectedEmail {
                event: EmailEventType::Unsubscribed,
                message_id: "883953f4-6105-42a2-a16a-77a8eac79483",
                email_id: Some("em_01HZX3"),
                recipient: "john@example.com",
                reason: Some("ManualSuppression"),
                url: None,
                dedupe_key: "SubscriptionChange:883953f4-6105-42a2-a16a-77a8eac79483:john@example.com:2020-02-01T10:53:34.416071Z:true",
                occurred_at_ms: 1_580_554_414_416,
            },
        ),
    ];
    crate::http::double::check_email_events(&*WEBHOOKS, &cases);
}

#[test]
fn suppression_changes() {
    // A hard bounce suppresses the address too.
    let events = parse(include_bytes!(
        "fixtures/subscription_change_hard_bounce.json"
    ))
    .expect("parsed");
    let EventKind::Email(email) = &events[0].kind else {
        panic!("{events:?}");
    };
    assert_eq!(email.event, EmailEventType::HardBounce);
    assert!(email.event.suppresses());

    // A reactivation (no message) is stored for inspection only.
    let events = parse(include_bytes!(
        "fixtures/subscription_change_reactivated.json"
    ))
    .expect("parsed");
    assert_eq!(
        events[0].kind,
        EventKind::Unknown {
            event_type: "SubscriptionChange".into()
        }
    );
    assert_eq!(
        events[0].dedupe_key,
        "SubscriptionChange:-:bounced-address@wildbit.com:2020-02-03T09:00:00.000000Z:false"
    );
}

#[test]
fn unknown_and_malformed_records() {
    let events = parse(include_bytes!("fixtures/bounce_autoresponder.json")).expect("parsed");
    assert_eq!(
        events[0].kind,
        EventKind::Unknown {
            event_type: "Bounce.AutoResponder".into()
        }
    );
    assert_eq!(events[0].dedupe_key, "Bounce:692560175");

    let body = include_bytes!("fixtures/unknown_record.json");
    let events = parse(body).expect("parsed");
    assert_eq!(
        events[0].kind,
        EventKind::Unknown {
            event_type: "LinkHealthCheck".into()
        }
    );
    // Keyed by a hash of the record, stable across redeliveries and formatting.
    let compact =
        serde_json::to_vec(&serde_json::from_slice::<Value>(body).expect("json")).expect("json");
    assert!(events[0].dedupe_key.starts_with("LinkHealthCheck:"));
    assert_eq!(
        parse(&compact).expect("parsed")[0].dedupe_key,
        events[0].dedupe_key
    );

    for body in [
        &b"not json"[..],
        b"[]",
        br#"{"MessageID":"m"}"#,
        br#"{"RecordType":"Bounce","Type":"HardBounce","MessageID":"m","Email":"a@b"}"#,
        br#"{"RecordType":"Delivery","MessageID":"m"}"#,
        br#"{"RecordType":"Delivery","Recipient":"a@b"}"#,
        br#"{"RecordType":"Open","MessageID":"m","Recipient":"a@b"}"#,
    ] {
        assert!(
            matches!(parse(body), Err(WebhookError::Malformed(_))),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

mod fuzz {
    use super::{basic, parse, verify_with};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,24}".prop_map(Value::String),
            Just(json!("2019-11-05T16:33:54.9070259Z")),
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            (
                prop::sample::select(vec![
                    "Delivery",
                    "Bounce",
                    "SpamComplaint",
                    "Open",
                    "Click",
                    "SubscriptionChange",
                    "x",
                ]),
                prop::collection::vec(
                    (
                        prop::sample::select(vec![
                            "ID",
                            "Type",
                            "MessageID",
                            "Recipient",
                            "Email",
                            "ReceivedAt",
                            "ChangedAt",
                            "SuppressSending",
                            "SuppressionReason",
                            "OriginalLink",
                            "Metadata",
                        ]),
                        value(),
                    ),
                    0..8,
                ),
            )
                .prop_map(|(kind, fields)| {
                    let mut record = serde_json::Map::new();
                    record.insert("RecordType".into(), json!(kind));
                    for (name, v) in fields {
                        record.insert(name.into(), v);
                    }
                    serde_json::to_vec(&record).unwrap_or_default()
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any body or `Authorization` header is refused or read without a panic, and
        /// every event read has a key.
        #[test]
        fn verifier_and_parser_never_panic(
            body in body(),
            header in prop_oneof![".{0,40}", Just(basic("postmark", "s3cr3t:pa55"))],
        ) {
            let pm = &*super::WEBHOOKS;
            let _ = verify_with(pm, http::HeaderValue::from_str(&header).ok().map(|_| header.as_str()), &body);
            if let Ok(events) = parse(&body) {
                for e in events {
                    prop_assert!(!e.dedupe_key.is_empty());
                }
            }
        }
    }
}
