//! Providers driven through the API with only the built-in sandbox: sandbox providers of
//! both styles tested and synced, webhooks verified before anything is stored, on SQLite
//! and (when configured) PostgreSQL.

mod common;

use common::{Server, start, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_providers::{telnyx, twilio};
use switchyard_sandbox::SandboxConfig;
use switchyard_server::ServerSettings;
use switchyard_store::Role;
use switchyard_store::testing;

fn settings() -> ServerSettings {
    ServerSettings {
        sandbox: Some(SandboxConfig {
            seed: 9,
            speed: 20.0,
        }),
        ..ServerSettings::default()
    }
}

const QUICK: &str =
    r#"{"ring_ms": 100, "receipt_delay_ms": 100, "duration": {"kind": "fixed", "secs": 2}}"#;

async fn events(server: &Server, key: &str, provider: &str, want: usize) -> Vec<Value> {
    for _ in 0..100 {
        let (_, body) = server
            .get(&format!("/v1/webhook-events?provider={provider}"), key)
            .await;
        let list = body["data"].as_array().cloned().unwrap_or_default();
        if list.len() >= want {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {want} webhook events arrived");
}

#[tokio::test]
async fn sandbox_providers_test_sync_and_take_inbound_traffic() {
    for t in testing::all().await {
        let server = start(t.store.clone(), settings()).await;
        let (_, admin) = tenant(&t.store, Role::Admin).await;
        for style in ["twilio", "telnyx"] {
            let (status, created) = server
                .post("/v1/providers", &admin, json!({"type": "sandbox", "name": format!("{style} sandbox"), "credentials": {"style": style, "profile": QUICK}}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            let id = created["id"].as_str().expect("id").to_string();
            let secret_field = if style == "twilio" {
                "auth_token"
            } else {
                "api_key"
            };
            let shown = created["credentials"][secret_field]
                .as_str()
                .expect("generated credential shown masked");
            assert!(shown.contains('*'), "{shown}");
            assert!(
                created["webhook_url"]
                    .as_str()
                    .expect("webhook url")
                    .ends_with(&format!("/v1/webhooks/{id}"))
            );

            let (status, tested) = server
                .post(&format!("/v1/providers/{id}/test"), &admin, json!({}))
                .await;
            assert_eq!(status, StatusCode::OK, "{tested}");
            assert_eq!(tested["ok"], true);

            let (status, synced) = server
                .post(
                    &format!("/v1/providers/{id}/numbers/sync"),
                    &admin,
                    json!({}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{synced}");
            assert_eq!(
                (synced["added"].as_u64(), synced["released"].as_u64()),
                (Some(5), Some(0))
            );
            let ours = synced["data"][0]["e164"]
                .as_str()
                .expect("number")
                .to_string();
            let (_, again) = server
                .post(
                    &format!("/v1/providers/{id}/numbers/sync"),
                    &admin,
                    json!({}),
                )
                .await;
            assert_eq!(
                (again["added"].as_u64(), again["updated"].as_u64()),
                (Some(0), Some(5))
            );

            let (status, offer) = server.get(&format!("/v1/providers/{id}/numbers/available?country=US&area_code=415&sms=true&limit=3"), &admin).await;
            assert_eq!(status, StatusCode::OK, "{offer}");
            assert_eq!(offer["data"].as_array().map(Vec::len), Some(3));
            let (status, bad) = server
                .get(
                    &format!("/v1/providers/{id}/numbers/available?country=USA"),
                    &admin,
                )
                .await;
            assert_eq!(
                (status, bad["error"]["details"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("country"))
            );

            let (status, imported) = server
                .post(
                    &format!("/v1/providers/{id}/numbers/import"),
                    &admin,
                    json!({"e164": ours}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{imported}");
            let (status, missing) = server
                .post(
                    &format!("/v1/providers/{id}/numbers/import"),
                    &admin,
                    json!({"e164": "+12125550999"}),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{missing}");
            assert_eq!(missing["error"]["details"]["provider_code"], "not_owned");
            let (status, _) = server
                .post(
                    &format!("/v1/providers/{id}/numbers/import"),
                    &admin,
                    json!({"e164": "12"}),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

            // Inbound traffic comes back through the signed webhook and is stored.
            let (status, _) = server
                .post(
                    &format!("/v1/providers/{id}/sandbox/inbound"),
                    &admin,
                    json!({"kind": "sms", "from": "+447700900555", "to": ours, "body": "Is my order ready?"}),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED);
            let stored = events(&server, &admin, &id, 1).await;
            assert_eq!(stored[0]["event"], "message.inbound", "{stored:?}");
            assert_eq!(stored[0]["detail"]["body"], "Is my order ready?");

            // An outage makes the connection test fail as a retryable provider error.
            let (status, _) = server
                .call(
                    reqwest::Method::PUT,
                    &format!("/v1/providers/{id}/sandbox/faults"),
                    &admin,
                    Some(json!({"outage_secs": 600})),
                )
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT);
            let (status, failed) = server
                .post(&format!("/v1/providers/{id}/test"), &admin, json!({}))
                .await;
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{failed}");
            assert_eq!(
                (
                    failed["error"]["details"]["class"].as_str(),
                    failed["error"]["details"]["http_status"].as_u64()
                ),
                (Some("retryable"), Some(503))
            );
        }
        let (status, numbers) = server.get("/v1/numbers?limit=500", &admin).await;
        assert_eq!(
            (status, numbers["data"].as_array().map(Vec::len)),
            (StatusCode::OK, Some(10))
        );
        // Another organisation sees none of it.
        let (_, stranger) = tenant(&t.store, Role::Admin).await;
        let (_, theirs) = server.get("/v1/numbers", &stranger).await;
        assert_eq!(theirs["data"].as_array().map(Vec::len), Some(0));
        server.running.stop();
    }
}

async fn post_hook(
    server: &Server,
    id: &str,
    query: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, String) {
    let mut req = server
        .http
        .post(format!("{}/v1/webhooks/{id}{query}", server.base))
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.expect("post");
    (resp.status(), resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn twilio_webhooks_are_verified_before_anything_is_stored() {
    for t in testing::all().await {
        let server = start(t.store.clone(), settings()).await;
        let (_, admin) = tenant(&t.store, Role::Admin).await;
        let id = server.add_provider(&admin, "Twilio", "token-123").await;
        let url = format!("{}/v1/webhooks/{id}?attempt=1", server.base);
        let form: Vec<(String, String)> = [
            ("CallSid", "CA1"),
            ("CallStatus", "completed"),
            ("CallDuration", "42"),
            ("Direction", "outbound-api"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let body = serde_urlencoded::to_string(&form).expect("form");
        let signed = |params: &[(String, String)], token: &str| {
            vec![
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ),
                (
                    "x-twilio-signature",
                    twilio::signature::sign(token, &url, params),
                ),
            ]
        };
        let (status, _) = post_hook(
            &server,
            &id,
            "?attempt=1",
            &signed(&form, "wrong-token"),
            body.as_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = post_hook(&server, &id, "?attempt=1", &[], body.as_bytes()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let tampered = body.replace("42", "43");
        let (status, _) = post_hook(
            &server,
            &id,
            "?attempt=1",
            &signed(&form, "token-123"),
            tampered.as_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, none) = server.get("/v1/webhook-events", &admin).await;
        assert_eq!(
            none["data"].as_array().map(Vec::len),
            Some(0),
            "refused webhooks change nothing"
        );

        for _ in 0..2 {
            let (status, ack) = post_hook(
                &server,
                &id,
                "?attempt=1",
                &signed(&form, "token-123"),
                body.as_bytes(),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert!(ack.contains("<Response/>"), "{ack}");
        }
        let stored = events(&server, &admin, &id, 1).await;
        assert_eq!(stored.len(), 1, "a webhook delivered twice is stored once");
        assert_eq!(
            (
                stored[0]["event"].as_str(),
                stored[0]["detail"]["duration_secs"].as_u64()
            ),
            (Some("call.completed"), Some(42))
        );

        // Signed but unreadable: 400. Signed but unknown: stored and acknowledged.
        let broken: Vec<(String, String)> = vec![("CallSid".into(), "CA2".into())];
        let (status, _) = post_hook(
            &server,
            &id,
            "?attempt=1",
            &signed(&broken, "token-123"),
            b"CallSid=CA2",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let odd: Vec<(String, String)> = vec![("EventType".into(), "conference-start".into())];
        let (status, _) = post_hook(
            &server,
            &id,
            "?attempt=1",
            &signed(&odd, "token-123"),
            b"EventType=conference-start",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let stored = events(&server, &admin, &id, 2).await;
        assert_eq!(stored[0]["event"], "unknown.form");

        let (status, _) = post_hook(&server, "no-such-provider", "", &[], b"x").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        server.running.stop();
    }
}

#[tokio::test]
async fn telnyx_webhooks_are_verified_and_replays_refused() {
    let t = testing::sqlite().await;
    let server = start(t.store.clone(), settings()).await;
    let (_, admin) = tenant(&t.store, Role::Admin).await;
    // RFC 8032 section 7.1 TEST 1 key pair.
    let secret: [u8; 32] = [
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c,
        0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae,
        0x7f, 0x60,
    ];
    let key = ed25519_dalek::SigningKey::from_bytes(&secret);
    let public = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        key.verifying_key().as_bytes(),
    );
    let (status, created) = server
        .post("/v1/providers", &admin, json!({"type": "telnyx", "name": "Telnyx", "credentials": {"api_key": "KEY1", "connection_id": "123", "public_key": public}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let now = chrono::Utc::now().timestamp();
    let signed = |body: &[u8], ts: i64| {
        vec![
            ("content-type", "application/json".to_string()),
            (
                "telnyx-signature-ed25519",
                telnyx::signature::sign(&key, ts, body),
            ),
            ("telnyx-timestamp", ts.to_string()),
        ]
    };
    let answered = br#"{"data":{"event_type":"call.answered","id":"ev-1","occurred_at":"2026-11-21T10:00:00.000000Z","payload":{"call_control_id":"v3:abc"}}}"#;
    let (status, _) = post_hook(&server, &id, "", &signed(answered, now), answered).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_hook(&server, &id, "", &signed(answered, now - 400), answered).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a replay outside five minutes"
    );
    let (status, _) = post_hook(&server, &id, "", &signed(b"{}", now), answered).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a signature of another body");
    let (status, _) = post_hook(&server, &id, "", &signed(b"{not json", now), b"{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let unknown = br#"{"data":{"event_type":"call.recording.saved","id":"ev-2","payload":{}}}"#;
    let (status, _) = post_hook(&server, &id, "", &signed(unknown, now), unknown).await;
    assert_eq!(status, StatusCode::OK);
    let stored = events(&server, &admin, &id, 2).await;
    let names: Vec<&str> = stored.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(names, ["unknown.call.recording.saved", "call.answered"]);

    // Without a public key nothing can be verified, so nothing is accepted.
    let (_, bare) = server
        .post("/v1/providers", &admin, json!({"type": "telnyx", "name": "No key", "credentials": {"api_key": "KEY2", "connection_id": "124"}}))
        .await;
    let bare_id = bare["id"].as_str().expect("id");
    let (status, why) = post_hook(&server, bare_id, "", &signed(answered, now), answered).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(why.contains("public_key"), "{why}");
    server.running.stop();
}
