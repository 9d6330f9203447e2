//! Templates and consent through the API, on SQLite and (when configured) PostgreSQL:
//! strict rendering, opt-out and do-not-contact lists, and STOP / START / HELP arriving as
//! signed inbound webhooks from a sandbox provider.

mod common;

use common::{Server, start, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_sandbox::SandboxConfig;
use switchyard_server::ServerSettings;
use switchyard_store::Role;
use switchyard_store::testing;

#[tokio::test]
async fn templates_render_strictly() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, key) = tenant(&t.store, Role::Operator).await;
        let (status, created) = s
            .post("/v1/templates", &key, json!({"name": "otp", "body": "Hi {{ contact.first_name }}, your code is {{ code }}"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["variables"], json!(["code", "contact.first_name"]));
        let id = created["id"].as_str().expect("id").to_string();
        let (status, _) = s
            .post("/v1/templates", &key, json!({"name": "otp", "body": "x"}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, bad) = s
            .post(
                "/v1/templates",
                &key,
                json!({"name": "broken", "body": "ok\n{% if %}"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(
            (
                bad["error"]["details"]["field"].as_str(),
                bad["error"]["details"]["line"].as_u64()
            ),
            (Some("body"), Some(2))
        );
        let (status, bad) = s
            .post(
                "/v1/templates",
                &key,
                json!({"name": "x", "channel": "fax", "body": "x"}),
            )
            .await;
        assert_eq!(
            (status, bad["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("channel"))
        );

        let (status, shown) = s
            .post(
                &format!("/v1/templates/{id}/preview"),
                &key,
                json!({"variables": {"contact": {"first_name": "Ada"}, "code": 4821}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert_eq!(shown["body"], "Hi Ada, your code is 4821");
        assert_eq!(
            (
                shown["segments"]["count"].as_u64(),
                shown["segments"]["encoding"].as_str()
            ),
            (Some(1), Some("gsm7"))
        );
        let (status, missing) = s
            .post(
                "/v1/templates/otp/preview",
                &key,
                json!({"variables": {"contact": {}}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{missing}");
        assert_eq!(missing["error"]["code"], "missing_variable");
        assert_eq!(
            missing["error"]["details"]["missing"],
            json!(["code", "contact.first_name"])
        );
        assert_eq!(missing["error"]["details"]["field"], "variables.code");

        let (status, changed) = s
            .call(
                reqwest::Method::PATCH,
                &format!("/v1/templates/{id}"),
                &key,
                Some(json!({"body": "Code {{ code }}"})),
            )
            .await;
        assert_eq!(
            (status, changed["variables"].clone()),
            (StatusCode::OK, json!(["code"]))
        );
        let (_, stranger) = tenant(&t.store, Role::Owner).await;
        assert_eq!(
            s.get(&format!("/v1/templates/{id}"), &stranger).await.0,
            StatusCode::NOT_FOUND
        );
        let (status, _) = s
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/templates/{id}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        s.running.stop();
    }
}

#[tokio::test]
async fn opt_out_and_do_not_contact_lists() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let (status, added) = s
            .post(
                "/v1/opt-outs",
                &key,
                json!({"e164": "+44 7911 123456", "channel": "sms"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        let (status, _) = s
            .post(
                "/v1/opt-outs",
                &key,
                json!({"e164": "+447911123456", "channel": "sms"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "already opted out");
        let (status, bad) = s
            .post(
                "/v1/opt-outs",
                &key,
                json!({"e164": "12", "channel": "sms"}),
            )
            .await;
        assert_eq!(
            (status, bad["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("e164"))
        );
        let (_, list) = s.get("/v1/opt-outs?channel=sms", &key).await;
        assert_eq!(list["data"][0]["e164"], "+447911123456");
        let (status, _) = s
            .call(
                reqwest::Method::DELETE,
                "/v1/opt-outs/sms/+447911123456",
                &key,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        let (status, bad) = s
            .csv(
                "/v1/do-not-contact",
                &key,
                "e164,reason\n+447911123456,asked\nnonsense\n+1\n",
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let lines: Vec<u64> = bad["error"]["details"]["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["line"].as_u64())
            .collect();
        assert_eq!(lines, [3, 4]);
        let (_, none) = s.get("/v1/do-not-contact", &key).await;
        assert_eq!(
            none["data"].as_array().map(Vec::len),
            Some(0),
            "nothing imported from a bad file"
        );
        let (status, done) = s
            .csv(
                "/v1/do-not-contact",
                &key,
                "e164,reason\n+447911123456,asked\n+1 212 555 0100,\n",
            )
            .await;
        assert_eq!(
            (status, done["added"].as_u64()),
            (StatusCode::OK, Some(2)),
            "{done}"
        );
        let csv = s
            .http
            .get(format!("{}/v1/do-not-contact", s.base))
            .bearer_auth(&key)
            .header("accept", "text/csv")
            .send()
            .await
            .expect("export")
            .text()
            .await
            .expect("csv");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "e164,reason,added_at");
        assert!(
            lines[1].starts_with("+12125550100,,") && lines[2].starts_with("+447911123456,asked,"),
            "{csv}"
        );
        s.running.stop();
    }
}

async fn wait_for(s: &Server, key: &str, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (_, body) = s.get(path, key).await;
        if pred(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never satisfied the condition");
}

#[tokio::test]
async fn stop_start_and_help_arrive_as_signed_inbound_messages() {
    let t = testing::sqlite().await;
    let settings = ServerSettings {
        sandbox: Some(SandboxConfig {
            seed: 3,
            speed: 20.0,
        }),
        ..ServerSettings::default()
    };
    let s = start(t.store.clone(), settings).await;
    let (_, key) = tenant(&t.store, Role::Admin).await;
    let (_, p) = s
        .post("/v1/providers", &key, json!({"type": "sandbox", "name": "sb", "credentials": {"style": "twilio", "profile": "{\"receipt_delay_ms\": 50}"}}))
        .await;
    let id = p["id"].as_str().expect("id").to_string();
    let (_, synced) = s
        .post(&format!("/v1/providers/{id}/numbers/sync"), &key, json!({}))
        .await;
    let ours = synced["data"][0]["e164"]
        .as_str()
        .expect("number")
        .to_string();
    let (status, _) = s
        .call(reqwest::Method::PUT, "/v1/consent/texts", &key, Some(json!({"opt_out": "Bye from Acme.", "opt_in": "Welcome back.", "help": "Acme help: call 555."})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let inbound =
        |body: &str| json!({"kind": "sms", "from": "+447700900555", "to": ours, "body": body});

    s.post(
        &format!("/v1/providers/{id}/sandbox/inbound"),
        &key,
        inbound("Stop."),
    )
    .await;
    wait_for(&s, &key, "/v1/opt-outs?channel=sms", |b| {
        b["data"][0]["e164"] == "+447700900555"
    })
    .await;
    // The confirmation went out through the same provider: its receipts come back.
    wait_for(
        &s,
        &key,
        &format!("/v1/webhook-events?provider={id}"),
        |b| {
            b["data"]
                .as_array()
                .is_some_and(|l| l.iter().any(|e| e["event"] == "message.delivered"))
        },
    )
    .await;

    s.post(
        &format!("/v1/providers/{id}/sandbox/inbound"),
        &key,
        inbound("please stop calling"),
    )
    .await;
    s.post(
        &format!("/v1/providers/{id}/sandbox/inbound"),
        &key,
        inbound("START"),
    )
    .await;
    wait_for(&s, &key, "/v1/opt-outs?channel=sms", |b| {
        b["data"].as_array().is_some_and(Vec::is_empty)
    })
    .await;
    s.post(
        &format!("/v1/providers/{id}/sandbox/inbound"),
        &key,
        inbound("help"),
    )
    .await;
    let events = wait_for(
        &s,
        &key,
        &format!("/v1/webhook-events?provider={id}&limit=100"),
        |b| {
            b["data"]
                .as_array()
                .is_some_and(|l| l.iter().filter(|e| e["event"] == "message.inbound").count() == 4)
        },
    )
    .await;
    assert!(
        events["data"]
            .as_array()
            .is_some_and(|l| l.iter().all(|e| e["event"] != "unknown.form"))
    );
    s.running.stop();
}

#[tokio::test]
async fn number_lookup_knows_zones_and_quiet_hours() {
    let t = testing::sqlite().await;
    let s = start(t.store.clone(), ServerSettings::default()).await;
    let (_, key) = tenant(&t.store, Role::Viewer).await;
    let (status, info) = s
        .get("/v1/numbers/lookup?number=%2B12125550100&quiet_start=21:00&quiet_end=08:00&at=2026-07-15T01:30:00Z", &key)
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["zones"][0]["zone"], "America/New_York");
    assert_eq!(info["zones"][0]["local_time"], "2026-07-14T21:30:00-04:00");
    assert_eq!(
        (
            info["contact"]["verdict"].as_str(),
            info["contact"]["local_time"].as_str()
        ),
        (Some("quiet"), Some("21:30"))
    );
    assert_eq!(info["next_allowed"], "2026-07-15T12:00:00+00:00");
    let (_, la) = s.get("/v1/numbers/lookup?number=%2B14155550100&quiet_start=21:00&quiet_end=08:00&at=2026-07-15T01:30:00Z", &key).await;
    assert_eq!(la["contact"]["verdict"], "allowed");
    let (status, bad) = s
        .get(
            "/v1/numbers/lookup?number=%2B12125550100&quiet_start=9pm&quiet_end=08:00",
            &key,
        )
        .await;
    assert_eq!(
        (status, bad["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quiet_start"))
    );
    s.running.stop();
}
