//! `switchyard analyze optimum`: for a past period, the cheapest assignment of the calls an
//! organisation actually made to its providers — within their capacity (calls per second and
//! concurrent calls), quality thresholds (observed answer ratio per country against the
//! minimum ASR) and provider budget caps — and how far the real routing was from it.
//!
//! Every call is rated on every provider's deck as it stood when the call was made, so the
//! real routing and the optimum are priced alike.

use crate::config::{Config, GlobalArgs};
use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::Arc;
use switchyard_core::analytics::{Counters, HOUR_MS, country_of, hour_of};
use switchyard_core::budget::{self, from_nanos};
use switchyard_core::optimum::{Lane, Limits, optimum};
use switchyard_core::rating::Usage;
use switchyard_core::{Channel, LiveRegistry, RoutingSnapshot};
use switchyard_server::routing_state::load_snapshot;
use switchyard_store::{Dimension, FinishedCall, RollupQuery, Store};

#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// The cheapest assignment of a past period's calls to the organisation's providers,
    /// and the real routing's distance from it, as JSON.
    Optimum(OptimumArgs),
}

#[derive(Debug, Args)]
pub struct OptimumArgs {
    /// The organisation.
    #[arg(long)]
    org: String,
    /// First day (YYYY-MM-DD, UTC).
    #[arg(long)]
    from: NaiveDate,
    /// Last day included (YYYY-MM-DD, UTC).
    #[arg(long)]
    to: NaiveDate,
}

/// Final rank of calls (completed, busy, no-answer, failed, canceled).
const CALL_FINAL_RANK: i64 = 4;

pub fn run(global: &GlobalArgs, cmd: AnalyzeCommand) -> Result<ExitCode> {
    let AnalyzeCommand::Optimum(args) = cmd;
    if args.to < args.from {
        bail!("--to must not be before --from");
    }
    let config = Config::load(global, None)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let store = Store::connect(&config.database_url.0, 2).await?;
        store.migrate().await?;
        if store.org(&args.org).await?.is_none() {
            bail!("no organisation {}", args.org);
        }
        analyze(&store, &args).await
    })?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

fn day_start(d: NaiveDate) -> i64 {
    switchyard_core::timezone::day_start(d, chrono_tz::UTC).timestamp_millis()
}

async fn analyze(store: &Store, args: &OptimumArgs) -> Result<Value> {
    let from_ms = day_start(args.from);
    let to_ms = day_start(args.to.succ_opt().unwrap_or(args.to));
    let snapshot = load_snapshot(store, &args.org, 1, Arc::new(LiveRegistry::default())).await?;
    let providers: Vec<String> = snapshot
        .providers()
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    let calls = store
        .finished_calls(&args.org, from_ms, to_ms, CALL_FINAL_RANK)
        .await?;
    let excluded = below_quality(store, &args.org, &snapshot, from_ms, to_ms).await?;
    let limits = limits(store, &args.org, &snapshot, &calls, from_ms, to_ms).await?;

    // Lanes: an hour's calls to one country; the real routing's spend priced alike.
    let mut lanes: BTreeMap<(i64, String), Lane> = BTreeMap::new();
    let mut actual: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut unpriced = 0;
    for call in &calls {
        let (cost_on, country) = price_everywhere(&snapshot, &providers, call);
        let lane = lanes
            .entry((hour_of(call.created_at), country.clone()))
            .or_insert_with(|| Lane {
                slot: hour_of(call.created_at),
                calls: 0,
                cost: vec![Some(0); providers.len()],
            });
        lane.calls += 1;
        for (p, cost) in cost_on.iter().enumerate() {
            let eligible = !excluded.contains(&(providers[p].clone(), country.clone()));
            lane.cost[p] = match (lane.cost[p], cost) {
                (Some(sum), Some(c)) if eligible => Some(sum + c),
                _ => None,
            };
        }
        let Some(p) = call
            .provider_id
            .as_ref()
            .and_then(|id| providers.iter().position(|x| x == id))
        else {
            unpriced += 1;
            continue;
        };
        match cost_on[p] {
            Some(c) => {
                let entry = actual.entry(providers[p].clone()).or_default();
                entry.0 += 1;
                entry.1 += c;
            }
            None => unpriced += 1,
        }
    }
    let lanes: Vec<Lane> = lanes.into_values().collect();
    let solved = optimum(&lanes, &limits);
    let actual_cost: i64 = actual.values().map(|a| a.1).sum();
    let best = &solved.assignment;
    let by_provider = |spend: &[i64], calls: &[Vec<i64>]| -> Value {
        providers
            .iter()
            .enumerate()
            .map(|(p, id)| {
                let n: i64 = calls.iter().map(|split| split[p]).sum();
                (
                    id.clone(),
                    json!({"calls": n, "cost": from_nanos(spend[p]).to_string()}),
                )
            })
            .collect::<serde_json::Map<String, Value>>()
            .into()
    };
    let gap = actual_cost - best.cost;
    Ok(json!({
        "org": args.org, "from": args.from.to_string(), "to": args.to.to_string(),
        "currency": snapshot.policy().currency,
        "calls": calls.len(), "lanes": lanes.len(),
        "calls_not_priced": unpriced,
        "actual": {
            "cost": from_nanos(actual_cost).to_string(),
            "by_provider": actual.iter().map(|(id, (n, c))| (id.clone(), json!({"calls": n, "cost": from_nanos(*c).to_string()}))).collect::<serde_json::Map<String, Value>>(),
        },
        "optimum": {
            "cost": from_nanos(best.cost).to_string(),
            "unserved_calls": best.unserved.iter().sum::<i64>(),
            "by_provider": by_provider(&best.spend, &best.calls),
        },
        "lower_bound_without_budget_caps": from_nanos(solved.lower_bound.cost).to_string(),
        "gap": {
            "cost": from_nanos(gap.max(0)).to_string(),
            "pct_of_actual": (actual_cost > 0).then(|| format!("{:.2}", gap as f64 * 100.0 / actual_cost as f64)),
        },
        "limits": {
            "excluded_for_quality": excluded.iter().map(|(p, c)| json!({"provider": p, "country": c})).collect::<Vec<_>>(),
            "capacity_calls_per_hour": providers.iter().zip(&limits).filter_map(|(id, l)| Some((id.clone(), json!(l.capacity?)))).collect::<serde_json::Map<String, Value>>(),
            "budget_caps": providers.iter().zip(&limits).filter_map(|(id, l)| Some((id.clone(), json!(from_nanos(l.budget?).to_string())))).collect::<serde_json::Map<String, Value>>(),
        },
    }))
}

/// What a call would have cost on each provider (`None` without a rate), and its country.
fn price_everywhere(
    snapshot: &RoutingSnapshot,
    providers: &[String],
    call: &FinishedCall,
) -> (Vec<Option<i64>>, String) {
    let digits = call.to.trim_start_matches('+');
    let usage = Usage::Call {
        answered: call.answered,
        duration_secs: u32::try_from(call.duration_secs).unwrap_or(0),
    };
    let costs = providers
        .iter()
        .map(|id| {
            let cost = snapshot.rate_event(
                &id.as_str().into(),
                digits,
                Channel::Voice,
                usage,
                call.created_at,
            )?;
            budget::to_nanos(cost.total.amount)
        })
        .collect();
    (costs, country_of(&call.to))
}

/// Providers whose answer ratio to a country, over the period, is under their minimum ASR
/// once enough calls are known.
async fn below_quality(
    store: &Store,
    org: &str,
    snapshot: &RoutingSnapshot,
    from_ms: i64,
    to_ms: i64,
) -> Result<BTreeSet<(String, String)>> {
    let policy = snapshot.policy();
    let rows = store
        .rollup_sums(&RollupQuery {
            org_id: org,
            from_ms,
            to_ms,
            group: &[Dimension::Provider, Dimension::Country],
            channel: Some("voice"),
        })
        .await?;
    let mut sums: BTreeMap<(String, String), Counters> = BTreeMap::new();
    for (key, c) in rows {
        sums.entry((key.provider_id, key.country))
            .or_default()
            .add(&c);
    }
    Ok(sums
        .into_iter()
        .filter(|((provider, _), c)| {
            let min_asr = snapshot
                .providers()
                .iter()
                .find(|p| p.id.as_str() == provider)
                .and_then(|p| p.thresholds.min_asr)
                .unwrap_or(policy.min_asr);
            c.attempts >= i64::from(policy.min_samples)
                && (c.succeeded as f64) < min_asr * c.attempts as f64
        })
        .map(|(key, _)| key)
        .collect())
}

/// Each provider's calls per hour (from its calls per second and concurrent calls at the
/// period's average call length) and its budget cap over the period (its provider budgets'
/// stop threshold, once per budget window the period touches).
async fn limits(
    store: &Store,
    org: &str,
    snapshot: &RoutingSnapshot,
    calls: &[FinishedCall],
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Limits>> {
    let answered: Vec<i64> = calls
        .iter()
        .filter(|c| c.answered)
        .map(|c| c.duration_secs)
        .collect();
    let avg_secs = if answered.is_empty() {
        60
    } else {
        (answered.iter().sum::<i64>() / answered.len() as i64).max(1)
    };
    let tz: chrono_tz::Tz = store
        .org_time_zone(org)
        .await?
        .parse()
        .unwrap_or(chrono_tz::UTC);
    let budgets = store.budgets(org).await?;
    Ok(snapshot
        .providers()
        .iter()
        .map(|p| {
            let by_cps = p.max_cps.map(|cps| i64::from(cps) * 3600);
            let by_concurrency = p.max_concurrency.map(|n| i64::from(n) * 3600 / avg_secs);
            let capacity = match (by_cps, by_concurrency) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let budget = budgets
                .iter()
                .filter(|b| b.scope_kind == "provider" && b.scope_ref == p.id.as_str())
                .filter_map(switchyard_server::spend::limits_of)
                .map(|(limits, period)| limits.stop_nanos() * windows(period, from_ms, to_ms, tz))
                .min();
            Limits { capacity, budget }
        })
        .collect())
}

/// Budget windows of `period` the range touches.
fn windows(period: budget::Period, from_ms: i64, to_ms: i64, tz: chrono_tz::Tz) -> i64 {
    let mut keys = BTreeSet::new();
    let mut at = from_ms;
    while at < to_ms {
        if let Some(t) = DateTime::<Utc>::from_timestamp_millis(at) {
            keys.insert(budget::window(period, t, tz).key);
        }
        at += HOUR_MS;
    }
    keys.len() as i64
}
