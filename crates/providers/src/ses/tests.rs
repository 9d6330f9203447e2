//! The SES adapter against local doubles: the exact SendEmail request, error mapping, SNS
//! signature verification and certificate fetching, and the documented SES events.

use super::sigv4::{self, Credentials, Scope, Unsigned};
use super::sns::tests::TestSigner;
use super::sns::{REPLAY_WINDOW_SECS, Verifier};
use super::{Ses, settings};
use crate::adapter::ProviderContext;
use crate::capability::*;
use crate::error::{Delivery, ErrorClass};
use crate::events::{EmailEvent, EmailEventType, EventKind};
use crate::http::{HttpClient, RetryPolicy};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// One request the double received.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

type Reply = (u16, Vec<(&'static str, String)>, String);

#[derive(Clone, Default)]
struct DoubleState {
    seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
}

/// An HTTP server on 127.0.0.1 that records every request and answers each path with
/// the reply set for it (404 otherwise).
struct Double {
    origin: String,
    state: DoubleState,
}

impl Double {
    async fn start() -> Self {
        let state = DoubleState::default();
        let app = axum::Router::new()
            .fallback(record)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Double { origin, state }
    }

    fn reply(&self, path: &str, status: u16, headers: &[(&'static str, &str)], body: &str) {
        let headers = headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.state
            .replies
            .lock()
            .expect("replies")
            .insert(path.to_string(), (status, headers, body.to_string()));
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("seen").clone()
    }

    fn hits(&self, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path.starts_with(path))
            .count()
    }
}

async fn record(
    State(state): State<DoubleState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    state.seen.lock().expect("seen").push(Seen {
        method,
        path: uri.to_string(),
        headers,
        body: body.to_vec(),
    });
    let reply = state
        .replies
        .lock()
        .expect("replies")
        .get(uri.path())
        .cloned();
    let (status, headers, body) = reply.unwrap_or((404, vec![], String::new()));
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(k, v.parse().expect("header value"));
    }
    (StatusCode::from_u16(status).expect("status"), map, body)
}

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKEN";
const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:MyTopic";

fn fast_http() -> HttpClient {
    HttpClient::new(RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        timeout: Duration::from_secs(5),
    })
}

fn ctx(base: Option<&str>, extra: &[(&str, &str)]) -> ProviderContext {
    let mut credentials = serde_json::Map::new();
    credentials.insert("access_key_id".into(), "AKIDEXAMPLE".into());
    credentials.insert("secret_access_key".into(), SECRET.into());
    credentials.insert("session_token".into(), TOKEN.into());
    credentials.insert("region".into(), "eu-west-1".into());
    credentials.insert("configuration_set".into(), "switchyard-events".into());
    if let Some(base) = base {
        credentials.insert("base_url".into(), base.into());
    }
    for (k, v) in extra {
        credentials.insert((*k).into(), (*v).into());
    }
    ProviderContext {
        provider_id: "prv_ses".into(),
        credentials,
        webhook_url: "https://switchyard.example/v1/webhooks/prv_ses".into(),
        sandbox_url: None,
        http: fast_http(),
    }
}

fn client(base: &str, extra: &[(&str, &str)]) -> Ses {
    let ctx = ctx(Some(base), extra);
    Ses::new(settings(&ctx, Verifier::new(None)).expect("settings"))
}

fn email() -> EmailRequest {
    EmailRequest {
        email_id: "em_01J9ZK".into(),
        from: Mailbox {
            name: Some("Zoë Shop".into()),
            address: "news@shop.example".into(),
        },
        to: vec![Mailbox {
            name: Some("Ada Lovelace".into()),
            address: "ada@example.com".into(),
        }],
        cc: vec![Mailbox::new("cc@example.com")],
        bcc: vec![Mailbox::new("hidden@example.com")],
        reply_to: Some(Mailbox::new("help@shop.example")),
        subject: "Grüße – 10 % off".into(),
        text: Some("Hello Ada".into()),
        html: Some("<p>Hello <a href=\"https://shop.example/sale\">Ada</a></p>".into()),
        attachments: vec![Attachment {
            filename: "terms.pdf".into(),
            content_type: "application/pdf".into(),
            content: b"%PDF-1.4 terms".to_vec(),
        }],
        headers: vec![
            (
                "List-Unsubscribe".into(),
                "<https://shop.example/u/1>".into(),
            ),
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into(),
            ),
        ],
        tags: vec![
            "spring sale".into(),
            "newsletter".into(),
            "newsletter".into(),
        ],
        provider_tracking: false,
        idempotency_key: "attempt-1".into(),
    }
}

const SEND_PATH: &str = "/v2/email/outbound-emails";

/// SendEmail as the API reference documents it
/// (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html): JSON with
/// the raw MIME base64 in `Content.Raw.Data`, signed with SigV4 for service `ses`.
#[tokio::test]
async fn sends_the_documented_request() {
    let double = Double::start().await;
    double.reply(
        SEND_PATH,
        200,
        &[("content-type", "application/json")],
        r#"{"MessageId":"0100018f-ses-message-id-000000"}"#,
    );
    let ses = client(
        &double.origin,
        &[("tracking_configuration_set", "switchyard-tracked")],
    );
    let sent = ses.send_email(&email()).await.expect("sent");
    assert_eq!(sent.message_id, "0100018f-ses-message-id-000000");

    let seen = double.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, Method::POST);
    assert_eq!(req.path, SEND_PATH);
    let header = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("x-amz-security-token"), TOKEN);
    let amz_date = header("x-amz-date");
    let at = chrono::NaiveDateTime::parse_from_str(&amz_date, "%Y%m%dT%H%M%SZ")
        .expect("X-Amz-Date")
        .and_utc();
    let authorization = header("authorization");
    assert!(
        authorization.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{}/eu-west-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
        , &amz_date[..8])),
        "{authorization}"
    );
    // The signature covers exactly the bytes and the Host that went on the wire.
    assert_eq!(header("host"), double.origin.trim_start_matches("http://"));
    let expected = sigv4::sign(
        &Unsigned {
            method: "POST",
            url: &format!("{}{SEND_PATH}", double.origin),
            headers: &[("Content-Type", "application/json")],
            payload: &req.body,
        },
        &Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: SECRET.into(),
            session_token: Some(TOKEN.into()),
        },
        Scope {
            region: "eu-west-1",
            service: "ses",
        },
        at,
    )
    .expect("sign");
    assert!(expected.contains(&("Authorization".into(), authorization.clone())));

    let mut body: Value = serde_json::from_slice(&req.body).expect("JSON body");
    let data = body
        .pointer_mut("/Content/Raw/Data")
        .map(Value::take)
        .expect("Content.Raw.Data");
    assert_eq!(
        body,
        json!({
            "FromEmailAddress": "news@shop.example",
            "Destination": {
                "ToAddresses": ["ada@example.com"],
                "CcAddresses": ["cc@example.com"],
                "BccAddresses": ["hidden@example.com"],
            },
            "ReplyToAddresses": ["help@shop.example"],
            "Content": {"Raw": {"Data": null}},
            "EmailTags": [
                {"Name": "switchyard_email_id", "Value": "em_01J9ZK"},
                {"Name": "spring_sale", "Value": "true"},
                {"Name": "newsletter", "Value": "true"},
            ],
            "ConfigurationSetName": "switchyard-events",
        })
    );
    let mime = String::from_utf8(
        STANDARD
            .decode(data.as_str().expect("base64 text"))
            .expect("base64"),
    )
    .expect("UTF-8 MIME");
    for part in [
        "From: =?utf-8?",
        "To: \"Ada Lovelace\" <ada@example.com>",
        "Cc: cc@example.com",
        "Reply-To: help@shop.example",
        "Subject: =?utf-8?",
        "Message-ID: <em_01J9ZK@shop.example>",
        "List-Unsubscribe: <https://shop.example/u/1>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Content-Type: multipart/mixed",
        "Content-Type: multipart/alternative",
        "filename=\"terms.pdf\"",
        "Hello Ada",
        // Provider tracking off: SES must not rewrite the links.
        "<a ses:no-track href=\"https://shop.example/sale\">",
    ] {
        assert!(mime.contains(part), "{part} missing from\n{mime}");
    }
    assert!(!mime.contains("hidden@example.com"), "Bcc is not a header");

    // Provider tracking on: links untouched, the tracking configuration set.
    let mut tracked = email();
    tracked.provider_tracking = true;
    ses.send_email(&tracked).await.expect("sent");
    let seen = double.seen();
    let body: Value = serde_json::from_slice(&seen[1].body).expect("JSON body");
    assert_eq!(body["ConfigurationSetName"], "switchyard-tracked");
    let mime = STANDARD
        .decode(body["Content"]["Raw"]["Data"].as_str().expect("data"))
        .expect("base64");
    assert!(!String::from_utf8_lossy(&mime).contains("ses:no-track"));
}

#[tokio::test]
async fn errors_are_classified() {
    let double = Double::start().await;
    let ses = client(&double.origin, &[]);
    let json = [("content-type", "application/json")];
    let cases: &[(u16, &str, &str, ErrorClass, Delivery)] = &[
        (
            401,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            ErrorClass::ProviderRefused,
            Delivery::NotAccepted,
        ),
        (
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
            ErrorClass::ProviderRefused,
            Delivery::NotAccepted,
        ),
        (
            400,
            "AccountSuspendedException",
            "Your account has been suspended.",
            ErrorClass::ProviderRefused,
            Delivery::NotAccepted,
        ),
        (
            400,
            "BadRequestException",
            "Missing final '@domain'",
            ErrorClass::Permanent,
            Delivery::NotAccepted,
        ),
        (
            400,
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in region EU-WEST-1: ada@example.com",
            ErrorClass::ProviderRefused,
            Delivery::NotAccepted,
        ),
        (
            429,
            "TooManyRequestsException",
            "Too Many Requests",
            ErrorClass::Retryable,
            Delivery::NotAccepted,
        ),
        (
            500,
            "InternalFailure",
            "Internal error",
            ErrorClass::Retryable,
            Delivery::MaybeAccepted,
        ),
        (
            503,
            "ServiceUnavailable",
            "Unavailable",
            ErrorClass::Retryable,
            Delivery::NotAccepted,
        ),
    ];
    for (status, code, message, class, delivery) in cases {
        let error_type =
            format!("{code}:http://internal.amazon.com/coral/com.amazon.coral.service/");
        double.reply(
            SEND_PATH,
            *status,
            &[json[0], ("x-amzn-errortype", &error_type)],
            &json!({ "message": message }).to_string(),
        );
        let err = ses.send_email(&email()).await.expect_err("refused");
        assert_eq!(err.class, *class, "{status} {code}: {err}");
        assert_eq!(err.delivery, *delivery, "{status} {code}: {err}");
        assert_eq!(err.status, Some(*status));
    }
    // The body's `__type` names the error when the header does not.
    double.reply(
        SEND_PATH,
        400,
        &json,
        r#"{"__type":"com.amazonaws.sesv2#MessageRejected","message":"Message contains a virus"}"#,
    );
    let err = ses.send_email(&email()).await.expect_err("rejected");
    assert_eq!(err.class, ErrorClass::Permanent, "{err}");
    assert_eq!(err.code.as_deref(), Some("MessageRejected"));
}

/// GetAccount (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html).
#[tokio::test]
async fn test_connection_reads_the_account() {
    let double = Double::start().await;
    let ses = client(&double.origin, &[]);
    double.reply(
        "/v2/email/account",
        200,
        &[("content-type", "application/json")],
        r#"{"DedicatedIpAutoWarmupEnabled":false,"EnforcementStatus":"HEALTHY","ProductionAccessEnabled":true,"SendQuota":{"Max24HourSend":50000.0,"MaxSendRate":14.0,"SentLast24Hours":12.0},"SendingEnabled":true}"#,
    );
    let info = ses.test_connection().await.expect("connected");
    assert_eq!(info.account, "Amazon SES eu-west-1");
    assert!(
        info.detail.contains("production access") && info.detail.contains("50000"),
        "{}",
        info.detail
    );
    let seen = double.seen();
    assert_eq!(
        (&seen[0].method, seen[0].path.as_str()),
        (&Method::GET, "/v2/email/account")
    );
    assert!(seen[0].headers.contains_key("authorization"));

    double.reply(
        "/v2/email/account",
        200,
        &[],
        r#"{"SendingEnabled":false,"ProductionAccessEnabled":false}"#,
    );
    let err = ses.test_connection().await.expect_err("paused");
    assert_eq!(err.code.as_deref(), Some("sending_disabled"));
}

#[test]
fn credentials_are_checked() {
    let adapter = super::build(&ctx(None, &[])).expect("built without base_url");
    assert!(adapter.email.is_some());
    assert!(super::build(&ctx(None, &[("region", "EU WEST")])).is_err());
    assert!(super::build(&ctx(Some("not a url"), &[])).is_err());
    let mut missing = ctx(None, &[]);
    missing.credentials.remove("secret_access_key");
    assert!(super::build(&missing).is_err());
    let descriptor = super::descriptor();
    assert_eq!(descriptor.max_email_bytes, Some(40_000_000));
}

// ---- SNS webhooks ----

const CERT_URL: &str = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem";

fn signer() -> &'static TestSigner {
    static SIGNER: OnceLock<TestSigner> = OnceLock::new();
    SIGNER.get_or_init(TestSigner::new)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("time")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The documented notification (https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html)
/// carrying `message`, sent at `sent`, signed with the test key.
fn notification(message: &str, sent: i64, version: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(include_str!("fixtures/sns_notification.json")).expect("fixture");
    v["Message"] = message.into();
    v["Timestamp"] = rfc3339(sent).into();
    signer().sign(&mut v, version);
    v
}

fn webhook(body: &[u8], now_secs: i64) -> WebhookRequest<'_> {
    static HEADERS: OnceLock<HeaderMap> = OnceLock::new();
    WebhookRequest {
        url: "https://switchyard.example/v1/webhooks/prv_ses",
        headers: HEADERS.get_or_init(HeaderMap::new),
        body,
        now_secs,
    }
}

fn verifier_with_cert(topic: Option<&str>) -> Verifier {
    let verifier = Verifier::new(topic.map(str::to_owned));
    verifier
        .seed(CERT_URL, &signer().cert_pem, now())
        .expect("seeded");
    verifier
}

#[test]
fn sns_signatures_are_verified() {
    let t = now();
    let ses =
        Ses::new(settings(&ctx(None, &[]), verifier_with_cert(Some(TOPIC))).expect("settings"));
    for version in ["1", "2"] {
        let good = notification("Hello world!", t - 10, version).to_string();
        assert_eq!(
            ses.verify(&webhook(good.as_bytes(), t)),
            Ok(()),
            "v{version}"
        );
    }
    let good = notification("Hello world!", t - 10, "2");

    // Tampered body: the Message changed after signing.
    let mut tampered = good.clone();
    tampered["Message"] = "Hello world?".into();
    let body = tampered.to_string();
    assert_eq!(
        ses.verify(&webhook(body.as_bytes(), t)),
        Err(WebhookError::BadSignature)
    );

    // Signed with another key.
    let other = TestSigner::new();
    let mut forged = good.clone();
    other.sign(&mut forged, "2");
    let body = forged.to_string();
    assert_eq!(
        ses.verify(&webhook(body.as_bytes(), t)),
        Err(WebhookError::BadSignature)
    );

    // No signature at all, or not an SNS message.
    let mut unsigned = good.clone();
    unsigned
        .as_object_mut()
        .expect("object")
        .remove("Signature");
    let body = unsigned.to_string();
    assert_eq!(
        ses.verify(&webhook(body.as_bytes(), t)),
        Err(WebhookError::Unsigned("Signature"))
    );
    assert_eq!(
        ses.verify(&webhook(b"not json", t)),
        Err(WebhookError::Unsigned("Signature"))
    );

    // A replay: validly signed, but sent more than an hour ago.
    let old = notification("Hello world!", t - REPLAY_WINDOW_SECS - 60, "2").to_string();
    assert_eq!(
        ses.verify(&webhook(old.as_bytes(), t)),
        Err(WebhookError::Stale(REPLAY_WINDOW_SECS))
    );

    // A certificate URL that is not an SNS host over HTTPS, and one never fetched.
    for (url, expected) in [
        (
            "https://sns.us-west-2.amazonaws.com.evil.example/cert.pem",
            WebhookError::BadSignature,
        ),
        (
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-other.pem",
            WebhookError::NotConfigured("the SNS signing certificate has not been fetched".into()),
        ),
    ] {
        let mut moved = good.clone();
        moved["SigningCertURL"] = url.into();
        let body = moved.to_string();
        assert_eq!(
            ses.verify(&webhook(body.as_bytes(), t)),
            Err(expected),
            "{url}"
        );
    }

    // A topic other than the pinned one, even validly signed.
    let mut elsewhere = good.clone();
    elsewhere["TopicArn"] = "arn:aws:sns:us-west-2:123456789012:OtherTopic".into();
    signer().sign(&mut elsewhere, "2");
    let body = elsewhere.to_string();
    assert_eq!(
        ses.verify(&webhook(body.as_bytes(), t)),
        Err(WebhookError::BadSignature)
    );

    // An unknown signature version.
    let mut v3 = good.clone();
    v3["SignatureVersion"] = "3".into();
    let body = v3.to_string();
    assert_eq!(
        ses.verify(&webhook(body.as_bytes(), t)),
        Err(WebhookError::BadSignature)
    );
}

/// A message SNS itself signed (SignatureVersion 1, with a `Subject` and unsigned
/// `MessageAttributes`) and the SNS certificate that verifies it, from AWS's own SDK tests:
/// https://github.com/aws/aws-sdk-java-v2/tree/master/services/sns/src/test/resources/software/amazon/awssdk/services/sns
/// (`sample-message.json`, `unit-test-public-cert.pem`, checked by
/// `SnsSignatureCheckerTest`).
#[test]
fn a_message_signed_by_sns_itself() {
    const SENT: i64 = 1_442_712_134; // 2015-09-20T01:22:14Z
    const URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem";
    let pem = include_str!("fixtures/aws_sdk_sns_cert.pem");
    let verifier = Verifier::new(Some(
        "arn:aws:sns:us-east-1:810605503585:just_testing".into(),
    ));
    verifier.seed(URL, pem, SENT).expect("AWS's certificate");
    let body = include_str!("fixtures/aws_sdk_sns_message.json");
    assert_eq!(
        verifier.verify(&webhook(body.as_bytes(), SENT + 60)),
        Ok(())
    );
    let tampered = body.replace("\"boo\"", "\"boo!\"");
    assert_eq!(
        verifier.verify(&webhook(tampered.as_bytes(), SENT + 60)),
        Err(WebhookError::BadSignature)
    );
    // The same message a day later is a replay.
    assert_eq!(
        verifier.verify(&webhook(body.as_bytes(), SENT + 86_400)),
        Err(WebhookError::Stale(REPLAY_WINDOW_SECS))
    );
    // The certificate expired in 2016: it is not taken today.
    assert!(matches!(
        Verifier::new(None).seed(URL, pem, now()),
        Err(WebhookError::NotConfigured(_))
    ));
}

/// `prepare` fetches the certificate once, checks a subscription confirmation
/// (https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html) and
/// visits its SubscribeURL; a certificate URL on an untrusted host is never fetched.
#[tokio::test]
async fn prepare_fetches_the_certificate_and_confirms() {
    let double = Double::start().await;
    double.reply("/cert.pem", 200, &[], &signer().cert_pem);
    double.reply(
        "/confirm",
        200,
        &[("content-type", "text/xml")],
        "<ConfirmSubscriptionResponse/>",
    );
    let t = now();
    let verifier = Verifier::trusting_origin(&double.origin, None);
    let ses = Ses::new(settings(&ctx(None, &[]), verifier).expect("settings"));

    let mut confirmation: Value =
        serde_json::from_str(include_str!("fixtures/sns_subscription_confirmation.json"))
            .expect("fixture");
    confirmation["Timestamp"] = rfc3339(t - 5).into();
    confirmation["SigningCertURL"] = format!("{}/cert.pem", double.origin).into();
    confirmation["SubscribeURL"] = format!(
        "{}/confirm?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37",
        double.origin
    )
    .into();
    signer().sign(&mut confirmation, "1");
    let body = confirmation.to_string();
    let req = webhook(body.as_bytes(), t);
    ses.prepare(&req).await.expect("prepared");
    assert_eq!(ses.verify(&req), Ok(()));
    assert_eq!(double.hits("/cert.pem"), 1);
    assert_eq!(double.hits("/confirm"), 1);
    let confirm = double
        .seen()
        .into_iter()
        .find(|s| s.path.starts_with("/confirm"))
        .expect("confirmed");
    assert_eq!(confirm.method, Method::GET);
    assert!(
        confirm.path.contains("Token=2336412f37"),
        "{}",
        confirm.path
    );
    assert!(!confirm.headers.contains_key("authorization"));
    let events = ses.parse(&req).expect("parsed");
    assert_eq!(
        events[0].kind,
        EventKind::Unknown {
            event_type: "SubscriptionConfirmation".into()
        }
    );

    // A notification signed with the same certificate: no second fetch, no confirmation.
    let mut note = notification(include_str!("fixtures/delivery.json"), t - 5, "2");
    note["SigningCertURL"] = format!("{}/cert.pem", double.origin).into();
    signer().sign(&mut note, "2");
    let body = note.to_string();
    let req = webhook(body.as_bytes(), t);
    ses.prepare(&req).await.expect("prepared");
    assert_eq!(ses.verify(&req), Ok(()));
    assert_eq!(double.hits("/cert.pem"), 1);
    assert_eq!(double.hits("/confirm"), 1);

    // Another host: refused before any request.
    let mut foreign = note.clone();
    foreign["SigningCertURL"] = "https://evil.example/cert.pem".into();
    let body = foreign.to_string();
    assert_eq!(
        ses.prepare(&webhook(body.as_bytes(), t)).await,
        Err(WebhookError::BadSignature)
    );
    // A certificate that cannot be fetched.
    let mut missing = note.clone();
    missing["SigningCertURL"] = format!("{}/gone.pem", double.origin).into();
    let body = missing.to_string();
    assert!(matches!(
        ses.prepare(&webhook(body.as_bytes(), t)).await,
        Err(WebhookError::NotConfigured(_))
    ));
    assert_eq!(double.seen().len(), 3);
}

// ---- SES events ----

fn parse(record: &str) -> Vec<crate::events::ProviderEvent> {
    let ses = Ses::new(settings(&ctx(None, &[]), Verifier::new(None)).expect("settings"));
    let body = notification(record, now(), "2").to_string();
    ses.parse(&webhook(body.as_bytes(), now())).expect("parsed")
}

fn email_event(e: &crate::events::ProviderEvent) -> &EmailEvent {
    match &e.kind {
        EventKind::Email(email) => email,
        other => panic!("not an email event: {other:?}"),
    }
}

/// An event as (recipient, type, reason).
type Expected<'a> = (Option<&'a str>, EmailEventType, Option<&'a str>);

const SNS_ID: &str = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324";
const SES_ID: &str = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000";

/// Every event type of SES event publishing, from the documentation's examples
/// (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html),
/// and the older feedback notifications
/// (https://docs.aws.amazon.com/ses/latest/dg/notification-examples.html).
#[test]
fn parses_every_documented_event() {
    use EmailEventType::*;
    let cases: &[(&str, &[Expected])] = &[
        (
            include_str!("fixtures/bounce.json"),
            &[(
                Some("recipient@example.com"),
                HardBounce,
                Some("smtp; 550 5.1.1 user unknown"),
            )],
        ),
        (
            include_str!("fixtures/bounce_transient.json"),
            &[
                (
                    Some("full@example.com"),
                    SoftBounce,
                    Some("smtp; 552 5.2.2 mailbox full"),
                ),
                (Some("other@example.com"), SoftBounce, Some("MailboxFull")),
            ],
        ),
        (
            include_str!("fixtures/bounce_undetermined.json"),
            &[(
                Some("recipient@example.com"),
                SoftBounce,
                Some("Undetermined"),
            )],
        ),
        (
            include_str!("fixtures/complaint.json"),
            &[(Some("recipient@example.com"), Complained, Some("abuse"))],
        ),
        (
            include_str!("fixtures/delivery.json"),
            &[(
                Some("recipient@example.com"),
                Delivered,
                Some("250 2.6.0 Message received"),
            )],
        ),
        (
            include_str!("fixtures/send.json"),
            &[
                (Some("recipient@example.com"), Sent, None),
                (Some("cc@example.com"), Sent, None),
            ],
        ),
        (
            include_str!("fixtures/reject.json"),
            &[(Some("recipient@example.com"), Dropped, Some("Bad content"))],
        ),
        (
            include_str!("fixtures/delivery_delay.json"),
            &[(
                Some("recipient@example.com"),
                Deferred,
                Some("smtp; 421 4.4.1 Unable to connect to remote host"),
            )],
        ),
        (
            include_str!("fixtures/open.json"),
            &[(Some("recipient@example.com"), Opened, None)],
        ),
        (
            include_str!("fixtures/click.json"),
            &[(Some("recipient@example.com"), Clicked, None)],
        ),
        (
            include_str!("fixtures/subscription.json"),
            &[(
                Some("recipient@example.com"),
                Unsubscribed,
                Some("UnsubscribeHeader"),
            )],
        ),
        (
            include_str!("fixtures/notification_bounce.json"),
            &[(
                Some("jane@example.com"),
                HardBounce,
                Some("smtp; 550 5.1.1 <jane@example.com>... User"),
            )],
        ),
        (
            include_str!("fixtures/notification_complaint.json"),
            &[(Some("richard@example.com"), Complained, Some("abuse"))],
        ),
        (
            include_str!("fixtures/notification_delivery.json"),
            &[(
                Some("jane@example.com"),
                Delivered,
                Some("250 ok:  Message 64111812 accepted"),
            )],
        ),
    ];
    for (record, expected) in cases {
        let events = parse(record);
        let got: Vec<Expected> = events
            .iter()
            .map(|e| {
                let email = email_event(e);
                (
                    email.recipient.as_deref(),
                    email.event,
                    email.reason.as_deref(),
                )
            })
            .collect();
        assert_eq!(&got, expected, "{record}");
        for e in &events {
            let recipient = email_event(e).recipient.as_deref().unwrap_or_default();
            assert_eq!(e.dedupe_key, format!("{SNS_ID}:{recipient}"));
            assert!(e.occurred_at_ms.is_some());
        }
    }

    let delivered = parse(include_str!("fixtures/delivery.json"));
    assert_eq!(
        delivered[0],
        crate::events::ProviderEvent {
            dedupe_key: format!("{SNS_ID}:recipient@example.com"),
            occurred_at_ms: Some(1_476_919_264_133),
            kind: EventKind::Email(EmailEvent {
                message_id: SES_ID.into(),
                email_id: Some("em_0001".into()),
                recipient: Some("recipient@example.com".into()),
                event: Delivered,
                reason: Some("250 2.6.0 Message received".into()),
                url: None,
            }),
        }
    );
    let click = parse(include_str!("fixtures/click.json"));
    assert_eq!(
        email_event(&click[0]).url.as_deref(),
        Some("http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html")
    );
    // The older notifications carry no message tags.
    let old = parse(include_str!("fixtures/notification_bounce.json"));
    assert_eq!(email_event(&old[0]).email_id, None);
    assert_eq!(
        email_event(&old[0]).message_id,
        "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000"
    );
}

#[test]
fn unknown_and_malformed() {
    let unknown = parse(include_str!("fixtures/rendering_failure.json"));
    assert_eq!(
        unknown[0].kind,
        EventKind::Unknown {
            event_type: "Rendering Failure".into()
        }
    );
    assert_eq!(unknown[0].dedupe_key, SNS_ID);
    // Opting back in is not an unsubscribe.
    let mut opt_in: Value =
        serde_json::from_str(include_str!("fixtures/subscription.json")).expect("fixture");
    opt_in["subscription"]["newTopicPreferences"] = json!({
        "unsubscribeAll": false,
        "topicSubscriptionStatus": [{"topicName": "ExampleTopicName", "subscriptionStatus": "OptIn"}]
    });
    assert!(matches!(
        parse(&opt_in.to_string())[0].kind,
        EventKind::Unknown { .. }
    ));

    let ses = Ses::new(settings(&ctx(None, &[]), Verifier::new(None)).expect("settings"));
    let malformed = |body: String| ses.parse(&webhook(body.as_bytes(), now()));
    assert!(matches!(
        malformed("not json".into()),
        Err(WebhookError::Malformed(_))
    ));
    for message in [
        "Hello world!",
        r#"{"mail":{"messageId":"x"}}"#,
        r#"{"eventType":"Delivery","delivery":{"recipients":["a@example.com"]}}"#,
        r#"{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[]},"mail":{"messageId":"x"}}"#,
    ] {
        let body = notification(message, now(), "2").to_string();
        assert!(
            matches!(malformed(body), Err(WebhookError::Malformed(_))),
            "{message}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Arbitrary bodies, and SNS envelopes around arbitrary SES-looking records, are
    /// refused or read, never a panic.
    #[test]
    fn arbitrary_webhooks_never_panic(
        raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        kind in proptest::sample::select(vec!["Bounce", "Complaint", "Delivery", "DeliveryDelay", "Send", "Reject", "Open", "Click", "Subscription", "x"]),
        field in proptest::sample::select(vec!["bounce", "complaint", "delivery", "deliveryDelay", "reject", "click", "subscription", "mail"]),
        value in ".{0,24}",
        nested in proptest::prelude::any::<bool>(),
    ) {
        let ses = Ses::new(settings(&ctx(None, &[]), verifier_with_cert(None)).expect("settings"));
        let t = now();
        let _ = ses.verify(&webhook(&raw, t));
        let _ = ses.parse(&webhook(&raw, t));
        let inner = if nested { json!([{ "emailAddress": value }]) } else { json!(value) };
        let record = json!({
            "eventType": kind,
            "mail": { "messageId": value, "destination": [value], "tags": { "switchyard_email_id": inner } },
            field: { "bouncedRecipients": inner, "recipients": inner, "timestamp": value, "newTopicPreferences": inner },
        });
        let body = json!({
            "Type": "Notification", "MessageId": value, "TopicArn": value, "Message": record.to_string(),
            "Timestamp": value, "Signature": value, "SignatureVersion": value, "SigningCertURL": CERT_URL,
        })
        .to_string();
        let _ = ses.verify(&webhook(body.as_bytes(), t));
        if let Ok(events) = ses.parse(&webhook(body.as_bytes(), t)) {
            proptest::prop_assert!(events.iter().all(|e| !e.dedupe_key.is_empty() || value.is_empty()));
        }
    }
}
