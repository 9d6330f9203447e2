//! Six carriers in one routing decision: Bandwidth, Plivo, Vonage, Telnyx, SignalWire and
//! Twilio, each a sandbox account speaking that carrier's own API and signing its webhooks
//! its own way. Calls and SMS go to the cheapest, then fail over carrier by carrier as each
//! goes down, every status driven by that carrier's callbacks; on SQLite and (when
//! configured) PostgreSQL.

mod common;

use common::{Server, start_sandboxed, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_store::Role;
use switchyard_store::testing;

/// Calls are answered after a short ring and last a second; messages are delivered.
const PROFILE: &str = r#"{"answer_rate": 1.0, "failure_rate": 0.0, "ring_ms": 200, "duration": {"kind": "fixed", "secs": 1}, "receipt_delay_ms": 100, "delivery_rate": 1.0}"#;

/// Cheapest first.
const CARRIERS: [(&str, &str); 6] = [
    ("bandwidth", "0.0100"),
    ("plivo", "0.0110"),
    ("vonage", "0.0120"),
    ("telnyx", "0.0130"),
    ("signalwire", "0.0140"),
    ("twilio", "0.0150"),
];

async fn until_final(s: &Server, key: &str, path: &str) -> Value {
    for _ in 0..300 {
        let (_, v) = s.get(path, key).await;
        if matches!(
            v["status"].as_str(),
            Some(
                "completed"
                    | "delivered"
                    | "failed"
                    | "undelivered"
                    | "busy"
                    | "no-answer"
                    | "unconfirmed"
            )
        ) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, v) = s.get(path, key).await;
    panic!("{path} never ended: {v}");
}

/// The providers of the decision, primary first.
fn candidates(v: &Value) -> Vec<String> {
    let d = &v["decision"];
    std::iter::once(&d["primary"])
        .chain(d["alternates"].as_array().into_iter().flatten())
        .filter_map(|c| c["provider"].as_str().map(str::to_owned))
        .collect()
}

/// `(provider, status)` of each attempt.
fn attempts(v: &Value) -> Vec<(String, String)> {
    v["attempts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some((
                a["provider_id"].as_str()?.to_owned(),
                a["status"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

#[tokio::test]
async fn six_carriers_share_one_decision_and_fail_over_in_price_order() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 17, 20.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        // Room for every carrier: the primary and five alternates.
        let (status, policy) = s
            .call(
                reqwest::Method::PUT,
                "/v1/routing/policy",
                &key,
                Some(json!({"max_alternates": 5})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{policy}");
        let mut ids = Vec::new();
        for (style, rate) in CARRIERS {
            let voice = format!("prefix,destination,rate,increment\n1,USA,{rate},60/60\n");
            let sms = format!("prefix,destination,rate\n1,USA,{rate}\n");
            ids.push(
                s.sandbox_carrier(
                    &key,
                    style,
                    style,
                    PROFILE,
                    &[("voice", voice), ("sms", sms)],
                )
                .await,
            );
        }
        for (k, (style, _)) in CARRIERS.iter().enumerate() {
            let (status, placed) = s
                .post("/v1/calls", &key, json!({"to": format!("+1415555012{k}"), "instructions": [{"action": "say", "text": "Your order has shipped"}]}))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
            let call = until_final(
                &s,
                &key,
                &format!("/v1/calls/{}", placed["id"].as_str().expect("id")),
            )
            .await;
            assert_eq!(
                candidates(&call),
                ids,
                "{style}: every carrier in one decision, cheapest first"
            );
            assert_eq!(
                (call["status"].as_str(), call["provider_id"].as_str()),
                (Some("completed"), Some(ids[k].as_str())),
                "{style}: {call}"
            );
            let mut want: Vec<(String, String)> = ids[..k]
                .iter()
                .map(|id| (id.clone(), "failed".into()))
                .collect();
            want.push((ids[k].clone(), "accepted".into()));
            assert_eq!(attempts(&call), want, "{style}");

            let (status, sent) = s
                .post(
                    "/v1/messages",
                    &key,
                    json!({"to": format!("+1415555013{k}"), "body": "Your order has shipped"}),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
            let message = until_final(
                &s,
                &key,
                &format!("/v1/messages/{}", sent["id"].as_str().expect("id")),
            )
            .await;
            assert_eq!(
                (message["status"].as_str(), message["provider_id"].as_str()),
                (Some("delivered"), Some(ids[k].as_str())),
                "{style}: {message}"
            );
            assert_eq!(attempts(&message), want, "{style}");

            // This carrier goes down; the next send fails over to the next cheapest.
            let (status, _) = s
                .call(
                    reqwest::Method::PUT,
                    &format!("/v1/providers/{}/sandbox/faults", ids[k]),
                    &key,
                    Some(json!({"outage_secs": 3600})),
                )
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }
        s.running.stop();
    }
}
