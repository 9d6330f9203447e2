//! Budgets through the API: a burst of parallel sends against an organisation budget stops
//! exactly at the stop threshold with 402 naming the budget, alerts are given once per
//! threshold, a provider whose budget is spent is routed around, a replayed request counts
//! once, and windows follow the organisation's time zone; on SQLite and (when configured)
//! PostgreSQL.

mod common;

use common::{Server, start_sandboxed, tenant};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_store::{Role, testing};

const PROFILE: &str = r#"{"answer_rate": 1.0, "failure_rate": 0.0, "ring_ms": 200, "duration": {"kind": "fixed", "secs": 1}, "receipt_delay_ms": 100, "delivery_rate": 1.0}"#;

async fn carrier(s: &Server, key: &str, name: &str, style: &str, rate: &str) -> String {
    let sms = format!("prefix,destination,rate\n1,USA,{rate}\n");
    s.sandbox_carrier(key, name, style, PROFILE, &[("sms", sms)])
        .await
}

fn sms(i: usize) -> Value {
    json!({"to": format!("+1312555{:04}", i), "body": "Your order shipped"})
}

async fn budget(s: &Server, key: &str, id: &str) -> Value {
    let (status, b) = s.get(&format!("/v1/budgets/{id}"), key).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    b
}

#[tokio::test]
async fn a_burst_stops_exactly_at_the_budget_and_names_it() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 51, 20.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        carrier(&s, &key, "Only", "twilio", "0.0100").await;

        for (body, field) in [
            (
                json!({"scope": {"kind": "organization"}, "period": "daily", "amount": "0", "currency": "USD"}),
                "amount",
            ),
            (
                json!({"scope": {"kind": "organization"}, "period": "daily", "amount": "1", "currency": "USS"}),
                "currency",
            ),
            (
                json!({"scope": {"kind": "organization"}, "period": "daily", "amount": "1", "currency": "USD", "alert_pct": 96}),
                "alert_pct",
            ),
            (
                json!({"scope": {"kind": "provider", "id": "prv_nope"}, "period": "daily", "amount": "1", "currency": "USD"}),
                "scope.id",
            ),
        ] {
            let (status, err) = s.post("/v1/budgets", &key, body).await;
            assert_eq!(
                (status, err["error"]["details"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{err}"
            );
        }
        let (status, err) = s
            .call(
                Method::PUT,
                "/v1/budgets/time-zone",
                &key,
                Some(json!({"time_zone": "Mars/Base"})),
            )
            .await;
        assert_eq!(
            err["error"]["details"]["field"], "time_zone",
            "{status} {err}"
        );
        let (status, _) = s
            .call(
                Method::PUT,
                "/v1/budgets/time-zone",
                &key,
                Some(json!({"time_zone": "America/New_York"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);

        let org_budget = json!({"scope": {"kind": "organization"}, "period": "daily", "amount": "1.00", "currency": "USD", "alert_pct": 50});
        let (status, created) = s.post("/v1/budgets", &key, org_budget.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(
            (
                created["stop_at"].as_str(),
                created["window"]["time_zone"].as_str()
            ),
            (Some("0.95"), Some("America/New_York"))
        );
        let (status, _) = s.post("/v1/budgets", &key, org_budget).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let id = created["id"].as_str().expect("id").to_string();

        // A replayed request counts once.
        for _ in 0..2 {
            let resp = s
                .http
                .post(format!("{}/v1/messages", s.base))
                .bearer_auth(&key)
                .header("Idempotency-Key", "order-1")
                .json(&sms(9999))
                .send()
                .await
                .expect("send");
            assert_eq!(resp.status(), StatusCode::ACCEPTED);
        }
        assert_eq!(budget(&s, &key, &id).await["window"]["spent"], "0.01");

        // 120 sends of 0.01 over 16 connections against a stop of 0.95: 94 more fit.
        let s = Arc::new(s);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (s, key, next) = (s.clone(), key.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= 120 {
                        return out;
                    }
                    out.push(s.post("/v1/messages", &key, sms(i)).await);
                }
            }));
        }
        let (mut accepted, mut refused) = (0, 0);
        for task in tasks {
            for (status, body) in task.await.expect("task") {
                match status {
                    StatusCode::ACCEPTED => accepted += 1,
                    StatusCode::PAYMENT_REQUIRED => {
                        assert_eq!(
                            (
                                body["error"]["code"].as_str(),
                                body["error"]["details"]["budget_id"].as_str()
                            ),
                            (Some("budget_exhausted"), Some(id.as_str())),
                            "{body}"
                        );
                        refused += 1;
                    }
                    other => panic!("unexpected {other}: {body}"),
                }
            }
        }
        assert_eq!((accepted, refused), (94, 26));
        // Each message cost what was expected: the spend is exactly the stop.
        let mut b = Value::Null;
        for _ in 0..100 {
            b = budget(&s, &key, &id).await;
            if b["window"]["spent"] == "0.95" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            (
                b["window"]["spent"].as_str(),
                b["window"]["standing"].as_str()
            ),
            (Some("0.95"), Some("stopped")),
            "{b}"
        );
        let thresholds: Vec<i64> = b["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .filter_map(|w| w["threshold"].as_i64())
            .collect();
        let mut sorted = thresholds.clone();
        sorted.sort();
        assert_eq!(sorted, [50, 95], "each threshold once: {b}");

        // Raising the amount lets sends through again.
        let (status, raised) = s
            .call(
                Method::PATCH,
                &format!("/v1/budgets/{id}"),
                &key,
                Some(json!({"amount": "2"})),
            )
            .await;
        assert_eq!(
            (status, raised["window"]["standing"].as_str()),
            (StatusCode::OK, Some("within")),
            "{raised}"
        );
        let (status, _) = s.post("/v1/messages", &key, sms(500)).await;
        assert_eq!(status, StatusCode::ACCEPTED);

        // A campaign's budget holds its own sends (named in their metadata) only.
        let (status, c) = s
            .post(
                "/v1/budgets",
                &key,
                json!({"scope": {"kind": "campaign", "id": "spring"}, "period": "monthly", "amount": "0.02", "currency": "USD", "stop_pct": 100}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        let spring = |i: usize| {
            let mut m = sms(600 + i);
            m["metadata"] = json!({"campaign": "spring"});
            m
        };
        for i in 0..2 {
            let (status, sent) = s.post("/v1/messages", &key, spring(i)).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        }
        let (status, err) = s.post("/v1/messages", &key, spring(2)).await;
        assert_eq!(
            (status, err["error"]["details"]["scope_id"].as_str()),
            (StatusCode::PAYMENT_REQUIRED, Some("spring")),
            "{err}"
        );
        let (status, _) = s.post("/v1/messages", &key, sms(700)).await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "other sends are not the campaign's"
        );
    }
}

#[tokio::test]
async fn a_spent_provider_is_routed_around_until_every_one_is() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 53, 20.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let cheap = carrier(&s, &key, "Cheap", "twilio", "0.0100").await;
        let dear = carrier(&s, &key, "Dear", "telnyx", "0.0200").await;
        for (provider, amount) in [(&cheap, "0.03"), (&dear, "0.02")] {
            let (status, b) = s
                .post(
                    "/v1/budgets",
                    &key,
                    json!({"scope": {"kind": "provider", "id": provider}, "period": "monthly", "amount": amount, "currency": "USD", "alert_pct": 100, "stop_pct": 100}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{b}");
        }
        let mut used = Vec::new();
        for i in 0..5 {
            let (status, sent) = s.post("/v1/messages", &key, sms(i)).await;
            if status != StatusCode::ACCEPTED {
                assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{sent}");
                assert_eq!(
                    sent["error"]["details"]["scope_id"],
                    dear.as_str(),
                    "{sent}"
                );
                break;
            }
            let id = sent["id"].as_str().expect("id");
            let (_, detail) = s.get(&format!("/v1/messages/{id}"), &key).await;
            used.push(
                detail["plan"][0]["provider_id"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
        }
        assert_eq!(
            used,
            [cheap.clone(), cheap.clone(), cheap.clone(), dear.clone()],
            "three on the cheap carrier's budget, then one on the dear one's"
        );
    }
}

/// Calls are admitted on a one-minute expectation and settled on their talk time: the spend
/// passes the stop by exactly what the admitted calls ran over that expectation, the bound
/// the admission gives, and then nothing more is admitted.
#[tokio::test]
async fn calls_overshoot_the_stop_only_by_what_was_in_flight() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 57, 60.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let three_minutes = PROFILE.replace(r#""secs": 1"#, r#""secs": 180"#);
        let voice = "prefix,destination,rate,increment\n1,USA,0.10,60/60\n".to_string();
        s.sandbox_carrier(&key, "Voice", "twilio", &three_minutes, &[("voice", voice)])
            .await;
        let (status, b) = s
            .post(
                "/v1/budgets",
                &key,
                json!({"scope": {"kind": "organization"}, "period": "daily", "amount": "1.00", "currency": "USD"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        let id = b["id"].as_str().expect("id").to_string();
        let call = |i: usize| json!({"to": format!("+1312555{:04}", i), "answer_url": "https://app.example/answer"});
        let mut admitted = 0;
        for i in 0..12 {
            let (status, body) = s.post("/v1/calls", &key, call(i)).await;
            match status {
                StatusCode::ACCEPTED => admitted += 1,
                StatusCode::PAYMENT_REQUIRED => {}
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(admitted, 9, "0.10 expected each against a stop of 0.95");
        // Each ran three minutes (0.30): settled, the spend is 9 × 0.30 = 2.70, over the
        // stop by 9 × (0.30 − 0.10), the in-flight excess, and no more.
        let mut spent = Value::Null;
        for _ in 0..400 {
            spent = budget(&s, &key, &id).await["window"]["spent"].clone();
            if spent == "2.7" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(spent, "2.7");
        let (status, _) = s.post("/v1/calls", &key, call(99)).await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    }
}
