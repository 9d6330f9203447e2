//! Cost analytics through the API: calls through two sandbox carriers (one failing over)
//! show up in spend, carrier performance and savings with the exact amounts, and every call
//! shows its cost as an invoice line; on SQLite and (when configured) PostgreSQL.

mod common;

use common::{Server, start_sandboxed, tenant};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_store::{Role, testing};

/// Every call is answered after a short ring and lasts 61 seconds (3 s at speed 20).
const ANSWERED: &str = r#"{"answer_rate": 1.0, "failure_rate": 0.0, "ring_ms": 400, "duration": {"kind": "fixed", "secs": 61}}"#;

async fn carrier(s: &Server, key: &str, name: &str, style: &str, per_minute: &str) -> String {
    let deck = format!("prefix,destination,rate,increment\n1,USA,{per_minute},60/60\n");
    s.sandbox_carrier(key, name, style, ANSWERED, &[("voice", deck)])
        .await
}

async fn completed_call(s: &Server, key: &str, to: &str, campaign: &str) -> Value {
    let body = json!({"to": to, "answer_url": "https://app.example/a", "metadata": {"campaign": campaign}});
    let (status, placed) = s.post("/v1/calls", key, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
    let id = placed["id"].as_str().expect("id");
    for _ in 0..300 {
        let (_, c) = s.get(&format!("/v1/calls/{id}"), key).await;
        if c["status"] == "completed" && c["cost"].is_string() {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("call {id} never completed");
}

/// Waits until the rollups count `sends` sends, then returns the spend by provider.
async fn spend_once_counted(s: &Server, key: &str, sends: i64) -> Value {
    for _ in 0..200 {
        let (status, spend) = s.get("/v1/analytics/spend?group_by=provider", key).await;
        assert_eq!(status, StatusCode::OK, "{spend}");
        if spend["totals"][0]["sends"] == sends {
            return spend;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the rollups never counted {sends} sends");
}

fn row<'a>(rows: &'a Value, field: &str, value: &str) -> &'a Value {
    rows["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|r| r[field] == value)
        .unwrap_or_else(|| panic!("no row with {field} = {value}: {rows}"))
}

#[tokio::test]
async fn spend_performance_and_savings_add_up_to_the_calls() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 9, 20.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let cheap = carrier(&s, &key, "Cheap", "twilio", "0.0100").await;
        let dear = carrier(&s, &key, "Dear", "telnyx", "0.0200").await;

        // Two calls on the cheap carrier: 61 s at 60/60 is two minutes, 0.02 each, against
        // 0.04 on the dearer baseline.
        for i in 0..2 {
            let c = completed_call(&s, &key, &format!("+1415555010{i}"), "spring").await;
            assert_eq!(c["provider_id"].as_str(), Some(cheap.as_str()));
            let costs = c["costs"].as_array().expect("costs");
            assert_eq!(costs.len(), 1, "{c}");
            let line = &costs[0];
            assert_eq!(
                (
                    line["component"].as_str(),
                    line["quantity"].as_str(),
                    line["unit"].as_str(),
                    line["amount"].as_str(),
                    line["provider_id"].as_str()
                ),
                (
                    Some("telephony"),
                    Some("120"),
                    Some("second"),
                    Some("0.02"),
                    Some(cheap.as_str())
                ),
                "{c}"
            );
        }
        // The cheap carrier goes down: the third call fails over to the dear one.
        let (status, _) = s
            .call(
                Method::PUT,
                &format!("/v1/providers/{cheap}/sandbox/faults"),
                &key,
                Some(json!({"outage_secs": 600})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let c = completed_call(&s, &key, "+14155550109", "").await;
        assert_eq!(c["provider_id"].as_str(), Some(dear.as_str()));

        let spend = spend_once_counted(&s, &key, 3).await;
        let on_cheap = row(&spend, "provider", &cheap);
        assert_eq!(
            (
                on_cheap["sends"].as_i64(),
                on_cheap["cost"].as_str(),
                on_cheap["baseline"].as_str(),
                on_cheap["saved_pct"].as_str()
            ),
            (Some(2), Some("0.04"), Some("0.08"), Some("50")),
            "{spend}"
        );
        let total = &spend["totals"][0];
        assert_eq!(
            (total["cost"].as_str(), total["saved"].as_str()),
            (Some("0.08"), Some("0.04")),
            "{spend}"
        );

        let (_, by_campaign) = s
            .get("/v1/analytics/spend?group_by=campaign,channel", &key)
            .await;
        let spring = row(&by_campaign, "campaign", "spring");
        assert_eq!(
            (spring["sends"].as_i64(), spring["channel"].as_str()),
            (Some(2), Some("voice")),
            "{by_campaign}"
        );

        // Performance: the failed-over attempt counts against the cheap carrier.
        let (status, carriers) = s.get("/v1/analytics/carriers?by=country", &key).await;
        assert_eq!(status, StatusCode::OK, "{carriers}");
        let c = row(&carriers, "provider", &cheap);
        assert_eq!(
            (
                c["country"].as_str(),
                c["attempts"].as_i64(),
                c["succeeded"].as_i64(),
                c["failovers"].as_i64(),
                c["acd_secs"].as_str(),
                c["success_ratio"].as_str()
            ),
            (
                Some("US"),
                Some(3),
                Some(2),
                Some(1),
                Some("61"),
                Some("0.6667")
            ),
            "{carriers}"
        );
        assert!(c["pdd_ms"].is_string(), "{carriers}");
        assert!(
            carriers["health"][&cheap]["breaker"].is_object()
                || carriers["health"][&cheap]["breaker"].is_string(),
            "{carriers}"
        );

        // Savings per day in the organisation's time zone, and in total.
        let (_, daily) = s.get("/v1/analytics/savings?period=day", &key).await;
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let day = &daily["data"][0];
        assert_eq!(
            (
                day["day"].as_str(),
                day["saved"].as_str(),
                day["saved_pct"].as_str()
            ),
            (Some(today.as_str()), Some("0.04"), Some("33.33")),
            "{daily}"
        );
        // A range that ends before today holds nothing.
        let (_, past) = s
            .get("/v1/analytics/savings?from=2026-01-01&to=2026-01-31", &key)
            .await;
        assert_eq!(past["data"], json!([]), "{past}");

        for (path, field) in [
            ("/v1/analytics/spend?group_by=planet", "group_by"),
            ("/v1/analytics/spend?from=yesterday", "from"),
            ("/v1/analytics/spend?from=2026-02-01&to=2026-01-01", "from"),
            ("/v1/analytics/carriers?by=campaign", "by"),
            ("/v1/analytics/savings?period=week", "period"),
            ("/v1/analytics/spend?channel=fax", "channel"),
        ] {
            let (status, err) = s.get(path, &key).await;
            assert_eq!(
                (status, err["error"]["details"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{path}: {err}"
            );
        }
    }
}
