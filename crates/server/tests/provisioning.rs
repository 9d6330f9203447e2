//! Numbers as resources against the sandbox: buying with search criteria, releasing through
//! the provider, per-number fields and statistics, and provisioning through the fallback
//! chain (the organisation's free pool, its own carrier, the platform's account within the
//! free tier, then manual assignment), including a step that fails because the carrier is
//! down; on SQLite and (when configured) PostgreSQL.

mod common;

use common::{Server, start};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchyard_server::ServerSettings;
use switchyard_store::{Role, Store, testing};

const PROFILE: &str = r#"{"answer_rate": 1.0, "failure_rate": 0.0, "ring_ms": 200, "duration": {"kind": "fixed", "secs": 1}, "receipt_delay_ms": 100, "delivery_rate": 1.0}"#;

async fn org_key(store: &Store, name: &str) -> (String, String) {
    let org = store.create_org(name).await.expect("org");
    let (_, secret) = store
        .create_key(&org.id, Role::Admin, "test")
        .await
        .expect("key");
    (org.id, secret)
}

async fn carrier(s: &Server, key: &str, name: &str, style: &str) -> String {
    let sms = "prefix,destination,rate\n1,USA,0.0100\n".to_string();
    s.sandbox_carrier(key, name, style, PROFILE, &[("sms", sms)])
        .await
}

async fn put(s: &Server, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
    s.call(Method::PUT, path, key, Some(body)).await
}

async fn provision(s: &Server, key: &str, assistant: &str) -> (StatusCode, Value) {
    s.post(
        "/v1/numbers/provision",
        key,
        json!({"for": {"kind": "assistant", "id": assistant}}),
    )
    .await
}

/// Each step's name and outcome.
fn steps(p: &Value) -> Vec<(String, String)> {
    p["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap_or("").to_string(),
                s["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn the_fallback_chain_gets_every_assistant_a_number_or_says_a_person_must() {
    for t in testing::all().await {
        let (platform, platform_key) = org_key(&t.store, "Platform").await;
        let (_, key) = org_key(&t.store, "Tenant").await;
        let settings = ServerSettings {
            sandbox: Some(switchyard_sandbox::SandboxConfig {
                seed: 7,
                speed: 20.0,
            }),
            platform_org: Some(platform.clone()),
            ..ServerSettings::default()
        };
        let s = start(t.store.clone(), settings).await;
        carrier(&s, &platform_key, "Wholesale", "twilio").await;
        let (status, body) = put(
            &s,
            "/v1/numbers/provisioning",
            &platform_key,
            json!({"free_tier": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // The organisation listens for what provisioning tells it (the endpoint is not
        // reachable; the deliveries are queued all the same).
        let (status, endpoint) = s
            .post(
                "/v1/event-endpoints",
                &key,
                json!({"url": "http://127.0.0.1:9/events", "event_types": ["number.provisioned", "number.needs_manual_assignment", "usage.warning"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{endpoint}");

        let own = carrier(&s, &key, "Own", "telnyx").await;
        let (_, page) = s.get("/v1/numbers?limit=100", &key).await;
        let spare = page["data"][0]["e164"].as_str().expect("a seeded number");
        let (status, body) = s
            .post(
                "/v1/pools",
                &key,
                json!({"name": "free", "numbers": [spare]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // The chain is checked field by field.
        for (chain, field) in [
            (json!({"pool": "nope"}), "pool"),
            (json!({"providers": [own, "prv_nope"]}), "providers[1]"),
            (json!({"steps": ["pool", "pool"]}), "steps[1]"),
            (json!({"wanted": {"country": "usa"}}), "wanted.country"),
        ] {
            let (status, err) = put(&s, "/v1/numbers/provisioning", &key, chain).await;
            assert_eq!(
                (status, err["error"]["details"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{err}"
            );
        }
        let (status, body) = put(
            &s,
            "/v1/numbers/provisioning",
            &key,
            json!({"steps": ["pool", "org_provider", "platform"], "pool": "free", "providers": [own]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // 1. The free pool's number.
        let (status, first) = provision(&s, &key, "asst_1").await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(steps(&first), pairs(&[("pool", "assigned")]));
        assert_eq!(first["number"]["e164"], spare);
        assert_eq!(
            first["number"]["assignment"],
            json!({"kind": "assistant", "id": "asst_1"})
        );
        // Asking again buys nothing: the same provisioning comes back.
        let (status, again) = provision(&s, &key, "asst_1").await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(
            (again["id"].clone(), again["number"]["e164"].clone()),
            (first["id"].clone(), json!(spare))
        );

        // 2. The pool is used up: bought through the organisation's own carrier.
        let (status, second) = provision(&s, &key, "asst_2").await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        assert_eq!(
            steps(&second),
            pairs(&[("pool", "empty"), ("org_provider", "assigned")])
        );
        assert_eq!(second["number"]["provider_id"], own.as_str());
        assert_eq!(second["number"]["from_platform"], false);

        // 3. The own carrier is down: the platform's account, within the free tier.
        let (status, _) = put(
            &s,
            &format!("/v1/providers/{own}/sandbox/faults"),
            &key,
            json!({"outage_secs": 1_000_000}),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, third) = provision(&s, &key, "asst_3").await;
        assert_eq!(status, StatusCode::CREATED, "{third}");
        assert_eq!(
            steps(&third),
            pairs(&[
                ("pool", "empty"),
                ("org_provider", "failed"),
                ("platform", "assigned")
            ])
        );
        assert_eq!(third["number"]["from_platform"], true);
        assert_ne!(third["number"]["provider_id"], own.as_str());
        // The free tier (1 number) is now used up: warned at 70 % and 100 %, once each.
        let (_, chain) = s.get("/v1/numbers/provisioning", &key).await;
        assert_eq!(chain["platform_numbers_held"], 1, "{chain}");
        let thresholds: Vec<i64> = chain["usage_warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .filter_map(|w| w["threshold"].as_i64())
            .collect();
        assert_eq!(thresholds, [100, 70], "{chain}");

        // 4. Nothing left to try: a person must assign one.
        let (status, fourth) = provision(&s, &key, "asst_4").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{fourth}");
        assert_eq!(fourth["status"], "needs_manual_assignment");
        assert_eq!(
            steps(&fourth),
            pairs(&[
                ("pool", "empty"),
                ("org_provider", "failed"),
                ("platform", "failed")
            ])
        );
        // Once the carrier is back, asking again retries and succeeds.
        put(
            &s,
            &format!("/v1/providers/{own}/sandbox/faults"),
            &key,
            json!({}),
        )
        .await;
        let (status, retried) = provision(&s, &key, "asst_4").await;
        assert_eq!(status, StatusCode::CREATED, "{retried}");
        assert_eq!(retried["id"], fourth["id"]);
        let (_, deliveries) = s.get("/v1/event-deliveries?limit=100", &key).await;
        let mut told: Vec<String> = deliveries["data"]
            .as_array()
            .expect("deliveries")
            .iter()
            .filter_map(|d| d["event_type"].as_str().map(str::to_owned))
            .collect();
        told.sort();
        assert_eq!(
            told,
            [
                "number.needs_manual_assignment",
                "number.provisioned",
                "number.provisioned",
                "number.provisioned",
                "number.provisioned",
                "usage.warning",
                "usage.warning"
            ],
            "{deliveries}"
        );
        let (_, listed) = s.get("/v1/provisionings", &key).await;
        assert_eq!(listed["data"].as_array().map(Vec::len), Some(4), "{listed}");

        // Release gives the number back; it leaves its pools.
        let bought = second["number"]["id"].as_str().expect("id");
        let (status, released) = s
            .post(&format!("/v1/numbers/{bought}/release"), &key, json!({}))
            .await;
        assert_eq!(
            (status, released["status"].as_str()),
            (StatusCode::OK, Some("released")),
            "{released}"
        );
        let (_, synced) = s
            .post(
                &format!("/v1/providers/{own}/numbers/sync"),
                &key,
                json!({}),
            )
            .await;
        assert!(
            synced["data"]
                .as_array()
                .expect("numbers")
                .iter()
                .any(|n| n["id"] == bought && n["status"] == "released"),
            "the carrier no longer reports it: {synced}"
        );

        // The platform's numbers are not the tenant's to see.
        let (_, platform_page) = s.get("/v1/numbers?limit=100", &platform_key).await;
        let platform_number = platform_page["data"][0]["id"].as_str().expect("id");
        let (status, _) = s.get(&format!("/v1/numbers/{platform_number}"), &key).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn numbers_are_bought_by_criteria_described_and_counted() {
    for t in testing::all().await {
        let (_, key) = org_key(&t.store, "Tenant").await;
        let s = common::start_sandboxed(t.store.clone(), 11, 20.0).await;
        let own = carrier(&s, &key, "Own", "twilio").await;
        let (status, body) = s.post("/v1/pools", &key, json!({"name": "west"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        for (body, field) in [
            (json!({"country": "usa"}), "country"),
            (json!({"area_code": "41a"}), "area_code"),
            (json!({"provider": "prv_nope"}), "provider"),
            (json!({"pool": "east"}), "pool"),
            (
                json!({"assign_to": {"kind": "robot", "id": "r1"}}),
                "assign_to.kind",
            ),
        ] {
            let (status, err) = s.post("/v1/numbers/buy", &key, body).await;
            assert_eq!(
                (status, err["error"]["details"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{err}"
            );
        }
        let (status, bought) = s
            .post(
                "/v1/numbers/buy",
                &key,
                json!({"provider": own, "area_code": "415", "pool": "west", "assign_to": {"kind": "campaign", "id": "spring"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{bought}");
        let e164 = bought["e164"].as_str().expect("e164");
        assert!(e164.starts_with("+1415"), "{bought}");
        assert_eq!(
            (
                bought["area_code"].as_str(),
                bought["region"].as_str(),
                bought["kind"].as_str()
            ),
            (Some("415"), Some("CA"), Some("local"))
        );
        let id = bought["id"].as_str().expect("id");

        let (status, err) = s
            .call(
                Method::PATCH,
                &format!("/v1/numbers/{id}"),
                &key,
                Some(json!({"attestation": "D"})),
            )
            .await;
        assert_eq!(
            err["error"]["details"]["field"], "attestation",
            "{status} {err}"
        );
        let (status, err) = s
            .call(
                Method::PATCH,
                &format!("/v1/numbers/{id}"),
                &key,
                Some(json!({"monthly_cost": "-1", "currency": "USD"})),
            )
            .await;
        assert_eq!(
            err["error"]["details"]["field"], "monthly_cost",
            "{status} {err}"
        );
        let (status, patched) = s
            .call(
                Method::PATCH,
                &format!("/v1/numbers/{id}"),
                &key,
                Some(json!({"monthly_cost": "1.150", "currency": "USD", "attestation": "A"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        assert_eq!(
            (
                patched["monthly_cost"].as_str(),
                patched["attestation"].as_str()
            ),
            (Some("1.15"), Some("A"))
        );

        // Statistics count what was sent from it.
        for i in 0..3 {
            let (status, sent) = s
                .post(
                    "/v1/messages",
                    &key,
                    json!({"to": format!("+1415555{:04}", 100 + i), "from": {"pool": "west"}, "body": "hi"}),
                )
                .await;
            assert_eq!(
                (status, sent["from"].as_str()),
                (StatusCode::ACCEPTED, Some(e164)),
                "{sent}"
            );
        }
        // Messages count once the carrier has taken them (they carry their number then).
        let mut detail = Value::Null;
        for _ in 0..100 {
            let (status, d) = s.get(&format!("/v1/numbers/{id}"), &key).await;
            assert_eq!(status, StatusCode::OK, "{d}");
            detail = d;
            if detail["stats"]["last_30_days"]["messages"] == 3
                && detail["stats"]["today"]["usage"]["messages"] == 3
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(detail["pools"], json!(["west"]));
        assert_eq!(
            detail["assignment"],
            json!({"kind": "campaign", "id": "spring"})
        );
        let stats = &detail["stats"];
        assert_eq!(
            (
                stats["today"]["usage"]["messages"].as_i64(),
                stats["today"]["usage"]["calls"].as_i64()
            ),
            (Some(3), Some(0)),
            "{detail}"
        );
        assert_eq!(stats["last_30_days"]["messages"], 3, "{detail}");
        assert_eq!(stats["spam_flags"], 0);
    }
}
