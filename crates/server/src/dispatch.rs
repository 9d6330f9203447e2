//! Sending a stored message: through each provider of its plan in turn until one takes it.
//!
//! Every attempt is written before its provider is called. A failure the provider surely
//! did not act on (a refusal, 429, 503, a connection that never opened) moves on to the next
//! provider at once; a permanent one (invalid or opted-out recipient) ends the message as
//! failed; one the provider may have acted on (another 5xx, a timeout after sending, or an
//! attempt a crash interrupted) ends it as `unconfirmed` rather than risk sending it twice.
//! Each outcome moves the provider's health.

use crate::adapters;
use crate::state::Shared;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchyard_core::quality::Observation;
use switchyard_providers::ErrorClass;
use switchyard_providers::capability::{MessageChannel, MessageRequest};
use switchyard_providers::events::{EventKind, MessageEvent, MessageStatus, ProviderEvent};
use switchyard_store::{AttemptOutcome, MessageRecord};

/// How long a dispatcher holds a message before another instance may take it over.
pub const LEASE_MS: i64 = 30_000;

/// One step of a message's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    /// Provider to try.
    pub provider_id: String,
    /// Sender number at that provider.
    pub from: String,
}

/// Store rank of a message status (accepted 0, queued 1, sent 2, finals 3).
pub fn rank(status: &str) -> i64 {
    match status {
        "accepted" => 0,
        "queued" => 1,
        "sent" => 2,
        _ => 3,
    }
}

fn channel(name: &str) -> MessageChannel {
    match name {
        "mms" => MessageChannel::Mms,
        "whatsapp" => MessageChannel::Whatsapp,
        _ => MessageChannel::Sms,
    }
}

async fn observe(state: &Shared, org: &str, provider_id: &str, ok: bool, to: &str) {
    if let Ok(routing) = state.routing.for_org(org).await
        && let Some(cell) = routing.router.current().live(&provider_id.into())
    {
        let country = switchyard_core::number::parse_e164(to)
            .ok()
            .map(|n| n.country_code());
        cell.observe(
            Observation::Request { ok },
            country,
            chrono::Utc::now().timestamp_millis(),
        );
    }
}

/// Rates a message on `provider_id`'s deck and on the baseline: the organisation's
/// reference provider, or the dearest provider of the plan. `None` without an open rate.
async fn rate(
    state: &Shared,
    m: &MessageRecord,
    provider_id: &str,
) -> Option<(String, Option<String>, String)> {
    let routing = state.routing.for_org(&m.org_id).await.ok()?;
    let snapshot = routing.router.current();
    let channel: switchyard_core::Channel = m.channel.parse().ok()?;
    let digits = m.to.trim_start_matches('+');
    let usage = switchyard_core::rating::Usage::Message {
        segments: u32::try_from(m.segments).unwrap_or(1),
    };
    let now = chrono::Utc::now().timestamp_millis();
    let on = |id: &str| {
        snapshot
            .rate_event(&id.into(), digits, channel, usage, now)
            .map(|c| c.total)
    };
    let cost = on(provider_id)?;
    let baseline = match &snapshot.policy().baseline_provider {
        Some(reference) => on(reference),
        None => serde_json::from_str::<Vec<PlanStep>>(&m.plan)
            .unwrap_or_default()
            .iter()
            .filter_map(|step| on(&step.provider_id))
            .max_by(|a, b| a.amount.cmp(&b.amount)),
    };
    Some((
        cost.amount.normalize().to_string(),
        baseline.map(|b| b.amount.normalize().to_string()),
        cost.currency.to_string(),
    ))
}

fn outcome(status: &'static str) -> AttemptOutcome {
    AttemptOutcome {
        status,
        ..AttemptOutcome::default()
    }
}

/// Works through the plan of a message whose lease this instance holds.
pub async fn dispatch(state: Shared, m: MessageRecord) {
    if let Err(e) = try_dispatch(&state, &m).await {
        // The lease runs out and the recovery worker takes it up again.
        tracing::warn!(message = m.id, error = %e, "dispatch interrupted");
        return;
    }
    // Tell the organisation where it stands now (queued, or failed without a provider).
    if let Ok(Some(now)) = state.store.message(&m.org_id, &m.id).await
        && let Err(e) = crate::events_out::message_status(&state, &now).await
    {
        tracing::warn!(message = m.id, error = ?e.message, "message.status not queued");
    }
}

async fn try_dispatch(
    state: &Shared,
    m: &MessageRecord,
) -> Result<(), switchyard_store::StoreError> {
    let store = &state.store;
    let plan: Vec<PlanStep> = serde_json::from_str(&m.plan).unwrap_or_default();
    let attempts = store.message_attempts(&m.id).await?;
    if let Some(last) = attempts.last().filter(|a| a.status == "sending") {
        // A crash between writing the attempt and hearing back: the provider may have it.
        let id = format!("{}:{}", m.id, last.seq);
        tracing::warn!(
            message = m.id,
            provider = last.provider_id,
            "interrupted attempt found"
        );
        store
            .finish_dispatch(
                &m.id,
                "unconfirmed",
                3,
                Some(&last.provider_id),
                Some(&last.from),
                None,
                Some((
                    "interrupted",
                    &format!("attempt {id} was interrupted; the provider may have sent it"),
                )),
            )
            .await?;
        return Ok(());
    }
    let media: Vec<String> = serde_json::from_str(&m.media).unwrap_or_default();
    for (seq, step) in plan
        .iter()
        .enumerate()
        .skip(usize::try_from(m.next_candidate).unwrap_or(usize::MAX))
    {
        let seq = seq as i64;
        let attempt = store
            .begin_attempt(&m.id, seq, &step.provider_id, &step.from)
            .await?;
        let messaging = match store.provider(&m.org_id, &step.provider_id).await? {
            Some(record) => adapters::adapter_for(state, &record)
                .ok()
                .and_then(|a| a.messaging),
            None => None,
        };
        let Some(messaging) = messaging else {
            let mut failed = outcome("failed");
            failed.error_code = Some("provider_unavailable".into());
            failed.error_message = Some("the provider was removed or cannot send messages".into());
            store.finish_attempt(&attempt, &m.id, &failed).await?;
            continue;
        };
        let request = MessageRequest {
            channel: channel(&m.channel),
            to: m.to.clone(),
            from: step.from.clone(),
            body: m.body.clone(),
            media_urls: media.clone(),
            idempotency_key: format!("{}:{seq}", m.id),
        };
        let sent = messaging.send_message(&request).await;
        observe(state, &m.org_id, &step.provider_id, sent.is_ok(), &m.to).await;
        match sent {
            Ok(accepted) => {
                let mut ok = outcome("accepted");
                ok.provider_message_id = Some(accepted.message_id.clone());
                store.finish_attempt(&attempt, &m.id, &ok).await?;
                let status = match accepted.status {
                    MessageStatus::Sent => "sent",
                    _ => "queued",
                };
                store
                    .finish_dispatch(
                        &m.id,
                        status,
                        rank(status),
                        Some(&step.provider_id),
                        Some(&step.from),
                        Some(&accepted.message_id),
                        None,
                    )
                    .await?;
                if let Some((cost, baseline, currency)) = rate(state, m, &step.provider_id).await {
                    store
                        .set_message_cost(&m.id, &cost, baseline.as_deref(), &currency)
                        .await?;
                }
                catch_up(state, m, &step.provider_id, &accepted.message_id).await?;
                metrics::counter!("switchyard_messages_dispatched_total", "outcome" => "accepted", "failovers" => seq.to_string()).increment(1);
                return Ok(());
            }
            Err(e) => {
                let class = serde_json::to_value(e.class)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned));
                let mut failed =
                    outcome(if e.may_fail_over() || e.class == ErrorClass::Permanent {
                        "failed"
                    } else {
                        "unknown"
                    });
                failed.error_class = class;
                failed.error_code = e.code.clone();
                failed.error_message = Some(e.message.clone());
                store.finish_attempt(&attempt, &m.id, &failed).await?;
                if e.may_fail_over() {
                    tracing::info!(message = m.id, provider = step.provider_id, error = %e, "failing over");
                    continue;
                }
                let (status, code) = if e.class == ErrorClass::Permanent {
                    (
                        "failed",
                        e.code.clone().unwrap_or_else(|| "rejected".into()),
                    )
                } else {
                    ("unconfirmed", "maybe_accepted".to_string())
                };
                store
                    .finish_dispatch(
                        &m.id,
                        status,
                        3,
                        Some(&step.provider_id),
                        Some(&step.from),
                        None,
                        Some((&code, &e.message)),
                    )
                    .await?;
                metrics::counter!("switchyard_messages_dispatched_total", "outcome" => status, "failovers" => seq.to_string()).increment(1);
                return Ok(());
            }
        }
    }
    store
        .finish_dispatch(
            &m.id,
            "failed",
            3,
            None,
            None,
            None,
            Some((
                "no_provider_left",
                "every provider in the plan failed or refused",
            )),
        )
        .await?;
    metrics::counter!("switchyard_messages_dispatched_total", "outcome" => "exhausted", "failovers" => plan.len().to_string()).increment(1);
    Ok(())
}

/// Applies a provider's status report to the message it is about (if the message is known
/// yet): never backwards; the organisation hears of each change; final statuses feed the
/// provider's delivery ratio, and a provider price more than 1 % from the rated cost is
/// flagged.
pub async fn apply_status(
    state: &Shared,
    org_id: &str,
    provider_id: &str,
    update: &MessageEvent,
) -> Result<(), switchyard_store::StoreError> {
    let status = serde_json::to_value(update.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let price = update
        .price
        .as_ref()
        .map(|p| format!("{} {}", p.amount, p.currency));
    let Some(message) = state
        .store
        .apply_message_status(
            provider_id,
            &update.message_id,
            &status,
            rank(&status),
            update.error_code.as_deref(),
            price.as_deref(),
        )
        .await?
    else {
        return Ok(());
    };
    if let Some(price) = &update.price
        && let Some(cost) = message
            .cost
            .as_deref()
            .and_then(|c| c.parse::<rust_decimal::Decimal>().ok())
        && !cost.is_zero()
        && ((price.amount - cost).abs() / cost) > rust_decimal::Decimal::new(1, 2)
    {
        tracing::warn!(message = message.id, %cost, price = %price.amount, "provider price differs from the rated cost");
        state.store.flag_price_mismatch(&message.id).await?;
    }
    if let Err(e) = crate::events_out::message_status(state, &message).await {
        tracing::warn!(message = message.id, error = ?e.message, "message.status not queued");
    }
    if update.status.is_final()
        && let Ok(routing) = state.routing.for_org(org_id).await
        && let Some(cell) = routing.router.current().live(&provider_id.into())
    {
        let delivered = update.status == MessageStatus::Delivered;
        let country = switchyard_core::number::parse_e164(&message.to)
            .ok()
            .map(|n| n.country_code());
        cell.observe(
            Observation::Message { delivered },
            country,
            chrono::Utc::now().timestamp_millis(),
        );
    }
    Ok(())
}

/// Applies the reports a provider sent about a message before its acceptance was
/// recorded (fast providers send receipts before their API answer is processed).
async fn catch_up(
    state: &Shared,
    m: &MessageRecord,
    provider_id: &str,
    provider_message_id: &str,
) -> Result<(), switchyard_store::StoreError> {
    for detail in state
        .store
        .events_about(provider_id, provider_message_id)
        .await?
    {
        if let Ok(ProviderEvent {
            kind: EventKind::Message(update),
            ..
        }) = serde_json::from_str::<ProviderEvent>(&detail)
        {
            apply_status(state, &m.org_id, provider_id, &update).await?;
        }
    }
    Ok(())
}

/// Takes over messages whose dispatcher died (their lease ran out) until the task is
/// dropped.
pub async fn recover(state: Shared) {
    loop {
        match state.store.claim_stranded_messages(50, LEASE_MS).await {
            Ok(list) => {
                for m in list {
                    tracing::info!(message = m.id, "resuming a stranded message");
                    tokio::spawn(dispatch(state.clone(), m));
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot claim stranded messages"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
