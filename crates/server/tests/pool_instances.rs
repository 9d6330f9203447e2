//! Two server instances on one database allocate from a 10-number pool with caps of 100
//! under 64 parallel requests: exactly 1,000 sends get a number, none of the numbers is used
//! more than 100 times, and the rest are refused with `pool_exhausted`; on SQLite (two
//! stores on one file) and (when configured) PostgreSQL.

mod common;

use common::{Server, start_sandboxed, tenant};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_store::{Role, Store, testing};

const PROFILE: &str = r#"{"answer_rate": 1.0, "failure_rate": 0.0, "ring_ms": 200, "duration": {"kind": "fixed", "secs": 1}, "receipt_delay_ms": 100, "delivery_rate": 1.0, "owned_numbers": 10}"#;

const REQUESTS: usize = 1_100;
const PARALLEL: usize = 64;

#[tokio::test]
async fn two_instances_never_allocate_past_a_cap() {
    for t in testing::all().await {
        let second_store = Store::connect(t.store.url(), 16)
            .await
            .expect("a second store on the same database");
        let a = start_sandboxed(t.store.clone(), 41, 50.0).await;
        let b = start_sandboxed(second_store, 41, 50.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let sms = "prefix,destination,rate\n1,USA,0.0100\n".to_string();
        let carrier = a
            .sandbox_carrier(&key, "Only", "twilio", PROFILE, &[("sms", sms)])
            .await;
        let (_, page) = a.get("/v1/numbers?limit=100", &key).await;
        let numbers: Vec<String> = page["data"]
            .as_array()
            .expect("numbers")
            .iter()
            .filter(|n| n["provider_id"] == carrier.as_str())
            .filter_map(|n| n["e164"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(numbers.len(), 10, "{page}");
        let (status, body) = a
            .post(
                "/v1/pools",
                &key,
                json!({"name": "burst", "numbers": numbers, "daily_cap": 100, "sticky": false}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        let servers: Arc<[Server; 2]> = Arc::new([a, b]);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..PARALLEL {
            let (servers, next, key) = (servers.clone(), next.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= REQUESTS {
                        return outcomes;
                    }
                    let to = format!("+1312555{:04}", i);
                    let (status, body) = servers[i % 2]
                        .post(
                            "/v1/messages",
                            &key,
                            json!({"to": to, "from": {"pool": "burst"}, "body": "hello"}),
                        )
                        .await;
                    outcomes.push((status, body));
                }
            }));
        }
        let mut per_number: HashMap<String, usize> = HashMap::new();
        let mut refused = 0;
        for task in tasks {
            for (status, body) in task.await.expect("task") {
                match status {
                    StatusCode::ACCEPTED => {
                        let from = body["from"].as_str().expect("from").to_string();
                        *per_number.entry(from).or_default() += 1;
                    }
                    StatusCode::UNPROCESSABLE_ENTITY => {
                        assert_eq!(body["error"]["code"], "pool_exhausted", "{body}");
                        refused += 1;
                    }
                    other => panic!("unexpected {other}: {body}"),
                }
            }
        }
        let allocated: usize = per_number.values().sum();
        assert_eq!(
            (allocated, refused),
            (1_000, REQUESTS - 1_000),
            "{per_number:?}"
        );
        assert_eq!(per_number.len(), 10, "{per_number:?}");
        assert!(
            per_number.values().all(|&n| n == 100),
            "every number used exactly up to its cap: {per_number:?}"
        );
        let [a, b] = Arc::into_inner(servers).expect("the tasks are done");
        a.running.stop();
        b.running.stop();
    }
}
