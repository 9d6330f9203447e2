//! `switchyard bench pool`: caller-ID selection from a number pool at a steady rate, on the
//! embedded SQLite file or PostgreSQL (`--database-url`). Each selection is what a send
//! from `{"pool": …}` does before it is stored: read the members and today's counters, rank
//! them for the callee, reserve one use under the cap. The baseline is what a send without a
//! pool does at the same point instead: read the routed carrier's numbers. A second
//! reference is the reservation statement alone, so that what selection costs beyond its one
//! database write shows.

use super::bench_http::{ms3, open_store};
use crate::config::GlobalArgs;
use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use switchyard_core::Channel;
use switchyard_core::number::parse_e164;
use switchyard_server::secrets::MasterKey;
use switchyard_store::{NewProvider, NumberAtProvider, Store};

#[derive(Debug, Args)]
pub struct PoolArgs {
    /// Numbers in the pool.
    #[arg(long, default_value_t = 100)]
    numbers: usize,
    /// Selections per second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Seconds to run each side.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

/// NANP area codes the synthetic numbers and callees spread over.
const AREAS: &[&str] = &[
    "212", "213", "305", "312", "415", "617", "702", "713", "818", "646",
];

pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `op` `rate` times a second for `seconds`, each on its own task so that a slow one
/// does not delay the schedule; the latencies in microseconds, sorted.
pub(super) async fn paced<F, Fut>(rate: u32, seconds: u64, op: F) -> Result<Vec<f64>>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = u64::from(rate) * seconds;
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        tick.tick().await;
        let fut = op(i);
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            fut.await?;
            Ok::<f64, anyhow::Error>(started.elapsed().as_secs_f64() * 1e6)
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await??);
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

async fn setup(
    store: &Store,
    numbers: usize,
) -> Result<(String, String, switchyard_store::PoolRecord, Vec<String>)> {
    let org = store.create_org("bench").await?;
    let provider = store
        .insert_provider(NewProvider {
            org_id: org.id.clone(),
            kind: "sandbox".into(),
            name: "carrier".into(),
            credentials: MasterKey::parse(&"11".repeat(32))?.encrypt(b"{}"),
            settings: "{}".into(),
        })
        .await?;
    let mut ids = Vec::new();
    for i in 0..numbers {
        let e164 = format!(
            "+1{}555{:04}",
            AREAS[i % AREAS.len()],
            100 + i / AREAS.len()
        );
        let (n, _) = store
            .upsert_number(
                &org.id,
                &provider.id,
                &NumberAtProvider {
                    e164: e164.clone(),
                    provider_number_id: format!("PN{i}"),
                    voice: true,
                    sms: true,
                    mms: false,
                },
            )
            .await?;
        if let Some(place) = switchyard_server::sender::place_of_text(&e164) {
            store.set_number_place(&n.id, &place).await?;
        }
        ids.push(n.id);
    }
    // Caps high enough that the run never exhausts the pool: every selection reserves.
    let pool = store
        .create_pool(&org.id, "bench", r#"{"daily_cap": 1000000}"#)
        .await?
        .ok_or_else(|| anyhow::anyhow!("pool exists"))?;
    store.set_pool_numbers(&org.id, &pool.id, &ids).await?;
    Ok((org.id, provider.id, pool, ids))
}

pub fn run(global: &GlobalArgs, args: &PoolArgs) -> Result<ExitCode> {
    if args.numbers == 0 || args.rate == 0 || args.seconds == 0 {
        bail!("--numbers, --rate and --seconds must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let (store, _) = open_store(global, &dir).await?;
        let (org, provider, pool, ids) = setup(&store, args.numbers).await?;
        let routed = vec![provider.clone()];

        let baseline = {
            let (store, org, provider) = (store.clone(), org.clone(), provider.clone());
            paced(args.rate, args.seconds, move |_| {
                let (store, org, provider) = (store.clone(), org.clone(), provider.clone());
                async move {
                    store.provider_numbers(&org, &provider).await?;
                    Ok(())
                }
            })
            .await?
        };
        let reservation = {
            let (store, ids) = (store.clone(), std::sync::Arc::new(ids));
            paced(args.rate, args.seconds, move |i| {
                let (store, ids) = (store.clone(), ids.clone());
                async move {
                    let id = &ids[i as usize % ids.len()];
                    store.reserve_use(id, "2000-01-01", "voice", u32::MAX).await?;
                    Ok(())
                }
            })
            .await?
        };
        let cache = std::sync::Arc::new(switchyard_server::sender::PoolCache::default());
        let selected = paced(args.rate, args.seconds, move |i| {
            let (store, pool, routed, cache) = (store.clone(), pool.clone(), routed.clone(), cache.clone());
            async move {
                let to = parse_e164(&format!("+1{}555{:04}", AREAS[(i as usize * 7) % AREAS.len()], i % 10_000))?;
                switchyard_server::sender::select(&store, &cache, &pool, &to, Channel::Voice, &routed, chrono::Utc::now())
                    .await
                    .map_err(|e| anyhow::anyhow!("pool selection failed: {e:?}"))?;
                Ok(())
            }
        })
        .await?;
        let backend = if global.database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) {
            "postgres"
        } else {
            "sqlite"
        };
        let p99 = percentile(&selected, 0.99);
        let base_p99 = percentile(&baseline, 0.99);
        println!(
            "{}",
            json!({
                "bench": "pool", "backend": backend, "numbers": args.numbers, "rate_per_sec": args.rate,
                "selections": selected.len(),
                "selection_us": { "p50": ms3(percentile(&selected, 0.5)), "p99": ms3(p99), "max": ms3(selected.last().copied().unwrap_or(0.0)) },
                "baseline_numbers_read_us": { "p50": ms3(percentile(&baseline, 0.5)), "p99": ms3(base_p99) },
                "reservation_only_us": { "p50": ms3(percentile(&reservation, 0.5)), "p99": ms3(percentile(&reservation, 0.99)) },
                "beyond_reservation_p50_us": ms3(percentile(&selected, 0.5) - percentile(&reservation, 0.5)),
                "added_p99_us": ms3(p99 - base_p99),
                "ratio_p99": ms3(if base_p99 > 0.0 { p99 / base_p99 } else { 0.0 }),
                "target": "selection adds at most 200 µs p99 to a send at 500 selections per second",
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}
