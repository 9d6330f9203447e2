//! Messages end to end through the API and the sandbox: least-cost routing, failover when
//! a carrier is down, statuses from signed webhooks, consent; on SQLite and (when
//! configured) PostgreSQL.

mod common;

use common::{Server, start, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_sandbox::SandboxConfig;
use switchyard_server::ServerSettings;
use switchyard_store::Role;
use switchyard_store::testing;

const QUICK: &str = r#"{"receipt_delay_ms": 100, "delivery_rate": 1.0}"#;

async fn carrier(s: &Server, key: &str, name: &str, style: &str, rate: &str) -> String {
    carrier_with(s, key, name, style, rate, QUICK).await
}

async fn carrier_with(
    s: &Server,
    key: &str,
    name: &str,
    style: &str,
    rate: &str,
    profile: &str,
) -> String {
    let (status, p) = s
        .post("/v1/providers", key, json!({"type": "sandbox", "name": name, "credentials": {"style": style, "profile": profile}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().expect("id").to_string();
    let deck = format!("prefix,destination,rate\n44,United Kingdom,{rate}\n1,USA,{rate}\n");
    let (status, up) = s
        .csv(&format!("/v1/providers/{id}/rates?channel=sms"), key, &deck)
        .await;
    assert!(status.is_success(), "{up}");
    let (status, _) = s
        .post(&format!("/v1/providers/{id}/numbers/sync"), key, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    id
}

async fn final_state(s: &Server, key: &str, id: &str) -> Value {
    for _ in 0..200 {
        let (_, m) = s.get(&format!("/v1/messages/{id}"), key).await;
        if matches!(
            m["status"].as_str(),
            Some("delivered" | "undelivered" | "failed" | "unconfirmed")
        ) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message {id} never reached a final state");
}

#[tokio::test]
async fn messages_go_least_cost_fail_over_and_follow_webhooks() {
    for t in testing::all().await {
        let settings = ServerSettings {
            sandbox: Some(SandboxConfig {
                seed: 11,
                speed: 20.0,
            }),
            ..ServerSettings::default()
        };
        let s = start(t.store.clone(), settings).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let cheap = carrier(&s, &key, "Cheap", "twilio", "0.0040").await;
        let dear = carrier(&s, &key, "Dear", "telnyx", "0.0060").await;

        // Status changes go to the organisation's endpoint (unreachable here: the delivery log
        // still shows every event queued).
        s.post(
            "/v1/event-endpoints",
            &key,
            json!({"url": "http://127.0.0.1:9/unreachable", "event_types": ["message.status"]}),
        )
        .await;
        let (status, accepted) = s.post("/v1/messages", &key, json!({"to": "+447911123456", "body": "Your code is 4821", "metadata": {"order": 7}})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let m = final_state(&s, &key, accepted["id"].as_str().expect("id")).await;
        assert_eq!(
            (m["status"].as_str(), m["provider_id"].as_str()),
            (Some("delivered"), Some(cheap.as_str())),
            "{m}"
        );
        assert_eq!(m["attempts"].as_array().map(Vec::len), Some(1));
        assert_eq!(m["metadata"]["order"], 7);
        assert_eq!(m["segments"], 1);
        // Rated on its deck; the baseline is the dearest provider that could have sent it.
        assert_eq!(
            (
                m["cost"].as_str(),
                m["baseline_cost"].as_str(),
                m["currency"].as_str()
            ),
            (Some("0.004"), Some("0.006"), Some("USD")),
            "{m}"
        );
        let (_, log) = s.get("/v1/event-deliveries", &key).await;
        let statuses: Vec<String> = log["data"]
            .as_array()
            .expect("deliveries")
            .iter()
            .filter_map(|d| serde_json::from_str::<Value>(d["payload"].as_str()?).ok())
            .filter(|e| e["data"]["id"] == m["id"])
            .filter_map(|e| e["data"]["status"].as_str().map(str::to_owned))
            .collect();
        assert!(
            statuses.contains(&"queued".to_string()) && statuses.contains(&"delivered".to_string()),
            "{statuses:?}"
        );

        // The cheap carrier goes down: the next message fails over to the other.
        let (status, _) = s
            .call(
                reqwest::Method::PUT,
                &format!("/v1/providers/{cheap}/sandbox/faults"),
                &key,
                Some(json!({"outage_secs": 3600})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, accepted) = s
            .post(
                "/v1/messages",
                &key,
                json!({"to": "+447911123456", "body": "Second"}),
            )
            .await;
        let m = final_state(&s, &key, accepted["id"].as_str().expect("id")).await;
        assert_eq!(
            (m["status"].as_str(), m["provider_id"].as_str()),
            (Some("delivered"), Some(dear.as_str())),
            "{m}"
        );
        let attempts: Vec<(&str, &str)> = m["attempts"]
            .as_array()
            .expect("attempts")
            .iter()
            .map(|a| {
                (
                    a["provider_id"].as_str().unwrap_or(""),
                    a["status"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            attempts,
            [(cheap.as_str(), "failed"), (dear.as_str(), "accepted")]
        );
        assert_eq!(m["attempts"][0]["error_class"], "retryable");
        // The Telnyx-style sandbox reports its own price (0.0079), far from the deck's 0.006.
        assert_eq!(
            (m["cost"].as_str(), m["price_mismatch"].as_bool()),
            (Some("0.006"), Some(true)),
            "{m}"
        );

        // Both down: the message fails, and says why.
        s.call(
            reqwest::Method::PUT,
            &format!("/v1/providers/{dear}/sandbox/faults"),
            &key,
            Some(json!({"outage_secs": 3600})),
        )
        .await;
        let (_, accepted) = s
            .post(
                "/v1/messages",
                &key,
                json!({"to": "+447911123456", "body": "Third"}),
            )
            .await;
        let m = final_state(&s, &key, accepted["id"].as_str().expect("id")).await;
        assert_eq!(
            (m["status"].as_str(), m["error_code"].as_str()),
            (Some("failed"), Some("no_provider_left")),
            "{m}"
        );

        // Consent and bad input.
        s.post(
            "/v1/opt-outs",
            &key,
            json!({"e164": "+447911123457", "channel": "sms"}),
        )
        .await;
        let (status, blocked) = s
            .post(
                "/v1/messages",
                &key,
                json!({"to": "+447911123457", "body": "x"}),
            )
            .await;
        assert_eq!(
            (status, blocked["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("recipient_blocked"))
        );
        let (status, bad) = s
            .post("/v1/messages", &key, json!({"to": "12", "body": "x"}))
            .await;
        assert_eq!(
            (status, bad["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("to"))
        );
        let (status, bad) = s.post("/v1/messages", &key, json!({"to": "+447911123456", "body": "x", "media_urls": ["https://x.example/a.jpg"]})).await;
        assert_eq!(
            (status, bad["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("media_urls"))
        );
        s.post(
            "/v1/templates",
            &key,
            json!({"name": "otp", "body": "Code {{ code }}"}),
        )
        .await;
        let (status, missing) = s
            .post(
                "/v1/messages",
                &key,
                json!({"to": "+447911123456", "template": "otp"}),
            )
            .await;
        assert_eq!(
            (status, missing["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_variable"))
        );
        let (status, none) = s
            .post(
                "/v1/messages",
                &key,
                json!({"to": "+33612345678", "body": "x"}),
            )
            .await;
        assert_eq!(
            (status, none["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("no_route")),
            "{none}"
        );

        let (_, list) = s.get("/v1/messages?status=delivered", &key).await;
        assert_eq!(list["data"].as_array().map(Vec::len), Some(2));
        let (_, stranger) = tenant(&t.store, Role::Admin).await;
        assert_eq!(
            s.get("/v1/messages", &stranger).await.1["data"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );
        s.running.stop();
    }
}

#[tokio::test]
async fn stranded_messages_are_resumed_and_interrupted_attempts_never_resent() {
    let t = testing::sqlite().await;
    let settings = ServerSettings {
        sandbox: Some(SandboxConfig {
            seed: 12,
            speed: 20.0,
        }),
        ..ServerSettings::default()
    };
    let s = start(t.store.clone(), settings).await;
    let (org, key) = tenant(&t.store, Role::Admin).await;
    let provider = carrier(&s, &key, "Only", "twilio", "0.0040").await;
    let (_, numbers) = s.get("/v1/numbers", &key).await;
    let from = numbers["data"][0]["e164"]
        .as_str()
        .expect("number")
        .to_string();
    // As a crashed instance would leave them: stored, lease run out, not dispatched.
    let stranded = |body: &str| switchyard_store::NewMessage {
        org_id: org.clone(),
        channel: "sms".into(),
        to_e164: "+447911123456".into(),
        body: body.into(),
        media: "[]".into(),
        metadata: "{}".into(),
        segments: 1,
        plan: json!([{"provider_id": provider, "from": from}]).to_string(),
        decision: "{}".into(),
        lease_ms: 0,
    };
    let never_tried = t
        .store
        .insert_message(&stranded("resume me"))
        .await
        .expect("insert");
    let interrupted = t
        .store
        .insert_message(&stranded("maybe sent"))
        .await
        .expect("insert");
    t.store
        .begin_attempt(
            switchyard_store::Outbox::Messages,
            &interrupted.id,
            0,
            &provider,
            &from,
        )
        .await
        .expect("attempt");

    let m = final_state(&s, &key, &never_tried.id).await;
    assert_eq!(m["status"], "delivered", "{m}");
    let m = final_state(&s, &key, &interrupted.id).await;
    assert_eq!(
        (m["status"].as_str(), m["error_code"].as_str()),
        (Some("unconfirmed"), Some("interrupted")),
        "{m}"
    );
    assert_eq!(
        m["attempts"].as_array().map(Vec::len),
        Some(1),
        "not sent again"
    );
    s.running.stop();
}

#[tokio::test]
async fn receipts_that_beat_the_acceptance_are_applied() {
    let t = testing::sqlite().await;
    let settings = ServerSettings {
        sandbox: Some(SandboxConfig {
            seed: 13,
            speed: 20.0,
        }),
        ..ServerSettings::default()
    };
    let s = start(t.store.clone(), settings).await;
    let (_, key) = tenant(&t.store, Role::Admin).await;
    // Receipts sent the moment the carrier accepts, before its answer is recorded.
    carrier_with(
        &s,
        &key,
        "Instant",
        "telnyx",
        "0.0040",
        r#"{"receipt_delay_ms": 0, "delivery_rate": 1.0}"#,
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let (status, m) = s
            .post(
                "/v1/messages",
                &key,
                json!({"to": "+447911123456", "body": format!("n{i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{m}");
        ids.push(m["id"].as_str().expect("id").to_string());
    }
    for id in ids {
        assert_eq!(final_state(&s, &key, &id).await["status"], "delivered");
    }
    s.running.stop();
}
