//! Arbitrary webhook bodies, URLs and headers never panic the verifiers, parsers or
//! acknowledgements of the carrier adapters: they are refused or read, and a parsed event
//! always has a key.

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use switchyard_providers::adapter::{Adapter, ProviderContext};
use switchyard_providers::capability::WebhookRequest;
use switchyard_providers::http::HttpClient;
use switchyard_providers::registry;

fn adapter(kind: &str, creds: Value) -> Adapter {
    let credentials: Map<String, Value> = creds.as_object().cloned().unwrap_or_default();
    let ctx = ProviderContext {
        provider_id: "prv_fuzz".into(),
        credentials,
        webhook_url: "https://sy.example/v1/webhooks/prv_fuzz".into(),
        sandbox_url: None,
        http: HttpClient::default(),
    };
    registry::build(kind, &ctx).expect("adapter")
}

/// Built once: building a client is far slower than a parse.
static ADAPTERS: std::sync::LazyLock<Vec<Adapter>> = std::sync::LazyLock::new(|| {
    vec![
        adapter(
            "twilio",
            json!({ "account_sid": format!("AC{}", "0".repeat(32)), "auth_token": "token" }),
        ),
        adapter(
            "telnyx",
            json!({ "api_key": "KEY", "connection_id": "1", "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" }),
        ),
        adapter(
            "plivo",
            json!({ "auth_id": "MAJHUDTEYWLSIUYTDBCZ", "auth_token": "token" }),
        ),
        adapter(
            "bandwidth",
            json!({ "account_id": "9900000", "client_id": "c", "client_secret": "s", "callback_username": "u", "callback_password": "p" }),
        ),
        adapter(
            "vonage",
            json!({ "api_key": "a1b2c3d", "api_secret": "s", "signature_secret": "secret", "signature_method": "sha256" }),
        ),
    ]
});

fn headers(pairs: &[(String, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            h.append(k, v);
        }
    }
    h
}

/// Bodies shaped like the real thing, so the parsers get past the first check often.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        "[A-Za-z]{1,12}=[^&]{0,20}(&[A-Za-z]{1,12}=[^&]{0,20}){0,8}".prop_map(String::into_bytes),
        (
            prop::sample::select(vec!["call.initiated", "call.answered", "call.hangup", "message.sent", "message.finalized", "message.received", "x"]),
            any::<Option<String>>(),
            any::<bool>()
        )
            .prop_map(|(t, id, nested)| {
                let payload = if nested { json!({ "to": [{ "status": id, "phone_number": 5 }], "from": {} }) } else { json!(id) };
                serde_json::to_vec(&json!({ "data": { "event_type": t, "id": id, "payload": payload, "occurred_at": id } })).unwrap_or_default()
            }),
        (
            prop::sample::select(vec!["CallSid", "MessageSid", "SmsSid"]),
            prop::sample::select(vec!["CallStatus", "MessageStatus", "SmsStatus", "Direction", "NumMedia", "CallDuration", "Timestamp"]),
            ".{0,16}",
        )
            .prop_map(|(id, field, value)| serde_urlencoded::to_string([(id, "X1"), (field, value.as_str())]).unwrap_or_default().into_bytes()),
        // Plivo and Vonage forms.
        (
            prop::sample::select(vec!["CallUUID", "MessageUUID", "messageId", "RequestUUID"]),
            prop::sample::select(vec!["CallStatus", "Status", "Direction", "status", "msisdn", "timestamp", "sig", "EndTime", "err-code", "Media0"]),
            ".{0,16}",
        )
            .prop_map(|(id, field, value)| serde_urlencoded::to_string([(id, "X1"), (field, value.as_str())]).unwrap_or_default().into_bytes()),
        // Bandwidth voice events and message lists; Vonage JSON callbacks.
        (
            prop::sample::select(vec!["answer", "disconnect", "initiate", "message-delivered", "message-failed", "message-received", "x"]),
            any::<Option<String>>(),
            any::<bool>(),
        )
            .prop_map(|(t, id, list)| {
                let v = if list {
                    json!([{ "type": t, "time": id, "to": id, "errorCode": 4720, "message": { "id": id, "from": id, "media": [id] } }])
                } else {
                    json!({ "eventType": t, "callId": id, "cause": id, "answerTime": id, "endTime": id, "uuid": id, "status": id, "message_uuid": id, "usage": { "price": id } })
                };
                serde_json::to_vec(&v).unwrap_or_default()
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn verifiers_and_parsers_never_panic(
        body in body(),
        url in prop_oneof![Just("https://sy.example/v1/webhooks/prv_fuzz".to_string()), ".{0,40}".prop_map(|s| s), "https://a.example/x\\?bodySHA256=[0-9a-f]{0,64}"],
        hdrs in prop::collection::vec((prop::sample::select(vec![
            "x-twilio-signature".to_string(), "telnyx-signature-ed25519".into(), "telnyx-timestamp".into(), "content-type".into(),
            "x-plivo-signature-v3".into(), "x-plivo-signature-v3-nonce".into(), "x-plivo-signature-v2".into(), "x-plivo-signature-v2-nonce".into(),
            "authorization".into(),
        ]), ".{0,90}"), 0..4),
        now in any::<i64>(),
    ) {
        let headers = headers(&hdrs);
        for a in ADAPTERS.iter() {
            let req = WebhookRequest { url: &url, headers: &headers, body: &body, now_secs: now };
            let _ = a.webhooks.verify(&req);
            let _ = a.webhooks.acknowledgement(&req);
            if let Ok(events) = a.webhooks.parse(&req) {
                prop_assert!(!events.is_empty());
                prop_assert!(events.iter().all(|e| !e.dedupe_key.is_empty() && !e.name().is_empty()));
            }
        }
    }
}
