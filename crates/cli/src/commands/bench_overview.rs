//! `switchyard bench overview`: the dashboard overview's live figures over many synthetic
//! calls, on the embedded SQLite file or PostgreSQL (`--database-url`). An organisation
//! with a dashboard open has them counted once a second (the event stream; every open
//! dashboard of the organisation shares the count), so their cost is what following an
//! organisation live costs the server. They are counted over the `(org_id, id)` index as
//! an id range (ids are time-ordered); the baseline counts the same calls filtered on
//! `created_at`, and both must agree.

use super::bench_analytics::{figures, load_calls, time_get};
use super::bench_http::ms3;
use super::bench_pool::percentile;
use super::embedded::Embedded;
use crate::config::GlobalArgs;
use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;
use switchyard_core::analytics::HOUR_MS;
use switchyard_sandbox::SandboxConfig;
use switchyard_store::{Backend, Outbox, StatusCount};

#[derive(Debug, Args)]
pub struct OverviewArgs {
    /// Synthetic calls.
    #[arg(long, default_value_t = 1_000_000)]
    calls: usize,
    /// Days they spread over, ending now (today's share is what the overview counts).
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Runs of the overview and of the baseline.
    #[arg(long, default_value_t = 30)]
    repeats: usize,
}

fn calls_only(counts: &[StatusCount]) -> Vec<(String, i64)> {
    counts
        .iter()
        .filter(|c| c.outbox == Outbox::Calls)
        .map(|c| (c.status.clone(), c.count))
        .collect()
}

pub fn run(global: &GlobalArgs, args: &OverviewArgs) -> Result<ExitCode> {
    if args.calls == 0 || args.days < 1 || args.repeats == 0 {
        bail!("--calls, --days and --repeats must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sandbox = SandboxConfig { seed: 1, speed: 1.0 };
        let world = Embedded::start(global, "bench", sandbox, false).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let from_ms = now - args.days * 24 * HOUR_MS;
        load_calls(&world, args.calls, from_ms, now).await?;

        // The organisation's day starts at UTC midnight (its default time zone).
        let today = chrono::Utc::now().date_naive();
        let since = switchyard_core::timezone::day_start(today, chrono_tz::UTC).timestamp_millis();
        time_get(&world, "/v1/overview", 1).await?;
        let (api_ms, answer) = time_get(&world, "/v1/overview", args.repeats).await?;
        let (mut store_ms, mut scan_ms) = (Vec::new(), Vec::new());
        let (mut ranged, mut scanned) = (Vec::new(), Vec::new());
        for _ in 0..args.repeats {
            let started = Instant::now();
            ranged = world.store.activity_since(&world.org_id, since).await?;
            store_ms.push(started.elapsed().as_secs_f64() * 1e3);
            let started = Instant::now();
            scanned = world.store.scan_call_activity_since(&world.org_id, since).await?;
            scan_ms.push(started.elapsed().as_secs_f64() * 1e3);
        }
        for xs in [&mut store_ms, &mut scan_ms] {
            xs.sort_by(f64::total_cmp);
        }
        if calls_only(&ranged) != calls_only(&scanned) {
            bail!("the id-range count disagrees with the scan: {ranged:?} vs {scanned:?}");
        }
        let today_calls = answer["calls"]["total"].as_i64().unwrap_or_default();
        let counted: i64 = scanned.iter().map(|c| c.count).sum();
        if today_calls != counted {
            bail!("the overview counts {today_calls} calls today, the scan {counted}");
        }
        world.running.stop();
        let _ = world.running.done.await;
        let backend = if world.store.backend() == Backend::Postgres { "postgres" } else { "sqlite" };
        let p50 = percentile(&store_ms, 0.5);
        println!(
            "{}",
            json!({
                "bench": "overview", "backend": backend, "calls": args.calls, "days": args.days,
                "calls_today": today_calls,
                "overview_api_ms_shared": figures(&api_ms),
                "activity_query_ms": figures(&store_ms),
                "baseline_created_at_scan_ms": figures(&scan_ms),
                "ratio_p95_to_baseline": ms3(percentile(&store_ms, 0.95) / percentile(&scan_ms, 0.95).max(1e-9)),
                "organisations_followed_live_per_core": (1000.0 / p50.max(1e-9)).floor(),
                "counts_match": true,
                "target": "following an organisation live costs ≤ 5 % of a core (its count p50 ≤ 50 ms, once a second)",
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}
