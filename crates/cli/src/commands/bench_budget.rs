//! `switchyard bench budget`: the budget bookkeeping a send does, at a steady rate, on the
//! embedded SQLite file or PostgreSQL (`--database-url`): admitting its expected cost into
//! an organisation budget (one conditional write) and settling it when its cost is known
//! (nothing when the cost is the expected one, as for messages; a correcting write when it
//! differs, as for calls). The
//! baseline is the cheapest database round trip a send makes, a one-row read.

use super::bench_http::{ms3, open_store};
use super::bench_pool::{paced, percentile};
use crate::config::GlobalArgs;
use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use switchyard_store::NewBudget;

#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// Sends per second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Seconds to run each side.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

pub fn run(global: &GlobalArgs, args: &BudgetArgs) -> Result<ExitCode> {
    if args.rate == 0 || args.seconds == 0 {
        bail!("--rate and --seconds must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let (store, _) = open_store(global, &dir).await?;
        let org = store.create_org("bench").await?;
        let budget = store
            .create_budget(
                &org.id,
                &NewBudget {
                    scope_kind: "organization".into(),
                    scope_ref: String::new(),
                    period: "daily".into(),
                    amount: "1000000".into(),
                    currency: "USD".into(),
                    alert_pct: 80,
                    stop_pct: 95,
                },
            )
            .await?
            .ok_or_else(|| anyhow::anyhow!("budget exists"))?;
        // 0.0079 expected; calls settle one cent more.
        let (expected, stop) = (7_900_000_i64, 950_000_i64 * 1_000_000_000);

        let baseline = {
            let (store, id) = (store.clone(), budget.id.clone());
            paced(args.rate, args.seconds, move |_| {
                let (store, id) = (store.clone(), id.clone());
                async move {
                    store.budget_spend(&id, "2026-12-06").await?;
                    Ok(())
                }
            })
            .await?
        };
        let run = |correct: bool| {
            let (store, id) = (store.clone(), budget.id.clone());
            paced(args.rate, args.seconds, move |_| {
                let (store, id) = (store.clone(), id.clone());
                async move {
                    store.admit_spend(&id, "2026-12-06", expected, stop).await?;
                    if correct {
                        store.adjust_budget(&id, "2026-12-06", 10_000_000).await?;
                    }
                    Ok(())
                }
            })
        };
        let messages = run(false).await?;
        let calls = run(true).await?;
        let backend = if global.database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) {
            "postgres"
        } else {
            "sqlite"
        };
        let base_p99 = percentile(&baseline, 0.99);
        let figures = |xs: &[f64]| {
            json!({
                "p50": ms3(percentile(xs, 0.5)), "p99": ms3(percentile(xs, 0.99)),
                "ratio_p99_to_baseline": ms3(if base_p99 > 0.0 { percentile(xs, 0.99) / base_p99 } else { 0.0 }),
            })
        };
        println!(
            "{}",
            json!({
                "bench": "budget", "backend": backend, "rate_per_sec": args.rate, "sends": messages.len(),
                "message_bookkeeping_us": figures(&messages),
                "call_bookkeeping_us": figures(&calls),
                "baseline_one_row_read_us": { "p50": ms3(percentile(&baseline, 0.5)), "p99": ms3(base_p99) },
                "target": "cost and budget bookkeeping adds at most 100 µs per send",
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}
