//! The HTTP API driven over real HTTP against a server on SQLite and (when configured)
//! PostgreSQL.

mod common;

use common::{start, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchyard_server::ServerSettings;
use switchyard_store::testing::{self, TestStore};
use switchyard_store::{Role, Store};

const DECK: &str =
    "prefix,destination,rate\n44,United Kingdom,0.0100\n447,UK Mobile,0.0300\n1,USA,0.0050\n";

#[tokio::test]
async fn tenants_never_see_each_other() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, a) = tenant(&t.store, Role::Owner).await;
        let (_, b) = tenant(&t.store, Role::Owner).await;
        let pid = s
            .add_provider(&a, "A carrier", "tokentokentokentoken1")
            .await;
        let (status, upload) = s.csv(&format!("/v1/providers/{pid}/rates"), &a, DECK).await;
        assert_eq!(status, StatusCode::CREATED, "{upload}");
        let deck_id = upload["deck"]["id"].as_str().expect("deck id").to_string();
        let (status, _) = s
            .post("/v1/routing/decide", &a, json!({"number": "+447911123456"}))
            .await;
        assert_eq!(status, StatusCode::OK);

        for (method, path) in [
            (reqwest::Method::GET, format!("/v1/providers/{pid}")),
            (reqwest::Method::PATCH, format!("/v1/providers/{pid}")),
            (reqwest::Method::DELETE, format!("/v1/providers/{pid}")),
            (reqwest::Method::POST, format!("/v1/providers/{pid}/test")),
            (reqwest::Method::GET, format!("/v1/providers/{pid}/rates")),
            (reqwest::Method::GET, format!("/v1/rates/decks/{deck_id}")),
            (
                reqwest::Method::DELETE,
                format!("/v1/rates/decks/{deck_id}"),
            ),
        ] {
            let body = (method == reqwest::Method::PATCH).then(|| json!({"name": "stolen"}));
            let (status, err) = s.call(method.clone(), &path, &b, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {err}");
            assert_eq!(err["error"]["code"], "not_found");
        }
        let (status, err) = s.csv(&format!("/v1/providers/{pid}/rates"), &b, DECK).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
        for path in ["/v1/providers", "/v1/routing/decisions"] {
            let (status, page) = s.get(path, &b).await;
            assert_eq!(status, StatusCode::OK);
            let items = page["data"].as_array().expect("data");
            assert!(
                items.iter().all(|i| !i.to_string().contains(&pid)),
                "{path} leaks: {page}"
            );
        }
        // B's audit log holds B's own (refused) attempts only, never A's actions.
        let (_, me) = s.get("/v1/org", &b).await;
        let (_, audit) = s.get("/v1/audit", &b).await;
        let entries = audit["data"].as_array().expect("data");
        assert!(!entries.is_empty());
        assert!(
            entries
                .iter()
                .all(|e| e["actor"] == me["key_id"] && e["outcome"] == 404),
            "{audit}"
        );
        let (_, decision) = s
            .post("/v1/routing/decide", &b, json!({"number": "+447911123456"}))
            .await;
        assert!(
            decision["primary"].is_null(),
            "org B has no providers: {decision}"
        );
        let (_, page) = s.get("/v1/providers", &a).await;
        assert_eq!(page["data"].as_array().map(Vec::len), Some(1));
        // Keys: B cannot see or revoke A's.
        let (_, a_me) = s.get("/v1/org", &a).await;
        let a_key = a_me["key_id"].as_str().expect("key id").to_string();
        let (_, b_keys) = s.get("/v1/keys", &b).await;
        assert!(!b_keys.to_string().contains(&a_key), "{b_keys}");
        let (status, _) = s
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/keys/{a_key}"),
                &b,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            s.get("/v1/org", &a).await.0,
            StatusCode::OK,
            "A's key still works"
        );
        s.running.stop();
    }
}

#[tokio::test]
async fn credentials_are_masked_in_every_response() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, a) = tenant(&t.store, Role::Owner).await;
        let secret = "s3cr3t-auth-token-0987654321";
        let pid = s.add_provider(&a, "Masked", secret).await;
        let responses = vec![
            s.get(&format!("/v1/providers/{pid}"), &a).await.1,
            s.get("/v1/providers", &a).await.1,
            s.call(reqwest::Method::PATCH, &format!("/v1/providers/{pid}"), &a, Some(json!({"weight": 5}))).await.1,
            s.call(
                reqwest::Method::PATCH,
                &format!("/v1/providers/{pid}"),
                &a,
                Some(json!({"credentials": {"account_sid": "AC1", "auth_token": "another-secret-value-1234"}})),
            )
            .await
            .1,
            s.get("/v1/audit", &a).await.1,
        ];
        for r in &responses {
            let text = r.to_string();
            assert!(
                !text.contains(secret) && !text.contains("another-secret-value"),
                "leak in {text}"
            );
        }
        assert_eq!(responses[0]["credentials"]["auth_token"], "****4321");
        // Stored encrypted: the raw column does not contain the secret either.
        let record = t
            .store
            .provider_by_id(&pid)
            .await
            .expect("read")
            .expect("exists");
        assert!(!String::from_utf8_lossy(&record.credentials).contains("another-secret"));
        s.running.stop();
    }
}

#[tokio::test]
async fn dry_run_reports_every_error_and_stores_nothing() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, a) = tenant(&t.store, Role::Admin).await;
        let pid = s.add_provider(&a, "Deck", "tokentokentokentoken1").await;
        let bad = "prefix,rate\n44,0.01\n4x,0.02\n45,-1\n";
        let (status, report) = s
            .csv(&format!("/v1/providers/{pid}/rates?dry_run=true"), &a, bad)
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["valid"], false);
        assert_eq!(report["error_count"], 2);
        assert_eq!(report["errors"][0]["line"], 3);
        assert_eq!(report["errors"][0]["column"], "1 (prefix) [prefix]");
        assert_eq!(report["errors"][1]["line"], 4);
        let (status, report) = s
            .csv(&format!("/v1/providers/{pid}/rates?dry_run=true"), &a, DECK)
            .await;
        assert_eq!(
            (status, report["valid"].clone(), report["rows"].clone()),
            (StatusCode::OK, json!(true), json!(3))
        );
        let (_, versions) = s.get(&format!("/v1/providers/{pid}/rates"), &a).await;
        assert_eq!(
            versions["data"].as_array().map(Vec::len),
            Some(0),
            "dry runs store nothing"
        );
        let (status, err) = s.csv(&format!("/v1/providers/{pid}/rates"), &a, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["error"]["details"]["error_count"], 2);
        let (_, versions) = s.get(&format!("/v1/providers/{pid}/rates"), &a).await;
        assert_eq!(
            versions["data"].as_array().map(Vec::len),
            Some(0),
            "a failed import stores nothing"
        );
        let (status, up) = s
            .csv(
                &format!("/v1/providers/{pid}/rates?skip_invalid=true&effective_from=2020-01-01"),
                &a,
                bad,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{up}");
        assert_eq!(up["skipped_count"], 2);
        let deck = up["deck"]["id"].as_str().expect("id");
        let (_, rows) = s.get(&format!("/v1/rates/decks/{deck}"), &a).await;
        assert_eq!(rows["rows"].as_array().map(Vec::len), Some(1));
        s.running.stop();
    }
}

#[tokio::test]
async fn idempotent_posts_replay_the_first_response() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, a) = tenant(&t.store, Role::Owner).await;
        let body = json!({"type": "sandbox", "name": "Once", "credentials": {"style": "twilio"}});
        let send = |body: Value| {
            s.http
                .post(format!("{}/v1/providers", s.base))
                .bearer_auth(&a)
                .header("idempotency-key", "create-once")
                .json(&body)
                .send()
        };
        let first = send(body.clone()).await.expect("first");
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Value = first.json().await.expect("json");
        let second = send(body.clone()).await.expect("second");
        assert_eq!(second.status(), StatusCode::CREATED);
        assert_eq!(
            second
                .headers()
                .get("idempotent-replayed")
                .map(|v| v.as_bytes()),
            Some(&b"true"[..])
        );
        let second: Value = second.json().await.expect("json");
        assert_eq!(first["id"], second["id"]);
        let (_, page) = s.get("/v1/providers", &a).await;
        assert_eq!(
            page["data"].as_array().map(Vec::len),
            Some(1),
            "created once"
        );
        let other = send(
            json!({"type": "sandbox", "name": "Different", "credentials": {"style": "telnyx"}}),
        )
        .await
        .expect("third");
        assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
        s.running.stop();
    }
}

#[tokio::test]
async fn bad_requests_get_the_documented_status() {
    let t: TestStore = testing::sqlite().await;
    let settings = ServerSettings {
        max_json_bytes: 4096,
        max_upload_bytes: 1 << 20,
        ..ServerSettings::default()
    };
    let s = start(t.store.clone(), settings).await;
    let (_, owner) = tenant(&t.store, Role::Owner).await;
    let (viewer_org, _) = tenant(&t.store, Role::Viewer).await;
    let (_, viewer) = t
        .store
        .create_key(&viewer_org, Role::Viewer, "v")
        .await
        .expect("key");

    let resp = s
        .http
        .get(format!("{}/v1/providers", s.base))
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.get("/v1/providers", "sy_not_a_key").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, err) = s
        .post(
            "/v1/providers",
            &viewer,
            json!({"type": "sandbox", "name": "x"}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("forbidden"))
    );

    let raw = |body: &'static str| {
        s.http
            .post(format!("{}/v1/providers", s.base))
            .bearer_auth(&owner)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let resp = raw("{\"type\": ").await.expect("req");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let err: Value = resp.json().await.expect("json");
    assert_eq!(err["error"]["code"], "malformed_json");
    let resp = raw("{\"type\":\"sandbox\",\"name\":\"x\",\"colour\":1}")
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (status, err) = s
        .post("/v1/providers", &owner, json!({"type": "fax", "name": "x"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["details"]["field"], "type");
    let (status, err) = s
        .post(
            "/v1/providers",
            &owner,
            json!({"type": "twilio", "name": "x", "credentials": {"account_sid": "AC1"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("credentials.auth_token")),
        "{err}"
    );
    let (status, err) = s
        .post(
            "/v1/providers",
            &owner,
            json!({"type": "sandbox", "name": "x", "weight": "heavy"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, err) = s
        .post("/v1/routing/decide", &owner, json!({"number": "12"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not a phone number")),
        "{err}"
    );
    let big = json!({"type": "sandbox", "name": "x".repeat(10_000)});
    assert_eq!(
        s.post("/v1/providers", &owner, big).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        s.get("/v1/nothing-here", &owner).await.0,
        StatusCode::NOT_FOUND
    );
    let pid = s.add_provider(&owner, "P", "tokentokentokentoken1").await;
    let resp = s
        .http
        .post(format!("{}/v1/providers/{pid}/rates", s.base))
        .bearer_auth(&owner)
        .header("content-type", "application/pdf")
        .body("%PDF")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge_deck = format!("prefix,rate\n{}", "44,0.01\n".repeat(200_000));
    let (status, err) = s
        .csv(&format!("/v1/providers/{pid}/rates"), &owner, &huge_deck)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{err}");
    s.running.stop();
}

#[tokio::test]
async fn routing_api_decides_explains_and_logs() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, a) = tenant(&t.store, Role::Owner).await;
        let cheap = s.add_provider(&a, "Cheap", "tokentokentokentoken1").await;
        let dear = s.add_provider(&a, "Dear", "tokentokentokentoken2").await;
        s.csv(
            &format!("/v1/providers/{cheap}/rates?effective_from=2020-01-01"),
            &a,
            DECK,
        )
        .await;
        let dear_deck = "prefix,rate\n44,0.02\n";
        s.csv(
            &format!("/v1/providers/{dear}/rates?effective_from=2020-01-01"),
            &a,
            dear_deck,
        )
        .await;
        let (status, d) = s
            .post(
                "/v1/routing/decide",
                &a,
                json!({"number": "+442079460958", "strategy": "least_cost"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{d}");
        assert_eq!(d["primary"]["provider"], cheap.as_str());
        assert_eq!(d["alternates"][0]["provider"], dear.as_str());
        assert!(
            d["primary"]["why"]
                .as_str()
                .is_some_and(|w| w.contains("cheapest"))
        );
        let (_, d) = s
            .post(
                "/v1/routing/decide",
                &a,
                json!({"number": "+442079460958", "provider": dear}),
            )
            .await;
        assert_eq!(
            (d["primary"]["provider"].clone(), d["router_choice"].clone()),
            (json!(dear), json!(cheap))
        );
        let (_, d) = s
            .post(
                "/v1/routing/decide",
                &a,
                json!({"number": "+14155550100", "max_rate": "0.001"}),
            )
            .await;
        assert_eq!(d["refusal"]["code"], "no_route");
        let (_, low) = s.get("/v1/routing/lowest-cost?prefix=44", &a).await;
        assert_eq!(low["data"][0]["provider"], cheap.as_str());
        let (_, look) = s.get("/v1/rates/lookup?number=%2B447911123456", &a).await;
        assert_eq!(look["matches"].as_array().map(Vec::len), Some(2));
        let mut logged = 0;
        for _ in 0..50 {
            let (_, page) = s.get("/v1/routing/decisions", &a).await;
            logged = page["data"].as_array().map_or(0, Vec::len);
            if logged >= 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(logged, 3, "every decision reaches the routing audit log");
        let (_, page) = s
            .get(&format!("/v1/routing/decisions?provider={dear}"), &a)
            .await;
        assert_eq!(page["data"][0]["router_choice"], cheap.as_str());
        let (_, audit) = s.get("/v1/audit", &a).await;
        assert!(
            audit["data"]
                .as_array()
                .is_some_and(|e| e.iter().any(|x| x["action"] == "POST /v1/providers"))
        );
        s.running.stop();
    }
}

#[tokio::test]
async fn another_instance_sees_changes_within_a_second() {
    let Some(t) = testing::postgres().await else {
        return;
    };
    let one = start(t.store.clone(), ServerSettings::default()).await;
    let other_store = Store::connect(&t.url, 4).await.expect("second pool");
    let two = start(other_store, ServerSettings::default()).await;
    let (_, a) = tenant(&t.store, Role::Owner).await;
    // The second instance builds the organisation's (empty) snapshot first.
    let (_, d) = two
        .post("/v1/routing/decide", &a, json!({"number": "+447911123456"}))
        .await;
    assert!(d["primary"].is_null());
    let pid = one
        .add_provider(&a, "Via one", "tokentokentokentoken1")
        .await;
    let (status, _) = one
        .csv(
            &format!("/v1/providers/{pid}/rates?effective_from=2020-01-01"),
            &a,
            DECK,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let started = std::time::Instant::now();
    loop {
        let (_, d) = two
            .post("/v1/routing/decide", &a, json!({"number": "+447911123456"}))
            .await;
        if d["primary"]["provider"] == pid.as_str() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "instance two did not rebuild within a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    one.running.stop();
    two.running.stop();
}

#[tokio::test]
async fn openapi_health_and_metrics() {
    let t = testing::sqlite().await;
    let s = start(t.store.clone(), ServerSettings::default()).await;
    let doc: Value = s
        .http
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/v1/providers",
        "/v1/routing/decide",
        "/v1/providers/{id}/rates",
        "/v1/rates/lookup",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    let page = s
        .http
        .get(format!("{}/docs", s.base))
        .send()
        .await
        .expect("req")
        .text()
        .await
        .expect("text");
    assert!(page.contains("/openapi.json"));
    assert_eq!(
        s.http
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        s.http
            .get(format!("{}/readyz", s.base))
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::OK
    );
    let (_, key) = tenant(&t.store, Role::Operator).await;
    s.get("/v1/providers", &key).await;
    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("req")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("switchyard_http_requests_total"),
        "{metrics}"
    );
    assert!(metrics.contains("switchyard_db_pool_connections"));
    s.running.stop();
}

#[tokio::test]
async fn each_organisation_sets_its_own_routing_policy() {
    for t in testing::all().await {
        let s = start(t.store.clone(), ServerSettings::default()).await;
        let (_, a) = tenant(&t.store, Role::Owner).await;
        let (_, b) = tenant(&t.store, Role::Owner).await;
        let cheap = s.add_provider(&a, "Cheap", "tokentokentokentoken1").await;
        let first = s.add_provider(&a, "First", "tokentokentokentoken2").await;
        s.csv(
            &format!("/v1/providers/{cheap}/rates?effective_from=2020-01-01"),
            &a,
            DECK,
        )
        .await;
        s.csv(
            &format!("/v1/providers/{first}/rates?effective_from=2020-01-01"),
            &a,
            "prefix,rate\n44,0.05\n",
        )
        .await;
        let (status, _) = s
            .call(
                reqwest::Method::PATCH,
                &format!("/v1/providers/{first}"),
                &a,
                Some(json!({"priority": -1})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, policy) = s.get("/v1/routing/policy", &a).await;
        assert_eq!(policy["default_strategy"], "least_cost");
        let (status, policy) = s
            .call(
                reqwest::Method::PUT,
                "/v1/routing/policy",
                &a,
                Some(json!({"default_strategy": "priority", "blocked_prefixes": ["+4490"], "max_alternates": 1})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{policy}");
        let (_, d) = s
            .post("/v1/routing/decide", &a, json!({"number": "+442079460958"}))
            .await;
        assert_eq!(
            (d["strategy"].clone(), d["primary"]["provider"].clone()),
            (json!("priority"), json!(first))
        );
        let (_, d) = s
            .post("/v1/routing/decide", &a, json!({"number": "+449012345678"}))
            .await;
        assert_eq!(d["refusal"]["code"], "blocked_destination", "{d}");
        let (_, other) = s.get("/v1/routing/policy", &b).await;
        assert_eq!(
            other["default_strategy"], "least_cost",
            "B keeps its own policy"
        );
        let (status, err) = s
            .call(
                reqwest::Method::PUT,
                "/v1/routing/policy",
                &a,
                Some(json!({"quality_weight": 1.5})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["error"]["details"]["field"], "quality_weight");
        let (status, _) = s
            .call(
                reqwest::Method::PUT,
                "/v1/routing/policy",
                &a,
                Some(json!({"strategy": "priority"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "unknown field");
        let (_, viewer) = t
            .store
            .create_key(
                &t.store
                    .key_by_secret(&a)
                    .await
                    .expect("k")
                    .expect("k")
                    .org_id,
                Role::Viewer,
                "v",
            )
            .await
            .expect("key");
        let (status, _) = s
            .call(
                reqwest::Method::PUT,
                "/v1/routing/policy",
                &viewer,
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        s.running.stop();
    }
}
