//! `switchyard demo` as a newcomer runs it: the real binary, its JSON summary checked for
//! what the demo promises (every message and call ended, failover around the carrier that
//! went down, a saving against the single-carrier baseline).

use serde_json::Value;
use std::process::Command;

#[test]
fn the_demo_fails_over_around_an_outage_and_saves_against_the_baseline() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.args(["demo", "--messages", "200", "--calls", "200", "--json"]);
    if let Ok(url) = std::env::var("SWITCHYARD_TEST_POSTGRES_URL") {
        cmd.args(["--database-url", &url]);
    }
    let out = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let s = &v["summary"];
    assert_eq!(
        (s["messages"].as_u64(), s["calls"].as_u64()),
        (Some(200), Some(200)),
        "{v}"
    );
    assert_eq!(
        v["refused"],
        serde_json::json!({}),
        "the API took every request: {v}"
    );
    assert_eq!(
        s["not_sent"],
        serde_json::json!({}),
        "every one went out: {v}"
    );
    let carriers = s["carriers"].as_object().expect("carriers");
    let carried: u64 = carriers
        .values()
        .map(|c| c["messages"].as_u64().unwrap_or(0) + c["calls"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(carried, 400, "each carried once: {v}");
    // Open, or half-open once its cool-down has passed on a slow machine.
    assert!(
        matches!(
            carriers["Budget"]["breaker"].as_str(),
            Some("open" | "half_open")
        ),
        "{v}"
    );
    assert_eq!(carriers["Budget"]["took_over"], 0, "{v}");
    assert!(carriers["Value"]["took_over"].as_u64() > Some(0), "{v}");
    assert!(s["failovers"].as_u64() > Some(0), "{v}");
    let money = |k: &str| s[k].as_str().and_then(|t| t.parse::<f64>().ok()).expect(k);
    assert!(
        money("cost") > 0.0 && money("cost") < money("baseline_cost"),
        "{v}"
    );
    assert!(
        s["answered"].as_u64() > Some(0) && s["delivered"].as_u64() > Some(0),
        "{v}"
    );
}
