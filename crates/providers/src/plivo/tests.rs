//! The Plivo client against the local HTTP double, answered with the response fixtures of
//! Plivo's own SDK (plivo-python `tests/resources/fixtures/*.json`) and checked against the
//! requests Plivo's API reference documents (no OpenAPI document of Plivo is published):
//! paths under `/v1/Account/{auth_id}/` ending in `/`, Basic auth with the auth id and
//! token, JSON bodies, numbers as country code and digits without `+`.

use super::*;
use crate::capability::*;
use crate::error::{Delivery, ErrorClass};
use crate::events::{CallStatus, MessageStatus};
use crate::http::double::{Double, Recorded, context};
use axum::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use serde_json::{Value, json};

const AUTH_ID: &str = "MAJHUDTEYWLSIUYTDBCZ";
const TOKEN: &str = "my_auth_token";
const JSON: &[(&str, &str)] = &[("content-type", "application/json")];

fn adapter(base: &str) -> Adapter {
    let creds = json!({ "auth_id": AUTH_ID, "auth_token": TOKEN, "app_id": "29986316244302815", "base_url": base });
    crate::registry::build("plivo", &context(creds)).expect("adapter")
}

fn body(req: &Recorded) -> Value {
    serde_json::from_slice(&req.body).expect("JSON body")
}

/// Method, path, Basic auth and content type of one recorded request.
fn check(req: &Recorded, method: Method, path: &str) {
    assert_eq!(req.method, method, "{path}");
    assert_eq!(req.path, format!("/v1/Account/{AUTH_ID}{path}"));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{AUTH_ID}:{TOKEN}"));
    assert_eq!(req.header("authorization"), format!("Basic {basic}"));
    if !req.body.is_empty() {
        assert_eq!(req.header("content-type"), "application/json");
    }
}

fn call(answer: Answer) -> CallRequest {
    CallRequest {
        to: "+14152223333".into(),
        from: "+14152224444".into(),
        answer,
        ring_timeout_secs: 25,
        idempotency_key: "att_1".into(),
        client_state: None,
    }
}

/// https://www.plivo.com/docs/voice/api/call/make-a-call: `from`, `to`, `answer_url`
/// (required) with the ring and hangup URLs; the response names the request.
#[tokio::test]
async fn calls_follow_the_make_a_call_reference() {
    let double = Double::start(200, "").await;
    double.then(
        201,
        JSON,
        r#"{"message":"call fired","request_uuid":"9834029e-58b6-11e1-b8b7-a5bd0e4e126f","api_id":"97ceeb52-58b6-11e1-86da-77300b68f8bb"}"#,
    );
    double.then(
        201,
        JSON,
        r#"{"message":"call fired","request_uuid":"r2","api_id":"a"}"#,
    );
    let plivo = adapter(&double.base_url);
    let voice = plivo.voice.as_deref().expect("voice");
    let placed = voice
        .create_call(&call(Answer::Url("https://x.example/answer.xml".into())))
        .await
        .expect("placed");
    assert_eq!(placed.call_id, "9834029e-58b6-11e1-b8b7-a5bd0e4e126f");
    voice
        .create_call(&call(Answer::Instructions(vec![Instruction::Hangup])))
        .await
        .expect("placed");
    let seen = double.requests();
    check(&seen[0], Method::POST, "/Call/");
    let first = body(&seen[0]);
    assert_eq!(
        xml::document_in(first["answer_url"].as_str().unwrap_or_default()),
        Some(xml::redirect("https://x.example/answer.xml"))
    );
    assert_eq!(
        first,
        json!({
            "from": "14152224444", "to": "14152223333",
            "answer_url": first["answer_url"], "answer_method": "POST",
            "ring_url": "https://sy.example/v1/webhooks/prv_test", "ring_method": "POST",
            "hangup_url": "https://sy.example/v1/webhooks/prv_test", "hangup_method": "POST",
            "ring_timeout": 25,
        })
    );
    let answer_url = body(&seen[1])["answer_url"]
        .as_str()
        .expect("answer_url")
        .to_string();
    assert!(answer_url.starts_with("https://sy.example/v1/webhooks/prv_test?sy_answer="));
    assert_eq!(
        xml::document_in(&answer_url).as_deref(),
        Some("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>")
    );
}

/// Live call (`?status=live`), then the call detail record once it is over
/// (fixtures `liveCallGetResponse.json`, `callGetResponse.json`); hang-up and transfer.
#[tokio::test]
async fn call_state_hangup_and_transfer() {
    let double = Double::start(204, "").await;
    double.then(
        200,
        JSON,
        r#"{"api_id":"18f3bbb0-3ef1-11e7-a68e-02d2f90c026e","call_status":"in-progress","call_uuid":"d0a87a1a-b0e9-4ab2-ac07-c22ee87cd04a","caller_name":"","direction":"outbound","from":"+918687888990","request_uuid":"d0a87a1a-b0e9-4ab2-ac07-c22ee87cd04a","session_start":"2017-05-22 13:17:49.050872","to":"919798990001"}"#,
    );
    double.then(404, JSON, r#"{"api_id":"x","error":"not found"}"#);
    double.then(
        200,
        JSON,
        r#"{"answer_time":null,"api_id":"95727cf4-3eeb-11e7-8edf-02ed609bd62b","bill_duration":0,"billed_duration":0,"call_direction":"outbound","call_duration":0,"call_uuid":"4d04c52e-cea3-4458-bbdb-0bfc314ee7cd","end_time":"2017-05-22 17:49:40+05:30","from_number":"+919879879876","initiation_time":"2017-05-22 17:49:30+05:30","parent_call_uuid":null,"resource_uri":"/v1/Account/MAJHUDTEYWLSIUYTDBCZ/Call/4d04c52e-cea3-4458-bbdb-0bfc314ee7cd/","to_number":"919999999999","total_amount":"0.00000","total_rate":"0.03570"}"#,
    );
    double.then(202, JSON, r#"{"message":"call transferred","api_id":"x"}"#);
    double.then(404, JSON, r#"{"api_id":"x","error":"call not found"}"#);
    let plivo = adapter(&double.base_url);
    let voice = plivo.voice.as_deref().expect("voice");
    let live = voice
        .call_status("d0a87a1a-b0e9-4ab2-ac07-c22ee87cd04a")
        .await
        .expect("live");
    assert_eq!(live.status, CallStatus::Answered);
    let over = voice
        .call_status("4d04c52e-cea3-4458-bbdb-0bfc314ee7cd")
        .await
        .expect("cdr");
    assert_eq!(
        (over.status, over.duration_secs),
        (CallStatus::Failed, Some(0))
    );
    assert_eq!(
        over.price.map(|p| p.amount.to_string()),
        Some("0.00000".into())
    );
    voice
        .perform(
            "c1",
            &[Instruction::Say {
                text: "Hi".into(),
                language: None,
            }],
        )
        .await
        .expect("transfer");
    voice.hangup("c1").await.expect("an ended call is a no-op");
    voice.hangup("c1").await.expect("hung up");
    assert!(
        voice.hangup("").await.is_err(),
        "an empty id would end every call"
    );
    let seen = double.requests();
    check(
        &seen[0],
        Method::GET,
        "/Call/d0a87a1a-b0e9-4ab2-ac07-c22ee87cd04a/?status=live",
    );
    check(
        &seen[2],
        Method::GET,
        "/Call/4d04c52e-cea3-4458-bbdb-0bfc314ee7cd/",
    );
    check(&seen[3], Method::POST, "/Call/c1/");
    let transfer = body(&seen[3]);
    assert_eq!(
        (transfer["legs"].as_str(), transfer["aleg_method"].as_str()),
        (Some("aleg"), Some("POST"))
    );
    assert!(
        xml::document_in(transfer["aleg_url"].as_str().unwrap_or_default())
            .is_some_and(|d| d.contains("<Speak voice=\"WOMAN\" language=\"en-US\">Hi</Speak>"))
    );
    check(&seen[4], Method::DELETE, "/Call/c1/");
    assert_eq!(seen.len(), 6);
}

/// https://www.plivo.com/docs/messaging/api/message/send-a-message: `src`, `dst`, `text`,
/// `type`, the status `url`; 202 with `message_uuid` as a list (fixtures
/// `messageSendResponse.json`, `messageGetResponse.json`).
#[tokio::test]
async fn messages_follow_the_send_a_message_reference() {
    let double = Double::start(200, "").await;
    double.then(
        202,
        JSON,
        r#"{"api_id":"948b53a2-3f08-11e7-b6f4-061564b78b75","message":"message(s) queued","message_uuid":["5b40a428-bfc7-4daf-9d06-726c558bf3b8"]}"#,
    );
    double.then(
        202,
        JSON,
        r#"{"api_id":"x","message":"message(s) queued","message_uuid":["m2"]}"#,
    );
    double.then(
        200,
        JSON,
        r#"{"api_id":"95747262-3f08-11e7-8bc8-065f6a74a84a","error_code":null,"from_number":"911231231230","message_direction":"outbound","message_state":"sent","message_time":"2017-05-22 21:36:14+05:30","message_type":"sms","message_uuid":"5b40a428-bfc7-4daf-9d06-726c558bf3b8","resource_uri":"/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/5b40a428-bfc7-4daf-9d06-726c558bf3b8/","to_number":"911231231231","total_amount":"0.00250","total_rate":"0.00250","units":1}"#,
    );
    double.then(
        400,
        JSON,
        r#"{"api_id":"9a7f2d78-9913-11e5-bd65-22000ae3016b","error":"'1111111' is not a valid phone number."}"#,
    );
    let plivo = adapter(&double.base_url);
    let messaging = plivo.messaging.as_deref().expect("messaging");
    let mut req = MessageRequest {
        channel: MessageChannel::Sms,
        to: "+14152223333".into(),
        from: "+14152224444".into(),
        body: "Hello, this is a sample text".into(),
        media_urls: Vec::new(),
        idempotency_key: "att_1".into(),
    };
    let sent = messaging.send_message(&req).await.expect("sent");
    assert_eq!(
        (sent.message_id.as_str(), sent.status),
        (
            "5b40a428-bfc7-4daf-9d06-726c558bf3b8",
            MessageStatus::Queued
        )
    );
    req.channel = MessageChannel::Mms;
    req.media_urls = vec!["https://media.giphy.com/media/26gscSULUcfKU7dHq/source.gif".into()];
    messaging.send_message(&req).await.expect("mms");
    let now = messaging
        .message_status(&sent.message_id)
        .await
        .expect("status");
    assert_eq!((now.status, now.segments), (MessageStatus::Sent, Some(1)));
    assert_eq!(
        now.price.map(|p| p.amount.to_string()),
        Some("0.00250".into())
    );
    req.to = "+1111111".into();
    let err = messaging.send_message(&req).await.expect_err("invalid");
    assert_eq!(
        (err.class, err.delivery, err.status),
        (
            ErrorClass::ProviderRefused,
            Delivery::NotAccepted,
            Some(400)
        )
    );
    assert!(
        err.message.contains("is not a valid phone number"),
        "{}",
        err.message
    );

    let seen = double.requests();
    check(&seen[0], Method::POST, "/Message/");
    assert_eq!(
        body(&seen[0]),
        json!({
            "src": "14152224444", "dst": "14152223333", "text": "Hello, this is a sample text",
            "type": "sms", "url": "https://sy.example/v1/webhooks/prv_test", "method": "POST",
        })
    );
    let mms = body(&seen[1]);
    assert_eq!(mms["type"], "mms");
    assert_eq!(
        mms["media_urls"],
        json!(["https://media.giphy.com/media/26gscSULUcfKU7dHq/source.gif"])
    );
    check(
        &seen[2],
        Method::GET,
        "/Message/5b40a428-bfc7-4daf-9d06-726c558bf3b8/",
    );
}

/// Search (`phoneNumberListResponse.json`), buy (the documented 201), the rented number,
/// paging through `/Number/` by `meta.next`, release (204); the account for the
/// connection test (the documented account object).
#[tokio::test]
async fn numbers_and_account() {
    let double = Double::start(204, "").await;
    double.then(
        200,
        JSON,
        r#"{"api_id":"859428b0-1c88-11e4-a2d1-22000ac5040c","meta":{"limit":20,"next":null,"offset":0,"previous":null,"total_count":1},"objects":[{"country":"UNITED STATES","lata":722,"monthly_rental_rate":"0.80000","number":"14154009186","type":"fixed","prefix":"415","rate_center":"SNFC CNTRL","region":"United States","resource_uri":"/v1/Account/MANWVLYTK4ZWU1YTY4ZT/PhoneNumber/14154009186/","restriction":null,"restriction_text":null,"setup_rate":"0.00000","sms_enabled":true,"sms_rate":"0.00800","voice_enabled":true,"voice_rate":"0.00500"}]}"#,
    );
    double.then(
        201,
        JSON,
        r#"{"api_id":"aa52882c-1c88-11e4-bd8a-12313f016a39","message":"created","numbers":[{"number":"14154009186","status":"Success"}],"status":"fulfilled"}"#,
    );
    let rented = r#"{"added_on":"2014-08-05","alias":null,"application":"/v1/Account/MANWVLYTK4ZWU1YTY4ZT/Application/29986316244302815/","carrier":"Plivo","monthly_rental_rate":"0.80000","number":"14154009186","number_type":"local","region":"California, UNITED STATES","sms_enabled":true,"sms_rate":"0.00000","voice_enabled":true,"voice_rate":"0.00850","mms_enabled":false}"#;
    double.then(200, JSON, rented);
    double.then(
        200,
        JSON,
        r#"{"api_id":"1","meta":{"limit":20,"next":"/v1/Account/MAJHUDTEYWLSIUYTDBCZ/Number/?limit=20&offset=20","offset":0,"previous":null,"total_count":21},"objects":[{"number":"18135401302","voice_enabled":true,"sms_enabled":true,"mms_enabled":false}]}"#,
    );
    double.then(
        200,
        JSON,
        r#"{"api_id":"2","meta":{"limit":20,"next":null,"offset":20,"previous":null,"total_count":21},"objects":[{"number":"14154009186","voice_enabled":true,"sms_enabled":true,"mms_enabled":true}]}"#,
    );
    double.then(204, &[], "");
    double.then(
        200,
        JSON,
        r#"{"account_type":"standard","address":"Wayne Enterprises Inc.","api_id":"150892a0-922a-11e7-b6f4-061564b78b75","auth_id":"MA2025RK4E639VJFZAGV","auto_recharge":false,"billing_mode":"prepaid","cash_credits":"1.80900","city":"Gotham","name":"Bruce Wayne","resource_uri":"/v1/Account/MA2025RK4E639VJFZAGV/","state":"NY","timezone":"America/New_York"}"#,
    );
    let plivo = adapter(&double.base_url);
    let numbers = plivo.numbers.as_deref().expect("numbers");
    let offer = numbers
        .search_available(&NumberQuery {
            country: "us".into(),
            area_code: Some("415".into()),
            voice: true,
            sms: true,
            limit: Some(2),
            ..NumberQuery::default()
        })
        .await
        .expect("search");
    assert_eq!(offer.len(), 1);
    assert_eq!(
        (
            offer[0].e164.as_str(),
            offer[0].voice,
            offer[0].sms,
            offer[0].mms
        ),
        ("+14154009186", true, true, false)
    );
    assert_eq!(offer[0].locality.as_deref(), Some("SNFC CNTRL"));
    let bought = numbers.buy("+14154009186").await.expect("buy");
    assert_eq!(
        (bought.provider_number_id.as_str(), bought.e164.as_str()),
        ("14154009186", "+14154009186")
    );
    let owned = numbers.list_owned().await.expect("list");
    assert_eq!(
        owned.iter().map(|n| n.e164.as_str()).collect::<Vec<_>>(),
        ["+18135401302", "+14154009186"]
    );
    numbers.release("14154009186").await.expect("release");
    let info = plivo.connection.test_connection().await.expect("account");
    assert_eq!(info.account, "Bruce Wayne");
    assert_eq!(info.detail, "standard account, 1.80900 USD credit");

    let seen = double.requests();
    check(
        &seen[0],
        Method::GET,
        "/PhoneNumber/?country_iso=US&type=local&pattern=1415&services=voice%2Csms&limit=2",
    );
    check(&seen[1], Method::POST, "/PhoneNumber/14154009186/");
    assert_eq!(body(&seen[1]), json!({ "app_id": "29986316244302815" }));
    check(&seen[2], Method::GET, "/Number/14154009186/");
    check(&seen[3], Method::GET, "/Number/?limit=20&offset=0");
    check(&seen[4], Method::GET, "/Number/?limit=20&offset=1");
    check(&seen[5], Method::DELETE, "/Number/14154009186/");
    check(&seen[6], Method::GET, "/");
}

fn hook<'a>(headers: &'a HeaderMap, url: &'a str, body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest {
        url,
        headers,
        body,
        now_secs: 0,
    }
}

/// V3 as Plivo's SDK computes it (token `my_auth_token`, nonce `12345`), its main-account
/// twin, V2 for messaging only, and no fallback to V2 once a V3 header fails.
#[test]
fn callbacks_are_verified_as_plivo_signs_them() {
    let plivo = adapter("https://api.plivo.com");
    let w = plivo.webhooks.as_ref();
    let url = "https://answer.url";
    let call = b"CallUUID=97ceeb52-58b6-11e1-86da-77300b68f8bb&Duration=300";
    let mut h = HeaderMap::new();
    h.insert(
        signature::V3_HEADER,
        HeaderValue::from_static("lGsA7wORSRimdxCEqlJfbyxIYTxOsbYjbXU05rrpSpE="),
    );
    h.insert(
        signature::V3_NONCE_HEADER,
        HeaderValue::from_static("12345"),
    );
    assert_eq!(w.verify(&hook(&h, url, call)), Ok(()));
    assert_eq!(
        w.verify(&hook(&h, "https://answer.url/other", call)),
        Err(WebhookError::BadSignature)
    );

    let mut ma = HeaderMap::new();
    ma.insert(
        signature::MA_V3_HEADER,
        HeaderValue::from_static("lGsA7wORSRimdxCEqlJfbyxIYTxOsbYjbXU05rrpSpE="),
    );
    ma.insert(
        signature::V3_NONCE_HEADER,
        HeaderValue::from_static("12345"),
    );
    assert_eq!(
        w.verify(&hook(&ma, url, call)),
        Ok(()),
        "a subaccount's callback signed by the main account"
    );

    let mut v2 = HeaderMap::new();
    v2.insert(
        signature::V2_HEADER,
        HeaderValue::from_static("ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="),
    );
    v2.insert(
        signature::V2_NONCE_HEADER,
        HeaderValue::from_static("12345"),
    );
    let message = b"MessageUUID=m1&Status=delivered";
    assert_eq!(w.verify(&hook(&v2, url, message)), Ok(()));
    assert_eq!(
        w.verify(&hook(&v2, url, call)),
        Err(WebhookError::Unsigned(signature::V3_HEADER)),
        "V2 does not cover a call's body"
    );
    let mut downgrade = v2.clone();
    downgrade.insert(signature::V3_HEADER, HeaderValue::from_static("AAAA"));
    downgrade.insert(
        signature::V3_NONCE_HEADER,
        HeaderValue::from_static("12345"),
    );
    assert_eq!(
        w.verify(&hook(&downgrade, url, message)),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        w.verify(&hook(&HeaderMap::new(), url, message)),
        Err(WebhookError::Unsigned(signature::V3_HEADER))
    );
}

#[test]
fn credentials_are_checked() {
    let build = |creds: Value| crate::registry::build("plivo", &context(creds));
    let err = build(json!({ "auth_id": "AC123", "auth_token": "t" })).expect_err("not an auth id");
    assert!(err.to_string().contains("auth_id"), "{err}");
    let err = build(json!({ "auth_id": AUTH_ID })).expect_err("no token");
    assert!(err.to_string().contains("auth_token"), "{err}");
    assert!(
        build(json!({ "auth_id": AUTH_ID, "auth_token": "t", "base_url": "not a url" })).is_err()
    );
}
