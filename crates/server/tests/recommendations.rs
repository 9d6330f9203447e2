//! Recommendations and the ROI calculator through the API: on planted traffic the planted
//! improvements are found with the figures behind them, and applying them changes the
//! routing weights or buys the numbers; on SQLite and (when configured) PostgreSQL.

mod common;

use common::{Server, start_sandboxed, tenant};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use switchyard_core::analytics::{Finished, Outcome};
use switchyard_store::{Role, Store, SyntheticCall, UsageWarning, testing};

async fn carrier(s: &Server, key: &str, name: &str, per_minute: &str) -> String {
    let deck = format!(
        "prefix,destination,rate,increment\n1,USA,{per_minute},60/60\n91,India,{per_minute},60/60\n"
    );
    let profile = r#"{"answer_rate": 1.0, "failure_rate": 0.0}"#;
    s.sandbox_carrier(key, name, "twilio", profile, &[("voice", deck)])
        .await
}

/// `calls` calls of two minutes to `country` on `provider` over the last day, `answered`
/// of them answered, at `per_minute` (in 10⁻⁴).
fn traffic(
    provider: &str,
    country: &str,
    calls: usize,
    answered: usize,
    per_minute: i64,
) -> Vec<SyntheticCall> {
    let now = chrono::Utc::now().timestamp_millis();
    (0..calls)
        .map(|i| {
            let ok = i < answered;
            SyntheticCall {
                to: if country == "US" {
                    "+14155550100"
                } else {
                    "+919876543210"
                }
                .into(),
                finished: Finished {
                    created_at_ms: now - 3_600_000 - i as i64 * 1_000,
                    channel: "voice".into(),
                    provider_id: provider.into(),
                    country: country.into(),
                    campaign: String::new(),
                    outcome: if ok {
                        Outcome::Succeeded
                    } else {
                        Outcome::Failed
                    },
                    duration_secs: if ok { 120 } else { 0 },
                    pdd_ms: Some(1_500),
                    cost: Some((
                        Decimal::new(if ok { 2 * per_minute } else { 0 }, 4),
                        "USD".into(),
                    )),
                    baseline: None,
                    failed_over: Vec::new(),
                },
            }
        })
        .collect()
}

fn weight(providers: &Value, id: &str) -> i64 {
    providers["data"]
        .as_array()
        .expect("providers")
        .iter()
        .find(|p| p["id"] == id)
        .and_then(|p| p["settings"]["weight"].as_i64().or(p["weight"].as_i64()))
        .unwrap_or_else(|| panic!("no weight for {id}: {providers}"))
}

async fn plant(store: &Store, org: &str, dear: &str, cheap: &str, bad: &str) {
    let mut calls = traffic(dear, "US", 1_000, 500, 120);
    calls.extend(traffic(cheap, "US", 300, 150, 70));
    calls.extend(traffic(bad, "IN", 200, 20, 50));
    calls.extend(traffic(dear, "IN", 200, 100, 90));
    store
        .load_finished_calls(org, &calls)
        .await
        .expect("planted");
}

#[tokio::test]
async fn planted_improvements_are_found_and_applied() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 3, 20.0).await;
        let (org, key) = tenant(&t.store, Role::Admin).await;
        let dear = carrier(&s, &key, "Dear", "0.0120").await;
        let cheap = carrier(&s, &key, "Cheap", "0.0070").await;
        let bad = carrier(&s, &key, "Bad", "0.0050").await;
        plant(&t.store, &org, &dear, &cheap, &bad).await;

        let (status, advice) = s.get("/v1/recommendations?days=7", &key).await;
        assert_eq!(status, StatusCode::OK, "{advice}");
        let first = &advice["data"][0];
        let e = &first["evidence"];
        assert_eq!(
            (
                e["kind"].as_str(),
                e["from"].as_str(),
                e["to"].as_str(),
                e["share"].as_str(),
                e["country"].as_str()
            ),
            (
                Some("shift_traffic"),
                Some(dear.as_str()),
                Some(cheap.as_str()),
                Some("0.3"),
                Some("US")
            ),
            "{advice}"
        );
        // 1,000 answered minutes a day over 7 days is 142.86 a day; 30 % of that at 0.005
        // less a minute.
        assert_eq!(e["saving_per_day"].as_str(), Some("0.21"), "{advice}");
        assert!(
            first["summary"]
                .as_str()
                .is_some_and(|t| t.contains("from Dear to Cheap")),
            "{first}"
        );
        let low = advice["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|a| a["evidence"]["kind"] == "low_success")
            .unwrap_or_else(|| panic!("no low-success advice: {advice}"));
        assert_eq!(
            (
                low["evidence"]["provider"].as_str(),
                low["evidence"]["success"].as_str()
            ),
            (Some(bad.as_str()), Some("0.1")),
            "{low}"
        );

        // Applying the shift moves 30 % of Dear's weight to Cheap.
        let (status, applied) = s
            .post(
                "/v1/recommendations/apply",
                &key,
                first["apply"]["body"].clone(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{applied}");
        let (_, providers) = s.get("/v1/providers", &key).await;
        assert_eq!(
            (
                weight(&providers, &dear),
                weight(&providers, &cheap),
                weight(&providers, &bad)
            ),
            (7, 13, 10),
            "{providers}"
        );
        let (status, err) = s
            .post(
                "/v1/recommendations/apply",
                &key,
                json!({"action": "lower_weight", "provider": "prv_nope"}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("provider")),
            "{err}"
        );

        // A pool that capped out at 14:00 on three days needs numbers; applying buys them.
        let (status, pool) = s
            .post(
                "/v1/pools",
                &key,
                json!({"name": "sales-east", "numbers": []}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{pool}");
        let pool_id = pool["id"].as_str().expect("pool id");
        let today = chrono::Utc::now().date_naive();
        for day in 1..=3 {
            let date = today - chrono::Duration::days(day);
            let at = date.and_hms_opt(14, 5, 0).expect("time").and_utc();
            let warning = UsageWarning {
                scope: format!("pool:{pool_id}"),
                window: date.to_string(),
                threshold: 100,
                used: 400,
                capacity: 400,
                created_at: at.timestamp_millis(),
            };
            t.store
                .record_usage_warning(&org, &warning)
                .await
                .expect("warning");
        }
        let (_, advice) = s.get("/v1/recommendations?days=7", &key).await;
        let capped = advice["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|a| a["evidence"]["kind"] == "pool_capped")
            .unwrap_or_else(|| panic!("no pool advice: {advice}"));
        assert_eq!(capped["evidence"]["usual_hour"], 14, "{capped}");
        // An empty pool still gets one number.
        let body = json!({"action": "add_numbers", "pool": "sales-east", "count": 2});
        let (status, bought) = s.post("/v1/recommendations/apply", &key, body).await;
        assert_eq!(status, StatusCode::OK, "{bought}");
        assert_eq!(
            bought["bought"].as_array().map(Vec::len),
            Some(2),
            "{bought}"
        );
        assert_eq!(capped["apply"]["body"]["count"], 1, "{capped}");

        // A number's monthly rental is recorded once a month, shown on the number and
        // counted in spend.
        let e164 = bought["bought"][0].as_str().expect("e164");
        let number = t
            .store
            .number_by_e164(&org, e164)
            .await
            .expect("read")
            .expect("number");
        let (status, _) = s
            .call(
                reqwest::Method::PATCH,
                &format!("/v1/numbers/{}", number.id),
                &key,
                Some(json!({"monthly_cost": "1.15", "currency": "USD"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        assert_eq!(
            t.store.record_number_rentals(&month).await.expect("rent"),
            1
        );
        assert_eq!(
            t.store.record_number_rentals(&month).await.expect("rent"),
            0
        );
        let (_, shown) = s.get(&format!("/v1/numbers/{}", number.id), &key).await;
        assert_eq!(
            (
                shown["costs"][0]["component"].as_str(),
                shown["costs"][0]["amount"].as_str(),
                shown["costs"][0]["period"].as_str()
            ),
            (Some("number_rental"), Some("1.15"), Some(month.as_str())),
            "{shown}"
        );
        let (_, spend) = s.get("/v1/analytics/spend?group_by=channel", &key).await;
        let rentals = spend["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|r| r["channel"] == "numbers")
            .unwrap_or_else(|| panic!("no rentals in spend: {spend}"));
        assert_eq!(rentals["cost"].as_str(), Some("1.15"), "{spend}");

        for days in ["0", "ninety"] {
            let (status, err) = s
                .get(&format!("/v1/recommendations?days={days}"), &key)
                .await;
            assert_eq!(
                (status, err["error"]["details"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("days")),
                "{err}"
            );
        }
    }
}

#[tokio::test]
async fn the_roi_calculator_prices_a_volume_now_and_routed() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 4, 20.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let dear = carrier(&s, &key, "Dear", "0.0120").await;
        let cheap = carrier(&s, &key, "Cheap", "0.0070").await;
        let body = json!({
            "destination": "+14155550100", "monthly_volume": 100000, "avg_duration_secs": 90,
            "answer_rate": "0.5", "current_provider": dear,
        });
        let (status, roi) = s.post("/v1/analytics/roi", &key, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{roi}");
        // 90 s is two billed minutes: 0.024 on Dear, 0.014 on Cheap, for 50,000 answered.
        assert_eq!(
            (
                roi["current"]["monthly"].as_str(),
                roi["projected"]["provider"].as_str(),
                roi["projected"]["monthly"].as_str(),
                roi["saving"]["monthly"].as_str(),
                roi["saving"]["pct"].as_str()
            ),
            (
                Some("1200.00"),
                Some(cheap.as_str()),
                Some("700.00"),
                Some("500.00"),
                Some("41.67")
            ),
            "{roi}"
        );
        let mut bad = body.clone();
        bad["current_provider"] = json!("prv_nope");
        let (status, err) = s.post("/v1/analytics/roi", &key, bad).await;
        assert_eq!(
            (status, err["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("current_provider")),
            "{err}"
        );
        let mut bad = body;
        bad["answer_rate"] = json!("1.5");
        let (_, err) = s.post("/v1/analytics/roi", &key, bad).await;
        assert_eq!(err["error"]["details"]["field"], "answer_rate", "{err}");
    }
}
