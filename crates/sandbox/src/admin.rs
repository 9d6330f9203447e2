//! The sandbox's own controls: accounts, faults, simulated inbound traffic, emails and
//! their events, the request journal; plus the request gate and the stock of numbers on
//! offer.

use crate::accounts::{Account, AccountCredentials, NewAccount, Refusal, Style};
use crate::behaviour::Faults;
use crate::{Sandbox, lifecycle, lock, notify};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use switchyard_core::scoring::mix64;

/// How long an injected timeout holds the request (longer than any client waits).
const HANG: Duration = Duration::from_secs(120);

/// Applies faults and limits to one request.
pub async fn gate(sb: &Sandbox, account: &Account) -> Result<(), Refusal> {
    let slow = account.faults().slow_ms;
    if slow > 0 {
        tokio::time::sleep(Duration::from_millis(slow)).await;
    }
    match account.admit(sb.clock().now_ms(), chrono::Utc::now().timestamp()) {
        Err(Refusal::Timeout) => {
            tokio::time::sleep(HANG).await;
            Err(Refusal::Timeout)
        }
        other => other,
    }
}

/// Every number of a fictional range (NANP 555, Ofcom's drama ranges) of this kind, so
/// nothing real is ever dialled.
fn fictional(country: &str, kind: &str, area: Option<&str>) -> Vec<String> {
    match (country, kind) {
        ("US" | "CA", "toll_free") => (0..1000)
            .map(|i| format!("+1800555{:04}", 100 + i))
            .collect(),
        ("US" | "CA", _) => {
            let default = if country == "CA" { "416" } else { "212" };
            let area = area
                .filter(|a| a.len() == 3 && a.chars().all(|c| c.is_ascii_digit()))
                .unwrap_or(default);
            (0..100)
                .map(|i| format!("+1{area}555{:04}", 900 + i))
                .collect()
        }
        ("GB", "mobile") => (0..1000).map(|i| format!("+447700900{i:03}")).collect(),
        ("GB", _) => (0..1000).map(|i| format!("+44207946{i:04}")).collect(),
        _ => Vec::new(),
    }
}

fn fictional_pattern(e164: &str) -> bool {
    let d = e164.trim_start_matches('+');
    (d.len() == 11 && d.starts_with('1') && &d[4..7] == "555")
        || d.starts_with("447700900")
        || d.starts_with("44207946")
}

impl Sandbox {
    /// Numbers on offer, with their country: a fictional range's numbers that no account
    /// owns, as a carrier offers only what it has not sold.
    pub(crate) fn offer(
        &self,
        country: &str,
        kind: &str,
        area: Option<&str>,
        limit: usize,
    ) -> Vec<(String, String)> {
        let country = country.to_ascii_uppercase();
        let sold: std::collections::HashSet<String> = self
            .accounts()
            .iter()
            .flat_map(|a| {
                lock(&a.numbers)
                    .iter()
                    .map(|n| n.e164.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        fictional(&country, kind, area)
            .into_iter()
            .filter(|n| !sold.contains(n))
            .take(limit)
            .map(|n| (n, country.clone()))
            .collect()
    }

    /// Whether `e164` can be bought: in a fictional range and owned by no account.
    pub(crate) fn is_offered(&self, e164: &str) -> bool {
        fictional_pattern(e164) && self.accounts().iter().all(|a| a.owned(e164).is_none())
    }
}

/// An email event to emit on demand.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailEventSpec {
    /// SendGrid's event name (`blocked` for a temporary bounce).
    pub event: String,
    /// The recipient; the first one when left out.
    #[serde(default)]
    pub email: Option<String>,
    /// The link followed, for `click`.
    #[serde(default)]
    pub url: Option<String>,
}

/// Simulated inbound traffic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    /// `sms` or `call`.
    pub kind: String,
    /// Sender / caller.
    pub from: String,
    /// One of the account's numbers.
    pub to: String,
    /// Text, for `sms`.
    #[serde(default)]
    pub body: String,
}

impl Sandbox {
    /// Sends an inbound message or call to the account's webhook for that number, as
    /// the carrier would. Returns the provider id, or why it cannot.
    pub fn inbound(&self, account_key: &str, inbound: &Inbound) -> Result<String, String> {
        let account = self.account(account_key).ok_or("no such account")?;
        let number = account
            .owned(&inbound.to)
            .ok_or_else(|| format!("the account does not own {}", inbound.to))?;
        let now = self.clock().now_ms();
        let style = account.creds.style;
        let n = self.next_id();
        let (id, payload, url) = match inbound.kind.as_str() {
            "sms" => {
                let id = match style {
                    Style::Twilio | Style::Signalwire => format!("SM{n:032x}"),
                    Style::Telnyx | Style::Sendgrid | Style::Plivo => {
                        format!("{n:08x}-0000-4000-8000-000000000000")
                    }
                    Style::Vonage => format!("{:016X}", mix64(n)),
                    Style::Bandwidth => {
                        format!("{n:013}{}", &format!("{:016x}", mix64(n))[..16])
                    }
                };
                let p = notify::inbound_message(
                    style,
                    &account,
                    &id,
                    &inbound.from,
                    &inbound.to,
                    &inbound.body,
                    now,
                );
                (id, p, number.sms_url.clone())
            }
            "call" => {
                let id = match style {
                    Style::Twilio | Style::Signalwire => format!("CA{n:032x}"),
                    Style::Telnyx | Style::Sendgrid => format!("v3:{n:032x}"),
                    Style::Plivo | Style::Vonage => format!("{n:08x}-0000-4000-9000-000000000000"),
                    Style::Bandwidth => {
                        format!("c-{n:08x}-{:08x}-0000-4000-8000-000000000000", n >> 32)
                    }
                };
                let p = notify::inbound_call(style, &account, &id, &inbound.from, &inbound.to, now);
                (id, p, number.voice_url.clone())
            }
            other => return Err(format!("kind must be sms or call, not {other:?}")),
        };
        notify::deliver(
            self,
            &account,
            url.or_else(|| account.webhook_url()),
            payload,
        );
        Ok(id)
    }

    /// Accounts with their credentials (these are simulator credentials), numbers and
    /// faults.
    pub fn describe(&self) -> serde_json::Value {
        let accounts: Vec<_> = self
            .accounts()
            .iter()
            .map(|a| {
                json!({
                    "credentials": a.creds, "profile": a.profile(), "faults": a.faults(),
                    "webhook_url": a.webhook_url(),
                    "numbers": lock(&a.numbers).iter().map(|n| n.e164.clone()).collect::<Vec<_>>(),
                    "calls": lock(&a.calls).len(), "messages": lock(&a.messages).len(),
                    "emails": lock(&a.emails).len(),
                })
            })
            .collect();
        json!({ "seed": self.inner.config.seed, "speed": self.inner.config.speed, "accounts": accounts })
    }

    /// Every email every account accepted, newest first, with the account's key.
    pub fn emails(&self) -> Vec<serde_json::Value> {
        let mut all: Vec<(u64, serde_json::Value)> = Vec::new();
        for a in self.accounts() {
            for e in lock(&a.emails).iter() {
                all.push((e.seq, json!({ "account": a.creds.key(), "email": e })));
            }
        }
        all.sort_by_key(|e| std::cmp::Reverse(e.0));
        all.into_iter().map(|(_, e)| e).collect()
    }

    /// One email by its `X-Message-Id`, with the account's key.
    pub fn email(&self, id: &str) -> Option<serde_json::Value> {
        self.accounts().into_iter().find_map(|a| {
            lock(&a.emails)
                .get(id)
                .map(|e| json!({ "account": a.creds.key(), "email": e }))
        })
    }

    /// Sends one SendGrid event about an email now, as if it had happened: `event` is
    /// `delivered`, `bounce`, `blocked`, `deferred`, `spamreport`, `open`, `click` or
    /// `unsubscribe`; `recipient` defaults to the first one, `url` (clicks) to the first
    /// link of the HTML body. Returns the event's `sg_event_id`, or why it cannot.
    pub fn email_event(&self, id: &str, spec: &EmailEventSpec) -> Result<String, String> {
        const EVENTS: &[&str] = &[
            "delivered",
            "bounce",
            "blocked",
            "deferred",
            "spamreport",
            "open",
            "click",
            "unsubscribe",
        ];
        let event = EVENTS
            .iter()
            .find(|e| **e == spec.event)
            .ok_or_else(|| format!("event must be one of {}", EVENTS.join(", ")))?;
        let (account, recipients) = self
            .accounts()
            .into_iter()
            .find_map(|a| {
                let recipients = lock(&a.emails).get(id).map(|e| e.recipients())?;
                Some((a, recipients))
            })
            .ok_or("no such email")?;
        let recipient = match &spec.email {
            Some(r) => recipients
                .into_iter()
                .find(|x| x.eq_ignore_ascii_case(r))
                .ok_or_else(|| format!("{r} is not a recipient of this email"))?,
            None => recipients
                .into_iter()
                .next()
                .ok_or("the email has no recipients")?,
        };
        lifecycle::emit_email_events(self, &account, id, &[(recipient, event, spec.url.clone())])
            .and_then(|ids| ids.into_iter().next())
            .ok_or_else(|| "no such email".to_string())
    }

    /// Every message every account was asked to send, with the account's key: what a test
    /// counts to prove each was received exactly once.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        for a in self.accounts() {
            for m in lock(&a.messages).values() {
                all.push(json!({ "account": a.creds.key(), "message": m }));
            }
        }
        all
    }
}

pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/accounts", post(create).get(list))
        .route("/accounts/{key}/faults", put(faults))
        .route("/accounts/{key}/inbound", post(inbound))
        .route("/journal", get(journal))
        .route("/messages", get(messages))
        .route("/emails", get(emails))
        .route("/emails/{id}", get(email))
        .route("/emails/{id}/events", post(email_event))
}

async fn emails(State(sb): State<Sandbox>) -> Json<serde_json::Value> {
    Json(json!({ "data": sb.emails() }))
}

async fn email(State(sb): State<Sandbox>, Path(id): Path<String>) -> Response {
    match sb.email(&id) {
        Some(e) => Json(e).into_response(),
        None => bad(StatusCode::NOT_FOUND, "no such email".into()),
    }
}

async fn email_event(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let spec: EmailEventSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    if sb.email(&id).is_none() {
        return bad(StatusCode::NOT_FOUND, "no such email".into());
    }
    match sb.email_event(&id, &spec) {
        Ok(sg_event_id) => (
            StatusCode::ACCEPTED,
            Json(json!({ "sg_event_id": sg_event_id })),
        )
            .into_response(),
        Err(e) => bad(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}

async fn messages(State(sb): State<Sandbox>) -> Json<serde_json::Value> {
    Json(json!({ "data": sb.messages() }))
}

fn bad(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn create(State(sb): State<Sandbox>, body: axum::body::Bytes) -> Response {
    let new: NewAccount = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return bad(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    if let Err(e) = new.profile.validate() {
        return bad(StatusCode::UNPROCESSABLE_ENTITY, e);
    }
    let creds: AccountCredentials = sb.create_account(new);
    (StatusCode::CREATED, Json(creds)).into_response()
}

async fn list(State(sb): State<Sandbox>) -> Json<serde_json::Value> {
    Json(sb.describe())
}

async fn faults(
    State(sb): State<Sandbox>,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let f: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return bad(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    if sb.set_faults(&key, f) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        bad(StatusCode::NOT_FOUND, "no such account".into())
    }
}

async fn inbound(
    State(sb): State<Sandbox>,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let spec: Inbound = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    match sb.inbound(&key, &spec) {
        Ok(id) => (StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response(),
        Err(e) => bad(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}

async fn journal(State(sb): State<Sandbox>) -> Json<serde_json::Value> {
    Json(json!({ "data": sb.journal() }))
}
