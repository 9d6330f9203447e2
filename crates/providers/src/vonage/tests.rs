//! The Vonage client against the local HTTP double, checked against the requests of
//! Vonage's API reference (its OpenAPI documents in Nexmo/api-specification: voice.yml,
//! sms.yml, numbers.yml, account.yml) and answered with the response fixtures of Vonage's
//! own SDKs; `../shared/specs` holds no Vonage document.

use super::*;
use crate::capability::*;
use crate::error::ErrorClass;
use crate::events::CallStatus;
use crate::http::double::{Double, Recorded, context};
use axum::http::{HeaderMap, HeaderValue, Method as Verb};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::OnceLock;

const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
const APP: &str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";

/// One RSA key for the tests of this module (generating one takes a moment).
fn pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .expect("RSA key")
            .serialize_pem()
    })
}

fn adapter(base: &str, signature_secret: Option<&str>) -> Adapter {
    let mut creds = json!({
        "api_key": "a1b2c3d", "api_secret": "s3cr3t", "application_id": APP,
        "private_key": pem(), "base_url": base,
    });
    if let Some(secret) = signature_secret {
        creds["signature_secret"] = json!(secret);
        creds["signature_method"] = json!("sha256");
    }
    crate::registry::build("vonage", &context(creds)).expect("adapter")
}

fn form(req: &Recorded) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(&req.body).expect("form")
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The bearer JWT of a request, verified with the application's public key; its claims.
fn app_claims(req: &Recorded) -> Value {
    let token = req
        .header("authorization")
        .strip_prefix("Bearer ")
        .expect("bearer")
        .to_string();
    let key = crate::jwt::private_key(pem()).expect("key").to_public_key();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header, json!({ "alg": "RS256", "typ": "JWT" }));
    crate::jwt::verify_rs256(&token, &key).expect("signed with the application key")
}

/// voice.yml `createCall`: `to` and `from` as phone endpoints without `+`, an inline
/// `ncco` or an `answer_url` list, `event_url` list; 201 `{uuid, status, direction,
/// conversation_uuid}` (vonage-python-sdk `voice/tests/data/create_call.json`).
#[tokio::test]
async fn calls_follow_the_voice_reference() {
    let double = Double::start(204, "").await;
    let created = r#"{"uuid":"106a581a-34d0-432a-a625-220221fd434f","status":"started","direction":"outbound","conversation_uuid":"CON-2be039b2-d0a4-4274-afc8-d7b241c7c044"}"#;
    double.then(201, JSON, created);
    double.then(201, JSON, created);
    double.then(
        200,
        JSON,
        r#"{"_links":{"self":{"href":"/v1/calls/e154eb57-2962-41e7-baf4-90f63e25e439"}},"conversation_uuid":"CON-d4e1389a-b2c8-4621-97eb-c6f3a2b51c72","direction":"outbound","duration":"2","end_time":"2024-04-19T01:34:20.000Z","from":{"number":"9876543210","type":"phone"},"network":"23420","price":"0.00333333","rate":"0.10000000","start_time":"2024-04-19T01:34:18.000Z","status":"completed","to":{"number":"1234567890","type":"phone"},"uuid":"e154eb57-2962-41e7-baf4-90f63e25e439"}"#,
    );
    let vonage = adapter(&double.base_url, None);
    let voice = vonage.voice.as_deref().expect("voice");
    let mut req = CallRequest {
        to: "+447700900000".into(),
        from: "+442079460000".into(),
        answer: Answer::Instructions(vec![Instruction::Say {
            text: "Hello".into(),
            language: None,
        }]),
        ring_timeout_secs: 30,
        idempotency_key: "att_1".into(),
        client_state: None,
    };
    let placed = voice.create_call(&req).await.expect("placed");
    assert_eq!(placed.call_id, "106a581a-34d0-432a-a625-220221fd434f");
    req.answer = Answer::Url("https://x.example/ncco".into());
    voice.create_call(&req).await.expect("placed");
    let info = voice
        .call_status("e154eb57-2962-41e7-baf4-90f63e25e439")
        .await
        .expect("record");
    assert_eq!(
        (info.status, info.duration_secs),
        (CallStatus::Completed, Some(2))
    );
    assert_eq!(
        info.price.map(|p| (p.amount.to_string(), p.currency)),
        Some(("0.00333333".into(), "EUR".into()))
    );
    voice
        .perform(&placed.call_id, &[Instruction::Hangup])
        .await
        .expect("transfer");
    voice.hangup(&placed.call_id).await.expect("hangup");

    let seen = double.requests();
    assert_eq!(
        (seen[0].method.clone(), seen[0].path.as_str()),
        (Verb::POST, "/api/v1/calls")
    );
    let claims = app_claims(&seen[0]);
    assert_eq!(claims["application_id"], APP);
    assert!(claims["jti"].is_string() && claims["exp"].as_i64() > claims["iat"].as_i64());
    let body: Value = serde_json::from_slice(&seen[0].body).expect("json");
    assert_eq!(
        body,
        json!({
            "to": [{ "type": "phone", "number": "447700900000" }],
            "from": { "type": "phone", "number": "442079460000" },
            "event_url": ["https://sy.example/v1/webhooks/prv_test"], "event_method": "POST",
            "ringing_timer": 30,
            "ncco": [{ "action": "talk", "text": "Hello", "language": "en-US" }],
        })
    );
    let with_url: Value = serde_json::from_slice(&seen[1].body).expect("json");
    assert_eq!(
        (with_url["answer_url"].clone(), with_url.get("ncco")),
        (json!(["https://x.example/ncco"]), None)
    );
    assert_eq!(
        seen[2].path,
        "/api/v1/calls/e154eb57-2962-41e7-baf4-90f63e25e439"
    );
    assert_eq!(
        (seen[3].method.clone(), seen[3].path.as_str()),
        (
            Verb::PUT,
            "/api/v1/calls/106a581a-34d0-432a-a625-220221fd434f"
        )
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&seen[3].body).expect("json"),
        json!({ "action": "transfer", "destination": { "type": "ncco", "ncco": [] } })
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&seen[4].body).expect("json"),
        json!({ "action": "hangup" })
    );
}

/// sms.yml `sendAnSms`: a form with `api_key`, `from`, `to`, `text`, `callback`, and
/// `api_secret` or, with a signature secret, `timestamp` and `sig`; the 200 answers of
/// vonage-python-sdk (`send_sms.json`, `send_sms_error_throttling.json`).
#[tokio::test]
async fn sms_follows_the_sms_reference() {
    let double = Double::start(200, "").await;
    let accepted = r#"{"message-count":"1","messages":[{"to":"1234567890","message-id":"3295d748-4e14-4681-af78-166dca3c5aab","status":"0","remaining-balance":"38.07243628","message-price":"0.04120000","network":"23420"}]}"#;
    double.then(200, JSON, accepted);
    double.then(200, JSON, accepted);
    double.then(200, JSON, r#"{"message-count":"1","messages":[{"status":"1","error-text":"You are sending SMS faster than the account limit."}]}"#);
    double.then(200, JSON, r#"{"message-count":"1","messages":[{"status":"15","error-text":"Illegal Sender Address - rejected"}]}"#);
    double.then(
        200,
        JSON,
        r#"{"message-count":"1","messages":[{"status":"6","error-text":"Invalid Message"}]}"#,
    );
    let mut req = MessageRequest {
        channel: MessageChannel::Sms,
        to: "+1234567890".into(),
        from: "+14155550100".into(),
        body: "Hello".into(),
        media_urls: Vec::new(),
        idempotency_key: "att_1".into(),
    };
    let plain = adapter(&double.base_url, None);
    let sent = plain
        .messaging
        .as_deref()
        .expect("messaging")
        .send_message(&req)
        .await
        .expect("sent");
    assert_eq!(sent.message_id, "3295d748-4e14-4681-af78-166dca3c5aab");
    assert_eq!(
        (sent.segments, sent.price.map(|p| p.amount.to_string())),
        (Some(1), Some("0.04120000".into()))
    );
    let signed = adapter(&double.base_url, Some("sig-secret"));
    let messaging = signed.messaging.as_deref().expect("messaging");
    req.body = "Grüße 👋".into();
    messaging.send_message(&req).await.expect("signed send");
    let mut classes = Vec::new();
    for _ in 0..3 {
        let e = messaging.send_message(&req).await.expect_err("refused");
        classes.push((e.class, e.code));
    }
    assert_eq!(
        classes,
        [
            (ErrorClass::Retryable, Some("1".into())),
            (ErrorClass::ProviderRefused, Some("15".into())),
            (ErrorClass::Permanent, Some("6".into())),
        ]
    );
    assert!(
        messaging
            .message_status("x")
            .await
            .is_err_and(|e| e.code.as_deref() == Some("unsupported"))
    );

    let seen = double.requests();
    assert_eq!(
        (seen[0].method.clone(), seen[0].path.as_str()),
        (Verb::POST, "/rest/sms/json")
    );
    assert_eq!(
        seen[0].header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let f = form(&seen[0]);
    for (k, v) in [
        ("api_key", "a1b2c3d"),
        ("api_secret", "s3cr3t"),
        ("from", "14155550100"),
        ("to", "1234567890"),
        ("text", "Hello"),
        ("type", "text"),
        ("callback", "https://sy.example/v1/webhooks/prv_test"),
        ("status-report-req", "1"),
        ("client-ref", "att_1"),
    ] {
        assert_eq!(field(&f, k), Some(v), "{k}");
    }
    let s = form(&seen[1]);
    assert_eq!(
        field(&s, "api_secret"),
        None,
        "a signed request carries no secret (status 32)"
    );
    assert_eq!(field(&s, "type"), Some("unicode"));
    let sig = field(&s, "sig").expect("sig").to_string();
    assert_eq!(signature::sign(Method::Sha256, "sig-secret", &s), sig);
    assert!(field(&s, "timestamp").is_some());
}

/// The Messages API for MMS and WhatsApp: 202 `{message_uuid}` (vonage-python-sdk
/// `messages/tests/data/send_message.json`); RFC 7807 errors.
#[tokio::test]
async fn rich_messages_follow_the_messages_reference() {
    let double = Double::start(200, "").await;
    double.then(
        202,
        JSON,
        r#"{"message_uuid":"d8f86df1-dec6-442f-870a-2241be27d721"}"#,
    );
    double.then(202, JSON, r#"{"message_uuid":"m2"}"#);
    double.then(
        422,
        JSON,
        r#"{"type":"https://developer.vonage.com/api-errors/messages#1150","title":"Invalid params","detail":"The value of one or more parameters is invalid.","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf","invalid_parameters":[{"name":"messenger.tag","reason":"invalid value"}]}"#,
    );
    let vonage = adapter(&double.base_url, None);
    let messaging = vonage.messaging.as_deref().expect("messaging");
    let mut req = MessageRequest {
        channel: MessageChannel::Mms,
        to: "+14155550101".into(),
        from: "+14155550100".into(),
        body: "A cat".into(),
        media_urls: vec!["https://x.example/cat.jpg".into()],
        idempotency_key: "att_2".into(),
    };
    let sent = messaging.send_message(&req).await.expect("mms");
    assert_eq!(sent.message_id, "d8f86df1-dec6-442f-870a-2241be27d721");
    req.channel = MessageChannel::Whatsapp;
    req.media_urls.clear();
    messaging.send_message(&req).await.expect("whatsapp");
    let err = messaging.send_message(&req).await.expect_err("invalid");
    assert_eq!((err.code.as_deref(), err.status), (Some("1150"), Some(422)));
    assert!(
        err.message.contains("messenger.tag: invalid value"),
        "{}",
        err.message
    );
    req.channel = MessageChannel::Mms;
    assert!(
        messaging.send_message(&req).await.is_err(),
        "an MMS without media"
    );

    let seen = double.requests();
    assert_eq!(seen[0].path, "/api/v1/messages");
    assert_eq!(app_claims(&seen[0])["application_id"], APP);
    let mms: Value = serde_json::from_slice(&seen[0].body).expect("json");
    assert_eq!(
        mms,
        json!({
            "channel": "mms", "message_type": "image", "to": "14155550101", "from": "14155550100",
            "image": { "url": "https://x.example/cat.jpg", "caption": "A cat" },
            "client_ref": "att_2", "webhook_url": "https://sy.example/v1/webhooks/prv_test",
        })
    );
    let wa: Value = serde_json::from_slice(&seen[1].body).expect("json");
    assert_eq!(
        (
            wa["channel"].as_str(),
            wa["message_type"].as_str(),
            wa["text"].as_str()
        ),
        (Some("whatsapp"), Some("text"), Some("A cat"))
    );
}

/// numbers.yml and account.yml: key and secret in the query for reads and in the form for
/// buy, update and cancel; `{error-code, error-code-label}` answers.
#[tokio::test]
async fn numbers_follow_the_numbers_reference() {
    let double = Double::start(200, "").await;
    double.then(200, JSON, r#"{"count":8353,"numbers":[{"country":"GB","msisdn":"442039050911","cost":"1.00","type":"landline","features":["VOICE"]},{"country":"GB","msisdn":"442039051911","cost":"1.00","type":"landline","features":["VOICE"]}]}"#);
    let ok = r#"{"error-code":"200","error-code-label":"success"}"#;
    double.then(200, JSON, ok);
    double.then(200, JSON, ok);
    let owned = r#"{"count":2,"numbers":[{"country":"ES","msisdn":"3400000000","type":"mobile-lvn","features":["SMS"]},{"country":"GB","msisdn":"442039050911","type":"landline","features":["VOICE","SMS"],"voiceCallbackType":"app","voiceCallbackValue":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","app_id":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}]}"#;
    double.then(200, JSON, owned);
    double.then(200, JSON, owned);
    double.then(200, JSON, owned);
    double.then(200, JSON, ok);
    double.then(200, JSON, r#"{"value":10.17127500,"autoReload":false}"#);
    double.then(
        200,
        JSON,
        r#"{"error-code":"420","error-code-label":"method failed"}"#,
    );
    let vonage = adapter(&double.base_url, None);
    let numbers = vonage.numbers.as_deref().expect("numbers");
    let offer = numbers
        .search_available(&NumberQuery {
            country: "GB".into(),
            area_code: Some("20".into()),
            voice: true,
            limit: Some(2),
            ..NumberQuery::default()
        })
        .await
        .expect("search");
    assert_eq!(offer.len(), 2);
    assert_eq!(
        (
            offer[0].e164.as_str(),
            offer[0].voice,
            offer[0].sms,
            offer[0].country.as_deref()
        ),
        ("+442039050911", true, false, Some("GB"))
    );
    let bought = numbers.buy("+442039050911").await.expect("bought");
    assert_eq!(
        (bought.provider_number_id.as_str(), bought.voice, bought.sms),
        ("442039050911", true, true)
    );
    assert_eq!(numbers.list_owned().await.expect("owned").len(), 2);
    numbers.release("3400000000").await.expect("cancelled");
    let info = vonage.connection.test_connection().await.expect("balance");
    assert_eq!(info.detail, "balance 10.171275 EUR");
    let err = numbers.buy("+442039050912").await.expect_err("420");
    assert_eq!(
        (err.class, err.code.as_deref()),
        (ErrorClass::ProviderRefused, Some("420"))
    );

    let seen = double.requests();
    assert_eq!(
        seen[0].path,
        "/rest/number/search?api_key=a1b2c3d&api_secret=s3cr3t&country=GB&type=landline&pattern=4420&search_pattern=0&features=VOICE&size=2"
    );
    assert_eq!(
        (seen[1].method.clone(), seen[1].path.as_str()),
        (Verb::POST, "/rest/number/buy")
    );
    assert_eq!(
        form(&seen[1]),
        [
            ("api_key", "a1b2c3d"),
            ("api_secret", "s3cr3t"),
            ("country", "GB"),
            ("msisdn", "442039050911")
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(seen[2].path, "/rest/number/update");
    assert_eq!(field(&form(&seen[2]), "app_id"), Some(APP));
    assert_eq!(
        seen[3].path,
        "/rest/account/numbers?api_key=a1b2c3d&api_secret=s3cr3t&index=1&size=100"
    );
    assert_eq!(seen[6].path, "/rest/number/cancel");
    assert_eq!(
        (
            field(&form(&seen[6]), "country"),
            field(&form(&seen[6]), "msisdn")
        ),
        (Some("ES"), Some("3400000000"))
    );
    assert_eq!(
        seen[7].path,
        "/rest/account/get-balance?api_key=a1b2c3d&api_secret=s3cr3t"
    );
}

fn hook<'a>(headers: &'a HeaderMap, body: &'a [u8], now: i64) -> WebhookRequest<'a> {
    WebhookRequest {
        url: "https://sy.example/v1/webhooks/p1",
        headers,
        body,
        now_secs: now,
    }
}

/// Voice and Messages callbacks by their JWT; SMS callbacks by `sig` with the configured
/// method, as form or JSON.
#[test]
fn callbacks_are_verified_as_vonage_signs_them() {
    let secret = "test_signature_secret_0123456789abcdef";
    let vonage = adapter("https://x.example", Some(secret));
    let w = vonage.webhooks.as_ref();
    let body = br#"{"message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","status":"delivered"}"#;
    let token = crate::jwt::sign_hs256(
        secret.as_bytes(),
        &signature::callback_claims("a1b2c3d", APP, body, 1_587_494_962, "jti-1"),
    );
    let mut h = HeaderMap::new();
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("h"),
    );
    assert_eq!(w.verify(&hook(&h, body, 1_587_494_962)), Ok(()));
    assert_eq!(
        w.verify(&hook(&h, br#"{"status":"rejected"}"#, 0)),
        Err(WebhookError::BadSignature)
    );

    let mut dlr: Vec<(String, String)> = [
        ("messageId", "0B00000127FDBC63"),
        ("msisdn", "447547232824"),
        ("status", "delivered"),
        ("err-code", "0"),
        ("timestamp", "1700000000"),
        ("nonce", "n1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let sig = signature::sign(Method::Sha256, secret, &dlr);
    dlr.push(("sig".into(), sig.to_uppercase()));
    let form_body = serde_urlencoded::to_string(&dlr).expect("form");
    let none = HeaderMap::new();
    assert_eq!(
        w.verify(&hook(&none, form_body.as_bytes(), 1_700_000_100)),
        Ok(())
    );
    let as_json: serde_json::Map<String, Value> =
        dlr.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let json_body = serde_json::to_vec(&as_json).expect("json");
    assert_eq!(w.verify(&hook(&none, &json_body, 1_700_000_100)), Ok(()));
    assert_eq!(
        w.verify(&hook(&none, form_body.as_bytes(), 1_700_000_400)),
        Err(WebhookError::Stale(300))
    );
    let tampered = form_body.replace("delivered", "failed");
    assert_eq!(
        w.verify(&hook(&none, tampered.as_bytes(), 1_700_000_100)),
        Err(WebhookError::BadSignature)
    );
    assert!(matches!(
        w.verify(&hook(&none, b"messageId=1&status=delivered", 0)),
        Err(WebhookError::Unsigned(_))
    ));
    assert_eq!(
        w.acknowledgement(&hook(&none, b"", 0)),
        ("application/json", "[]".to_string())
    );

    let unset = adapter("https://x.example", None);
    assert!(matches!(
        unset.webhooks.verify(&hook(&h, body, 0)),
        Err(WebhookError::NotConfigured(_))
    ));
}

#[tokio::test]
async fn credentials_are_checked() {
    let build = |creds: Value| crate::registry::build("vonage", &context(creds));
    let err = build(json!({ "api_key": "k", "api_secret": "s", "private_key": "not a key" }))
        .expect_err("bad key");
    assert!(err.to_string().contains("private_key"), "{err}");
    let err = build(json!({ "api_key": "k", "api_secret": "s", "signature_method": "crc32" }))
        .expect_err("bad method");
    assert!(err.to_string().contains("signature_method"), "{err}");
    assert!(build(json!({ "api_key": "k" })).is_err());
    let keyless = build(json!({ "api_key": "k", "api_secret": "s" })).expect("SMS only");
    let call = CallRequest {
        to: "+1".into(),
        from: "+2".into(),
        answer: Answer::Instructions(Vec::new()),
        ring_timeout_secs: 30,
        idempotency_key: "k".into(),
        client_state: None,
    };
    let err = keyless
        .voice
        .as_deref()
        .expect("voice")
        .create_call(&call)
        .await
        .expect_err("no application");
    assert_eq!(err.code.as_deref(), Some("not_configured"));
}
