//! Nothing lost, nothing twice, across crashes: the real `switchyard serve` is killed with
//! SIGKILL at random moments while an application sends 10,000 messages through a
//! standalone `switchyard sandbox`, and restarted each time. The application retries every
//! request with its Idempotency-Key until it is accepted. Afterwards every message has
//! reached a final state, the store holds each exactly once, and the sandbox received each
//! exactly once. `SWITCHYARD_KILL_TEST_MESSAGES` lowers the count for a quick local run.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const MASTER_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const KILLS: u32 = 10;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn switchyard(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.env("SWITCHYARD_DATABASE_URL", db)
        .env("SWITCHYARD_MASTER_KEY", MASTER_KEY)
        .env("RUST_LOG", "warn");
    cmd
}

fn serve(db: &str, port: u16, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    switchyard(db)
        .args([
            "serve",
            "--no-sandbox",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("serve starts")
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up at {base}");
}

/// A child process killed when dropped, so a failing test leaves nothing running.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small pseudo-random source for kill timing (the moments vary from run to run).
fn jitter(state: &mut u64, lo_ms: u64, hi_ms: u64) -> Duration {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    Duration::from_millis(lo_ms + *state % (hi_ms - lo_ms))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_flight_loses_nothing_and_sends_nothing_twice() {
    let total: u64 = std::env::var("SWITCHYARD_KILL_TEST_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("kill.db").display());
    let log = dir.path().join("serve.log");
    let http = reqwest::Client::new();

    // The carrier side lives in its own process and survives the kills.
    let sandbox_port = free_port();
    let mut sandbox = Reaped(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "sandbox",
                "--port",
                &sandbox_port.to_string(),
                "--speed",
                "50",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sandbox starts"),
    );
    let stdout = sandbox.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    assert!(
        lines
            .next()
            .is_some_and(|l| l.is_ok_and(|l| l.contains("listening")))
    );
    let sandbox_base = format!("http://127.0.0.1:{sandbox_port}");

    let out = switchyard(&db)
        .args(["admin", "org", "create", "Kill"])
        .output()
        .expect("org");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let org = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = switchyard(&db)
        .args(["admin", "key", "create", "--org", &org, "--role", "admin"])
        .output()
        .expect("key");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("key line")
        .to_string();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Reaped(serve(&db, port, &log));
    wait_healthy(&http, &base).await;

    // Two Twilio-style carriers on the standalone sandbox, with quick receipts.
    let profile = json!({"delivery_rate": 1.0, "receipt_delay_ms": 500});
    for (name, rate) in [("A", "0.0050"), ("B", "0.0060")] {
        let creds: Value = http
            .post(format!("{sandbox_base}/admin/accounts"))
            .json(&json!({"style": "twilio", "profile": profile}))
            .send()
            .await
            .expect("account")
            .json()
            .await
            .expect("credentials");
        let mut credentials = creds.as_object().cloned().expect("object");
        credentials.insert("style".into(), json!("twilio"));
        credentials.insert("base_url".into(), json!(sandbox_base));
        let p: Value = http
            .post(format!("{base}/v1/providers"))
            .bearer_auth(&key)
            .json(&json!({"type": "sandbox", "name": name, "credentials": credentials}))
            .send()
            .await
            .expect("provider")
            .json()
            .await
            .expect("provider json");
        let id = p["id"].as_str().expect("provider id").to_string();
        let deck = format!("prefix,destination,rate\n44,United Kingdom,{rate}\n");
        let r = http
            .post(format!("{base}/v1/providers/{id}/rates?channel=sms"))
            .bearer_auth(&key)
            .header("content-type", "text/csv")
            .body(deck)
            .send()
            .await
            .expect("deck");
        assert!(r.status().is_success());
        let r = http
            .post(format!("{base}/v1/providers/{id}/numbers/sync"))
            .bearer_auth(&key)
            .json(&json!({}))
            .send()
            .await
            .expect("sync");
        assert!(r.status().is_success());
    }

    let started = Instant::now();
    // The application: 32 senders, each request retried with its key until accepted.
    let next = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let mut senders = Vec::new();
    for _ in 0..32 {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        let (next, accepted, retries) = (next.clone(), accepted.clone(), retries.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let body = json!({"to": format!("+4479111{:05}", i % 100_000), "body": format!("kill test {i:05}")});
                loop {
                    let sent = http
                        .post(format!("{base}/v1/messages"))
                        .bearer_auth(&key)
                        .header("idempotency-key", format!("kill-{i}"))
                        .timeout(Duration::from_secs(10))
                        .json(&body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 202 => break,
                        Ok(r) if r.status().is_client_error() && r.status().as_u16() != 409 => {
                            panic!("message {i} refused: {}", r.text().await.unwrap_or_default())
                        }
                        _ => {
                            retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
                accepted.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    // The killer: SIGKILL at random moments, restart, until the sending is done and at
    // least ten kills have happened.
    let sending = Arc::new(AtomicBool::new(true));
    let mut rng = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 | 1)
        .unwrap_or(88_172_645_463_325_252);
    let mut kills = 0;
    let watch = {
        let sending = sending.clone();
        tokio::spawn(async move {
            for s in senders {
                s.await.expect("sender");
            }
            sending.store(false, Ordering::Relaxed);
        })
    };
    while sending.load(Ordering::Relaxed) || kills < KILLS {
        tokio::time::sleep(jitter(&mut rng, 1_000, 4_000)).await;
        server.0.kill().expect("SIGKILL");
        server.0.wait().expect("reaped");
        kills += 1;
        server = Reaped(serve(&db, port, &log));
        wait_healthy(&http, &base).await;
    }
    watch.await.expect("senders");
    assert_eq!(accepted.load(Ordering::Relaxed), total);
    let sent_after = started.elapsed();

    // After the last restart: every message reaches a final state (stranded ones once
    // their dead dispatcher's lease runs out).
    let store = switchyard_store::Store::connect(&db, 1)
        .await
        .expect("store");
    let finals = ["delivered", "undelivered", "failed", "unconfirmed"];
    let deadline = Instant::now() + Duration::from_secs(240);
    let counts: HashMap<String, i64> = loop {
        let counts: HashMap<String, i64> = store
            .status_counts(switchyard_store::Outbox::Messages, &org)
            .await
            .expect("counts")
            .into_iter()
            .collect();
        let open: i64 = counts
            .iter()
            .filter(|(s, _)| !finals.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum();
        if open == 0 || Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let settled_after = started.elapsed();
    drop(server);
    let stored: i64 = counts.values().sum();
    assert_eq!(stored, total as i64, "each request stored once: {counts:?}");
    let mut stray = Vec::new();
    for status in [
        "failed",
        "undelivered",
        "unconfirmed",
        "queued",
        "sent",
        "accepted",
    ] {
        let filter = switchyard_store::OutboxFilter {
            status: Some(status),
            ..Default::default()
        };
        for m in store
            .messages_page(&org, &filter, 20)
            .await
            .expect("page")
            .items
        {
            let attempts = store
                .attempts(switchyard_store::Outbox::Messages, &m.id)
                .await
                .expect("attempts");
            stray.push(format!(
                "{} {} {:?} {:?}",
                m.body, m.status, m.error_message, attempts
            ));
        }
    }
    assert_eq!(
        counts.get("delivered").copied(),
        Some(total as i64),
        "every message delivered, none unconfirmed: {counts:?}\n{}",
        stray.join("\n")
    );

    let received: Value = http
        .get(format!("{sandbox_base}/admin/messages"))
        .send()
        .await
        .expect("sandbox messages")
        .json()
        .await
        .expect("json");
    drop(sandbox);
    let mut copies: HashMap<String, u32> = HashMap::new();
    for m in received["data"].as_array().expect("data") {
        let body = m["message"]["body"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *copies.entry(body).or_default() += 1;
    }
    let twice: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
    if let Some((body, _)) = twice.first() {
        let copies: Vec<&Value> = received["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter(|m| m["message"]["body"] == body.as_str())
            .collect();
        let mut ours = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let filter = switchyard_store::OutboxFilter {
                before: cursor.as_deref(),
                ..Default::default()
            };
            let page = store.messages_page(&org, &filter, 500).await.expect("page");
            for m in page.items.iter().filter(|m| &m.body == *body) {
                let attempts = store
                    .attempts(switchyard_store::Outbox::Messages, &m.id)
                    .await
                    .expect("attempts");
                ours.push(format!("{m:?} {attempts:?}"));
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        panic!(
            "{} sent twice, e.g. {body}: at the sandbox {copies:?}; ours {ours:?}; log {}",
            twice.len(),
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let missing: Vec<u64> = (0..total)
        .filter(|i| !copies.contains_key(&format!("kill test {i:05}")))
        .collect();
    assert!(missing.is_empty(), "never received: {missing:?}");
    eprintln!(
        "kill test: {total} messages, {kills} kills, {} retried requests, all accepted after {:.0} s, all final after {:.0} s: {counts:?}",
        retries.load(Ordering::Relaxed),
        sent_after.as_secs_f64(),
        settled_after.as_secs_f64()
    );
}
