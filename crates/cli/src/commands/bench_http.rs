//! `switchyard bench http`: a server loaded with synthetic decks, driven by concurrent
//! clients in the same process, with `/healthz` measured the same way as the baseline (the
//! cost of the HTTP stack alone).

use crate::config::GlobalArgs;
use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::Channel;
use switchyard_core::deck::{ImportOptions, import_csv};
use switchyard_core::number::parse_e164;
use switchyard_core::synth::{Plan, Rng};
use switchyard_server::ServerSettings;
use switchyard_server::secrets::MasterKey;
use switchyard_store::{Backend, NewDeck, NewProvider, Role, Store};

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Carriers with a deck each.
    #[arg(long, default_value_t = 10)]
    providers: usize,
    /// Rows in each carrier's deck.
    #[arg(long, default_value_t = 100_000)]
    prefixes_per_provider: usize,
    /// Turn the routing audit log off (it is on by default).
    #[arg(long)]
    no_audit: bool,
}

/// What a load run measured.
pub struct Load {
    /// Requests completed.
    pub requests: u64,
    /// Requests that failed or answered an error status.
    pub errors: u64,
    /// Requests per second.
    pub per_sec: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
}

/// What to send.
#[derive(Clone)]
pub enum Target {
    /// `GET url`, unauthenticated.
    Get(reqwest::Url),
    /// `POST url` with these JSON bodies in turn, authenticated.
    Post(reqwest::Url, Arc<Vec<String>>),
}

/// Drives `target` from `concurrency` clients until `seconds` pass or `max_requests` are
/// made, whichever comes first.
pub async fn drive(
    client: &reqwest::Client,
    key: &str,
    target: Target,
    concurrency: usize,
    seconds: u64,
    max_requests: u64,
) -> Load {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let issued = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let client = client.clone();
        let target = target.clone();
        let issued = issued.clone();
        let auth = format!("Bearer {key}");
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::new();
            let mut errors = 0u64;
            loop {
                let i = issued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= max_requests || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let resp = match &target {
                    Target::Post(url, bodies) => {
                        client
                            .post(url.clone())
                            .header("authorization", &auth)
                            .header("content-type", "application/json")
                            .body(bodies[(i as usize) % bodies.len()].clone())
                            .send()
                            .await
                    }
                    Target::Get(url) => client.get(url.clone()).send().await,
                };
                let ok = match resp {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                errors += u64::from(!ok);
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len().max(1) - 1) as f64 * p) as usize)
            .map_or(0.0, |v| f64::from(*v) / 1000.0)
    };
    Load {
        requests: all.len() as u64,
        errors,
        per_sec: all.len() as f64 / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    }
}

/// Milliseconds with three decimals.
pub fn ms3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A fresh database for a benchmark: a temporary SQLite file, or a schema of its own on
/// PostgreSQL.
pub async fn open_store(global: &GlobalArgs, dir: &tempfile::TempDir) -> Result<(Store, String)> {
    let url = match &global.database_url {
        Some(u) if u.starts_with("postgres") => {
            // A schema of its own, so the benchmark leaves the database as it found it.
            let admin = Store::connect(u, 1).await?;
            let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_admin(&format!("CREATE SCHEMA {schema}"))
                .await?;
            let sep = if u.contains('?') { '&' } else { '?' };
            format!("{u}{sep}options=-c%20search_path%3D{schema}")
        }
        Some(u) => u.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let store = Store::connect(&url, 16).await?;
    store.migrate().await?;
    Ok((store, url))
}

pub fn run(global: &GlobalArgs, args: &HttpArgs) -> Result<ExitCode> {
    if args.concurrency == 0 || args.seconds == 0 {
        bail!("--concurrency and --seconds must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let (store, _) = open_store(global, &dir).await?;
        let org = store.create_org("bench").await?;
        let (_, key) = store.create_key(&org.id, Role::Operator, "bench").await?;
        let plan = Plan::new(args.prefixes_per_provider * 3 / 2, 42);
        let load_started = Instant::now();
        for i in 0..args.providers {
            let p = store
                .insert_provider(NewProvider {
                    org_id: org.id.clone(),
                    kind: "sandbox".into(),
                    name: format!("carrier{i}"),
                    credentials: MasterKey::parse(&"11".repeat(32))?.encrypt(b"{}"),
                    settings: "{}".into(),
                })
                .await?;
            let csv = plan.deck_csv(i as u64, args.prefixes_per_provider, 42);
            let rows = import_csv(csv.as_bytes(), &ImportOptions::default()).context("synthetic deck")?.rows;
            store
                .insert_deck(NewDeck {
                    org_id: org.id.clone(),
                    provider_id: p.id,
                    channel: Channel::Voice,
                    effective_from: chrono::DateTime::UNIX_EPOCH,
                    source_name: format!("carrier{i}.csv"),
                    rows,
                })
                .await?;
        }
        let load_secs = load_started.elapsed().as_secs_f64();
        let numbers_started = Instant::now();
        let mut rng = Rng::new(7);
        let mut numbers = Vec::new();
        let mut tried = 0u64;
        while numbers.len() < 2_000 && tried < 2_000_000 {
            tried += 1;
            let n = format!("+{}", plan.number(&mut rng));
            if parse_e164(&n).is_ok() {
                // Request bodies are prepared up front so the load generator costs little.
                numbers.push(json!({ "number": n }).to_string());
            }
        }
        if numbers.is_empty() {
            bail!("no valid numbers under the synthetic plan after {tried} tries");
        }
        let numbers_secs = numbers_started.elapsed().as_secs_f64();
        let numbers = Arc::new(numbers);
        let settings = ServerSettings {
            log_decisions: !args.no_audit,
            ..ServerSettings::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let started = Instant::now();
        let running = switchyard_server::start(store.clone(), MasterKey::parse(&"11".repeat(32))?, settings, listener).await?;
        let snapshot_secs = started.elapsed().as_secs_f64();
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;
        let decide_target = Target::Post(format!("{base}/v1/routing/decide").parse()?, numbers.clone());
        let health = Target::Get(format!("{base}/healthz").parse()?);
        // Warm up, then the baseline, then the routing API.
        drive(&client, &key, decide_target.clone(), args.concurrency, 1, u64::MAX).await;
        let baseline = drive(&client, &key, health, args.concurrency, args.seconds.min(5), u64::MAX).await;
        let decide = drive(&client, &key, decide_target, args.concurrency, args.seconds, u64::MAX).await;
        running.stop();
        let _ = running.done.await;
        let logged = store.decisions_page(&org.id, None, None, 1).await?.items.len();
        let line = json!({
            "bench": "http",
            "backend": if store.backend() == Backend::Postgres { "postgres" } else { "sqlite" },
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "providers": args.providers,
            "prefixes_per_provider": args.prefixes_per_provider,
            "audit_log": !args.no_audit,
            "load_decks_secs": (load_secs * 10.0).round() / 10.0,
            "startup_snapshot_secs": (snapshot_secs * 10.0).round() / 10.0,
            "prepare_numbers_secs": (numbers_secs * 10.0).round() / 10.0,
            "requests": decide.requests,
            "errors": decide.errors,
            "decisions_per_sec": decide.per_sec.round(),
            "p50_ms": ms3(decide.p50_ms),
            "p99_ms": ms3(decide.p99_ms),
            "decisions_logged": logged > 0,
            "baseline": {
                "kind": "GET /healthz through the same stack",
                "requests_per_sec": baseline.per_sec.round(),
                "p50_ms": ms3(baseline.p50_ms),
                "p99_ms": ms3(baseline.p99_ms),
            },
            "ratio_to_baseline": (decide.per_sec / baseline.per_sec.max(1.0) * 1000.0).round() / 1000.0,
        });
        println!("{line}");
        Ok(ExitCode::SUCCESS)
    })
}
