//! The SignalWire dialect against the local HTTP double (paths under `/api/laml`, the project
//! id as the Basic user, errors named as SignalWire's) and its webhook signatures, checked
//! with the vectors SignalWire's own SDK tests use (`signalwire-typescript`,
//! `tests/WebhookValidator.test.ts`: the Compatibility form scheme and the `bodySHA256`
//! scheme).

use super::*;
use crate::capability::SentMessage;
use crate::capability::{MessageChannel, MessageRequest, WebhookError, WebhookRequest};
use crate::error::{ErrorClass, ProviderError};
use crate::events::MessageStatus;
use crate::http::double::{Double, context};
use axum::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use serde_json::json;

const PROJECT: &str = "5c1a7d3e-9b2f-4e8a-a1d4-2f6b8c9e0a17";
const TOKEN: &str = "PTa1b2c3d4e5f6";

fn adapter(base: &str, signing_key: &str) -> Adapter {
    let creds = json!({
        "space_url": "example.signalwire.com", "project_id": PROJECT, "api_token": TOKEN,
        "signing_key": signing_key, "base_url": base,
    });
    crate::registry::build("signalwire", &context(creds)).expect("adapter")
}

fn sms(to: &str) -> MessageRequest {
    MessageRequest {
        channel: MessageChannel::Sms,
        to: to.into(),
        from: "+14155550199".into(),
        body: "Your code is 1234".into(),
        media_urls: Vec::new(),
        idempotency_key: "att_1".into(),
    }
}

/// The adapter's SMS to `to`.
async fn send(sw: &Adapter, to: &str) -> Result<SentMessage, ProviderError> {
    let messaging = sw.messaging.as_deref().expect("messaging");
    messaging.send_message(&sms(to)).await
}

const JSON: &[(&str, &str)] = &[("content-type", "application/json")];

fn form(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).expect("form")
}

#[tokio::test]
async fn messages_go_to_the_compatibility_api_of_the_project() {
    let double = Double::start(200, "").await;
    double.then(
        201,
        JSON,
        r#"{"sid":"SMb7c0a0e8d5a84f0e9a8d1c2b3a4f5e6d","status":"queued","num_segments":"1","price":null,"price_unit":"USD"}"#,
    );
    let sw = adapter(&double.base_url, "PSKkey");
    let sent = send(&sw, "+14155550100").await.expect("sent");
    assert_eq!(sent.message_id, "SMb7c0a0e8d5a84f0e9a8d1c2b3a4f5e6d");
    assert_eq!(sent.status, MessageStatus::Queued);

    let seen = double.requests();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, Method::POST);
    assert_eq!(
        req.path,
        format!("/api/laml/2010-04-01/Accounts/{PROJECT}/Messages.json")
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{PROJECT}:{TOKEN}"));
    assert_eq!(
        req.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some(format!("Basic {basic}").as_str())
    );
    let fields = form(&req.body);
    for (k, v) in [
        ("To", "+14155550100"),
        ("From", "+14155550199"),
        ("Body", "Your code is 1234"),
        ("StatusCallback", "https://sy.example/v1/webhooks/prv_test"),
    ] {
        assert!(
            fields.iter().any(|(fk, fv)| fk == k && fv == v),
            "{k}={v} missing from {fields:?}"
        );
    }
}

#[tokio::test]
async fn errors_and_the_connection_check_speak_for_signalwire() {
    let double = Double::start(200, "").await;
    double.then(
        400,
        JSON,
        r#"{"code":21211,"message":"The 'To' number is not a valid phone number.","more_info":"https://developer.signalwire.com","status":400}"#,
    );
    double.then(
        200,
        JSON,
        r#"{"sid":"5c1a7d3e-9b2f-4e8a-a1d4-2f6b8c9e0a17","friendly_name":"Acme","status":"active"}"#,
    );
    let sw = adapter(&double.base_url, "PSKkey");
    let err = send(&sw, "+1").await.expect_err("refused");
    assert_eq!(err.provider, "signalwire");
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.code.as_deref(), Some("21211"));

    let info = sw.connection.test_connection().await.expect("connected");
    assert_eq!(info.account, "Acme");
    assert_eq!(
        double.requests()[1].path,
        format!("/api/laml/2010-04-01/Accounts/{PROJECT}.json")
    );
}

fn verify(
    sw: &Adapter,
    url: &str,
    header: &'static str,
    sig: &str,
    body: &[u8],
) -> Result<(), WebhookError> {
    let mut headers = HeaderMap::new();
    if !sig.is_empty() {
        headers.insert(header, HeaderValue::from_str(sig).expect("header"));
    }
    sw.webhooks.verify(&WebhookRequest {
        url,
        headers: &headers,
        body,
        now_secs: 0,
    })
}

#[test]
fn form_webhooks_verify_with_the_signing_key_in_either_header() {
    // SignalWire's SDK vector for Compatibility form posts (also Twilio's).
    let sw = adapter("https://example.signalwire.com", "12345");
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let body = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    let sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    assert_eq!(
        verify(&sw, url, "x-signalwire-signature", sig, body),
        Ok(())
    );
    assert_eq!(verify(&sw, url, "x-twilio-signature", sig, body), Ok(()));
    let tampered = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=9999&From=%2B14158675309&To=%2B18005551212";
    assert_eq!(
        verify(&sw, url, "x-signalwire-signature", sig, tampered),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify(&sw, url, "x-signalwire-signature", "", body),
        Err(WebhookError::Unsigned("X-SignalWire-Signature"))
    );
    // The API token is not the signing key.
    let wrong_key = adapter("https://example.signalwire.com", TOKEN);
    assert_eq!(
        verify(&wrong_key, url, "x-signalwire-signature", sig, body),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn json_webhooks_verify_the_body_hash_in_the_url() {
    // SignalWire's SDK vector for a JSON body signed through `bodySHA256`.
    let sw = adapter("https://example.signalwire.com", "PSKtest1234567890abcdef");
    let url = "https://example.ngrok.io/webhook?bodySHA256=69f3cbfc18e386ef8236cb7008cd5a54b7fed637a8cb3373b5a1591d7f0fd5f4";
    let check = |body: &[u8]| {
        verify(
            &sw,
            url,
            "x-signalwire-signature",
            "dfO9ek8mxyFtn2nMz24plPmPfIY=",
            body,
        )
    };
    assert_eq!(check(br#"{"event":"call.state"}"#), Ok(()));
    assert_eq!(
        check(br#"{"event":"call.ended"}"#),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn credentials_are_checked_with_the_field_named() {
    let with = |space_url: &str, project_id: &str| {
        let creds = json!({
            "space_url": space_url, "project_id": project_id, "api_token": TOKEN, "signing_key": "PSKkey",
        });
        build(&context(creds)).map(|_| ())
    };
    let err = with("example.signalwire.com", "AC123").expect_err("not a UUID");
    assert!(err.0.contains("credentials.project_id"), "{}", err.0);
    let err = with("exa mple/x", PROJECT).expect_err("not a host");
    assert!(err.0.contains("credentials.space_url"), "{}", err.0);
    assert!(with("https://Example.SignalWire.com/", PROJECT).is_ok());
    assert_eq!(
        space_host("https://Example.SignalWire.com/")
            .as_deref()
            .ok(),
        Some("example.signalwire.com")
    );
}
