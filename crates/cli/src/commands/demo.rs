//! `switchyard demo`: the whole product in one command, offline. Starts the server with three
//! sandbox carriers of different prices and quality, loads their decks, sends messages and
//! places calls through least-cost routing while the cheapest carrier goes down half-way,
//! waits for every one to reach its end, and prints what happened: per carrier, the
//! failovers, delivery and answer rates, and the cost against sending everything through
//! the single premium carrier.

use super::embedded::{Body, Embedded};
use crate::config::GlobalArgs;
use anyhow::{Result, bail};
use clap::Args;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use switchyard_sandbox::SandboxConfig;
use switchyard_store::{Outbox, OutboxFilter, Page, StoreError};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// SMS to send.
    #[arg(long, default_value_t = 1_000)]
    messages: u32,
    /// Calls to place.
    #[arg(long, default_value_t = 1_000)]
    calls: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seed of the simulated carriers: the same seed plays the same calls.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Print the summary as one JSON document instead of a table.
    #[arg(long)]
    json: bool,
    /// Keep serving the API after the summary (Ctrl-C stops), to look around.
    #[arg(long)]
    serve: bool,
}

/// One simulated carrier of the demo.
struct Carrier {
    name: &'static str,
    style: &'static str,
    voice_rate: &'static str,
    increment: &'static str,
    sms_rate: &'static str,
    profile: Value,
}

fn carriers() -> [Carrier; 3] {
    let profile = |answer: f64, failure: f64, delivery: f64| {
        json!({"answer_rate": answer, "failure_rate": failure, "delivery_rate": delivery,
            "ring_ms": 5000, "duration": {"kind": "exponential", "mean_secs": 75, "max_secs": 1200}})
    };
    [
        Carrier {
            name: "Budget",
            style: "telnyx",
            voice_rate: "0.0035",
            increment: "6/6",
            sms_rate: "0.0040",
            profile: profile(0.62, 0.03, 0.94),
        },
        Carrier {
            name: "Value",
            style: "twilio",
            voice_rate: "0.0060",
            increment: "6/6",
            sms_rate: "0.0050",
            profile: profile(0.70, 0.01, 0.97),
        },
        Carrier {
            name: "Premium",
            style: "twilio",
            voice_rate: "0.0130",
            increment: "60/60",
            sms_rate: "0.0079",
            profile: profile(0.72, 0.005, 0.99),
        },
    ]
}

/// Area codes the demo's callees are spread over (their local times differ).
const AREAS: [&str; 8] = ["212", "415", "312", "713", "305", "206", "617", "404"];

fn request(i: u32, sms: bool) -> (String, String) {
    let to = format!(
        "+1{}555{:04}",
        AREAS[(i as usize) % AREAS.len()],
        100 + i % 100
    );
    if sms {
        let body = json!({"to": to, "body": format!("Your appointment is confirmed (ref {i:05}). Reply STOP to opt out."), "metadata": {"demo": "sms"}});
        ("/v1/messages".into(), body.to_string())
    } else {
        let body = json!({"to": to, "instructions": [{"action": "say", "text": "This is a reminder of your appointment tomorrow."}], "metadata": {"demo": "call"}});
        ("/v1/calls".into(), body.to_string())
    }
}

/// Sends `requests` with `concurrency` clients; returns how many were refused, by reason.
async fn send_all(
    world: &Embedded,
    requests: Arc<Vec<(String, String)>>,
    concurrency: usize,
) -> BTreeMap<String, u64> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, base, key) = (world.client.clone(), world.base.clone(), world.key.clone());
        let (requests, next) = (requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut refused: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some((path, body)) = requests.get(i) else {
                    break;
                };
                let sent = client
                    .post(format!("{base}{path}"))
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let reason = match sent {
                    Ok(r) if r.status().is_success() => continue,
                    Ok(r) => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        v["error"]["code"].as_str().unwrap_or("error").to_string()
                    }
                    Err(e) => format!("transport: {e}"),
                };
                *refused.entry(reason).or_default() += 1;
            }
            refused
        }));
    }
    let mut all = BTreeMap::new();
    for t in tasks {
        if let Ok(refused) = t.await {
            for (k, v) in refused {
                *all.entry(k).or_default() += v;
            }
        }
    }
    all
}

/// Waits until nothing is left on its way; false on timeout.
async fn settle(world: &Embedded, timeout: Duration) -> Result<bool> {
    let deadline = Instant::now() + timeout;
    let open = |counts: &[(String, i64)], statuses: &[&str]| {
        counts
            .iter()
            .filter(|(s, _)| statuses.contains(&s.as_str()))
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    while Instant::now() < deadline {
        let messages = world
            .store
            .status_counts(Outbox::Messages, &world.org_id)
            .await?;
        let calls = world
            .store
            .status_counts(Outbox::Calls, &world.org_id)
            .await?;
        let left = open(&messages, &["accepted", "queued", "sent"])
            + open(&calls, &["queued", "initiated", "ringing", "in-progress"]);
        if left == 0 {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(false)
}

/// What one carrier carried.
#[derive(Debug, Default, serde::Serialize)]
struct CarrierTally {
    messages: u64,
    delivered: u64,
    calls: u64,
    answered: u64,
    talk_secs: i64,
    /// Entries it carried after another carrier failed them.
    took_over: u64,
    cost: Decimal,
    breaker: String,
}

/// Everything the summary reports.
#[derive(Debug, Default, serde::Serialize)]
struct Tally {
    carriers: BTreeMap<String, CarrierTally>,
    messages: u64,
    delivered: u64,
    calls: u64,
    answered: u64,
    /// Entries that moved to another carrier after a failed attempt.
    failovers: u64,
    /// Entries no carrier took (failed) or whose fate is unknown (unconfirmed).
    not_sent: BTreeMap<String, u64>,
    cost: Decimal,
    baseline_cost: Decimal,
}

fn decimal(text: Option<&str>) -> Decimal {
    text.and_then(|t| t.parse().ok()).unwrap_or_default()
}

impl Tally {
    /// Adds one message or call.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        names: &BTreeMap<String, String>,
        provider_id: Option<&str>,
        status: &str,
        attempts: i64,
        cost: Option<&str>,
        baseline: Option<&str>,
        call_secs: Option<Option<i64>>,
    ) {
        let is_call = call_secs.is_some();
        let answered = call_secs.flatten().is_some_and(|s| s > 0) && status == "completed";
        let delivered = status == "delivered";
        if is_call {
            self.calls += 1;
            self.answered += u64::from(answered);
        } else {
            self.messages += 1;
            self.delivered += u64::from(delivered);
        }
        if matches!(status, "failed" | "unconfirmed") && cost.is_none() {
            *self.not_sent.entry(status.to_string()).or_default() += 1;
        }
        let failed_over = attempts > 1 && cost.is_some();
        self.failovers += u64::from(failed_over);
        self.cost += decimal(cost);
        self.baseline_cost += decimal(baseline);
        let Some(name) = provider_id
            .and_then(|p| names.get(p))
            .filter(|_| cost.is_some())
        else {
            return;
        };
        let c = self.carriers.entry(name.clone()).or_default();
        if is_call {
            c.calls += 1;
            c.answered += u64::from(answered);
            c.talk_secs += call_secs.flatten().unwrap_or(0);
        } else {
            c.messages += 1;
            c.delivered += u64::from(delivered);
        }
        c.took_over += u64::from(failed_over);
        c.cost += decimal(cost);
    }
}

/// Every page of a listing, oldest cursor first.
async fn all<T, Fut>(fetch: impl Fn(Option<String>) -> Fut) -> Result<Vec<T>>
where
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(cursor).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(items),
        }
    }
}

/// The page after `cursor`.
fn after(cursor: &Option<String>) -> OutboxFilter<'_> {
    OutboxFilter {
        before: cursor.as_deref(),
        ..OutboxFilter::default()
    }
}

async fn tally(world: &Embedded, names: &BTreeMap<String, String>) -> Result<Tally> {
    let (store, org) = (&world.store, world.org_id.as_str());
    let messages = all(|c| async move { store.messages_page(org, &after(&c), 500).await }).await?;
    let calls = all(|c| async move { store.calls_page(org, &after(&c), 500).await }).await?;
    let mut t = Tally::default();
    for m in &messages {
        t.add(
            names,
            m.provider_id.as_deref(),
            &m.status,
            m.next_candidate,
            m.cost.as_deref(),
            m.baseline_cost.as_deref(),
            None,
        );
    }
    for c in &calls {
        t.add(
            names,
            c.provider_id.as_deref(),
            &c.status,
            c.next_candidate,
            c.cost.as_deref(),
            c.baseline_cost.as_deref(),
            Some(c.times.duration_secs),
        );
    }
    Ok(t)
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

fn print_table(t: &Tally, refused: &BTreeMap<String, u64>, secs: f64) {
    println!();
    println!(
        "Switchyard demo: {} SMS and {} calls in {secs:.1} s over three sandbox carriers;",
        t.messages, t.calls
    );
    println!("Budget (the cheapest) went down half-way.");
    println!();
    println!(
        "{:<9} {:>6} {:>10} {:>6} {:>9} {:>9} {:>10} {:>10}  breaker",
        "carrier", "sms", "delivered", "calls", "answered", "took over", "talk min", "cost USD"
    );
    for (name, c) in &t.carriers {
        println!(
            "{name:<9} {:>6} {:>10} {:>6} {:>9} {:>9} {:>10.1} {:>10}  {}",
            c.messages,
            pct(c.delivered, c.messages),
            c.calls,
            pct(c.answered, c.calls),
            c.took_over,
            c.talk_secs as f64 / 60.0,
            c.cost.round_dp(4),
            c.breaker
        );
    }
    println!();
    println!("failovers            {}", t.failovers);
    println!("delivery rate        {}", pct(t.delivered, t.messages));
    println!("answer rate (ASR)    {}", pct(t.answered, t.calls));
    if !t.not_sent.is_empty() {
        println!("not sent             {:?}", t.not_sent);
    }
    if !refused.is_empty() {
        println!("refused by the API   {refused:?}");
    }
    let saving = t.baseline_cost - t.cost;
    println!("total cost           {} USD", t.cost.round_dp(4));
    println!("all through Premium  {} USD", t.baseline_cost.round_dp(4));
    let saved_pct = if t.baseline_cost.is_zero() {
        Decimal::ZERO
    } else {
        (saving * Decimal::ONE_HUNDRED / t.baseline_cost).round_dp(1)
    };
    println!(
        "saving               {} USD ({saved_pct} %)",
        saving.round_dp(4)
    );
}

pub fn run(global: &GlobalArgs, args: &DemoArgs) -> Result<ExitCode> {
    if args.concurrency == 0 || args.messages + args.calls == 0 {
        bail!("--concurrency must be at least 1, and there must be something to send");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // 600× simulated time: a 75-second call plays out in an eighth of a second.
        let sandbox = SandboxConfig {
            seed: args.seed,
            speed: 600.0,
        };
        let world = Embedded::start(global, "Demo", sandbox, true).await?;
        eprintln!("demo: server on {} with the sandbox carriers", world.base);
        let mut names = BTreeMap::new();
        let mut ids = BTreeMap::new();
        for c in carriers() {
            let voice = format!(
                "prefix,destination,rate,increment\n1,United States,{},{}\n",
                c.voice_rate, c.increment
            );
            let sms = format!("prefix,destination,rate\n1,United States,{}\n", c.sms_rate);
            let id = world
                .add_carrier(
                    c.name,
                    c.style,
                    &c.profile,
                    &[("voice", voice), ("sms", sms)],
                )
                .await?;
            names.insert(id.clone(), c.name.to_string());
            ids.insert(c.name, id);
        }
        // Savings are measured against sending everything through Premium.
        let mut policy = world.api(Method::GET, "/v1/routing/policy", None).await?;
        policy["baseline_provider"] = json!(ids["Premium"]);
        world
            .api(Method::PUT, "/v1/routing/policy", Some(Body::Json(policy)))
            .await?;

        let total = args.messages + args.calls;
        let (mut sms_left, mut calls_left) = (args.messages, args.calls);
        let mut requests = Vec::with_capacity(total as usize);
        for i in 0..total {
            let sms = sms_left > 0 && (i % 2 == 0 || calls_left == 0);
            if sms {
                sms_left -= 1
            } else {
                calls_left -= 1
            }
            requests.push(request(i, sms));
        }
        let second = requests.split_off(requests.len() / 2);
        let started = Instant::now();
        eprintln!(
            "demo: sending {} SMS and placing {} calls",
            args.messages, args.calls
        );
        let mut refused = send_all(&world, Arc::new(requests), args.concurrency).await;
        eprintln!("demo: half-way: Budget goes down");
        let outage = json!({"outage_secs": 30 * 86_400});
        world
            .api(
                Method::PUT,
                &format!("/v1/providers/{}/sandbox/faults", ids["Budget"]),
                Some(Body::Json(outage)),
            )
            .await?;
        for (k, v) in send_all(&world, Arc::new(second), args.concurrency).await {
            *refused.entry(k).or_default() += v;
        }
        eprintln!("demo: all accepted; waiting for every message and call to end");
        if !settle(&world, Duration::from_secs(300)).await? {
            eprintln!("demo: some messages or calls had not ended after 300 s");
        }
        let secs = started.elapsed().as_secs_f64();
        let mut t = tally(&world, &names).await?;
        for (name, id) in &ids {
            let p = world
                .api(Method::GET, &format!("/v1/providers/{id}"), None)
                .await?;
            let breaker = p["health"]["breaker"]["state"]
                .as_str()
                .unwrap_or("unknown")
                .to_string();
            t.carriers.entry(name.to_string()).or_default().breaker = breaker;
        }
        if args.json {
            println!(
                "{}",
                json!({ "summary": t, "refused": refused, "seconds": (secs * 10.0).round() / 10.0 })
            );
        } else {
            print_table(&t, &refused, secs);
        }
        if args.serve {
            println!();
            println!(
                "API on {} — try: curl -H 'Authorization: Bearer {}' {}/v1/calls?limit=5",
                world.base, world.key, world.base
            );
            println!("Dashboard on {}/ — sign in with that API key", world.base);
            println!("Ctrl-C stops.");
            tokio::signal::ctrl_c().await?;
        }
        world.stop().await;
        Ok(ExitCode::SUCCESS)
    })
}
