//! Messages end to end through the API and the sandbox: least-cost routing, failover when
//! a carrier is down, statuses from signed webhooks, consent; on SQLite and (when
//! configured) PostgreSQL.

mod common;

use common::{Server, start, start_sandboxed, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
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
    let deck = format!("prefix,destination,rate\n44,United Kingdom,{rate}\n1,USA,{rate}\n");
    s.sandbox_carrier(key, name, style, profile, &[("sms", deck)])
        .await
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
        let s = start_sandboxed(t.store.clone(), 11, 20.0).await;
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
        let line = &m["costs"][0];
        assert_eq!(
            (
                line["component"].as_str(),
                line["quantity"].as_str(),
                line["unit"].as_str(),
                line["unit_price"].as_str(),
                line["amount"].as_str()
            ),
            (
                Some("messaging"),
                Some("1"),
                Some("segment"),
                Some("0.004"),
                Some("0.004")
            ),
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
async fn stranded_messages_are_resumed_and_interrupted_attempts_settled_with_the_provider() {
    let t = testing::sqlite().await;
    let s = start_sandboxed(t.store.clone(), 12, 20.0).await;
    let (org, key) = tenant(&t.store, Role::Admin).await;
    let twilio = carrier(&s, &key, "Lookup", "twilio", "0.0040").await;
    let telnyx = carrier(&s, &key, "NoLookup", "telnyx", "0.0050").await;
    let (_, numbers) = s.get("/v1/numbers?limit=500", &key).await;
    let number_of = |provider: &str| {
        numbers["data"]
            .as_array()
            .expect("numbers")
            .iter()
            .find(|n| n["provider_id"] == provider)
            .and_then(|n| n["e164"].as_str())
            .expect("a number")
            .to_string()
    };
    // A message the sandbox really received, sent through the API.
    let (_, sent) = s
        .post(
            "/v1/messages",
            &key,
            json!({"to": "+447911123456", "body": "already there", "provider": twilio}),
        )
        .await;
    let sent = final_state(&s, &key, sent["id"].as_str().expect("id")).await;
    // As a crashed instance would leave them: stored, lease run out, not dispatched; the
    // interrupted ones with an attempt written but never finished.
    let stranded = |body: &str, provider: &str, from: &str| switchyard_store::NewMessage {
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
        idempotency: None,
    };
    let store = &t.store;
    let insert = |m: switchyard_store::NewMessage| async move {
        store.insert_message(&m).await.expect("insert").record()
    };
    let interrupt = |id: String, provider: String, from: String| async move {
        store
            .begin_attempt(
                switchyard_store::Outbox::Messages,
                &id,
                0,
                &provider,
                &from,
                0,
            )
            .await
            .expect("attempt");
    };
    let (ours, theirs) = (number_of(&twilio), number_of(&telnyx));
    let sent_from = sent["from"].as_str().expect("from").to_string();
    let never_tried = insert(stranded("resume me", &twilio, &ours)).await;
    let lost_on_the_way = insert(stranded("never arrived", &twilio, &ours)).await;
    interrupt(lost_on_the_way.id.clone(), twilio.clone(), ours.clone()).await;
    let arrived = insert(stranded("already there", &twilio, &sent_from)).await;
    interrupt(arrived.id.clone(), twilio.clone(), sent_from.clone()).await;
    let cannot_tell = insert(stranded("who knows", &telnyx, &theirs)).await;
    interrupt(cannot_tell.id.clone(), telnyx.clone(), theirs.clone()).await;

    let m = final_state(&s, &key, &never_tried.id).await;
    assert_eq!(m["status"], "delivered", "{m}");
    // The provider never had it: sent again, at the same provider.
    let m = final_state(&s, &key, &lost_on_the_way.id).await;
    let attempts: Vec<(&str, Option<&str>)> = m["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| (a["status"].as_str().unwrap_or(""), a["error_code"].as_str()))
        .collect();
    assert_eq!(
        attempts,
        [("failed", Some("interrupted")), ("accepted", None)],
        "{m}"
    );
    assert_eq!(m["status"], "delivered", "{m}");
    // The provider had it: adopted, not sent again.
    let m = final_state(&s, &key, &arrived.id).await;
    assert_eq!(m["provider_message_id"], sent["provider_message_id"], "{m}");
    assert_eq!(m["attempts"].as_array().map(Vec::len), Some(1), "{m}");
    // Telnyx offers no lookup: left unconfirmed rather than risk a second copy.
    let m = final_state(&s, &key, &cannot_tell.id).await;
    assert_eq!(
        (m["status"].as_str(), m["error_code"].as_str()),
        (Some("unconfirmed"), Some("interrupted")),
        "{m}"
    );
    let journal = s.running.sandbox.as_ref().expect("sandbox").journal();
    let posted = |text: &str| {
        journal
            .iter()
            .filter(|e| {
                e.method == "POST"
                    && e.path.ends_with("/Messages.json")
                    && e.body.contains(&text.replace(' ', "+"))
            })
            .count()
    };
    assert_eq!((posted("already there"), posted("never arrived")), (1, 1));
    s.running.stop();
}

#[tokio::test]
async fn receipts_that_beat_the_acceptance_are_applied() {
    let t = testing::sqlite().await;
    let s = start_sandboxed(t.store.clone(), 13, 20.0).await;
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

#[tokio::test]
async fn an_idempotency_key_creates_one_message_and_replays_it() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        carrier(&s, &key, "Only", "twilio", "0.0040").await;
        let send = |body: Value| {
            s.http
                .post(format!("{}/v1/messages", s.base))
                .bearer_auth(&key)
                .header("idempotency-key", "order-7-confirmation")
                .json(&body)
                .send()
        };
        let body = json!({"to": "+447911123456", "body": "Order 7 confirmed"});
        let first = send(body.clone()).await.expect("first");
        assert_eq!(first.status(), StatusCode::ACCEPTED);
        let first: Value = first.json().await.expect("json");
        let again = send(body).await.expect("again");
        assert_eq!(again.status(), StatusCode::ACCEPTED);
        assert_eq!(
            again
                .headers()
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );
        let again: Value = again.json().await.expect("json");
        assert_eq!(again["id"], first["id"]);
        let other = send(json!({"to": "+447911123456", "body": "Something else"}))
            .await
            .expect("other");
        assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let (_, page) = s.get("/v1/messages", &key).await;
        assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
        s.running.stop();
    }
}
