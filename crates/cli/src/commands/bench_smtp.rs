//! `switchyard bench smtp`: emails through the SMTP adapter to a relay (a local one, such
//! as `python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Sink`), with the
//! connection pool against a new connection per email as the baseline.

use super::bench_http::ms3;
use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use switchyard_providers::capability::{Email, EmailRequest, Mailbox};
use switchyard_providers::{ProviderContext, registry};

#[derive(Debug, Args)]
pub struct SmtpArgs {
    /// Relay host.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Relay port (plain SMTP, no TLS: a local relay).
    #[arg(long, default_value_t = 2525)]
    port: u16,
    /// Emails per run.
    #[arg(long, default_value_t = 5000)]
    messages: u64,
    /// Emails in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Connections the pool keeps.
    #[arg(long, default_value_t = 8)]
    pool: u32,
}

fn adapter(host: &str, port: u16, pool: u32) -> Result<Arc<dyn Email>> {
    let credentials = json!({"host": host, "port": port.to_string(), "tls": "none", "pool_size": pool.to_string()});
    let ctx = ProviderContext {
        provider_id: "bench".into(),
        credentials: credentials.as_object().cloned().unwrap_or_default(),
        webhook_url: String::new(),
        sandbox_url: None,
        http: Default::default(),
    };
    registry::build("smtp", &ctx)?
        .email
        .ok_or_else(|| anyhow::anyhow!("the smtp adapter sends no email"))
}

fn email(i: u64) -> EmailRequest {
    EmailRequest {
        email_id: format!("bench-{i}"),
        from: Mailbox::new("bench@switchyard.example"),
        to: vec![Mailbox::new(format!("r{i}@example.com"))],
        cc: Vec::new(),
        bcc: Vec::new(),
        reply_to: None,
        subject: format!("Order {i} shipped"),
        text: Some(format!("Order {i} is on its way.")),
        html: Some(format!("<p>Order <b>{i}</b> is on its way.</p>")),
        attachments: Vec::new(),
        headers: Vec::new(),
        tags: Vec::new(),
        provider_tracking: false,
        idempotency_key: format!("bench-{i}"),
    }
}

/// Sends `args.messages` emails from `args.concurrency` tasks through one adapter with a
/// pool of `pool` connections, or (`fresh`) through a new adapter, so a new connection, for
/// every email.
async fn run_once(args: &SmtpArgs, pool: u32, fresh: bool) -> Result<Value> {
    let shared = adapter(&args.host, args.port, pool)?;
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (issued, shared, host, port) =
            (issued.clone(), shared.clone(), args.host.clone(), args.port);
        let total = args.messages;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                let sender = if fresh {
                    adapter(&host, port, 1)
                } else {
                    Ok(shared.clone())
                };
                let ok = match sender {
                    Ok(sender) => sender.send_email(&email(i)).await.is_ok(),
                    Err(_) => false,
                };
                errors += u64::from(!ok);
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len().max(1) - 1) as f64 * p) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(json!({
        "emails": all.len(), "errors": errors, "per_sec": (all.len() as f64 / secs).round(),
        "p50_ms": ms3(pct(0.5)), "p99_ms": ms3(pct(0.99)),
    }))
}

pub fn run(args: &SmtpArgs) -> Result<ExitCode> {
    if args.messages == 0 || args.concurrency == 0 || args.pool == 0 {
        bail!("--messages, --concurrency and --pool must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let pooled = run_once(args, args.pool, false).await?;
        let one = run_once(args, 1, false).await?;
        let fresh = run_once(args, 1, true).await?;
        let ratio = pooled["per_sec"].as_f64().unwrap_or(0.0)
            / fresh["per_sec"].as_f64().unwrap_or(1.0).max(1.0);
        println!(
            "{}",
            json!({
                "bench": "smtp", "relay": format!("{}:{}", args.host, args.port),
                "messages": args.messages, "concurrency": args.concurrency,
                "pooled": { "pool": args.pool, "load": pooled },
                "one_connection": one,
                "baseline": { "kind": "a new connection per email", "load": fresh },
                "ratio_to_baseline": (ratio * 100.0).round() / 100.0,
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}
