//! Webhook intake cost: signature verification plus parsing, against parsing alone (the
//! baseline), for Twilio (HMAC-SHA1 over URL and sorted form), Telnyx (Ed25519), Plivo
//! (V3: HMAC-SHA256 over URL, sorted form and nonce), Bandwidth (Basic credentials) and
//! Vonage (an SMS receipt's `sig`, md5hash; a voice event's HS256 JWT with its body hash).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use http::HeaderMap;
use serde_json::{Map, Value, json};
use std::hint::black_box;
use switchyard_providers::adapter::ProviderContext;
use switchyard_providers::capability::WebhookRequest;
use switchyard_providers::http::HttpClient;
use switchyard_providers::{plivo, registry, telnyx, twilio, vonage};

const URL: &str = "https://switchyard.example.com/v1/webhooks/0190f3c2-7d1e-7000-8000-000000000001";

fn adapter(kind: &str, creds: Value) -> switchyard_providers::Adapter {
    let credentials: Map<String, Value> = creds.as_object().cloned().unwrap_or_default();
    registry::build(
        kind,
        &ProviderContext {
            provider_id: "p".into(),
            credentials,
            webhook_url: URL.into(),
            sandbox_url: None,
            http: HttpClient::default(),
        },
    )
    .expect("adapter")
}

fn bench(c: &mut Criterion) {
    // A Twilio call status callback as Twilio sends it (16 parameters).
    let token = "0123456789abcdef0123456789abcdef";
    let sid = format!("AC{}", "1".repeat(32));
    let form: Vec<(String, String)> = [
        ("AccountSid", sid.as_str()),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "completed"),
        ("CallDuration", "42"),
        ("Called", "+442071234567"),
        ("Caller", "+12125550100"),
        ("Direction", "outbound-api"),
        ("From", "+12125550100"),
        ("To", "+442071234567"),
        ("SequenceNumber", "3"),
        ("Timestamp", "Sat, 21 Nov 2026 10:00:00 +0000"),
        ("CallbackSource", "call-progress-events"),
        ("SipResponseCode", "200"),
        ("Duration", "1"),
        ("ToCountry", "GB"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let twilio_body = serde_urlencoded::to_string(&form)
        .expect("form")
        .into_bytes();
    let mut twilio_headers = HeaderMap::new();
    twilio_headers.insert(
        "x-twilio-signature",
        twilio::signature::sign(token, URL, &form)
            .parse()
            .expect("header"),
    );
    let tw = adapter("twilio", json!({ "account_sid": sid, "auth_token": token }));

    // A Telnyx call.hangup event.
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        key.verifying_key().as_bytes(),
    );
    let telnyx_body = serde_json::to_vec(&json!({"data": {"event_type": "call.hangup", "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
        "occurred_at": "2026-11-21T10:00:42.000000Z", "record_type": "event", "payload": {
        "call_control_id": "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg", "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
        "call_session_id": "428c31b6-abf3-3bc1-b7f4-5013ef9657c1", "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d", "connection_id": "7267xxxxxxxxxxxxxx",
        "from": "+12125550100", "to": "+442071234567", "hangup_cause": "normal_clearing", "hangup_source": "callee", "sip_hangup_cause": "200",
        "start_time": "2026-11-21T10:00:00.000000Z", "end_time": "2026-11-21T10:00:42.000000Z", "state": "hangup"}}, "meta": {"attempt": 1}}))
    .expect("json");
    let ts = 1_795_000_000;
    let mut telnyx_headers = HeaderMap::new();
    telnyx_headers.insert(
        "telnyx-signature-ed25519",
        telnyx::signature::sign(&key, ts, &telnyx_body)
            .parse()
            .expect("header"),
    );
    telnyx_headers.insert("telnyx-timestamp", ts.to_string().parse().expect("header"));
    let tx = adapter(
        "telnyx",
        json!({ "api_key": "KEY", "connection_id": "1", "public_key": public }),
    );

    // A Plivo hangup callback, V3-signed.
    let plivo_form: Vec<(String, String)> = [
        ("CallUUID", "d0a87a1a-b0e9-4ab2-ac07-c22ee87cd04a"),
        ("RequestUUID", "d0a87a1a-b0e9-4ab2-ac07-c22ee87cd04a"),
        ("ALegRequestUUID", "d0a87a1a-b0e9-4ab2-ac07-c22ee87cd04a"),
        ("CallStatus", "completed"),
        ("Direction", "outbound"),
        ("Event", "Hangup"),
        ("From", "12125550100"),
        ("To", "442071234567"),
        ("Duration", "42"),
        ("BillDuration", "60"),
        ("TotalCost", "0.01300"),
        ("HangupCause", "NORMAL_CLEARING"),
        ("HangupCauseName", "Normal Hangup"),
        ("StartTime", "2026-11-21 10:00:00"),
        ("EndTime", "2026-11-21 10:00:42"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let plivo_body = serde_urlencoded::to_string(&plivo_form)
        .expect("form")
        .into_bytes();
    let mut plivo_headers = HeaderMap::new();
    plivo_headers.insert(
        plivo::signature::V3_HEADER,
        plivo::signature::sign_v3(token, URL, &plivo_form, "12345678901234567890")
            .parse()
            .expect("header"),
    );
    plivo_headers.insert(
        plivo::signature::V3_NONCE_HEADER,
        "12345678901234567890".parse().expect("header"),
    );
    let pl = adapter(
        "plivo",
        json!({ "auth_id": "MAJHUDTEYWLSIUYTDBCZ", "auth_token": token }),
    );

    // A Bandwidth disconnect event with its callback credentials.
    let bandwidth_body = serde_json::to_vec(&json!({"eventType": "disconnect", "eventTime": "2026-11-21T10:00:42.533Z",
        "accountId": "9900000", "applicationId": "7fc9698a-b04a-468b-9e8f-91238c0d0086", "from": "+12125550100", "to": "+442071234567",
        "direction": "outbound", "callId": "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
        "callUrl": "https://voice.bandwidth.com/api/v2/accounts/9900000/calls/c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
        "startTime": "2026-11-21T10:00:00.234Z", "answerTime": "2026-11-21T10:00:05.432Z", "endTime": "2026-11-21T10:00:42.123Z", "cause": "hangup"}))
    .expect("json");
    let mut bandwidth_headers = HeaderMap::new();
    bandwidth_headers.insert(
        "authorization",
        format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "sy:cb-secret")
        )
        .parse()
        .expect("header"),
    );
    let bw = adapter(
        "bandwidth",
        json!({ "account_id": "9900000", "client_id": "c", "client_secret": "s", "callback_username": "sy", "callback_password": "cb-secret" }),
    );

    // A Vonage SMS receipt signed with `sig` (md5hash), and a voice event with its JWT.
    let secret = "0123456789abcdef0123456789abcdef";
    let mut receipt: Vec<(String, String)> = [
        ("msisdn", "447547232824"),
        ("to", "12125550100"),
        ("network-code", "23410"),
        ("messageId", "0B00000127FDBC63"),
        ("price", "0.03330000"),
        ("status", "delivered"),
        ("scts", "2611211000"),
        ("err-code", "0"),
        ("api-key", "a1b2c3d"),
        ("message-timestamp", "2026-11-21 10:00:29"),
        ("timestamp", &ts.to_string()),
        ("nonce", "6a1c6e2e-1b55-4c5e-9d0c-8d6c1b0b3c2a"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sig = vonage::signature::sign(vonage::signature::Method::Md5Hash, secret, &receipt);
    receipt.push(("sig".into(), sig));
    let vonage_sms_body = serde_urlencoded::to_string(&receipt)
        .expect("form")
        .into_bytes();
    let vonage_voice_body = serde_json::to_vec(&json!({"end_time": "2026-11-21T10:00:42.000Z", "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "network": "23410", "duration": "42", "start_time": "2026-11-21T10:00:00.000Z", "rate": "0.01300000", "price": "0.00910000",
        "from": "12125550100", "to": "442071234567", "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "status": "completed", "direction": "outbound", "timestamp": "2026-11-21T10:00:42.000Z"}))
    .expect("json");
    let claims = vonage::signature::callback_claims(
        "a1b2c3d",
        "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        &vonage_voice_body,
        ts,
        "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
    );
    let mut vonage_voice_headers = HeaderMap::new();
    vonage_voice_headers.insert(
        "authorization",
        format!(
            "Bearer {}",
            switchyard_providers::jwt::sign_hs256(secret.as_bytes(), &claims)
        )
        .parse()
        .expect("header"),
    );
    let vg = adapter(
        "vonage",
        json!({ "api_key": "a1b2c3d", "api_secret": "s", "signature_secret": secret }),
    );
    let no_headers = HeaderMap::new();

    let mut g = c.benchmark_group("webhooks");
    g.throughput(Throughput::Elements(1));
    for (name, a, headers, body) in [
        ("twilio", &tw, &twilio_headers, &twilio_body),
        ("telnyx", &tx, &telnyx_headers, &telnyx_body),
        ("plivo", &pl, &plivo_headers, &plivo_body),
        ("bandwidth", &bw, &bandwidth_headers, &bandwidth_body),
        ("vonage_sms", &vg, &no_headers, &vonage_sms_body),
        (
            "vonage_voice",
            &vg,
            &vonage_voice_headers,
            &vonage_voice_body,
        ),
    ] {
        let req = WebhookRequest {
            url: URL,
            headers,
            body,
            now_secs: ts + 10,
        };
        assert!(a.webhooks.verify(&req).is_ok(), "{name} fixture verifies");
        g.bench_function(format!("{name}/parse_only"), |b| {
            b.iter(|| black_box(a.webhooks.parse(black_box(&req))))
        });
        g.bench_function(format!("{name}/verify_and_parse"), |b| {
            b.iter(|| {
                let ok = a.webhooks.verify(black_box(&req)).is_ok();
                black_box((ok, a.webhooks.parse(black_box(&req))))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
