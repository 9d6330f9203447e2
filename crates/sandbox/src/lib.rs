//! A carrier simulator that speaks the Twilio, SignalWire, Telnyx, Plivo, Bandwidth and Vonage
//! HTTP APIs the
//! adapters use, and
//! SendGrid's email API. It rings, answers or not by destination country, hangs up after a
//! drawn duration, delivers messages with receipts, delivers, bounces and tracks emails,
//! rate-limits with 429s, injects faults, and signs its webhooks exactly as the real
//! providers do. Outcomes are drawn from a seed, so runs repeat; a clock speed above 1 runs
//! simulations faster than real time.
//!
//! Routes: `/twilio/2010-04-01/…`, `/signalwire/api/laml/…`, `/telnyx/v2/…`, `/plivo/v1/…`,
//! `/bandwidth/{api/v1/oauth2,voice,messaging,dashboard}/…`, `/vonage/{api,rest}/…`,
//! `/sendgrid/v3/…` (the provider APIs) and
//! `/admin/…` (accounts, faults, inbound traffic, emails, the request journal).

mod accounts;
mod admin;
mod bandwidth_api;
mod behaviour;
mod clock;
mod lifecycle;
mod notify;
mod plivo_api;
mod reply;
mod sendgrid_api;
mod telnyx_api;
mod twilio_api;
mod vonage_api;
mod wire;

pub use accounts::{AccountCredentials, NewAccount, Style};
pub use admin::{EmailEventSpec, Inbound};
pub use behaviour::{DurationModel, EmailProfile, Faults, Profile};
pub use clock::SimClock;

use accounts::Account;
use axum::Router;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Settings of one sandbox.
#[derive(Debug, Clone, Copy)]
pub struct SandboxConfig {
    /// Seed for credentials, numbers and every drawn outcome.
    pub seed: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 1,
            speed: 1.0,
        }
    }
}

/// One request the sandbox received, for conformance tests and debugging.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JournalEntry {
    /// `POST`.
    pub method: String,
    /// Path below the sandbox root, e.g. `/twilio/2010-04-01/Accounts/AC…/Calls.json`.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Authorization scheme (`Basic`, `Bearer`), never the credentials.
    pub auth_scheme: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// Body.
    pub body: String,
}

struct Inner {
    config: SandboxConfig,
    clock: SimClock,
    accounts: Mutex<HashMap<String, Arc<Account>>>,
    journal: Mutex<VecDeque<JournalEntry>>,
    sequence: AtomicU64,
    http: reqwest::Client,
}

/// A running sandbox: cheap to clone, shared by its routes and its owner.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

const JOURNAL_LIMIT: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A non-empty string field of a JSON request body.
fn text<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
}

impl Sandbox {
    /// A sandbox with no accounts.
    pub fn new(config: SandboxConfig) -> Self {
        Sandbox {
            inner: Arc::new(Inner {
                clock: SimClock::new(config.speed),
                config,
                accounts: Mutex::new(HashMap::new()),
                journal: Mutex::new(VecDeque::new()),
                sequence: AtomicU64::new(0),
                http: reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(30))
                    .build()
                    .unwrap_or_default(),
            }),
        }
    }

    /// The provider APIs (`/twilio`, `/telnyx`, `/sendgrid`): safe to expose, each account
    /// checks its own credentials.
    pub fn carrier_router(&self) -> Router {
        Router::new()
            .nest("/twilio", twilio_api::routes())
            .nest("/signalwire/api/laml", twilio_api::routes())
            .nest("/telnyx", telnyx_api::routes())
            .nest("/plivo", plivo_api::routes())
            .nest("/bandwidth", bandwidth_api::routes())
            .nest("/vonage", vonage_api::routes())
            .nest("/sendgrid", sendgrid_api::routes())
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                record_request,
            ))
            .with_state(self.clone())
    }

    /// Carrier APIs plus `/admin` (accounts, faults, inbound traffic, journal), for the
    /// standalone `switchyard sandbox`.
    pub fn router(&self) -> Router {
        self.carrier_router()
            .nest("/admin", admin::routes().with_state(self.clone()))
    }

    /// Opens an account with fresh credentials.
    pub fn create_account(&self, new: NewAccount) -> AccountCredentials {
        let n = self.inner.sequence.fetch_add(1, Ordering::Relaxed);
        let creds = AccountCredentials::generate(new.style, self.inner.config.seed, n);
        self.ensure_account(&creds, new.profile, new.webhook_url);
        creds
    }

    /// Registers an account with known credentials (after a restart, or on another
    /// instance); an existing account keeps its state and takes the new profile.
    pub fn ensure_account(
        &self,
        creds: &AccountCredentials,
        profile: Profile,
        webhook_url: Option<String>,
    ) {
        let key = creds.key();
        let mut accounts = lock(&self.inner.accounts);
        match accounts.get(&key) {
            Some(existing) => existing.update(profile, webhook_url),
            None => {
                let account =
                    Account::new(creds.clone(), profile, webhook_url, self.inner.config.seed);
                accounts.insert(key, Arc::new(account));
            }
        }
    }

    /// Replaces an account's faults; false when there is no such account.
    pub fn set_faults(&self, account_key: &str, faults: Faults) -> bool {
        match self.account(account_key) {
            Some(a) => {
                a.set_faults(faults, self.inner.clock.now_ms());
                true
            }
            None => false,
        }
    }

    /// Requests received so far (oldest first, the last 10 000).
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.inner.journal).iter().cloned().collect()
    }

    /// The clock the simulation runs on.
    pub fn clock(&self) -> &SimClock {
        &self.inner.clock
    }

    fn account(&self, key: &str) -> Option<Arc<Account>> {
        lock(&self.inner.accounts).get(key).cloned()
    }

    fn accounts(&self) -> Vec<Arc<Account>> {
        lock(&self.inner.accounts).values().cloned().collect()
    }

    fn next_id(&self) -> u64 {
        self.inner.sequence.fetch_add(1, Ordering::Relaxed)
    }
}

async fn record_request(
    axum::extract::State(sandbox): axum::extract::State<Sandbox>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let header = |name: axum::http::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let entry = JournalEntry {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        auth_scheme: header(axum::http::header::AUTHORIZATION)
            .and_then(|a| a.split_whitespace().next().map(str::to_owned)),
        content_type: header(axum::http::header::CONTENT_TYPE),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    {
        let mut journal = lock(&sandbox.inner.journal);
        if journal.len() == JOURNAL_LIMIT {
            journal.pop_front();
        }
        journal.push_back(entry);
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// Serves `router()` on `listener` until the task is dropped.
pub async fn serve(sandbox: Sandbox, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, sandbox.router()).await
}
