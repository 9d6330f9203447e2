//! Webhook intake cost: signature verification plus parsing, against parsing alone (the
//! baseline), for Twilio (HMAC-SHA1 over URL and sorted form) and Telnyx (Ed25519).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use http::HeaderMap;
use serde_json::{Map, Value, json};
use std::hint::black_box;
use switchyard_providers::adapter::ProviderContext;
use switchyard_providers::capability::WebhookRequest;
use switchyard_providers::http::HttpClient;
use switchyard_providers::{registry, telnyx, twilio};

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

    let mut g = c.benchmark_group("webhooks");
    g.throughput(Throughput::Elements(1));
    for (name, a, headers, body) in [
        ("twilio", &tw, &twilio_headers, &twilio_body),
        ("telnyx", &tx, &telnyx_headers, &telnyx_body),
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
