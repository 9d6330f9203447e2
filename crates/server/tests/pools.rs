//! Number pools through the API: local presence steering routing to the carrier that owns
//! the local number, daily caps that fall back a locality level and then refuse, spam
//! resting, sticky senders for messaging, and the choice explained in the send's decision;
//! on SQLite and (when configured) PostgreSQL.

mod common;

use common::{Server, start_sandboxed, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchyard_store::Role;
use switchyard_store::testing;

const PROFILE: &str = r#"{"answer_rate": 1.0, "failure_rate": 0.0, "ring_ms": 200, "duration": {"kind": "fixed", "secs": 1}, "receipt_delay_ms": 100, "delivery_rate": 1.0}"#;

async fn carrier(s: &Server, key: &str, name: &str, style: &str, rate: &str) -> String {
    carrier_playing(s, key, name, style, rate, PROFILE).await
}

async fn carrier_playing(
    s: &Server,
    key: &str,
    name: &str,
    style: &str,
    rate: &str,
    profile: &str,
) -> String {
    let voice = format!("prefix,destination,rate,increment\n1,USA,{rate},60/60\n");
    let sms = format!("prefix,destination,rate\n1,USA,{rate}\n");
    s.sandbox_carrier(key, name, style, profile, &[("voice", voice), ("sms", sms)])
        .await
}

/// The E.164 numbers of one provider.
async fn numbers_of(s: &Server, key: &str, provider: &str) -> Vec<String> {
    let (_, page) = s.get("/v1/numbers?limit=100", key).await;
    let mut out: Vec<String> = page["data"]
        .as_array()
        .expect("numbers")
        .iter()
        .filter(|n| n["provider_id"] == provider)
        .filter_map(|n| n["e164"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

async fn call(s: &Server, key: &str, to: &str) -> (StatusCode, Value) {
    s.post(
        "/v1/calls",
        key,
        json!({"to": to, "from": {"pool": "sales"}, "answer_url": "https://app.example/answer"}),
    )
    .await
}

#[tokio::test]
async fn pools_pick_local_numbers_keep_caps_rest_spammers_and_stick_to_contacts() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 23, 20.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let cheap = carrier(&s, &key, "Cheap", "twilio", "0.0100").await;
        let dear = carrier(&s, &key, "Dear", "telnyx", "0.0200").await;
        let cheap_numbers = numbers_of(&s, &key, &cheap).await;
        let dear_numbers = numbers_of(&s, &key, &dear).await;
        let area = |e164: &str| e164[2..5].to_string();
        assert_ne!(
            area(&cheap_numbers[0]),
            area(&dear_numbers[0]),
            "the seed gives the two carriers different area codes"
        );

        // Bad input names its field.
        let (status, err) = s
            .post(
                "/v1/pools",
                &key,
                json!({"name": "sales", "numbers": ["+12125550999"]}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("numbers[0]")),
            "{err}"
        );
        let (status, err) = s
            .post("/v1/pools", &key, json!({"name": "sales", "daily_cap": 0}))
            .await;
        assert_eq!(
            err["error"]["details"]["field"], "daily_cap",
            "{status} {err}"
        );
        let (status, err) = s
            .post("/v1/pools", &key, json!({"name": "sales", "colour": "red"}))
            .await;
        assert!(status.is_client_error(), "{err}");

        // Two numbers of each carrier, one use a day each.
        let members = vec![
            cheap_numbers[0].clone(),
            cheap_numbers[1].clone(),
            dear_numbers[0].clone(),
            dear_numbers[1].clone(),
        ];
        let (status, pool) = s
            .post(
                "/v1/pools",
                &key,
                json!({"name": "sales", "numbers": members, "daily_cap": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{pool}");
        assert_eq!(pool["numbers"].as_array().map(Vec::len), Some(4));
        assert!(
            pool["numbers"]
                .as_array()
                .expect("numbers")
                .iter()
                .all(|n| n["country"] == "US" && n["area_code"].is_string()),
            "{pool}"
        );
        let (status, _) = s.post("/v1/pools", &key, json!({"name": "sales"})).await;
        assert_eq!(status, StatusCode::CONFLICT);

        // A callee in the dearer carrier's area code gets its local numbers first: the pool
        // steers routing to the carrier that owns the number.
        let callee = format!("+1{}5550123", area(&dear_numbers[0]));
        let mut froms = Vec::new();
        for _ in 0..4 {
            let (status, placed) = call(&s, &key, &callee).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
            let (_, detail) = s
                .get(
                    &format!("/v1/calls/{}", placed["id"].as_str().expect("id")),
                    &key,
                )
                .await;
            let sender = &detail["decision"]["sender"];
            assert_eq!(sender["from"], placed["from"], "{detail}");
            assert_eq!(detail["plan"][0]["from"], placed["from"]);
            froms.push((
                placed["from"].as_str().expect("from").to_string(),
                sender["locality"].as_str().expect("locality").to_string(),
            ));
        }
        let localities: Vec<&str> = froms.iter().map(|(_, l)| l.as_str()).collect();
        let same_state = switchyard_core::number::nanp_region(&area(&cheap_numbers[0]))
            == switchyard_core::number::nanp_region(&area(&dear_numbers[0]));
        let fallback = if same_state { "region" } else { "country" };
        assert_eq!(
            localities,
            ["area_code", "area_code", fallback, fallback],
            "{froms:?}"
        );
        let mut first_two: Vec<&str> = froms[..2].iter().map(|(f, _)| f.as_str()).collect();
        first_two.sort();
        assert_eq!(
            first_two,
            [dear_numbers[0].as_str(), dear_numbers[1].as_str()]
        );
        let mut used: Vec<&str> = froms.iter().map(|(f, _)| f.as_str()).collect();
        used.sort();
        used.dedup();
        assert_eq!(used.len(), 4, "each number used once: its cap");
        // Every number has used its one call today: the pool refuses, naming why.
        let (status, err) = call(&s, &key, &callee).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("pool_exhausted")),
            "{err}"
        );
        assert_eq!(
            err["error"]["details"]["skipped"].as_array().map(Vec::len),
            Some(4),
            "{err}"
        );

        // More room; a number flagged as spam rests and is skipped.
        let (status, patched) = s
            .call(
                reqwest::Method::PATCH,
                "/v1/pools/sales",
                &key,
                Some(json!({"daily_cap": 10})),
            )
            .await;
        assert_eq!(
            (status, patched["rules"]["daily_cap"].as_u64()),
            (StatusCode::OK, Some(10)),
            "{patched}"
        );
        let spammy = pool["numbers"]
            .as_array()
            .expect("numbers")
            .iter()
            .find(|n| n["e164"] == dear_numbers[0].as_str())
            .and_then(|n| n["id"].as_str())
            .expect("id")
            .to_string();
        let (status, rested) = s
            .post(
                &format!("/v1/numbers/{spammy}/spam"),
                &key,
                json!({"rest_hours": 24}),
            )
            .await;
        assert_eq!(
            (status, rested["status"].as_str()),
            (StatusCode::OK, Some("resting")),
            "{rested}"
        );
        for _ in 0..3 {
            let (status, placed) = call(&s, &key, &callee).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
            assert_ne!(
                placed["from"],
                dear_numbers[0].as_str(),
                "a resting number is skipped"
            );
        }

        // Messages stick to the contact's number.
        let sms =
            |to: &str| json!({"to": to, "from": {"pool": "sales"}, "body": "Your order shipped"});
        let (_, first) = s.post("/v1/messages", &key, sms("+14155550999")).await;
        let (_, second) = s.post("/v1/messages", &key, sms("+14155550999")).await;
        assert_eq!(first["from"], second["from"], "{first} {second}");
        let (_, detail) = s
            .get(
                &format!("/v1/messages/{}", second["id"].as_str().expect("id")),
                &key,
            )
            .await;
        assert_eq!(
            detail["decision"]["sender"]["locality"], "sticky",
            "{detail}"
        );

        let (status, err) = s
            .post("/v1/calls", &key, json!({"to": callee, "from": {"pool": "nope"}, "answer_url": "https://app.example/a"}))
            .await;
        assert_eq!(
            (status, err["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("from.pool")),
            "{err}"
        );
        // Another organisation sees no pool.
        let (_, stranger) = tenant(&t.store, Role::Admin).await;
        let (status, _) = s.get("/v1/pools/sales", &stranger).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = s
            .call(reqwest::Method::DELETE, "/v1/pools/sales", &key, None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        s.running.stop();
    }
}

/// A pool with a warm-up schedule starts its never-used numbers warming: their first day's
/// cap is the schedule's, not the daily cap.
#[tokio::test]
async fn new_numbers_warm_up() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 29, 20.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let only = carrier(&s, &key, "Only", "twilio", "0.0100").await;
        let numbers = numbers_of(&s, &key, &only).await;
        // A carrier without a voice deck: routing leaves it out of calls.
        let sms_only = s
            .sandbox_carrier(
                &key,
                "Texts",
                "telnyx",
                PROFILE,
                &[("sms", "prefix,destination,rate\n1,USA,0.0040\n".to_string())],
            )
            .await;
        let texts = numbers_of(&s, &key, &sms_only).await;
        let (status, pool) = s
            .post("/v1/pools", &key, json!({"name": "sales", "numbers": [numbers[0], texts[0]], "daily_cap": 100, "warmup": [2, 4]}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{pool}");
        assert!(
            pool["numbers"]
                .as_array()
                .expect("numbers")
                .iter()
                .all(|n| n["status"] == "warming"),
            "{pool}"
        );
        let callee = "+14155550100";
        for used in 1..=2 {
            let (status, placed) = call(&s, &key, callee).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
            let (_, detail) = s
                .get(
                    &format!("/v1/calls/{}", placed["id"].as_str().expect("id")),
                    &key,
                )
                .await;
            assert_eq!(
                (
                    detail["decision"]["sender"]["cap"].as_u64(),
                    detail["decision"]["sender"]["used_today"].as_u64()
                ),
                (Some(2), Some(used)),
                "{detail}"
            );
            let skipped = &detail["decision"]["sender"]["skipped"];
            assert_eq!(skipped[0]["reason"], "not_routed", "{detail}");
        }
        let (status, err) = call(&s, &key, callee).await;
        assert_eq!(
            (
                status,
                err["error"]["details"]["skipped"]
                    .as_array()
                    .map(|list| list.iter().any(|x| x["reason"] == "capped"))
            ),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(true)),
            "day one's cap is the schedule's: {err}"
        );
        s.running.stop();
    }
}

/// A number whose calls go unanswered while the rest of its pool's are answered rests by
/// itself once it has enough ended calls, and later calls skip it.
#[tokio::test]
async fn numbers_whose_calls_go_unanswered_rest_automatically() {
    for t in testing::all().await {
        let s = start_sandboxed(t.store.clone(), 31, 40.0).await;
        let (_, key) = tenant(&t.store, Role::Admin).await;
        let good = carrier(&s, &key, "Answered", "twilio", "0.0100").await;
        let silent = PROFILE.replace(r#""answer_rate": 1.0"#, r#""answer_rate": 0.0"#);
        let bad = carrier_playing(&s, &key, "Ignored", "telnyx", "0.0100", &silent).await;
        let good_number = numbers_of(&s, &key, &good).await[0].clone();
        let bad_number = numbers_of(&s, &key, &bad).await[0].clone();
        let (status, body) = s
            .post(
                "/v1/pools",
                &key,
                json!({"name": "sales", "numbers": [good_number, bad_number],
                       "local_presence": {"area_code": false, "region": false},
                       "spam": {"last_calls": 4, "min_calls": 4, "below_pct_of_pool": 50, "rest_hours": 24}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, err) = s
            .call(
                reqwest::Method::PATCH,
                "/v1/pools/sales",
                &key,
                Some(json!({"spam": {"min_calls": 9, "last_calls": 4}})),
            )
            .await;
        assert_eq!(
            (status, err["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("spam.min_calls")),
            "{err}"
        );

        let bad_id = {
            let (_, pool) = s.get("/v1/pools/sales", &key).await;
            pool["numbers"]
                .as_array()
                .expect("numbers")
                .iter()
                .find(|n| n["e164"] == bad_number.as_str())
                .and_then(|n| n["id"].as_str())
                .expect("the ignored number")
                .to_string()
        };
        // Round robin alternates the two numbers; each call ends (answered or not).
        let mut detail = Value::Null;
        for i in 0..40 {
            if i < 12 {
                let (status, placed) = call(&s, &key, "+13125550111").await;
                assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            detail = s.get(&format!("/v1/numbers/{bad_id}"), &key).await.1;
            if detail["status"] == "resting" {
                break;
            }
        }
        assert_eq!(detail["status"], "resting", "{detail}");
        assert_eq!(detail["spam_flags"], 1, "{detail}");
        let answers = &detail["stats"]["answer_rate"];
        assert_eq!(answers["answered"], 0, "{detail}");
        for _ in 0..3 {
            let (status, placed) = call(&s, &key, "+13125550111").await;
            assert_eq!(status, StatusCode::ACCEPTED, "{placed}");
            assert_eq!(
                placed["from"],
                good_number.as_str(),
                "the rested number is skipped"
            );
        }
        s.running.stop();
    }
}
