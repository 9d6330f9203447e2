//! `switchyard analyze optimum` on a database holding a day of calls all sent through the
//! dearer of two carriers: the optimum moves what the cheaper one's concurrency and budget
//! allow, and the gap is the difference, to the cent.

use rust_decimal::Decimal;
use serde_json::Value;
use std::process::Command;
use switchyard_core::Channel;
use switchyard_core::analytics::{Finished, Outcome};
use switchyard_core::deck::{ImportOptions, import_csv};
use switchyard_store::{NewBudget, NewDeck, NewProvider, Store, SyntheticCall};

async fn carrier(store: &Store, org: &str, name: &str, per_minute: &str, settings: &str) -> String {
    let p = store
        .insert_provider(NewProvider {
            org_id: org.into(),
            kind: "sandbox".into(),
            name: name.into(),
            credentials: Vec::new(),
            settings: settings.into(),
        })
        .await
        .expect("provider");
    let csv = format!("prefix,destination,rate,increment\n1,USA,{per_minute},60/60\n");
    let rows = import_csv(csv.as_bytes(), &ImportOptions::default())
        .expect("deck")
        .rows;
    store
        .insert_deck(NewDeck {
            org_id: org.into(),
            provider_id: p.id.clone(),
            channel: Channel::Voice,
            effective_from: chrono::DateTime::UNIX_EPOCH,
            source_name: format!("{name}.csv"),
            rows,
        })
        .await
        .expect("deck stored");
    p.id
}

#[tokio::test]
async fn the_optimum_moves_what_capacity_and_budget_allow() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = Store::connect(&url, 2).await.expect("store");
    store.migrate().await.expect("migrate");
    let org = store.create_org("Acme").await.expect("org").id;
    let dear = carrier(&store, &org, "Dear", "0.0120", "{}").await;
    // One concurrent call of two minutes: 30 calls an hour.
    let cheap = carrier(&store, &org, "Cheap", "0.0070", r#"{"max_concurrency": 1}"#).await;
    // Stops at 95 % of 0.20: 0.19 a day, 13 calls of 0.014.
    store
        .create_budget(
            &org,
            &NewBudget {
                scope_kind: "provider".into(),
                scope_ref: cheap.clone(),
                period: "daily".into(),
                amount: "0.20".into(),
                currency: "USD".into(),
                alert_pct: 80,
                stop_pct: 95,
            },
        )
        .await
        .expect("budget")
        .expect("new budget");
    let ten_am = chrono::NaiveDate::from_ymd_opt(2026, 11, 10)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("time")
        .and_utc()
        .timestamp_millis();
    let calls: Vec<SyntheticCall> = (0..100)
        .map(|i| SyntheticCall {
            to: "+14155550100".into(),
            finished: Finished {
                created_at_ms: ten_am + i * 1_000,
                channel: "voice".into(),
                provider_id: dear.clone(),
                country: "US".into(),
                campaign: String::new(),
                outcome: Outcome::Succeeded,
                duration_secs: 120,
                pdd_ms: Some(1_000),
                cost: Some((Decimal::new(24, 3), "USD".into())),
                baseline: None,
                failed_over: Vec::new(),
            },
        })
        .collect();
    store
        .load_finished_calls(&org, &calls)
        .await
        .expect("calls");
    drop(store);

    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["--database-url", &url, "analyze", "optimum", "--org", &org])
        .args(["--from", "2026-11-10", "--to", "2026-11-10"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["calls"], 100, "{report}");
    assert_eq!(report["actual"]["cost"], "2.4", "{report}");
    assert_eq!(
        report["optimum"]["by_provider"][&cheap]["calls"], 13,
        "{report}"
    );
    assert_eq!(
        report["optimum"]["by_provider"][&dear]["calls"], 87,
        "{report}"
    );
    // 13 × 0.014 + 87 × 0.024.
    assert_eq!(report["optimum"]["cost"], "2.27", "{report}");
    assert_eq!(report["gap"]["cost"], "0.13", "{report}");
    // Without the budget, capacity alone would let Cheap take 30.
    assert_eq!(report["lower_bound_without_budget_caps"], "2.1", "{report}");
    assert_eq!(
        report["limits"]["capacity_calls_per_hour"][&cheap], 30,
        "{report}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["--database-url", &url, "analyze", "optimum", "--org", &org])
        .args(["--from", "2026-11-10", "--to", "2026-11-09"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to"));
}
