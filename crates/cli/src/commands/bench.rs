//! `switchyard bench …`: benchmarks that print one JSON line of figures, each beside a
//! straightforward baseline measured in the same run.

use crate::memory::rss_bytes;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;
use switchyard_core::deck::{ImportOptions, import_csv};
use switchyard_core::naive::NaiveRouter;
use switchyard_core::synth::{Plan, Rng};
use switchyard_core::{
    Channel, Deck, LiveRegistry, ProviderProfile, RouteRequest, RoutingPolicy, RoutingSnapshot,
};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Routing decisions on synthetic decks against a per-provider BTreeMap baseline.
    Routing(RoutingArgs),
    /// The HTTP routing API under concurrent load, against `/healthz` as the baseline.
    Http(super::bench_http::HttpArgs),
    /// Messages accepted by the API and dispatched through the embedded sandbox.
    Send(super::bench_send::SendArgs),
    /// Emails accepted by the API and handed to the embedded sandbox's email providers.
    Email(super::bench_send::SendArgs),
    /// Emails through the SMTP adapter to a relay, pooled against a connection per email.
    Smtp(super::bench_smtp::SmtpArgs),
    /// Caller-ID selection from a number pool at a steady rate, against reading one
    /// carrier's numbers.
    Pool(super::bench_pool::PoolArgs),
    /// A send's budget bookkeeping (admit, settle) at a steady rate, against a one-row read.
    Budget(super::bench_budget::BudgetArgs),
    /// The analytics API over many synthetic finished calls, against summing the raw
    /// records; and each send's cost bookkeeping, against a one-row read.
    Analytics(super::bench_analytics::AnalyticsArgs),
    /// The dashboard overview's live counts over many synthetic calls, against counting
    /// them by creation time.
    Overview(super::bench_overview::OverviewArgs),
}

#[derive(Debug, Args)]
pub struct RoutingArgs {
    /// Carriers with a deck each.
    #[arg(long, default_value_t = 10)]
    providers: usize,
    /// Rows in each carrier's deck.
    #[arg(long, default_value_t = 100_000)]
    prefixes_per_provider: usize,
    /// Decisions to time.
    #[arg(long, default_value_t = 1_000_000)]
    decisions: usize,
    /// Decisions to time on the baseline (it is slower).
    #[arg(long, default_value_t = 200_000)]
    baseline_decisions: usize,
    /// Seed of the synthetic decks and numbers.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub fn run(global: &crate::config::GlobalArgs, cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Routing(args) => routing(&args),
        BenchCommand::Http(args) => super::bench_http::run(global, &args),
        BenchCommand::Send(args) => {
            super::bench_send::run(global, &args, super::bench_send::Kind::Messages)
        }
        BenchCommand::Email(args) => {
            super::bench_send::run(global, &args, super::bench_send::Kind::Emails)
        }
        BenchCommand::Smtp(args) => super::bench_smtp::run(&args),
        BenchCommand::Pool(args) => super::bench_pool::run(global, &args),
        BenchCommand::Budget(args) => super::bench_budget::run(global, &args),
        BenchCommand::Analytics(args) => super::bench_analytics::run(global, &args),
        BenchCommand::Overview(args) => super::bench_overview::run(global, &args),
    }
}

struct Timings {
    per_sec: f64,
    p50_us: f64,
    p99_us: f64,
}

/// Runs `decide` over the numbers twice: once untimed per call for throughput, once timing
/// every call for the latency distribution.
fn measure(numbers: &[String], count: usize, mut decide: impl FnMut(&str) -> usize) -> Timings {
    let count = count.min(numbers.len()).max(1);
    let mut sink = 0usize;
    for n in numbers.iter().take(count / 10) {
        sink = sink.wrapping_add(decide(n));
    }
    let started = Instant::now();
    for n in numbers.iter().take(count) {
        sink = sink.wrapping_add(decide(n));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat: Vec<u32> = Vec::with_capacity(count);
    for n in numbers.iter().take(count) {
        let t = Instant::now();
        sink = sink.wrapping_add(decide(n));
        lat.push(u32::try_from(t.elapsed().as_nanos()).unwrap_or(u32::MAX));
    }
    std::hint::black_box(sink);
    lat.sort_unstable();
    let pct = |p: f64| f64::from(lat[((lat.len() - 1) as f64 * p) as usize]) / 1000.0;
    Timings {
        per_sec: count as f64 / elapsed,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

fn routing(args: &RoutingArgs) -> Result<ExitCode> {
    let plan = Plan::new(args.prefixes_per_provider * 3 / 2, args.seed);
    let csvs: Vec<String> = (0..args.providers)
        .map(|i| plan.deck_csv(i as u64, args.prefixes_per_provider, args.seed))
        .collect();
    let mut rng = Rng::new(args.seed ^ 0x5eed);
    let numbers: Vec<String> = (0..args.decisions.max(args.baseline_decisions))
        .map(|_| plan.number(&mut rng))
        .collect();
    let providers: Vec<ProviderProfile> = (0..args.providers)
        .map(|i| ProviderProfile::new(format!("carrier{i}")))
        .collect();
    let epoch = chrono::DateTime::UNIX_EPOCH;

    // Compile: CSV parse + index, timed together and apart.
    let started = Instant::now();
    let decks: Vec<Deck> = csvs
        .iter()
        .zip(&providers)
        .map(|(csv, p)| {
            let report = import_csv(csv.as_bytes(), &ImportOptions::default())
                .with_context(|| format!("synthetic deck of {} is invalid", p.id))?;
            Ok(Deck {
                provider: p.id.clone(),
                channel: Channel::Voice,
                effective_from: epoch,
                rows: report.rows,
            })
        })
        .collect::<Result<_>>()?;
    let parsed = started.elapsed();
    // The index's resident size: RSS grown by the build while the parsed rows stay alive.
    let rss_before = rss_bytes().unwrap_or(0);
    let snapshot = RoutingSnapshot::build(
        1,
        providers.clone(),
        &decks,
        RoutingPolicy::default(),
        &LiveRegistry::default(),
    )?;
    let compile = started.elapsed();
    let rss_after = rss_bytes().unwrap_or(0);
    let rows = snapshot.prefix_count();
    let naive_started = Instant::now();
    let naive = NaiveRouter::new(&decks);
    let naive_build = naive_started.elapsed() + parsed;
    drop(decks);

    let at_ms = chrono::Utc::now().timestamp_millis();
    let ours = measure(&numbers, args.decisions, |n| {
        let d = snapshot.decide(&RouteRequest::new(n, Channel::Voice, at_ms));
        d.alternates.len() + usize::from(d.primary.is_some())
    });
    let usage = RouteRequest::new("", Channel::Voice, 0).usage;
    let base = measure(&numbers, args.baseline_decisions, |n| {
        naive
            .decide_least_cost(n, Channel::Voice, usage, at_ms)
            .len()
    });

    let heap = snapshot.heap_bytes();
    let rss_delta = rss_after.saturating_sub(rss_before);
    let line = json!({
        "bench": "routing",
        "providers": args.providers,
        "prefixes_per_provider": args.prefixes_per_provider,
        "rows": rows,
        "decisions": args.decisions,
        "decisions_per_sec": ours.per_sec.round(),
        "p50_us": round3(ours.p50_us),
        "p99_us": round3(ours.p99_us),
        "compile_ms": compile.as_millis(),
        "csv_parse_ms": parsed.as_millis(),
        "index_build_ms": (compile - parsed).as_millis(),
        "heap_bytes_per_prefix": heap / rows.max(1),
        "rss_bytes_per_prefix": rss_delta / rows.max(1) as u64,
        "baseline": {
            "kind": "per-provider BTreeMap probed at every prefix length",
            "decisions_per_sec": base.per_sec.round(),
            "p50_us": round3(base.p50_us),
            "p99_us": round3(base.p99_us),
            "compile_ms": naive_build.as_millis(),
        },
        "speedup": round3(ours.per_sec / base.per_sec),
        "p99_ratio": round3(base.p99_us / ours.p99_us.max(0.001)),
    });
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
