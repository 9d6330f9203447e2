//! Events out: organisations register endpoints; each event is queued durably per matching
//! endpoint, signed with the endpoint's secret and delivered by a worker that retries with
//! exponential backoff for 24 hours. Any instance may deliver any event; a delivery is
//! claimed with a lease so only one does.
//!
//! Signature: `Switchyard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"
//! keyed with the endpoint secret>`; receivers recompute it and reject timestamps more than
//! five minutes old.

use crate::error::{ApiError, ApiResult};
use crate::state::Shared;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use switchyard_store::EventDelivery;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "switchyard-signature";
/// How long events are retried.
const RETRY_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How long a claimed delivery is kept from other workers.
const LEASE_MS: i64 = 60_000;

/// The header value for `body` sent at `t` (unix seconds).
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether an endpoint subscribed to `event_type` (`["*"]` takes everything).
fn wants(event_types: &str, event_type: &str) -> bool {
    serde_json::from_str::<Vec<String>>(event_types)
        .unwrap_or_default()
        .iter()
        .any(|t| t == "*" || t == event_type)
}

/// Queues an event for every active endpoint of the organisation that wants it.
pub async fn emit(state: &Shared, org: &str, event_type: &str, data: Value) -> ApiResult<()> {
    let endpoints: Vec<String> = state
        .event_endpoints(org)
        .await?
        .into_iter()
        .filter(|e| e.active && wants(&e.event_types, event_type))
        .map(|e| e.id)
        .collect();
    if endpoints.is_empty() {
        return Ok(());
    }
    let event_id = format!("evt_{}", switchyard_store::new_id());
    let payload = json!({
        "id": event_id,
        "type": event_type,
        "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    });
    let body = serde_json::to_string(&payload).map_err(ApiError::internal)?;
    state
        .store
        .enqueue_event(org, &endpoints, &event_id, event_type, &body)
        .await?;
    state.deliveries_due.notify_one();
    Ok(())
}

/// Records a usage warning (a pool's, the free tier's, a budget's) unless it was given
/// already for its scope, window and threshold, and only then logs it and tells the
/// organisation as `event_type` with `data`: once across every instance.
pub async fn warn_once(
    state: &Shared,
    org: &str,
    warning: &switchyard_store::UsageWarning,
    event_type: &str,
    data: Value,
) -> ApiResult<()> {
    if state.store.record_usage_warning(org, warning).await? {
        tracing::warn!(
            org,
            scope = warning.scope,
            window = warning.window,
            threshold = warning.threshold,
            event_type,
            "usage warning"
        );
        emit(state, org, event_type, data).await?;
    }
    Ok(())
}

/// Emits `{kind}.status` with the record as the API shows it (metadata parsed).
pub async fn status(
    state: &Shared,
    org: &str,
    kind: &str,
    record: &impl serde::Serialize,
    metadata: &str,
) -> ApiResult<()> {
    let mut data = serde_json::to_value(record).map_err(crate::error::ApiError::internal)?;
    data["metadata"] = serde_json::from_str::<Value>(metadata).unwrap_or(Value::Null);
    emit(state, org, &format!("{kind}.status"), data).await
}

/// When to try again after `attempts` failed attempts, or `None` once the 24 hours are up.
fn next_attempt(base: Duration, attempts: i64, created_at: i64, now: i64) -> Option<i64> {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(20);
    let delay = base.saturating_mul(1 << exp).min(MAX_BACKOFF);
    let jitter = jitter_ms(delay.as_millis() as i64 / 5);
    let at = now + delay.as_millis() as i64 + jitter;
    (at - created_at <= RETRY_WINDOW_MS).then_some(at)
}

fn jitter_ms(up_to: i64) -> i64 {
    if up_to <= 0 {
        0
    } else {
        (rand::random::<u64>() % up_to as u64) as i64
    }
}

async fn attempt(
    state: &Shared,
    http: &reqwest::Client,
    d: &EventDelivery,
) -> (Option<u16>, Option<String>) {
    let endpoint = match state.store.event_endpoint(&d.endpoint_id).await {
        Ok(Some(e)) => e,
        Ok(None) => return (None, Some("endpoint deleted".into())),
        Err(e) => return (None, Some(format!("store: {e}"))),
    };
    let secret = match state.master_key.decrypt(&endpoint.secret) {
        Ok(s) => s,
        Err(e) => return (None, Some(format!("secret unreadable: {e}"))),
    };
    let t = chrono::Utc::now().timestamp();
    let sent = http
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, sign(&secret, t, d.payload.as_bytes()))
        .header("switchyard-event-id", &d.event_id)
        .header("switchyard-event-type", &d.event_type)
        .body(d.payload.clone())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
        Ok(r) => (
            Some(r.status().as_u16()),
            Some(format!("HTTP {}", r.status().as_u16())),
        ),
        Err(e) => (
            None,
            Some(if e.is_timeout() {
                "timed out".into()
            } else {
                "could not connect".into()
            }),
        ),
    }
}

/// Delivers due events until the task is dropped: woken by new events, and every second
/// for retries and deliveries other instances left behind.
pub async fn run(state: Shared) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    loop {
        let due = match state.store.claim_due_deliveries(50, LEASE_MS).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim event deliveries");
                Vec::new()
            }
        };
        for d in &due {
            let (status, error) = attempt(&state, &http, d).await;
            let delivered = error.is_none();
            let now = chrono::Utc::now().timestamp_millis();
            let retry = if delivered {
                None
            } else {
                next_attempt(
                    state.settings.event_retry_base,
                    d.attempts + 1,
                    d.created_at,
                    now,
                )
            };
            metrics::counter!("switchyard_event_deliveries_total", "outcome" => if delivered { "delivered" } else if retry.is_some() { "retry" } else { "failed" }).increment(1);
            if let Err(e) = state
                .store
                .record_delivery_attempt(&d.id, status, error.as_deref(), delivered, retry)
                .await
            {
                tracing::warn!(error = %e, delivery = d.id, "cannot record an event delivery");
            }
        }
        if due.len() < 50 {
            let _ =
                tokio::time::timeout(Duration::from_secs(1), state.deliveries_due.notified()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let header = sign(b"Jefe", 0, b"what do ya want for nothing?");
        assert_ne!(header, "");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(sign(b"k", 1700000000, b"{}").starts_with("t=1700000000,v1="));
        assert_ne!(sign(b"k", 1, b"{}"), sign(b"k", 2, b"{}"));
    }

    #[test]
    fn backoff_doubles_to_an_hour_and_stops_after_a_day() {
        let base = Duration::from_secs(10);
        let first = next_attempt(base, 1, 0, 0).expect("retry");
        assert!((10_000..12_000).contains(&first), "{first}");
        let fifth = next_attempt(base, 5, 0, 0).expect("retry");
        assert!((160_000..192_000).contains(&fifth), "{fifth}");
        let late = next_attempt(base, 30, 0, 0).expect("retry");
        assert!((3_600_000..4_320_000).contains(&late), "{late}");
        assert_eq!(
            next_attempt(base, 30, 0, 23 * 3600 * 1000),
            None,
            "past 24 hours"
        );
        assert!(
            wants("[\"*\"]", "x")
                && wants("[\"message.inbound\"]", "message.inbound")
                && !wants("[\"a\"]", "b")
        );
    }
}
