//! The adapter against the local HTTP double that records what it is sent: the exact Mail
//! Send request SendGrid documents, the connection check, error classes, and webhooks
//! through the built adapter.

use super::*;
use crate::capability::{Attachment, Email, EmailRequest, Mailbox, WebhookError, WebhookRequest};
use crate::error::{Delivery, ErrorClass};
use crate::events::{EmailEventType, EventKind};
use crate::http::double::Double;
use crate::http::{HttpClient, RetryPolicy};
use axum::http::{HeaderMap, Method};
use p256::ecdsa::SigningKey;
use serde_json::{Value, json};
use std::time::Duration;

const API_KEY: &str = "SG.k3y1d.s3cr3t";

/// SendGrid's answer to an accepted email: 202, no body, the id in a header.
const ACCEPTED: &[(&str, &str)] = &[("x-message-id", "W1ixWXPbQNuVw5uRWPhPvA")];

fn context(base: &str, public_key: Option<&str>) -> ProviderContext {
    let mut credentials = serde_json::Map::new();
    credentials.insert("api_key".into(), API_KEY.into());
    credentials.insert("base_url".into(), base.into());
    if let Some(key) = public_key {
        credentials.insert("webhook_public_key".into(), key.into());
    }
    ProviderContext {
        provider_id: "prv_sendgrid".into(),
        credentials,
        webhook_url: "https://sy.example/v1/webhooks/prv_sendgrid".into(),
        sandbox_url: None,
        // One attempt: each queued answer is seen exactly once.
        http: HttpClient::new(RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
        }),
    }
}

fn adapter(base: &str, public_key: Option<&str>) -> Adapter {
    crate::registry::build("sendgrid", &context(base, public_key)).expect("adapter")
}

fn mailer(adapter: &Adapter) -> &dyn Email {
    adapter.email.as_deref().expect("email")
}

const PDF: &[u8] = b"%PDF-1.4\n\x00\xff\xfe binary";

fn request() -> EmailRequest {
    EmailRequest {
        email_id: "em_01HV7".into(),
        from: Mailbox {
            name: Some("Zoë's Shop".into()),
            address: "news@shop.example".into(),
        },
        to: vec![
            Mailbox {
                name: Some("Ada Lovelace".into()),
                address: "ada@example.com".into(),
            },
            Mailbox::new("grace@example.com"),
        ],
        cc: vec![Mailbox::new("cc@example.com")],
        bcc: vec![Mailbox::new("hidden@example.com")],
        reply_to: Some(Mailbox::new("help@shop.example")),
        subject: "Grüße aus Köln — 10 % off ✓".into(),
        text: Some("Hello Ada,\nthe sale starts today.".into()),
        html: Some("<p>Hello Ada,</p><p>the sale starts <b>today</b>.</p>".into()),
        attachments: vec![Attachment {
            filename: "terms.pdf".into(),
            content_type: "application/pdf".into(),
            content: PDF.to_vec(),
        }],
        headers: vec![
            (
                "List-Unsubscribe".into(),
                "<mailto:unsubscribe@shop.example?subject=u-tok>, <https://sy.example/u/tok>"
                    .into(),
            ),
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into(),
            ),
        ],
        tags: vec!["sale".into(), "spring".into(), "sale".into()],
        provider_tracking: false,
        idempotency_key: "em_01HV7:0".into(),
    }
}

#[tokio::test]
async fn mail_send_is_the_documented_request() {
    let double = Double::start(202, "").await;
    double.then(202, ACCEPTED, "");
    double.then(202, ACCEPTED, "");
    let sg = adapter(&double.base_url, None);
    let sent = mailer(&sg).send_email(&request()).await.expect("accepted");
    assert_eq!(
        sent.message_id, "W1ixWXPbQNuVw5uRWPhPvA",
        "from X-Message-Id"
    );

    let seen = double.requests();
    assert_eq!(seen.len(), 1);
    let got = &seen[0];
    assert_eq!(got.method, Method::POST);
    assert_eq!(got.path, "/v3/mail/send");
    assert_eq!(got.header("authorization"), format!("Bearer {API_KEY}"));
    assert_eq!(got.header("content-type"), "application/json");
    let body: Value = serde_json::from_slice(&got.body).expect("JSON");
    assert_eq!(
        body,
        json!({
            "personalizations": [{
                "to": [
                    { "email": "ada@example.com", "name": "Ada Lovelace" },
                    { "email": "grace@example.com" },
                ],
                "cc": [{ "email": "cc@example.com" }],
                "bcc": [{ "email": "hidden@example.com" }],
                "custom_args": { "switchyard_email_id": "em_01HV7" },
            }],
            "from": { "email": "news@shop.example", "name": "Zoë's Shop" },
            "reply_to": { "email": "help@shop.example" },
            "subject": "Grüße aus Köln — 10 % off ✓",
            "content": [
                { "type": "text/plain", "value": "Hello Ada,\nthe sale starts today." },
                { "type": "text/html", "value": "<p>Hello Ada,</p><p>the sale starts <b>today</b>.</p>" },
            ],
            "attachments": [{
                "content": "JVBERi0xLjQKAP/+IGJpbmFyeQ==",
                "type": "application/pdf",
                "filename": "terms.pdf",
                "disposition": "attachment",
            }],
            "headers": {
                "List-Unsubscribe": "<mailto:unsubscribe@shop.example?subject=u-tok>, <https://sy.example/u/tok>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            "categories": ["sale", "spring"],
            "tracking_settings": {
                "click_tracking": { "enable": false, "enable_text": false },
                "open_tracking": { "enable": false },
            },
        })
    );
    // The JSON is sent as UTF-8, not escaped.
    assert!(String::from_utf8_lossy(&got.body).contains("Grüße aus Köln — 10 % off ✓"));

    let mut tracked = request();
    tracked.provider_tracking = true;
    tracked.cc.clear();
    tracked.bcc.clear();
    tracked.html = None;
    mailer(&sg).send_email(&tracked).await.expect("accepted");
    let body: Value = serde_json::from_slice(&double.requests()[1].body).expect("JSON");
    assert_eq!(
        body["tracking_settings"],
        json!({
            "click_tracking": { "enable": true, "enable_text": true },
            "open_tracking": { "enable": true },
        })
    );
    let personalization = body["personalizations"][0].as_object().expect("object");
    assert!(!personalization.contains_key("cc") && !personalization.contains_key("bcc"));
    assert_eq!(body["content"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn at_most_ten_distinct_categories_and_each_header_once() {
    let double = Double::start(202, "").await;
    double.then(202, ACCEPTED, "");
    let sg = adapter(&double.base_url, None);
    let mut req = request();
    req.tags = (0..12).map(|i| format!("t{}", i % 11)).collect();
    mailer(&sg).send_email(&req).await.expect("accepted");
    let body: Value = serde_json::from_slice(&double.requests()[0].body).expect("JSON");
    assert_eq!(
        body["categories"],
        json!(["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"])
    );

    req.headers
        .push(("list-unsubscribe".into(), "<https://other.example>".into()));
    let err = mailer(&sg).send_email(&req).await.expect_err("refused");
    assert_eq!(err.code.as_deref(), Some("duplicate_header"));
    assert_eq!(err.class, ErrorClass::ProviderRefused);
    assert_eq!(double.requests().len(), 1, "nothing was sent");
}

#[tokio::test]
async fn errors_are_classified() {
    // Unscripted, the double accepts without an id.
    let double = Double::start(202, "").await;
    let sg = adapter(&double.base_url, None);
    let send = || async { mailer(&sg).send_email(&request()).await.expect_err("fails") };

    double.then(
        401,
        &[],
        r#"{"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked","help":null}]}"#,
    );
    let e = send().await;
    assert_eq!(
        (e.class, e.delivery, e.status),
        (
            ErrorClass::ProviderRefused,
            Delivery::NotAccepted,
            Some(401)
        )
    );
    assert!(e.message.contains("authorization grant is invalid"), "{e}");
    assert!(e.may_fail_over());

    double.then(
        403,
        &[],
        r#"{"errors":[{"message":"The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.","field":"from","help":null}]}"#,
    );
    let e = send().await;
    assert_eq!(e.class, ErrorClass::ProviderRefused);
    assert!(e.message.contains("field from"), "{e}");

    double.then(
        400,
        &[],
        r#"{"errors":[{"message":"Does not contain a valid address.","field":"personalizations.0.to.0.email","help":"http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to"}]}"#,
    );
    let e = send().await;
    assert_eq!(
        (e.class, e.delivery),
        (ErrorClass::Permanent, Delivery::NotAccepted)
    );
    assert!(!e.may_fail_over(), "no provider will deliver to it");

    double.then(
        400,
        &[],
        r#"{"errors":[{"message":"The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.","field":"subject","help":null}]}"#,
    );
    assert_eq!(send().await.class, ErrorClass::ProviderRefused);

    double.then(
        429,
        &[("retry-after", "2")],
        r#"{"errors":[{"field":null,"message":"too many requests"}]}"#,
    );
    let e = send().await;
    assert_eq!(
        (e.class, e.delivery, e.retry_after),
        (
            ErrorClass::Retryable,
            Delivery::NotAccepted,
            Some(Duration::from_secs(2))
        )
    );

    double.then(503, &[], "");
    let e = send().await;
    assert_eq!(
        (e.class, e.delivery),
        (ErrorClass::Retryable, Delivery::NotAccepted)
    );

    double.then(500, &[], r#"{"errors":[{"message":"internal error"}]}"#);
    let e = send().await;
    assert_eq!(
        (e.class, e.delivery),
        (ErrorClass::Retryable, Delivery::MaybeAccepted),
        "no idempotency key: a 500 may have sent it"
    );

    let e = send().await;
    assert_eq!(
        e.delivery,
        Delivery::MaybeAccepted,
        "accepted without an id"
    );
    assert_eq!(double.requests().len(), 8, "one attempt each");
}

#[tokio::test]
async fn connection_test_reads_the_key_scopes() {
    let double = Double::start(404, "").await;
    let sg = adapter(&double.base_url, None);
    double.then(200, &[], r#"{"scopes":["mail.send","alerts.read"]}"#);
    let info = sg.connection.test_connection().await.expect("ok");
    assert_eq!(info.account, "API key k3y1d");
    let seen = &double.requests()[0];
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::GET, "/v3/scopes")
    );
    assert_eq!(seen.header("authorization"), format!("Bearer {API_KEY}"));
    assert!(seen.body.is_empty());

    double.then(200, &[], r#"{"scopes":["alerts.read"]}"#);
    let e = sg
        .connection
        .test_connection()
        .await
        .expect_err("no mail.send");
    assert_eq!(e.code.as_deref(), Some("missing_scope"));
    double.then(
        401,
        &[],
        r#"{"errors":[{"field":null,"message":"authorization required"}]}"#,
    );
    let e = sg.connection.test_connection().await.expect_err("bad key");
    assert_eq!(e.class, ErrorClass::ProviderRefused);
}

#[test]
fn configuration_is_checked() {
    let built = from_credentials(
        &context("http://127.0.0.1:9", None),
        "http://127.0.0.1:9".into(),
    )
    .expect("client");
    assert!(
        !format!("{built:?}").contains("s3cr3t"),
        "the key stays out of logs"
    );
    let ctx = context("http://127.0.0.1:9", Some("AAAA"));
    let err = crate::registry::build("sendgrid", &ctx).expect_err("bad key");
    assert!(err.to_string().contains("webhook_public_key"), "{err}");
    let ctx = context("not a url", None);
    assert!(crate::registry::build("sendgrid", &ctx).is_err());
}

fn hook<'a>(headers: &'a HeaderMap, body: &'a [u8], now: i64) -> WebhookRequest<'a> {
    WebhookRequest {
        url: "https://sy.example/v1/webhooks/prv_sendgrid",
        headers,
        body,
        now_secs: now,
    }
}

#[test]
fn webhooks_through_the_adapter() {
    let key = SigningKey::from_slice(&[42u8; 32]).expect("scalar");
    let public = signature::encode_public_key(key.verifying_key());
    let other = signature::encode_public_key(
        SigningKey::from_slice(&[43u8; 32])
            .expect("scalar")
            .verifying_key(),
    );
    let body = include_str!("fixtures/events.json").as_bytes();
    let now = 1_700_000_000;
    let mut headers = HeaderMap::new();
    headers.insert(
        signature::SIGNATURE_HEADER,
        signature::sign(&key, now, body).parse().expect("header"),
    );
    headers.insert(
        signature::TIMESTAMP_HEADER,
        now.to_string().parse().expect("header"),
    );

    let unkeyed = adapter("http://127.0.0.1:9", None);
    assert!(matches!(
        unkeyed.webhooks.verify(&hook(&headers, body, now)),
        Err(WebhookError::NotConfigured(_))
    ));

    let sg = adapter("http://127.0.0.1:9", Some(&public));
    let w = &sg.webhooks;
    assert_eq!(w.verify(&hook(&headers, body, now + 60)), Ok(()));
    let tampered = String::from_utf8_lossy(body).replace("bounce", "delivered");
    assert_eq!(
        w.verify(&hook(&headers, tampered.as_bytes(), now)),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        adapter("http://127.0.0.1:9", Some(&other))
            .webhooks
            .verify(&hook(&headers, body, now)),
        Err(WebhookError::BadSignature),
        "wrong key"
    );
    assert_eq!(
        w.verify(&hook(&HeaderMap::new(), body, now)),
        Err(WebhookError::Unsigned(
            "X-Twilio-Email-Event-Webhook-Signature"
        ))
    );
    assert_eq!(
        w.verify(&hook(&headers, body, now + 301)),
        Err(WebhookError::Stale(300)),
        "replayed five minutes later"
    );

    let events = w.parse(&hook(&headers, body, now)).expect("parses");
    assert_eq!(events.len(), 12);
    assert!(events.iter().any(|e| matches!(
        &e.kind,
        EventKind::Email(m) if m.event == EmailEventType::HardBounce
    )));
    assert!(matches!(
        w.parse(&hook(&headers, b"{}", now)),
        Err(WebhookError::Malformed(_))
    ));
    assert_eq!(
        w.acknowledgement(&hook(&headers, b"{}", now)).0,
        "application/json"
    );
}
