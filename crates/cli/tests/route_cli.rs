//! Drives the real `switchyard route` binary over the example decks.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn json_decision_lists_primary_alternates_and_exclusions() {
    let out = switchyard(&[
        "route",
        "+447911123456",
        "--decks",
        "examples/decks",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["strategy"], "least_cost");
    assert_eq!(v["primary"]["provider"], "bandwidth");
    assert_eq!(v["primary"]["prefix"], "447");
    assert_eq!(v["primary"]["rate"], "0.018");
    let alternates: Vec<&str> = v["alternates"]
        .as_array()
        .expect("alternates")
        .iter()
        .filter_map(|a| a["provider"].as_str())
        .collect();
    assert_eq!(alternates, vec!["telnyx", "twilio"]);
    assert_eq!(
        v["alternates"][1]["destination"],
        "United Kingdom - Mobile, All Networks"
    );
}

#[test]
fn closed_prefix_and_missing_rates_are_explained() {
    let out = switchyard(&[
        "route",
        "+23276123456",
        "--decks",
        "examples/decks",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "no route exits 1");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["primary"].is_null());
    let excluded = v["excluded"].as_array().expect("excluded");
    let twilio = excluded
        .iter()
        .find(|x| x["provider"] == "twilio")
        .expect("twilio");
    assert_eq!(twilio["code"], "prefix_closed");
    assert_eq!(v["refusal"]["code"], "no_route");
}

#[test]
fn human_output_explains_each_place() {
    let out = switchyard(&[
        "route",
        "+14155550100",
        "--decks",
        "examples/decks",
        "--strategy",
        "priority",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("strategy priority"), "{stdout}");
    assert!(stdout.contains("USD per minute at prefix 1"), "{stdout}");
}

#[test]
fn sms_decks_are_chosen_by_file_name() {
    let out = switchyard(&[
        "route",
        "+14155550100",
        "--decks",
        "examples/decks",
        "--channel",
        "sms",
        "--json",
        "--text",
        &"a".repeat(161),
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["primary"]["provider"], "telnyx");
    assert_eq!(
        v["primary"]["expected_cost"], "0.008",
        "two segments at 0.004"
    );
    assert_eq!(v["excluded"][0]["provider"], "bandwidth");
}

#[test]
fn batch_prints_a_decision_per_line_and_a_summary() {
    let out = switchyard(&[
        "route",
        "--batch",
        "examples/numbers.txt",
        "--decks",
        "examples/decks",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 8, "seven numbers and a summary");
    let invalid = lines
        .iter()
        .find(|l| l["number"] == "not-a-number")
        .expect("invalid line");
    assert_eq!(invalid["line"], 8);
    assert!(
        invalid["error"]
            .as_str()
            .is_some_and(|e| e.contains("not a phone number"))
    );
    let summary = &lines[7]["summary"];
    assert_eq!(summary["numbers"], 7);
    assert_eq!(summary["routed"], 5);
    assert_eq!(summary["invalid"], 1);
    assert_eq!(summary["without_route"], 1);
    assert_eq!(summary["per_provider"]["bandwidth"], 3);
}

#[test]
fn a_broken_deck_names_file_line_column_and_reason() {
    let out = switchyard(&[
        "route",
        "+14155550100",
        "--decks",
        "crates/cli/tests/fixtures/broken",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("4 invalid row(s), nothing imported"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3, column 1 (prefix) [prefix]: prefix \"4a\" is not made of digits"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4, column 3 (rate) [rate]: \"-0.2\" is negative"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 6: prefix 44 is already priced on line 2"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn skip_invalid_imports_the_rest_and_reports_each_skipped_line() {
    let out = switchyard(&[
        "route",
        "+447911123456",
        "--decks",
        "crates/cli/tests/fixtures/broken",
        "--skip-invalid",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("skipped").count(), 4, "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["primary"]["rate"], "0.01");
}

#[test]
fn bad_arguments_are_clear() {
    let out = switchyard(&[
        "route",
        "+14155550100",
        "--decks",
        "examples/decks",
        "--strategy",
        "cheapest",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown strategy \"cheapest\""));
    let out = switchyard(&["route", "12", "--decks", "examples/decks"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a phone number"),
        "{}",
        text(&out.stderr)
    );
    let out = switchyard(&["route", "+14155550100", "--decks", "no/such/folder"]);
    assert!(text(&out.stderr).contains("cannot read deck folder"));
}

#[test]
fn blocked_destinations_are_refused() {
    let out = switchyard(&[
        "route",
        "+14155550100",
        "--decks",
        "examples/decks",
        "--block",
        "+1415",
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["refusal"]["code"], "blocked_destination");
}

#[test]
fn bench_routing_prints_its_figures_beside_the_baseline() {
    let out = switchyard(&[
        "bench",
        "routing",
        "--providers",
        "3",
        "--prefixes-per-provider",
        "2000",
        "--decisions",
        "20000",
        "--baseline-decisions",
        "2000",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one json line");
    assert_eq!(v["rows"], 6000);
    for field in [
        "decisions_per_sec",
        "p50_us",
        "p99_us",
        "compile_ms",
        "rss_bytes_per_prefix",
        "speedup",
    ] {
        assert!(v[field].is_number(), "{field} missing in {v}");
    }
    assert!(
        v["baseline"]["decisions_per_sec"]
            .as_f64()
            .is_some_and(|x| x > 0.0)
    );
    assert!(v["p50_us"].as_f64() <= v["p99_us"].as_f64());
}
