//! `switchyard route`: load a folder of decks and route one number or a file of numbers.

use crate::config::{Config, GlobalArgs};
use crate::deck_files::load_dir;
use anyhow::{Context, Result, bail};
use clap::Args;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use switchyard_core::deck::ImportOptions;
use switchyard_core::number::parse_e164;
use switchyard_core::rating::{Usage, count_segments};
use switchyard_core::{
    Capability, Channel, Decision, LeadPriority, LiveRegistry, ProviderProfile, RouteRequest,
    RoutingPolicy, RoutingSnapshot, Strategy,
};
use switchyard_server::routing_state::load_snapshot;
use switchyard_store::Store;

#[derive(Debug, Args)]
pub struct RouteArgs {
    /// The number to route, in international form (+14155550100).
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    number: Option<String>,
    /// Route every number of this file (one per line) and print one JSON decision per line
    /// plus a summary.
    #[arg(long)]
    batch: Option<PathBuf>,
    /// Folder of decks: PROVIDER.csv (voice) or PROVIDER.CHANNEL.csv.
    #[arg(long, required_unless_present_any = ["org", "server"], conflicts_with_all = ["org", "server"])]
    decks: Option<PathBuf>,
    /// Route over this organisation's providers and decks in the database instead.
    #[arg(long)]
    #[arg(long, conflicts_with = "server")]
    org: Option<String>,
    /// Ask a running server instead (`http://127.0.0.1:8080`); needs `--key`.
    #[arg(long, requires = "key", conflicts_with = "batch")]
    server: Option<String>,
    /// API key for `--server`.
    #[arg(long, env = "SWITCHYARD_API_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Channel to route on.
    #[arg(long, default_value = "voice")]
    channel: Channel,
    /// Strategy: least_cost, priority, quality, balanced, weighted, load_balanced.
    #[arg(long)]
    strategy: Option<Strategy>,
    /// Print the decision as JSON.
    #[arg(long)]
    json: bool,
    /// Highest acceptable rate per unit.
    #[arg(long)]
    max_rate: Option<Decimal>,
    /// Lead priority: hot, warm or cold.
    #[arg(long)]
    lead: Option<LeadPriority>,
    /// Use this provider (the router's own pick is still reported).
    #[arg(long)]
    provider: Option<String>,
    /// Capabilities needed beyond the channel's, comma separated (e.g. stir_shaken).
    #[arg(long, value_delimiter = ',')]
    require: Vec<Capability>,
    /// Expected call duration in seconds, for the expected cost.
    #[arg(long, default_value_t = 60)]
    duration: u32,
    /// Message text, to count SMS segments for the expected cost.
    #[arg(long)]
    text: Option<String>,
    /// Alternates to list.
    #[arg(long)]
    alternates: Option<usize>,
    /// Decide as of this instant (RFC 3339); default now.
    #[arg(long)]
    at: Option<chrono::DateTime<chrono::Utc>>,
    /// Import decks skipping invalid rows (each skipped line is reported) instead of refusing.
    #[arg(long)]
    skip_invalid: bool,
    /// Destination prefixes never to route (premium-rate ranges), comma separated.
    #[arg(long, value_delimiter = ',')]
    block: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: RouteArgs) -> Result<ExitCode> {
    if let Some(server) = &args.server {
        return ask_server(server, &args);
    }
    let policy = RoutingPolicy {
        blocked_prefixes: args.block.clone(),
        ..RoutingPolicy::default()
    };
    let snapshot = match (&args.decks, &args.org) {
        (Some(dir), _) => snapshot_from_folder(dir, &args, policy)?,
        (None, Some(org)) => snapshot_from_database(global, org)?,
        (None, None) => bail!("give --decks DIR, --org ID or --server URL"),
    };
    let at_ms = args.at.unwrap_or_else(chrono::Utc::now).timestamp_millis();
    match &args.batch {
        Some(path) => run_batch(&args, &snapshot, path, at_ms),
        None => {
            let number = args.number.as_deref().unwrap_or_default();
            let e164 = parse_e164(number)?;
            let req = request(&args, e164.digits(), Some(e164.country_code()), at_ms);
            let decision = snapshot.decide(&req);
            if args.json {
                println!("{}", serde_json::to_string_pretty(&decision)?);
            } else {
                print_human(&e164.to_string(), args.channel, &decision);
            }
            Ok(if decision.primary.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn snapshot_from_folder(
    dir: &Path,
    args: &RouteArgs,
    policy: RoutingPolicy,
) -> Result<RoutingSnapshot> {
    let options = ImportOptions {
        skip_invalid: args.skip_invalid,
        ..ImportOptions::default()
    };
    let loaded = load_dir(dir, &options)?;
    for l in &loaded {
        for s in &l.skipped {
            eprintln!("skipped {}: {s}", l.path.display());
        }
    }
    let mut providers: Vec<ProviderProfile> = Vec::new();
    for l in &loaded {
        if !providers.iter().any(|p| p.id == l.deck.provider) {
            providers.push(ProviderProfile::new(l.deck.provider.clone()));
        }
    }
    let decks: Vec<_> = loaded.into_iter().map(|l| l.deck).collect();
    RoutingSnapshot::build(1, providers, &decks, policy, &LiveRegistry::default())
        .context("cannot compile the decks")
}

fn snapshot_from_database(global: &GlobalArgs, org: &str) -> Result<RoutingSnapshot> {
    let config = Config::load(global, None)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = Store::connect(&config.database_url.0, 2).await?;
        store.migrate().await?;
        if store.org(org).await?.is_none() {
            bail!("no organisation {org}");
        }
        Ok(load_snapshot(&store, org, 1, Arc::new(LiveRegistry::default())).await?)
    })
}

/// Routes one number through a running server's `POST /v1/routing/decide`.
fn ask_server(server: &str, args: &RouteArgs) -> Result<ExitCode> {
    let number = args.number.as_deref().unwrap_or_default();
    let mut body =
        json!({ "number": number, "channel": args.channel, "duration_secs": args.duration });
    if let Some(s) = args.strategy {
        body["strategy"] = json!(s);
    }
    if let Some(l) = args.lead {
        body["lead_priority"] = json!(l);
    }
    if let Some(m) = args.max_rate {
        body["max_rate"] = json!(m.to_string());
    }
    if let Some(p) = &args.provider {
        body["provider"] = json!(p);
    }
    if !args.require.is_empty() {
        body["capabilities"] = json!(args.require);
    }
    if let Some(t) = &args.text {
        body["text"] = json!(t);
    }
    if let Some(a) = args.alternates {
        body["alternates"] = json!(a);
    }
    let url = format!("{}/v1/routing/decide", server.trim_end_matches('/'));
    let key = args.key.clone().unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, answer): (u16, serde_json::Value) = runtime.block_on(async {
        let resp = reqwest::Client::new()
            .post(&url)
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status().as_u16();
        Ok::<_, anyhow::Error>((
            status,
            resp.json()
                .await
                .context("the server's answer is not JSON")?,
        ))
    })?;
    if status != 200 {
        bail!(
            "the server answered {status}: {}",
            answer["error"]["message"].as_str().unwrap_or("no message")
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!(
            "{} over {}, strategy {}",
            answer["destination"].as_str().unwrap_or(number),
            args.channel,
            answer["strategy"].as_str().unwrap_or("?")
        );
        let candidates = answer["primary"].as_object().into_iter().chain(
            answer["alternates"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_object()),
        );
        for (i, c) in candidates.enumerate() {
            let label = if i == 0 { "primary  " } else { "alternate" };
            println!(
                "  {label} {:<12} {}",
                c["provider"].as_str().unwrap_or("?"),
                c["why"].as_str().unwrap_or("")
            );
        }
        for x in answer["excluded"].as_array().into_iter().flatten() {
            println!(
                "  excluded  {:<12} {}",
                x["provider"].as_str().unwrap_or("?"),
                x["reason"].as_str().unwrap_or("")
            );
        }
        if let Some(r) = answer["refusal"]["message"].as_str() {
            println!("  not routed: {r}");
        }
    }
    Ok(if answer["primary"].is_null() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn request<'a>(
    args: &'a RouteArgs,
    digits: &'a str,
    cc: Option<u16>,
    at_ms: i64,
) -> RouteRequest<'a> {
    let mut req = RouteRequest::new(digits, args.channel, at_ms);
    req.country_code = cc;
    req.strategy = args.strategy;
    req.lead = args.lead;
    req.max_rate = args.max_rate;
    req.provider_override = args.provider.as_deref();
    req.required = args.require.iter().copied().collect();
    req.max_alternates = args.alternates;
    req.seed = digits
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    req.usage = match (args.channel, &args.text) {
        (Channel::Voice, _) => Usage::Call {
            answered: true,
            duration_secs: args.duration,
        },
        (Channel::Sms, Some(text)) => Usage::Message {
            segments: count_segments(text).count,
        },
        _ => req.usage,
    };
    req
}

fn print_human(number: &str, channel: Channel, d: &Decision) {
    println!(
        "{number} over {channel}, strategy {} (decided in {:.1} µs)",
        d.strategy,
        d.decision_ns as f64 / 1000.0
    );
    for (i, c) in d.candidates().enumerate() {
        let label = if i == 0 { "primary  " } else { "alternate" };
        println!("  {label} {:<12} {}", c.provider.as_str(), c.explain());
    }
    if let Some(r) = &d.router_choice {
        println!("  (the router alone would have picked {r})");
    }
    if let Some(refusal) = &d.refusal {
        println!("  not routed: {refusal}");
    }
    if !d.excluded.is_empty() {
        println!("  excluded:");
        for x in &d.excluded {
            println!("    {:<12} {}", x.provider.as_str(), x.reason);
        }
    }
}

#[derive(Default)]
struct Summary {
    numbers: u64,
    routed: u64,
    invalid: u64,
    no_route: u64,
    per_provider: BTreeMap<String, u64>,
    expected_cost: BTreeMap<String, Decimal>,
}

fn run_batch(
    args: &RouteArgs,
    snapshot: &RoutingSnapshot,
    path: &PathBuf,
    at_ms: i64,
) -> Result<ExitCode> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut summary = Summary::default();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line_no = i + 1;
        let line =
            line.with_context(|| format!("{}: line {line_no} cannot be read", path.display()))?;
        let raw = line.split(',').next().unwrap_or("").trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        summary.numbers += 1;
        let e164 = match parse_e164(raw) {
            Ok(n) => n,
            Err(e) => {
                summary.invalid += 1;
                writeln!(
                    out,
                    "{}",
                    json!({"line": line_no, "number": raw, "error": e.to_string()})
                )?;
                continue;
            }
        };
        let req = request(args, e164.digits(), Some(e164.country_code()), at_ms);
        let decision = snapshot.decide(&req);
        match &decision.primary {
            Some(p) => {
                summary.routed += 1;
                *summary
                    .per_provider
                    .entry(p.provider.to_string())
                    .or_default() += 1;
                *summary
                    .expected_cost
                    .entry(p.expected_cost().currency.to_string())
                    .or_default() += p.expected_cost().amount;
            }
            None => summary.no_route += 1,
        }
        writeln!(
            out,
            "{}",
            json!({"line": line_no, "number": e164.to_string(), "decision": decision})
        )?;
    }
    if summary.numbers == 0 {
        bail!("{} holds no numbers", path.display());
    }
    let costs: BTreeMap<&String, String> = summary
        .expected_cost
        .iter()
        .map(|(k, v)| (k, v.normalize().to_string()))
        .collect();
    writeln!(
        out,
        "{}",
        json!({"summary": {
            "numbers": summary.numbers,
            "routed": summary.routed,
            "invalid": summary.invalid,
            "without_route": summary.no_route,
            "per_provider": summary.per_provider,
            "expected_cost": costs,
        }})
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
