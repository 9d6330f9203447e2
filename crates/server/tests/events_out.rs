//! Organisation events delivered to a real HTTP receiver: signed as documented, retried
//! after a failure, logged; on SQLite and (when configured) PostgreSQL.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use common::{start, tenant};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_sandbox::SandboxConfig;
use switchyard_server::ServerSettings;
use switchyard_store::Role;
use switchyard_store::testing;

type Seen = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A receiver that refuses its first request with 503 and accepts the rest.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route(
            "/events",
            axum::routing::post(
                |State(seen): State<Seen>, headers: HeaderMap, body: Bytes| async move {
                    let mut list = seen.lock().expect("lock");
                    list.push((headers, body.to_vec()));
                    if list.len() == 1 {
                        AxStatus::SERVICE_UNAVAILABLE
                    } else {
                        AxStatus::OK
                    }
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// The documented check: HMAC-SHA256 over "<t>.<body>" with the endpoint secret.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = "";
    let mut v1 = "";
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v,
            Some(("v1", v)) => v1 = v,
            _ => {}
        }
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let fresh = (chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap_or(0)).abs() <= 300;
    fresh && hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

#[tokio::test]
async fn inbound_messages_reach_the_organisation_signed_and_retried() {
    for t in testing::all().await {
        let settings = ServerSettings {
            sandbox: Some(SandboxConfig {
                seed: 4,
                speed: 20.0,
            }),
            event_retry_base: Duration::from_millis(50),
            ..ServerSettings::default()
        };
        let s = start(t.store.clone(), settings).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let (url, seen) = receiver().await;
        let (status, ep) = s
            .post(
                "/v1/event-endpoints",
                &key,
                json!({"url": url, "event_types": ["message.inbound"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ep}");
        let secret = ep["secret"].as_str().expect("secret").to_string();
        assert!(secret.starts_with("whsec_") && secret.len() > 20);
        let (_, listed) = s.get("/v1/event-endpoints", &key).await;
        assert_eq!(
            listed["data"][0]["secret"], "whsec_****",
            "the secret is shown once"
        );
        let (status, bad) = s
            .post(
                "/v1/event-endpoints",
                &key,
                json!({"url": url, "event_types": ["sms.sent"]}),
            )
            .await;
        assert_eq!(
            (status, bad["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("event_types"))
        );
        let (status, _) = s
            .post("/v1/event-endpoints", &key, json!({"url": "ftp://x"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // Not subscribed to ping: nothing queued.
        let (status, _) = s.post("/v1/event-endpoints/ping", &key, json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED);

        let (_, p) = s
            .post(
                "/v1/providers",
                &key,
                json!({"type": "sandbox", "name": "sb", "credentials": {"style": "telnyx"}}),
            )
            .await;
        let id = p["id"].as_str().expect("id");
        let (_, synced) = s
            .post(&format!("/v1/providers/{id}/numbers/sync"), &key, json!({}))
            .await;
        let ours = synced["data"][0]["e164"].as_str().expect("number");
        s.post(&format!("/v1/providers/{id}/sandbox/inbound"), &key, json!({"kind": "sms", "from": "+447911123456", "to": ours, "body": "Is my order ready?"}))
            .await;

        let mut log = Value::Null;
        for _ in 0..100 {
            log = s.get("/v1/event-deliveries", &key).await.1;
            if log["data"][0]["status"] == "delivered" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(log["data"].as_array().map(Vec::len), Some(1), "{log}");
        assert_eq!(
            (
                log["data"][0]["status"].as_str(),
                log["data"][0]["attempts"].as_i64()
            ),
            (Some("delivered"), Some(2)),
            "{log}"
        );
        let got = seen.lock().expect("lock").clone();
        assert_eq!(got.len(), 2, "refused once, then delivered");
        for (headers, body) in &got {
            let sig = headers
                .get("switchyard-signature")
                .and_then(|v| v.to_str().ok())
                .expect("signed");
            assert!(verify(&secret, sig, body), "signature verifies");
            assert!(!verify("whsec_other", sig, body));
            let event: Value = serde_json::from_slice(body).expect("json");
            assert_eq!(event["type"], "message.inbound");
            assert_eq!(event["data"]["body"], "Is my order ready?");
            assert_eq!(
                headers
                    .get("switchyard-event-id")
                    .and_then(|v| v.to_str().ok()),
                event["id"].as_str()
            );
        }
        let (_, stranger) = tenant(&t.store, Role::Admin).await;
        assert_eq!(
            s.get("/v1/event-deliveries", &stranger).await.1["data"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );
        s.running.stop();
    }
}
