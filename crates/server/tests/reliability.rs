//! A carrier that answers 5xx to everything: the messages still go out through the others,
//! the carrier is auto-disabled after ten consecutive failures, and it comes back through
//! a probe once it recovers. And a 500 (which may come after the work was done) is settled
//! by asking the carrier before failing over.

mod common;

use common::{Server, start_sandboxed, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchyard_store::{Outbox, Role, testing};

async fn carrier(s: &Server, key: &str, name: &str, style: &str, rate: &str) -> String {
    let profile = r#"{"receipt_delay_ms": 200, "delivery_rate": 1.0}"#;
    let deck = format!("prefix,destination,rate\n44,United Kingdom,{rate}\n");
    s.sandbox_carrier(key, name, style, profile, &[("sms", deck)])
        .await
}

async fn faults(s: &Server, key: &str, id: &str, faults: Value) {
    let (status, body) = s
        .call(
            reqwest::Method::PUT,
            &format!("/v1/providers/{id}/sandbox/faults"),
            key,
            Some(faults),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

async fn breaker(s: &Server, key: &str, id: &str) -> String {
    let (_, p) = s.get(&format!("/v1/providers/{id}"), key).await;
    p["health"]["breaker"]["state"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

async fn settle(t: &testing::TestStore, org: &str) -> Vec<(String, i64)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let counts = t
            .store
            .status_counts(Outbox::Messages, org)
            .await
            .expect("counts");
        let open = counts
            .iter()
            .any(|(s, _)| matches!(s.as_str(), "accepted" | "queued" | "sent"));
        if !open || Instant::now() > deadline {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_carrier_failing_everything_is_routed_around_disabled_and_probed_back() {
    let t = testing::sqlite().await;
    let s = start_sandboxed(t.store.clone(), 3, 20.0).await;
    let (org, key) = tenant(&t.store, Role::Admin).await;
    let a = carrier(&s, &key, "A", "twilio", "0.0040").await;
    let b = carrier(&s, &key, "B", "telnyx", "0.0050").await;
    let c = carrier(&s, &key, "C", "twilio", "0.0060").await;
    // A answers 503 to every request for the next hour (simulated).
    faults(&s, &key, &a, json!({"outage_secs": 3600})).await;

    let total = 1_000;
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (http, base, key) = (s.http.clone(), s.base.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while i < total {
                let r = http
                    .post(format!("{base}/v1/messages"))
                    .bearer_auth(&key)
                    .json(&json!({"to": format!("+4479111{i:05}"), "body": format!("five hundreds {i}")}))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status(), StatusCode::ACCEPTED);
                i += 16;
            }
        }));
    }
    for task in tasks {
        task.await.expect("sender");
    }
    let counts = settle(&t, &org).await;
    let delivered: i64 = counts
        .iter()
        .filter(|(s, _)| s == "delivered")
        .map(|(_, n)| n)
        .sum();
    assert!(delivered * 1000 >= total * 999, "≥ 99.9 % out: {counts:?}");
    assert_eq!(breaker(&s, &key, &a).await, "open", "A is auto-disabled");

    // What A was asked: ten consecutive failures opened its breaker; after that it was left
    // alone (skipped at dispatch, or not routed to at all).
    let (_, page) = s.get("/v1/messages?limit=500", &key).await;
    let mut tried_a = 0;
    let mut carried = std::collections::BTreeMap::<String, i64>::new();
    for m in page["data"].as_array().expect("data") {
        let (_, full) = s
            .get(
                &format!("/v1/messages/{}", m["id"].as_str().expect("id")),
                &key,
            )
            .await;
        for attempt in full["attempts"].as_array().expect("attempts") {
            if attempt["provider_id"] == a.as_str() && attempt["status"] == "failed" {
                tried_a += 1;
            }
        }
        *carried
            .entry(full["provider_id"].as_str().unwrap_or("none").to_string())
            .or_default() += 1;
    }
    assert!(
        tried_a < 100,
        "A stopped being tried: {tried_a} failed attempts in the newest 500"
    );
    assert_eq!(carried.get(&a), None, "A carried nothing: {carried:?}");
    assert!(
        carried.contains_key(&b),
        "B, the next cheapest, carried: {carried:?}"
    );
    assert!(
        !carried.contains_key(&c) || carried[&b] > carried[&c],
        "{carried:?}"
    );

    // A recovers: after the cool-down, a probe goes to it, succeeds, and closes the breaker.
    faults(&s, &key, &a, json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut back = false;
    let mut i = 0;
    while Instant::now() < deadline && !back {
        let (_, m) = s
            .post(
                "/v1/messages",
                &key,
                json!({"to": format!("+4479112{i:05}"), "body": "are you back?"}),
            )
            .await;
        i += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, m) = s
            .get(
                &format!("/v1/messages/{}", m["id"].as_str().expect("id")),
                &key,
            )
            .await;
        back = m["provider_id"] == a.as_str();
    }
    assert!(back, "A carried a message again after recovering");
    assert_eq!(breaker(&s, &key, &a).await, "closed");
    s.running.stop();
}

#[tokio::test]
async fn a_500_is_settled_by_asking_the_carrier_before_failing_over() {
    let t = testing::sqlite().await;
    let s = start_sandboxed(t.store.clone(), 4, 20.0).await;
    let (org, key) = tenant(&t.store, Role::Admin).await;
    let a = carrier(&s, &key, "A", "twilio", "0.0040").await;
    let b = carrier(&s, &key, "B", "twilio", "0.0050").await;
    // Half of A's requests answer 500 without acting on them; its lookups may fail too.
    faults(&s, &key, &a, json!({"error_rate": 0.5})).await;
    for i in 0..100 {
        let (status, body) = s
            .post(
                "/v1/messages",
                &key,
                json!({"to": format!("+4479111{i:05}"), "body": format!("ambiguous {i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let counts = settle(&t, &org).await;
    // What the carriers acted on: never two copies of one message.
    let held = s.running.sandbox.as_ref().expect("sandbox").messages();
    let mut copies = std::collections::HashMap::<String, u32>::new();
    for m in &held {
        *copies
            .entry(
                m["message"]["body"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
            .or_default() += 1;
    }
    let twice: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    let delivered = counts
        .iter()
        .find(|(s, _)| s == "delivered")
        .map_or(0, |(_, n)| *n);
    let unconfirmed = counts
        .iter()
        .find(|(s, _)| s == "unconfirmed")
        .map_or(0, |(_, n)| *n);
    // Settled by lookup wherever the lookup itself got through; the rest stay unconfirmed
    // rather than risk a second copy.
    assert_eq!(delivered + unconfirmed, 100, "{counts:?}");
    assert!(
        copies.len() as i64 >= delivered,
        "each delivered one is held once: {counts:?}"
    );
    assert!(delivered >= 60, "most settled and failed over: {counts:?}");
    let (_, page) = s
        .get(&format!("/v1/messages?provider={b}&limit=500"), &key)
        .await;
    assert!(
        page["data"].as_array().is_some_and(|d| !d.is_empty()),
        "some failed over to B"
    );
    s.running.stop();
}
