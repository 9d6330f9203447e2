//! `switchyard bench analytics`: the analytics API over many synthetic finished calls, on the
//! embedded SQLite file or PostgreSQL (`--database-url`). The calls are written in bulk with
//! the rollups tallying them would produce; the API's spend, carrier and savings queries are
//! then timed through HTTP, beside the baseline they replace (the same spend summed from the
//! raw call records), whose counts must agree. It also times the bookkeeping each send adds:
//! counting it in the rollups and recording its cost component, beside a one-row read.

use super::bench_http::ms3;
use super::bench_pool::percentile;
use super::embedded::Embedded;
use crate::config::GlobalArgs;
use anyhow::{Context, Result, bail};
use clap::Args;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;
use switchyard_core::analytics::{Finished, HOUR_MS, Outcome};
use switchyard_core::synth::Rng;
use switchyard_sandbox::SandboxConfig;
use switchyard_store::{
    Backend, CostComponent, CostText, NewCall, Outbox, StatusMove, Store, SyntheticCall,
};

#[derive(Debug, Args)]
pub struct AnalyticsArgs {
    /// Synthetic finished calls.
    #[arg(long, default_value_t = 1_000_000)]
    calls: usize,
    /// Days they spread over, ending now.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Runs of each API query.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Runs of the raw-table baseline (it is slow).
    #[arg(long, default_value_t = 3)]
    baseline_repeats: usize,
    /// Sends whose bookkeeping is timed one by one.
    #[arg(long, default_value_t = 2_000)]
    sends: usize,
}

/// Carriers of the synthetic traffic and their per-minute rates (the last is the baseline).
const CARRIERS: [(&str, i64); 5] = [
    ("carrier-a", 40),
    ("carrier-b", 55),
    ("carrier-c", 70),
    ("carrier-d", 90),
    ("carrier-e", 140),
];
/// Destinations and their regions.
const DESTINATIONS: [(&str, &str); 10] = [
    ("+14155550100", "US"),
    ("+442071234567", "GB"),
    ("+919876543210", "IN"),
    ("+4930123456", "DE"),
    ("+33142685300", "FR"),
    ("+5511912345678", "BR"),
    ("+525512345678", "MX"),
    ("+61212345678", "AU"),
    ("+81312345678", "JP"),
    ("+34912345678", "ES"),
];
const CAMPAIGNS: [&str; 3] = ["", "spring", "renewals"];
/// Calls written per transaction.
const BATCH: usize = 50_000;

/// One synthetic call, `k`-th of `n` spread over `[from_ms, to_ms)`.
fn synthetic(rng: &mut Rng, k: usize, n: usize, from_ms: i64, to_ms: i64) -> SyntheticCall {
    let created_at_ms = from_ms + ((to_ms - from_ms) as i128 * k as i128 / n as i128) as i64;
    let (provider, rate) = CARRIERS[rng.below(CARRIERS.len() as u64) as usize];
    let (to, country) = DESTINATIONS[rng.below(DESTINATIONS.len() as u64) as usize];
    let outcome = match rng.below(10) {
        0..=5 => Outcome::Succeeded,
        6..=8 => Outcome::Failed,
        _ => Outcome::Neither,
    };
    let answered = outcome == Outcome::Succeeded;
    let duration_secs = if answered {
        10 + rng.below(590) as i64
    } else {
        0
    };
    let minutes = (duration_secs + 59) / 60;
    // Rates are in 10⁻⁴ per minute, billed 60/60.
    let cost = Decimal::new(rate * minutes, 4);
    let baseline = Decimal::new(CARRIERS[CARRIERS.len() - 1].1 * minutes, 4);
    let failed_over = if rng.below(10) == 0 {
        vec![
            CARRIERS[rng.below(CARRIERS.len() as u64) as usize]
                .0
                .to_string(),
        ]
    } else {
        Vec::new()
    };
    SyntheticCall {
        to: to.to_string(),
        finished: Finished {
            created_at_ms,
            channel: "voice".into(),
            provider_id: provider.into(),
            country: country.into(),
            campaign: CAMPAIGNS[rng.below(CAMPAIGNS.len() as u64) as usize].into(),
            outcome,
            duration_secs,
            pdd_ms: Some(800 + rng.below(3_000) as i64),
            cost: Some((cost, "USD".into())),
            baseline: Some(baseline),
            failed_over,
        },
    }
}

/// Writes `calls` synthetic finished calls over `[from_ms, to_ms)` for the world's
/// organisation, in batches, with their rollups.
pub(super) async fn load_calls(
    world: &Embedded,
    calls: usize,
    from_ms: i64,
    to_ms: i64,
) -> Result<()> {
    let mut rng = Rng::new(42);
    let mut k = 0;
    while k < calls {
        let batch: Vec<SyntheticCall> = (k..(k + BATCH).min(calls))
            .map(|i| synthetic(&mut rng, i, calls, from_ms, to_ms))
            .collect();
        world
            .store
            .load_finished_calls(&world.org_id, &batch)
            .await?;
        k += batch.len();
    }
    Ok(())
}

/// Times `runs` GETs of `path`, in ms, sorted; the last answer.
pub(super) async fn time_get(
    world: &Embedded,
    path: &str,
    runs: usize,
) -> Result<(Vec<f64>, Value)> {
    let mut times = Vec::with_capacity(runs);
    let mut last = Value::Null;
    for _ in 0..runs {
        let started = Instant::now();
        last = world.api(Method::GET, path, None).await?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((times, last))
}

pub(super) fn figures(sorted: &[f64]) -> Value {
    json!({ "p50": ms3(percentile(sorted, 0.5)), "p95": ms3(percentile(sorted, 0.95)) })
}

/// Times the bookkeeping a send adds: its cost component, written in the transaction that
/// records its final status and cost (timed as the difference with and without it), and its
/// count in the rollups, done by the sweep in batches (timed per send).
async fn bookkeeping(store: &Store, org: &str, sends: usize) -> Result<Value> {
    let (mut read, mut with_part, mut without_part) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..sends {
        let call = store
            .insert_call(&NewCall {
                org_id: org.into(),
                to_e164: DESTINATIONS[0].0.into(),
                answer: "{}".into(),
                ring_timeout_secs: 30,
                metadata: "{}".into(),
                plan: "[]".into(),
                decision: "{}".into(),
                lease_ms: 0,
                idempotency: None,
            })
            .await?
            .record();
        let started = Instant::now();
        store.call_by_id(&call.id).await?;
        read.push(started.elapsed().as_secs_f64() * 1e6);
        let line = CostComponent {
            component: "telephony".into(),
            provider_id: CARRIERS[0].0.into(),
            period: String::new(),
            quantity: "120".into(),
            unit: "second".into(),
            unit_price: "0.00004".into(),
            fee: "0".into(),
            amount: "0.0048".into(),
            currency: "USD".into(),
            created_at: call.created_at,
        };
        let with = i % 2 == 0;
        let end = StatusMove {
            status: "completed",
            rank: 4,
            cost: Some(CostText {
                cost: "0.0048",
                baseline: Some("0.0168"),
                currency: "USD",
                line: with.then_some(&line),
            }),
            ..StatusMove::default()
        };
        let started = Instant::now();
        store.advance_status(Outbox::Calls, &call.id, &end).await?;
        let us = started.elapsed().as_secs_f64() * 1e6;
        if with {
            with_part.push(us)
        } else {
            without_part.push(us)
        }
    }
    // The server's sweep counts up to 500 at a time; a busy minute leaves about 100.
    let (mut batches, mut counted) = (0.0, 0);
    loop {
        let started = Instant::now();
        let n = store.tally_finished(Outbox::Calls, 4, 0, 100).await?;
        if n == 0 {
            break;
        }
        batches += started.elapsed().as_secs_f64() * 1e6;
        counted += n;
    }
    if counted != sends {
        bail!("{counted} of {sends} finished sends were counted");
    }
    for xs in [&mut read, &mut with_part, &mut without_part] {
        xs.sort_by(f64::total_cmp);
    }
    let component = percentile(&with_part, 0.5) - percentile(&without_part, 0.5);
    let tally = batches / counted as f64;
    let base = percentile(&read, 0.5);
    Ok(json!({
        "sends": sends,
        "cost_component_us": ms3(component),
        "rollup_tally_us": ms3(tally),
        "total_us": ms3(component + tally),
        "final_status_write_us": { "p50_without_component": ms3(percentile(&without_part, 0.5)), "p50_with_component": ms3(percentile(&with_part, 0.5)) },
        "baseline_one_row_read_us": { "p50": ms3(base), "p99": ms3(percentile(&read, 0.99)) },
        "ratio_total_to_baseline": ms3((component + tally) / base.max(1e-9)),
    }))
}

pub fn run(global: &GlobalArgs, args: &AnalyticsArgs) -> Result<ExitCode> {
    if args.calls == 0 || args.days < 1 || args.repeats == 0 || args.baseline_repeats == 0 {
        bail!("--calls, --days, --repeats and --baseline-repeats must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sandbox = SandboxConfig { seed: 1, speed: 1.0 };
        let world = Embedded::start(global, "bench", sandbox, false).await?;
        let to_ms = switchyard_core::analytics::hour_of(chrono::Utc::now().timestamp_millis());
        let from_ms = to_ms - args.days * 24 * HOUR_MS;

        let load_started = Instant::now();
        load_calls(&world, args.calls, from_ms, to_ms).await?;
        let load_secs = load_started.elapsed().as_secs_f64();

        let queries = [
            "/v1/analytics/spend?group_by=provider",
            "/v1/analytics/spend?group_by=day,channel",
            "/v1/analytics/carriers?by=country",
            "/v1/analytics/savings?period=day",
        ];
        let mut per_query = serde_json::Map::new();
        let mut all = Vec::new();
        let mut by_provider = Value::Null;
        for q in queries {
            let path = format!("{q}&from={}&to={}", instant(from_ms), instant(to_ms));
            // One untimed run warms the caches the server keeps (routing, time zone).
            time_get(&world, &path, 1).await?;
            let (times, last) = time_get(&world, &path, args.repeats).await?;
            per_query.insert(q.to_string(), figures(&times));
            all.extend_from_slice(&times);
            if by_provider.is_null() {
                by_provider = last;
            }
        }
        all.sort_by(f64::total_cmp);

        let mut scans = Vec::new();
        let mut scanned = Vec::new();
        for _ in 0..args.baseline_repeats {
            let started = Instant::now();
            scanned = world.store.scan_spend_by_provider(&world.org_id, from_ms, to_ms).await?;
            scans.push(started.elapsed().as_secs_f64() * 1e3);
        }
        scans.sort_by(f64::total_cmp);
        // The rollups must say what the raw records say.
        let from_rollups: BTreeMap<String, i64> = by_provider["data"]
            .as_array()
            .context("spend data")?
            .iter()
            .filter_map(|r| Some((r["provider"].as_str()?.to_string(), r["sends"].as_i64()?)))
            .filter(|(_, sends)| *sends > 0)
            .collect();
        let from_raw: BTreeMap<String, i64> = scanned.iter().map(|(p, n, _)| (p.clone(), *n)).collect();
        if from_rollups != from_raw {
            bail!("the rollups disagree with the raw records: {from_rollups:?} vs {from_raw:?}");
        }

        // The server's own sweep would count the timed sends first.
        world.running.stop();
        let _ = world.running.done.await;
        let per_send = bookkeeping(&world.store, &world.org_id, args.sends).await?;
        let backend = if world.store.backend() == Backend::Postgres { "postgres" } else { "sqlite" };
        println!(
            "{}",
            json!({
                "bench": "analytics", "backend": backend, "calls": args.calls, "days": args.days,
                "load_secs": (load_secs * 10.0).round() / 10.0,
                "query_ms": figures(&all),
                "queries": per_query,
                "baseline_raw_scan_ms": figures(&scans),
                "ratio_p95_to_baseline": ms3(percentile(&all, 0.95) / percentile(&scans, 0.95).max(1e-9)),
                "rollups_match_raw": true,
                "bookkeeping_per_send": per_send,
                "target": "analytics queries ≤ 200 ms p95; cost bookkeeping ≤ 100 µs per send",
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn instant(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
