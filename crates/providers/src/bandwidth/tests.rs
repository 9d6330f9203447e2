//! The Bandwidth client against the local HTTP double, checked against the requests and
//! answered with the responses and callbacks of Bandwidth's API reference
//! (https://dev.bandwidth.com, from its source in Bandwidth/api-docs, and the OpenAPI
//! document in Bandwidth/python-sdk `bandwidth.yml`); `../shared/specs` holds no Bandwidth
//! document.

use super::*;
use crate::capability::*;
use crate::error::ErrorClass;
use crate::events::{CallStatus, EventKind, MessageStatus};
use crate::http::double::{Double, Recorded, context, parse_webhook};
use axum::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

const ACCOUNT: &str = "9900000";
const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
const XML: &[(&str, &str)] = &[("content-type", "application/xml")];
const TOKEN: &str = r#"{"access_token":"abcdef123456","token_type":"Bearer","expires_in":3600}"#;

fn adapter(base: &str) -> Adapter {
    let creds = json!({
        "account_id": ACCOUNT, "client_id": "client_id", "client_secret": "client_secret",
        "voice_application_id": "04e88489-df02-4e34-a0ee-27a91849555f",
        "messaging_application_id": "93de2206-9669-4e07-948d-329f4b722ee2",
        "site_id": "461", "peer_id": "651681",
        "callback_username": "sy", "callback_password": "cb-secret", "base_url": base,
    });
    crate::registry::build("bandwidth", &context(creds)).expect("adapter")
}

fn body(req: &Recorded) -> Value {
    serde_json::from_slice(&req.body).expect("JSON body")
}

/// The token request of Bandwidth's SDKs: Basic client id and secret, a
/// `client_credentials` form (Bandwidth/php-bandwidth-iris `tests/OAuthTest.php`).
fn check_token_request(req: &Recorded) {
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/api/v1/oauth2/token")
    );
    assert_eq!(
        req.header("authorization"),
        "Basic Y2xpZW50X2lkOmNsaWVudF9zZWNyZXQ="
    );
    assert_eq!(req.body, b"grant_type=client_credentials");
}

/// https://dev.bandwidth.com/apis/voice/#tag/Calls/operation/createCall: `from`, `to`,
/// `applicationId`, `answerUrl` (required), the disconnect URL, and the callback
/// credentials; the 201 is the documented `createCallResponse` example.
#[tokio::test]
async fn calls_follow_the_create_call_reference() {
    let double = Double::start(200, "").await;
    double.then(200, JSON, TOKEN);
    double.then(
        201,
        JSON,
        r#"{"applicationId":"04e88489-df02-4e34-a0ee-27a91849555f","accountId":"9900000","callId":"c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85","to":"+19195551234","from":"+19195554312","enqueuedTime":"2022-06-16T13:15:07.160Z","callUrl":"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85","callTimeout":30,"callbackTimeout":15,"tag":"My custom tag value","answerMethod":"POST","answerUrl":"https://myServer.example/bandwidth/webhooks/answer","disconnectMethod":"POST","disconnectUrl":"https://myServer.example/bandwidth/webhooks/disconnect","username":"mySecretUsername","password":"*****","priority":5}"#,
    );
    double.then(200, &[], "");
    double.then(
        200,
        JSON,
        r#"{"applicationId":"04e88489-df02-4e34-a0ee-27a91849555f","accountId":"9900000","callId":"c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85","to":"+19195551234","from":"+19195554312","direction":"outbound","state":"disconnected","enqueuedTime":"2022-06-16T13:15:07.160Z","startTime":"2022-06-16T13:15:07.160Z","answerTime":"2022-06-16T13:15:18.126Z","endTime":"2022-06-16T13:16:18.126Z","disconnectCause":"hangup","lastUpdate":"2022-06-16T13:16:18.126Z"}"#,
    );
    double.then(
        404,
        JSON,
        r#"{"type":"validation","description":"call not found","id":null}"#,
    );
    let bw = adapter(&double.base_url);
    let voice = bw.voice.as_deref().expect("voice");
    let placed = voice
        .create_call(&CallRequest {
            to: "+19195551234".into(),
            from: "+19195554312".into(),
            answer: Answer::Instructions(vec![Instruction::Say {
                text: "Hello".into(),
                language: None,
            }]),
            ring_timeout_secs: 30,
            idempotency_key: "att_1".into(),
            client_state: Some("call_01".into()),
        })
        .await
        .expect("placed");
    assert_eq!(
        placed.call_id,
        "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
    );
    voice
        .perform(&placed.call_id, &[Instruction::Hangup])
        .await
        .expect("redirected");
    let info = voice.call_status(&placed.call_id).await.expect("state");
    assert_eq!(
        (info.status, info.duration_secs),
        (CallStatus::Completed, Some(60))
    );
    voice
        .hangup(&placed.call_id)
        .await
        .expect("an ended call is a no-op");

    let seen = double.requests();
    check_token_request(&seen[0]);
    let create = &seen[1];
    assert_eq!(
        (create.method.clone(), create.path.as_str()),
        (Method::POST, "/voice/api/v2/accounts/9900000/calls")
    );
    assert_eq!(create.header("authorization"), "Bearer abcdef123456");
    assert_eq!(create.header("content-type"), "application/json");
    let sent = body(create);
    let answer_url = sent["answerUrl"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        crate::xml::document_in(&answer_url).as_deref(),
        Some(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Bxml><SpeakSentence locale=\"en_US\" gender=\"female\">Hello</SpeakSentence></Bxml>"
        )
    );
    assert_eq!(
        sent,
        json!({
            "from": "+19195554312", "to": "+19195551234",
            "applicationId": "04e88489-df02-4e34-a0ee-27a91849555f",
            "answerUrl": answer_url, "answerMethod": "POST",
            "disconnectUrl": "https://sy.example/v1/webhooks/prv_test", "disconnectMethod": "POST",
            "callTimeout": 30, "tag": "call_01", "username": "sy", "password": "cb-secret",
        })
    );
    let redirect = &seen[2];
    assert_eq!(
        redirect.path,
        "/voice/api/v2/accounts/9900000/calls/c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"
    );
    assert_eq!(
        redirect.header("authorization"),
        "Bearer abcdef123456",
        "the token is reused"
    );
    let r = body(redirect);
    assert_eq!(
        (r["state"].as_str(), r["redirectMethod"].as_str()),
        (Some("active"), Some("POST"))
    );
    assert!(
        crate::xml::document_in(r["redirectUrl"].as_str().unwrap_or_default())
            .is_some_and(|d| d.contains("<Hangup/>"))
    );
    assert_eq!(seen[3].method, Method::GET);
    assert_eq!(body(&seen[4]), json!({ "state": "completed" }));
    assert_eq!(seen.len(), 5);
}

/// https://dev.bandwidth.com/docs/messaging/createMessage: `to` as a list, `from`,
/// `applicationId`, `text`; 202 with the message. Errors are `{type, description}` with
/// `fieldErrors` (https://dev.bandwidth.com/docs/messaging/errors).
#[tokio::test]
async fn messages_follow_the_create_message_reference() {
    let double = Double::start(200, "").await;
    double.then(200, JSON, TOKEN);
    double.then(
        202,
        JSON,
        r#"{"id":"14762070468292kw2fuqty55yp2b2","owner":"+12345678901","applicationId":"93de2206-9669-4e07-948d-329f4b722ee","time":"2021-07-21T21:00:45.179Z","segmentCount":1,"direction":"out","to":["+12345678902"],"from":"+12345678901","text":"Hello World","tag":"test message","priority":"default"}"#,
    );
    double.then(
        200,
        JSON,
        r#"{"totalCount":1,"pageInfo":{},"messages":[{"messageId":"14762070468292kw2fuqty55yp2b2","accountId":"9900000","sourceTn":"+12345678901","destinationTn":"+12345678902","messageStatus":"DELIVERED","messageDirection":"OUTBOUND","messageType":"sms","segmentCount":1,"errorCode":0,"receiveTime":"2021-07-21T21:00:45.179Z","carrierName":"other"}]}"#,
    );
    double.then(
        400,
        JSON,
        r#"{"type":"request-validation","description":"Your request could not be accepted","fieldErrors":[{"fieldName":"to","description":"'+invalid' must be replaced with a valid E164 formatted telephone number"}]}"#,
    );
    double.then(
        429,
        JSON,
        r#"{"type":"max-message-queue-size-exceeded","description":"The SMS queue for your account is full and cannot accept more messages right now."}"#,
    );
    let bw = adapter(&double.base_url);
    let messaging = bw.messaging.as_deref().expect("messaging");
    let mut req = MessageRequest {
        channel: MessageChannel::Sms,
        to: "+12345678902".into(),
        from: "+12345678901".into(),
        body: "Hey, check this out!".into(),
        media_urls: Vec::new(),
        idempotency_key: "att_1".into(),
    };
    let sent = messaging.send_message(&req).await.expect("sent");
    assert_eq!(
        (sent.message_id.as_str(), sent.segments),
        ("14762070468292kw2fuqty55yp2b2", Some(1))
    );
    let now = messaging
        .message_status(&sent.message_id)
        .await
        .expect("listed");
    assert_eq!(now.status, MessageStatus::Delivered);
    req.to = "+invalid".into();
    let err = messaging.send_message(&req).await.expect_err("invalid to");
    assert_eq!(
        (err.class, err.code.as_deref()),
        (ErrorClass::Permanent, Some("request-validation"))
    );
    assert!(
        err.message.contains("to: '+invalid' must be replaced"),
        "{}",
        err.message
    );
    let err = messaging.send_message(&req).await.expect_err("queue full");
    assert_eq!((err.class, err.status), (ErrorClass::Retryable, Some(429)));
    req.channel = MessageChannel::Whatsapp;
    assert!(messaging.send_message(&req).await.is_err());

    let seen = double.requests();
    let create = &seen[1];
    assert_eq!(
        (create.method.clone(), create.path.as_str()),
        (Method::POST, "/messaging/api/v2/users/9900000/messages")
    );
    assert_eq!(
        body(create),
        json!({
            "to": ["+12345678902"], "from": "+12345678901", "text": "Hey, check this out!",
            "applicationId": "93de2206-9669-4e07-948d-329f4b722ee2", "tag": "att_1",
        })
    );
    assert_eq!(
        seen[2].path,
        "/messaging/api/v2/users/9900000/messages?messageId=14762070468292kw2fuqty55yp2b2"
    );
}

/// The Dashboard API's XML, as in https://dev.bandwidth.com/docs/numbers/guides/searchingForNumbers,
/// …/orderingNumbers and …/disconnectNumbers, with the legacy API user's Basic auth.
#[tokio::test]
async fn numbers_follow_the_dashboard_reference() {
    let double = Double::start(200, "").await;
    double.then(
        200,
        XML,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><SearchResult><ResultCount>2</ResultCount><TelephoneNumberList><TelephoneNumber>6672286710</TelephoneNumber><TelephoneNumber>5756186700</TelephoneNumber></TelephoneNumberList></SearchResult>"#,
    );
    double.then(
        201,
        XML,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><OrderResponse><Order><OrderCreateDate>2018-01-23T19:56:29.678Z</OrderCreateDate><BackOrderRequested>false</BackOrderRequested><id>47955555-67aa-4adb-8c0f-b6894e60c0dc</id><ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>6672286710</TelephoneNumber></TelephoneNumberList></ExistingTelephoneNumberOrderType><PartialAllowed>false</PartialAllowed><SiteId>461</SiteId></Order><OrderStatus>RECEIVED</OrderStatus></OrderResponse>"#,
    );
    double.then(
        200,
        XML,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><OrderResponse><CompletedQuantity>1</CompletedQuantity><Order><PeerId>651681</PeerId><SiteId>461</SiteId></Order><OrderStatus>COMPLETE</OrderStatus><CompletedNumbers><TelephoneNumber><FullNumber>6672286710</FullNumber></TelephoneNumber></CompletedNumbers><FailedQuantity>0</FailedQuantity></OrderResponse>"#,
    );
    let tns = r#"<?xml version="1.0"?><TNs><TotalCount>2</TotalCount><Links><first>link</first></Links><TelephoneNumbers><Count>2</Count><TelephoneNumber>6672286710</TelephoneNumber><TelephoneNumber>8043024183</TelephoneNumber></TelephoneNumbers></TNs>"#;
    double.then(200, XML, tns);
    double.then(200, XML, tns);
    double.then(
        201,
        XML,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><DisconnectTelephoneNumberOrderResponse><orderRequest><OrderCreateDate>2018-01-23T21:00:23.802Z</OrderCreateDate><id>df2gc2e2-653d-466c-945d-8f292f09ce55</id></orderRequest><OrderStatus>RECEIVED</OrderStatus></DisconnectTelephoneNumberOrderResponse>"#,
    );
    double.then(
        400,
        XML,
        r#"<SearchResult><Error><Code>4010</Code><Description>One of more required search parameters are null or empty, please refer to the api documentation</Description></Error></SearchResult>"#,
    );
    let creds = json!({ "account_id": ACCOUNT, "username": "username", "password": "password", "site_id": "461", "peer_id": "651681", "base_url": double.base_url });
    let bw = crate::registry::build("bandwidth", &context(creds)).expect("adapter");
    let numbers = bw.numbers.as_deref().expect("numbers");
    let query = NumberQuery {
        country: "US".into(),
        area_code: Some("919".into()),
        limit: Some(2),
        ..NumberQuery::default()
    };
    let offer = numbers.search_available(&query).await.expect("search");
    assert_eq!(
        offer.iter().map(|n| n.e164.as_str()).collect::<Vec<_>>(),
        ["+16672286710", "+15756186700"]
    );
    let bought = numbers.buy("+16672286710").await.expect("ordered");
    assert_eq!(
        (bought.provider_number_id.as_str(), bought.e164.as_str()),
        ("6672286710", "+16672286710")
    );
    assert_eq!(numbers.list_owned().await.expect("in service").len(), 2);
    numbers.release("6672286710").await.expect("disconnected");
    let err = numbers.search_available(&query).await.expect_err("refused");
    assert_eq!((err.code.as_deref(), err.status), (Some("4010"), Some(400)));
    assert!(
        numbers.buy("+442071234567").await.is_err(),
        "Bandwidth sells NANP numbers"
    );
    let abroad = NumberQuery {
        country: "GB".into(),
        ..query.clone()
    };
    assert!(numbers.search_available(&abroad).await.is_err());

    let seen = double.requests();
    let basic = STANDARD.encode("username:password");
    assert!(
        seen.iter()
            .all(|r| r.header("authorization") == format!("Basic {basic}"))
    );
    assert_eq!(
        seen[0].path,
        "/dashboard/api/accounts/9900000/availableNumbers?areaCode=919&quantity=2"
    );
    assert_eq!(
        (seen[1].method.clone(), seen[1].path.as_str()),
        (Method::POST, "/dashboard/api/accounts/9900000/orders")
    );
    assert_eq!(
        seen[1].header("content-type"),
        "application/xml; charset=utf-8"
    );
    let order = String::from_utf8(seen[1].body.clone()).expect("utf-8");
    let doc = roxmltree::Document::parse(&order).expect("an XML order");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "Order");
    let child = |name: &str| {
        root.children()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    assert_eq!(
        (child("SiteId").as_deref(), child("PeerId").as_deref()),
        (Some("461"), Some("651681"))
    );
    let listed: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("TelephoneNumber"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(listed, ["6672286710"]);
    assert_eq!(
        seen[2].path,
        "/dashboard/api/accounts/9900000/orders/47955555-67aa-4adb-8c0f-b6894e60c0dc"
    );
    assert_eq!(
        seen[3].path,
        "/dashboard/api/accounts/9900000/inserviceNumbers?page=1&size=500"
    );
    assert_eq!(seen[5].path, "/dashboard/api/accounts/9900000/disconnects");
    let disconnect = String::from_utf8(seen[5].body.clone()).expect("utf-8");
    let doc = roxmltree::Document::parse(&disconnect).expect("an XML disconnect order");
    assert_eq!(
        doc.root_element().tag_name().name(),
        "DisconnectTelephoneNumberOrder"
    );
    assert!(
        doc.descendants()
            .any(|n| n.has_tag_name("TelephoneNumber") && n.text() == Some("6672286710"))
    );
}

/// A rejected OAuth token request is this provider's refusal, named so.
#[tokio::test]
async fn a_refused_token_names_the_credentials() {
    let double = Double::start(401, r#"{"error":"invalid_client"}"#).await;
    let bw = adapter(&double.base_url);
    let err = bw.connection.test_connection().await.expect_err("refused");
    assert_eq!(
        (err.class, err.code.as_deref()),
        (ErrorClass::ProviderRefused, Some("oauth_refused"))
    );
    assert!(err.message.contains("client_id"), "{}", err.message);
}

fn events(body: &str) -> Vec<EventKind> {
    let bw = adapter("https://x.example");
    parse_webhook(bw.webhooks.as_ref(), body.as_bytes())
        .expect("parsed")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// The callbacks of https://dev.bandwidth.com/docs/voice/webhooks/{answer,disconnect,initiate}.
#[test]
fn voice_callbacks() {
    let answer = r#"{"eventType":"answer","eventTime":"2019-06-20T15:54:25.435Z","accountId":"55555555","applicationId":"7fc9698a-b04a-468b-9e8f-91238c0d0086","from":"+15551112222","to":"+15553334444","direction":"outbound","callId":"c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d","callUrl":"https://voice.bandwidth.com/api/v2/accounts/55555555/calls/c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d","startTime":"2019-06-20T15:54:22.234Z","answerTime":"2019-06-20T15:54:25.432Z","tag":"example-tag"}"#;
    assert!(matches!(&events(answer)[..], [EventKind::Call(c)]
        if c.status == CallStatus::Answered && c.client_state.as_deref() == Some("example-tag")));
    let busy = r#"{"eventType":"disconnect","eventTime":"2019-06-20T15:55:55.533Z","accountId":"55555555","applicationId":"7fc9698a-b04a-468b-9e8f-91238c0d0086","from":"+15551112222","to":"+15553334444","direction":"outbound","callId":"c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d","callUrl":"https://voice.bandwidth.com/api/v2/accounts/55555555/calls/c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d","enqueuedTime":"2019-06-20T15:51:09.729Z","startTime":"2019-06-20T15:54:22.234Z","endTime":"2019-06-20T15:55:54.123Z","cause":"busy","errorMessage":"Callee is busy","errorId":"4642074b-7b58-478b-96e4-3a60955c6765"}"#;
    assert!(matches!(&events(busy)[..], [EventKind::Call(c)]
        if c.status == CallStatus::Busy && c.reason.as_deref() == Some("busy: Callee is busy") && c.duration_secs.is_none()));
    let ended = r#"{"eventType":"disconnect","eventTime":"2019-06-20T15:55:55.533Z","callId":"c-1","answerTime":"2019-06-20T15:54:25.432Z","endTime":"2019-06-20T15:55:54.123Z","cause":"hangup"}"#;
    assert!(matches!(&events(ended)[..], [EventKind::Call(c)]
        if c.status == CallStatus::Completed && c.duration_secs == Some(89) && c.reason.is_none()));
    let initiate = r#"{"eventType":"initiate","eventTime":"2019-06-20T15:56:11.554Z","accountId":"55555555","applicationId":"7fc9698a-b04a-468b-9e8f-91238c0d0086","from":"+15551112222","to":"+15553334444","direction":"inbound","callId":"c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d","callUrl":"https://voice.bandwidth.com/api/v2/accounts/55555555/calls/c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d","startTime":"2019-06-20T15:54:22.234Z","diversion":{"origTo":"+15558884444","reason":"unavailable","privacy":"off","unknown":"unknownValue"}}"#;
    assert!(matches!(&events(initiate)[..], [EventKind::InboundCall(c)] if c.to == "+15553334444"));
    for (cause, want) in [
        ("timeout", CallStatus::NoAnswer),
        ("cancel", CallStatus::Canceled),
        ("rejected", CallStatus::Busy),
        ("callback-error", CallStatus::Failed),
        ("account-limit", CallStatus::Failed),
    ] {
        let e = events(&format!(
            r#"{{"eventType":"disconnect","eventTime":"t","callId":"c-2","cause":"{cause}"}}"#
        ));
        assert!(
            matches!(&e[..], [EventKind::Call(c)] if c.status == want),
            "{cause}"
        );
    }
    assert!(
        matches!(&events(r#"{"eventType":"gather","callId":"c-3"}"#)[..], [EventKind::Unknown { event_type }] if event_type == "gather")
    );
}

/// The callbacks of https://dev.bandwidth.com/docs/messaging/webhooks: always a list.
#[test]
fn message_callbacks() {
    let received = r#"[{"type":"message-received","time":"2016-09-14T18:20:16Z","description":"Incoming message received","to":"+12345678902","message":{"id":"14762070468292kw2fuqty55yp2b2","time":"2016-09-14T18:20:16Z","to":["+12345678902"],"from":"+12345678901","text":"Hey, check this out!","applicationId":"93de2206-9669-4e07-948d-329f4b722ee2","media":["https://messaging.bandwidth.com/api/v2/users/{accountId}/media/14762070468292kw2fuqty55yp2b2/0/bw.png"],"owner":"+12345678902","direction":"in","segmentCount":1}}]"#;
    assert!(
        matches!(&events(received)[..], [EventKind::InboundMessage(m)]
        if m.from == "+12345678901" && m.to == "+12345678902" && m.body == "Hey, check this out!" && m.media_urls.len() == 1)
    );
    let delivered = r#"[{"type":"message-delivered","time":"2016-09-14T18:20:16Z","description":"ok","to":"+12345678902","message":{"id":"14762070468292kw2fuqty55yp2b2","time":"2016-09-14T18:20:16Z","to":["+12345678902"],"from":"+12345678901","text":"","applicationId":"93de2206-9669-4e07-948d-329f4b722ee2","owner":"+12345678902","direction":"out","segmentCount":1}}]"#;
    assert!(
        matches!(&events(delivered)[..], [EventKind::Message(m)] if m.status == MessageStatus::Delivered)
    );
    let failed = r#"[{"type":"message-failed","time":"2016-09-14T18:20:16Z","description":"forbidden to country","to":"+52345678903","errorCode":4432,"message":{"id":"14762070468292kw2fuqty55yp2b2","time":"2016-09-14T18:20:16Z","to":["+12345678902","+52345678903"],"from":"+12345678901","text":"","applicationId":"93de2206-9669-4e07-948d-329f4b722ee2","media":["https://dev.bandwidth.com/images/bandwidth-logo.png"],"owner":"+12345678901","direction":"out","segmentCount":1}}]"#;
    assert!(matches!(&events(failed)[..], [EventKind::Message(m)]
        if m.status == MessageStatus::Failed && m.error_code.as_deref() == Some("4432")));
    let sending = r#"[{"time":"2020-06-25T18:42:36.979Z","type":"message-sending","to":"+15554443333","description":"Message is sending to carrier","message":{"id":"1593110555875xo7watq5px6rbe5d","owner":"+15552221111","applicationId":"cfd4fb83-7531-4acc-b471-42d0bb76a65c","time":"2020-06-25T18:42:35.876Z","segmentCount":1,"direction":"out","to":["+15554443333"],"from":"+15552221111","text":"","media":["https://dev.bandwidth.com/images/bandwidth-logo.png"],"tag":"v2 lab"}}]"#;
    assert!(
        matches!(&events(sending)[..], [EventKind::Message(m)] if m.status == MessageStatus::Sent)
    );
    for (code, want) in [
        ("4720", MessageStatus::Undelivered),
        ("4775", MessageStatus::Undelivered),
        ("5600", MessageStatus::Failed),
        ("9902", MessageStatus::Sent),
        ("9999", MessageStatus::Undelivered),
    ] {
        let e = events(&format!(
            r#"[{{"type":"message-failed","time":"2016-09-14T18:20:16Z","to":"+1","errorCode":{code},"message":{{"id":"m"}}}}]"#
        ));
        assert!(
            matches!(&e[..], [EventKind::Message(m)] if m.status == want),
            "{code}"
        );
    }
}

#[test]
fn callbacks_need_the_callback_credentials() {
    let bw = adapter("https://x.example");
    let w = bw.webhooks.as_ref();
    let hook = |headers: &HeaderMap| {
        w.verify(&WebhookRequest {
            url: "https://sy.example/h",
            headers,
            body: b"[]",
            now_secs: 0,
        })
    };
    let mut h = HeaderMap::new();
    assert_eq!(hook(&h), Err(WebhookError::Unsigned("authorization")));
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Basic {}", STANDARD.encode("sy:cb-secret"))).expect("h"),
    );
    assert_eq!(hook(&h), Ok(()));
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Basic {}", STANDARD.encode("sy:wrong"))).expect("h"),
    );
    assert_eq!(hook(&h), Err(WebhookError::BadSignature));
    assert!(matches!(
        parse_webhook(w, b"42"),
        Err(WebhookError::Malformed(_))
    ));
    assert!(matches!(
        parse_webhook(w, br#"[{"type":"message-delivered"}]"#),
        Err(WebhookError::Malformed(_))
    ));

    let unset = crate::registry::build(
        "bandwidth",
        &context(json!({ "account_id": ACCOUNT, "client_id": "c", "client_secret": "s" })),
    )
    .expect("adapter");
    assert!(matches!(
        unset.webhooks.verify(&WebhookRequest {
            url: "https://sy.example/h",
            headers: &h,
            body: b"[]",
            now_secs: 0
        }),
        Err(WebhookError::NotConfigured(_))
    ));
}

#[test]
fn credentials_are_checked() {
    let build = |creds: Value| crate::registry::build("bandwidth", &context(creds));
    assert!(build(json!({ "account_id": "abc", "client_id": "c", "client_secret": "s" })).is_err());
    let err = build(json!({ "account_id": ACCOUNT })).expect_err("no API credentials");
    assert!(
        err.to_string().contains("client_id and client_secret"),
        "{err}"
    );
    let err = build(json!({ "account_id": ACCOUNT, "client_id": "c", "client_secret": "s", "callback_username": "u" })).expect_err("half");
    assert!(err.to_string().contains("callback_password"), "{err}");
}
