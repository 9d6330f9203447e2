//! Calls end to end through the API and the sandbox: least-cost routing, failover when a
//! carrier is down, the status machine driven by signed webhooks, rating by talk time,
//! built-in instructions on Call Control providers, hangup; on SQLite and (when configured)
//! PostgreSQL.

mod common;

use common::{Server, start_sandboxed, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_store::Role;
use switchyard_store::testing;

/// Every call is answered after a short ring and lasts 61 seconds (3 s at speed 20).
const ANSWERED: &str = r#"{"answer_rate": 1.0, "failure_rate": 0.0, "ring_ms": 400, "duration": {"kind": "fixed", "secs": 61}}"#;

async fn carrier(
    s: &Server,
    key: &str,
    name: &str,
    style: &str,
    per_minute: &str,
    profile: &str,
) -> String {
    let deck = format!("prefix,destination,rate,increment\n1,USA,{per_minute},60/60\n");
    s.sandbox_carrier(key, name, style, profile, &[("voice", deck)])
        .await
}

async fn until_status(s: &Server, key: &str, id: &str, wanted: &[&str]) -> Value {
    for _ in 0..300 {
        let (_, c) = s.get(&format!("/v1/calls/{id}"), key).await;
        if c["status"].as_str().is_some_and(|st| wanted.contains(&st)) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, c) = s.get(&format!("/v1/calls/{id}"), key).await;
    panic!("call {id} never reached {wanted:?}: {c}");
}

fn statuses(call: &Value) -> Vec<String> {
    call["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["status"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn calls_route_least_cost_fail_over_and_are_rated_on_talk_time() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 5, 20.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let cheap = carrier(&s, &key, "Cheap", "twilio", "0.0100", ANSWERED).await;
        let dear = carrier(&s, &key, "Dear", "telnyx", "0.0200", ANSWERED).await;

        let (status, placed) = s
            .post("/v1/calls", &key, json!({"to": "+14155550123", "answer_url": "https://app.example/answer", "metadata": {"lead": "L-1"}}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
        assert_eq!(placed["status"], "queued");
        let id = placed["id"].as_str().expect("id");
        let c = until_status(&s, &key, id, &["completed", "failed", "unconfirmed"]).await;
        assert_eq!(
            (c["status"].as_str(), c["provider_id"].as_str()),
            (Some("completed"), Some(cheap.as_str())),
            "{c}"
        );
        // 61 s at 60/60 is two minutes: on its deck and on the dearer baseline.
        assert_eq!(c["duration_secs"], 61, "{c}");
        assert_eq!(
            (c["cost"].as_str(), c["baseline_cost"].as_str()),
            (Some("0.02"), Some("0.04")),
            "{c}"
        );
        // Every report is kept (webhooks may arrive in any order: the status still ends
        // completed), and each moment of the call is recorded.
        let mut seen = statuses(&c);
        seen.sort();
        assert_eq!(
            seen,
            ["answered", "completed", "initiated", "ringing"],
            "{c}"
        );
        for moment in ["ringing_at", "answered_at", "ended_at"] {
            assert!(c[moment].as_i64().is_some(), "{moment}: {c}");
        }
        assert_eq!(c["metadata"]["lead"], "L-1");

        // The cheap carrier goes down: the next call fails over, and its attempts show why.
        let (status, _) = s
            .call(
                reqwest::Method::PUT,
                &format!("/v1/providers/{cheap}/sandbox/faults"),
                &key,
                Some(json!({"outage_secs": 600})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, placed) = s
            .post("/v1/calls", &key, json!({"to": "+14155550124", "instructions": [{"action": "say", "text": "Your appointment is tomorrow"}]}))
            .await;
        let id = placed["id"].as_str().expect("id");
        let c = until_status(&s, &key, id, &["completed", "failed", "unconfirmed"]).await;
        assert_eq!(
            (c["status"].as_str(), c["provider_id"].as_str()),
            (Some("completed"), Some(dear.as_str())),
            "{c}"
        );
        let attempts: Vec<(&str, &str)> = c["attempts"]
            .as_array()
            .expect("attempts")
            .iter()
            .filter_map(|a| Some((a["provider_id"].as_str()?, a["status"].as_str()?)))
            .collect();
        assert_eq!(
            attempts,
            [(cheap.as_str(), "failed"), (dear.as_str(), "accepted")]
        );
        // Telnyx-style carriers take instructions as commands once answered.
        let journal = s.running.sandbox.as_ref().expect("sandbox").journal();
        let spoke = journal.iter().any(|e| e.path.ends_with("/actions/speak"));
        assert!(spoke, "no speak command was sent: {journal:?}");

        // Listing filters.
        let (_, page) = s.get(&format!("/v1/calls?provider={dear}"), &key).await;
        assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
        let (_, page) = s.get("/v1/calls?metadata=lead:L-1", &key).await;
        assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
        let (status, err) = s.get("/v1/calls?since=yesterday", &key).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["error"]["details"]["field"], "since", "{err}");
        s.running.stop();
    }
}

#[tokio::test]
async fn hangup_ends_a_ringing_call_and_bad_input_names_its_field() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 5, 1.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        // Rings for a minute: time enough to hang up.
        carrier(
            &s,
            &key,
            "Slow",
            "twilio",
            "0.0100",
            r#"{"ring_ms": 60000}"#,
        )
        .await;
        let (_, placed) = s
            .post(
                "/v1/calls",
                &key,
                json!({"to": "+14155550123", "answer_url": "https://app.example/answer"}),
            )
            .await;
        let id = placed["id"].as_str().expect("id");
        until_status(&s, &key, id, &["ringing"]).await;
        let (status, body) = s
            .post(&format!("/v1/calls/{id}/hangup"), &key, json!({}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let c = until_status(&s, &key, id, &["canceled", "completed"]).await;
        assert_eq!(c["status"], "canceled", "{c}");
        assert_eq!(c["cost"], "0", "an unanswered call costs nothing: {c}");
        let (status, body) = s
            .post(&format!("/v1/calls/{id}/hangup"), &key, json!({}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");

        for (body, field) in [
            (
                json!({"to": "12", "answer_url": "https://a.example/x"}),
                "to",
            ),
            (json!({"to": "+14155550123"}), "answer_url"),
            (
                json!({"to": "+14155550123", "answer_url": "ftp://x"}),
                "answer_url",
            ),
            (
                json!({"to": "+14155550123", "instructions": [{"action": "forward", "to": "nope"}]}),
                "instructions[0].to",
            ),
            (
                json!({"to": "+14155550123", "instructions": [{"action": "pause", "seconds": 0}]}),
                "instructions[0].seconds",
            ),
            (
                json!({"to": "+14155550123", "answer_url": "https://a.example/x", "ring_timeout_secs": 1}),
                "ring_timeout_secs",
            ),
            (
                json!({"to": "+14155550123", "answer_url": "https://a.example/x", "metadata": [1]}),
                "metadata",
            ),
            (
                json!({"to": "+14155550123", "answer_url": "https://a.example/x", "quiet_hours": {"start": "9pm", "end": "08:00"}}),
                "quiet_hours.start",
            ),
        ] {
            let (status, err) = s.post("/v1/calls", &key, body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
            assert_eq!(err["error"]["details"]["field"], field, "{body}: {err}");
        }
        // A whole-day quiet window refuses every call and says where and when.
        let (status, err) = s
            .post("/v1/calls", &key, json!({"to": "+14155550123", "answer_url": "https://a.example/x", "quiet_hours": {"start": "00:00", "end": "23:59"}}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["error"]["code"], "quiet_hours", "{err}");
        assert_eq!(
            err["error"]["details"]["quiet_hours"]["zone"], "America/Los_Angeles",
            "{err}"
        );
        // The do-not-contact list covers calls.
        let (status, _) = s
            .csv("/v1/do-not-contact", &key, "number\n+14155550199\n")
            .await;
        assert!(status.is_success());
        let (status, err) = s
            .post(
                "/v1/calls",
                &key,
                json!({"to": "+14155550199", "answer_url": "https://a.example/x"}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("recipient_blocked")),
            "{err}"
        );
        s.running.stop();
    }
}
