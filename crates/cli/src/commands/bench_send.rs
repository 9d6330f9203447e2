//! `switchyard bench send` and `switchyard bench email`: messages or emails through the
//! whole path — the API accepts (consent or suppression checks, routing, outbox),
//! dispatchers hand them to the embedded sandbox (a Twilio-style and a Telnyx-style
//! carrier, or two SendGrid-style email providers), and the sandbox's signed reports come
//! back as webhooks. Measures how fast the API accepts, how fast entries are dispatched end
//! to end, and how long the reports take to settle; `/healthz` through the same stack is
//! the baseline.

use super::bench_http::{Load, Target, drive, ms3};
use super::embedded::Embedded;
use crate::config::GlobalArgs;
use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_sandbox::SandboxConfig;
use switchyard_store::{Backend, Outbox};

/// How often the benchmark counts entries by status: the count scans the table (over
/// 100 ms at 50,000 emails), so counting more often would slow what it measures.
const POLL: Duration = Duration::from_millis(500);

/// What the benchmark sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SMS through `/v1/messages`.
    Messages,
    /// Email through `/v1/emails`.
    Emails,
}

impl Kind {
    fn outbox(self) -> Outbox {
        match self {
            Kind::Messages => Outbox::Messages,
            Kind::Emails => Outbox::Emails,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Messages => "send",
            Kind::Emails => "email",
        }
    }

    /// `n` request bodies, prepared up front so the load generator costs little. Every email
    /// (up to a million) goes to an address of its own: the sandbox bounces some, and a second email to a
    /// bounced address is (rightly) refused as suppressed.
    fn bodies(self, n: u64) -> Vec<String> {
        let n = match self {
            Kind::Messages => 10_000,
            Kind::Emails => u32::try_from(n.min(1_000_000)).unwrap_or(1_000_000),
        };
        (0..n)
            .map(|i| match self {
                // Valid UK mobile numbers.
                Kind::Messages => json!({"to": format!("+4479111{:05}", i % 100_000), "body": format!("Your code is {:04}", i % 10_000)}),
                Kind::Emails => json!({
                    "from": "Shop <news@shop.example>", "to": format!("customer{i}@example.com"),
                    "subject": format!("Your order {i} has shipped"),
                    "text": format!("Hello, order {i} is on its way."),
                    "html": format!("<p>Hello, order <b>{i}</b> is on its way. <a href=\"https://shop.example/orders/{i}\">Track it</a></p>"),
                }),
            }
            .to_string())
            .collect()
    }
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Messages (or emails) to send.
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Give up waiting for dispatch after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

fn load_json(l: &Load) -> Value {
    json!({ "requests": l.requests, "errors": l.errors, "per_sec": l.per_sec.round(), "p50_ms": ms3(l.p50_ms), "p99_ms": ms3(l.p99_ms) })
}

pub fn run(global: &GlobalArgs, args: &SendArgs, kind: Kind) -> Result<ExitCode> {
    if args.messages == 0 || args.concurrency == 0 {
        bail!("--messages and --concurrency must be at least 1");
    }
    if let Some(filter) = &global.log {
        super::service::init_logging(filter);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sandbox = SandboxConfig { seed: 1, speed: 100.0 };
        let world = Embedded::start(global, "bench", sandbox, false).await?;
        match kind {
            Kind::Messages => {
                let profile = json!({"receipt_delay_ms": 500, "delivery_rate": 0.98});
                for (style, rate) in [("twilio", "0.0079"), ("telnyx", "0.0065")] {
                    let deck = format!("prefix,destination,rate\n1,USA,{rate}\n44,United Kingdom,{rate}\n");
                    world.add_carrier(style, style, &profile, &[("sms", deck)]).await?;
                }
            }
            Kind::Emails => {
                for (name, rate) in [("mail-a", "0.80"), ("mail-b", "0.60")] {
                    let deck = format!("prefix,rate\n*,{rate}\n");
                    world.add_carrier(name, "sendgrid", &json!({}), &[("email", deck)]).await?;
                }
            }
        }
        let (store, org_id, key, base) = (&world.store, &world.org_id, &world.key, &world.base);
        let client = &world.client;
        let name = kind.name();
        let path = if kind == Kind::Emails { "emails" } else { "messages" };
        eprintln!("bench {name}: providers ready; sending {}", args.messages);
        let send = Target::Post(format!("{base}/v1/{path}").parse()?, Arc::new(kind.bodies(args.messages)));
        let baseline = drive(client, key, Target::Get(format!("{base}/healthz").parse()?), args.concurrency, 3, u64::MAX).await;

        let started = Instant::now();
        let accepted = drive(client, key, send, args.concurrency, args.timeout, args.messages).await;
        let accept_secs = started.elapsed().as_secs_f64();
        eprintln!("bench {name}: {} accepted ({} errors); waiting for dispatch", accepted.requests, accepted.errors);
        // Dispatched: nothing left in `accepted`.
        let deadline = started + Duration::from_secs(args.timeout);
        let pending = |counts: &[(String, i64)], statuses: &[&str]| counts.iter().filter(|(s, _)| statuses.contains(&s.as_str())).map(|(_, n)| *n).sum::<i64>();
        while pending(&store.status_counts(kind.outbox(), org_id).await?, &["accepted"]) > 0 && Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
        let dispatch_secs = started.elapsed().as_secs_f64();
        eprintln!("bench {name}: dispatched; waiting for reports");
        // Settled: nothing still waiting for its reports.
        let waiting = ["accepted", "queued", "sent", "deferred"];
        let mut counts = store.status_counts(kind.outbox(), org_id).await?;
        while pending(&counts, &waiting) > 0 && Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
            counts = store.status_counts(kind.outbox(), org_id).await?;
        }
        let settle_secs = started.elapsed().as_secs_f64();
        let backend = store.backend();
        world.stop().await;
        let by_status: serde_json::Map<String, Value> = counts.into_iter().map(|(s, n)| (s, json!(n))).collect();
        let line = json!({
            "bench": name,
            "backend": if backend == Backend::Postgres { "postgres" } else { "sqlite" },
            "messages": args.messages,
            "concurrency": args.concurrency,
            "accepted": load_json(&accepted),
            "accept_secs": (accept_secs * 100.0).round() / 100.0,
            "dispatched_per_sec": (accepted.requests as f64 / dispatch_secs).round(),
            "dispatch_secs": (dispatch_secs * 100.0).round() / 100.0,
            "settled_secs": (settle_secs * 100.0).round() / 100.0,
            "by_status": by_status,
            "baseline": { "kind": "GET /healthz through the same stack", "load": load_json(&baseline) },
            "ratio_to_baseline": (accepted.per_sec / baseline.per_sec.max(1.0) * 1000.0).round() / 1000.0,
        });
        println!("{line}");
        Ok(ExitCode::SUCCESS)
    })
}
