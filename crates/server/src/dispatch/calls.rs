//! Calls through the dispatcher: placing one at a provider, following its status reports
//! (queued → initiated → ringing → in-progress → completed | busy | no-answer | failed |
//! canceled), running built-in instructions on answer for providers that take commands,
//! rating the talk time once it ends, and feeding ASR, ACD and PDD.

use super::{Accepted, Outbound, PlanStep, Rated};
use crate::adapters;
use crate::state::Shared;
use serde::{Deserialize, Serialize};
use switchyard_core::quality::{CallOutcome, Observation};
use switchyard_core::rating::Usage;
use switchyard_providers::capability::{Answer, CallRequest, Instruction};
use switchyard_providers::events::{CallEvent, CallStatus, EventKind, ProviderEvent};
use switchyard_providers::{Adapter, ProviderError};
use switchyard_store::{CallRecord, CallTimes, Dispatched, Outbox, StatusMove, StoreError, now_ms};

/// What a call does when answered, as stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSpec {
    /// The provider fetches instructions from this URL.
    Url(String),
    /// Built-in actions.
    Instructions(Vec<Instruction>),
}

impl AnswerSpec {
    fn to_answer(&self) -> Answer {
        match self {
            AnswerSpec::Url(url) => Answer::Url(url.clone()),
            AnswerSpec::Instructions(steps) => Answer::Instructions(steps.clone()),
        }
    }
}

/// The API's name for a provider's call status.
pub fn status_name(status: CallStatus) -> &'static str {
    match status {
        CallStatus::Initiated => "initiated",
        CallStatus::Ringing => "ringing",
        CallStatus::Answered => "in-progress",
        CallStatus::Completed => "completed",
        CallStatus::Busy => "busy",
        CallStatus::NoAnswer => "no-answer",
        CallStatus::Failed => "failed",
        CallStatus::Canceled => "canceled",
    }
}

fn answer_of(call: &CallRecord) -> Option<AnswerSpec> {
    serde_json::from_str(&call.answer).ok()
}

#[async_trait::async_trait]
impl Outbound for CallRecord {
    const OUTBOX: Outbox = Outbox::Calls;
    const FINAL_RANK: i64 = 4;

    /// queued 0, initiated 1, ringing 2, in-progress 3, finals 4.
    fn rank(status: &str) -> i64 {
        match status {
            "queued" => 0,
            "initiated" => 1,
            "ringing" => 2,
            "in-progress" => 3,
            _ => 4,
        }
    }

    super::stored_entry_fields!();

    async fn load(state: &Shared, id: &str) -> Result<Option<Self>, StoreError> {
        state.store.call_by_id(id).await
    }

    async fn still_wanted(&self, state: &Shared) -> Result<bool, StoreError> {
        Ok(state
            .store
            .call_by_id(&self.id)
            .await?
            .is_some_and(|c| c.status != "canceled"))
    }

    async fn send(
        &self,
        adapter: &Adapter,
        step: &PlanStep,
        idempotency_key: String,
    ) -> Option<Result<Accepted, ProviderError>> {
        let voice = adapter.voice.as_ref()?;
        let answer = answer_of(self)?;
        let request = CallRequest {
            to: self.to.clone(),
            from: step.from.clone(),
            // Providers that take commands get the instructions on answer instead.
            answer: if voice.answers_by_command() {
                Answer::Instructions(Vec::new())
            } else {
                answer.to_answer()
            },
            ring_timeout_secs: u32::try_from(self.ring_timeout_secs).unwrap_or(30),
            idempotency_key,
            client_state: Some(self.id.clone()),
        };
        Some(voice.create_call(&request).await.map(|placed| Accepted {
            provider_ref: placed.call_id,
            status: match status_name(placed.status) {
                // Acceptance is never final: a final status comes from a report.
                "ringing" => "ringing",
                "in-progress" => "in-progress",
                _ => "initiated",
            },
        }))
    }

    async fn reconcile(
        state: &Shared,
        org_id: &str,
        provider_id: &str,
        adapter: &Adapter,
        provider_ref: &str,
    ) -> Option<Result<(), StoreError>> {
        let now = match adapter.voice.as_ref()?.call_status(provider_ref).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(provider = provider_id, error = %e, "call status lookup failed");
                return None;
            }
        };
        let update = CallEvent {
            call_id: provider_ref.to_string(),
            status: now.status,
            duration_secs: now.duration_secs,
            price: now.price,
            reason: None,
            client_state: None,
        };
        Some(apply_status(state, org_id, provider_id, &update, None).await)
    }

    async fn accepted(
        &self,
        state: &Shared,
        step: &PlanStep,
        accepted: &Accepted,
    ) -> Result<(), StoreError> {
        if !self.still_wanted(state).await? {
            // Hung up through the API while the provider was taking it.
            hang_up_at(
                state,
                &self.org_id,
                &step.provider_id,
                &accepted.provider_ref,
            )
            .await;
        }
        super::catch_up(
            state,
            &self.org_id,
            &step.provider_id,
            &accepted.provider_ref,
        )
        .await
    }

    async fn announce(state: &Shared, id: &str) {
        if let Ok(Some(now)) = state.store.call_by_id(id).await {
            announce(state, &now).await;
        }
    }
}

async fn announce(state: &Shared, c: &CallRecord) {
    if let Err(e) = crate::events_out::status(state, &c.org_id, "call", c, &c.metadata).await {
        tracing::warn!(call = c.id, error = ?e.message, "call.status not queued");
    }
}

async fn voice_of(
    state: &Shared,
    org_id: &str,
    provider_id: &str,
) -> Option<std::sync::Arc<dyn switchyard_providers::capability::Voice>> {
    let record = state.store.provider(org_id, provider_id).await.ok()??;
    adapters::adapter_for(state, &record).ok()?.voice
}

async fn hang_up_at(state: &Shared, org_id: &str, provider_id: &str, call_id: &str) {
    match voice_of(state, org_id, provider_id).await {
        Some(voice) => {
            if let Err(e) = voice.hangup(call_id).await {
                tracing::warn!(provider = provider_id, call_id, error = %e, "hangup failed");
            }
        }
        None => tracing::warn!(
            provider = provider_id,
            call_id,
            "no voice adapter to hang up"
        ),
    }
}

/// Why a hangup request could not be carried out.
#[derive(Debug)]
pub enum HangupError {
    /// The call already ended.
    Ended(String),
    /// The provider refused.
    Provider(ProviderError),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for HangupError {
    fn from(e: StoreError) -> Self {
        HangupError::Store(e)
    }
}

/// Ends a call: before a provider took it, it is canceled here (and hung up at the provider
/// should one take it meanwhile); after, the provider is told to hang up and its report
/// moves the status.
pub async fn hang_up(state: &Shared, call: &CallRecord) -> Result<(), HangupError> {
    if CallRecord::rank(&call.status) == CallRecord::FINAL_RANK {
        return Err(HangupError::Ended(call.status.clone()));
    }
    let (Some(provider_id), Some(call_id)) = (&call.provider_id, &call.provider_call_id) else {
        state
            .store
            .finish_dispatch(
                Outbox::Calls,
                &call.id,
                &Dispatched {
                    status: "canceled",
                    rank: CallRecord::FINAL_RANK,
                    provider_id: None,
                    from: None,
                    provider_ref: None,
                    error: None,
                    cost: None,
                },
            )
            .await?;
        CallRecord::announce(state, &call.id).await;
        return Ok(());
    };
    let voice = voice_of(state, &call.org_id, provider_id)
        .await
        .ok_or_else(|| {
            HangupError::Provider(ProviderError::refused(
                "switchyard",
                "the call's provider was removed or cannot place calls",
            ))
        })?;
    voice.hangup(call_id).await.map_err(HangupError::Provider)
}

/// Applies a provider's status report to the call it is about (if the call is known yet):
/// never backwards; records when it rang, was answered and ended; performs built-in
/// instructions on answer for providers that take commands; rates the talk time and feeds
/// quality statistics when it ends; tells the organisation of each change.
pub async fn apply_status(
    state: &Shared,
    org_id: &str,
    provider_id: &str,
    update: &CallEvent,
    occurred_at_ms: Option<i64>,
) -> Result<(), StoreError> {
    let store = &state.store;
    let Some(id) = store
        .find_by_reference(Outbox::Calls, provider_id, &update.call_id)
        .await?
    else {
        return Ok(());
    };
    let Some(before) = store.call_by_id(&id).await? else {
        return Ok(());
    };
    let now = now_ms();
    let mut times = CallTimes::default();
    match update.status {
        CallStatus::Ringing => times.ringing_at = Some(now),
        CallStatus::Answered => times.answered_at = Some(now),
        s if s.is_final() => {
            times.ended_at = Some(now);
            times.duration_secs = match update.duration_secs {
                Some(secs) => Some(i64::from(secs)),
                None => talk_time(state, provider_id, &before, occurred_at_ms, now).await?,
            };
        }
        _ => {}
    }
    store.record_call_times(&id, &times).await?;
    // As stored now: each moment keeps its first value.
    let mut call = before;
    let kept = call.times;
    call.times = CallTimes {
        ringing_at: kept.ringing_at.or(times.ringing_at),
        answered_at: kept.answered_at.or(times.answered_at),
        ended_at: kept.ended_at.or(times.ended_at),
        duration_secs: kept.duration_secs.or(times.duration_secs),
    };
    let status = status_name(update.status);
    let price = update
        .price
        .as_ref()
        .map(|p| format!("{} {}", p.amount.abs(), p.currency));
    let ending = if update.status.is_final() {
        Some(ending(state, &call, update).await)
    } else {
        None
    };
    let rated = ending.as_ref().and_then(|e| e.rated.as_ref());
    // Flagged before the status moves, so whoever sees the final status sees the flag.
    if let (Some(price), Some(r)) = (&update.price, rated)
        && super::price_differs(Some(&r.cost), price.amount)
    {
        tracing::warn!(call = call.id, cost = r.cost, price = %price.amount, "provider price differs from the rated cost");
        store.flag_price_mismatch(Outbox::Calls, &call.id).await?;
    }
    let moved = store
        .advance_status(
            Outbox::Calls,
            &id,
            &StatusMove {
                status,
                rank: CallRecord::rank(status),
                error_code: update
                    .reason
                    .as_deref()
                    .filter(|_| update.status != CallStatus::Completed),
                price: price.as_deref(),
                cost: rated.map(Rated::text),
            },
        )
        .await?;
    if !moved {
        return Ok(());
    }
    if update.status == CallStatus::Answered
        && let Some(AnswerSpec::Instructions(steps)) = answer_of(&call)
        && let Some(voice) = voice_of(state, org_id, provider_id).await
        && voice.answers_by_command()
        && let Err(e) = voice.perform(&update.call_id, &steps).await
    {
        tracing::warn!(call = call.id, error = %e, "answer instructions not performed");
    }
    if let Some(ending) = &ending {
        crate::spend::settle(
            state,
            &call.decision,
            Some(provider_id),
            rated.map(|r| (r.cost.as_str(), r.currency.as_str())),
        )
        .await;
        if let Some(outcome) = ending.outcome {
            let pdd_ms = pdd(state, &call).await?;
            let observation = Observation::Call { outcome, pdd_ms };
            super::observe(state, org_id, provider_id, &call.to, observation).await;
        }
    }
    if let Some(now) = store.call_by_id(&id).await? {
        announce(state, &now).await;
        if ending.is_some() {
            crate::spam_watch::after_call(state, &now).await;
        }
    }
    Ok(())
}

/// Seconds from answer to end, rounded up, for providers that report no billable seconds:
/// on the provider's own clock (its answer and end events), else on ours. `None` for a call
/// never answered.
async fn talk_time(
    state: &Shared,
    provider_id: &str,
    call: &CallRecord,
    ended_at_ms: Option<i64>,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let Some(answered_here) = call.times.answered_at else {
        return Ok(None);
    };
    let reference = call.provider_call_id.as_deref().unwrap_or_default();
    let answered_there = state
        .store
        .events_about(provider_id, reference)
        .await?
        .iter()
        .filter_map(|detail| serde_json::from_str::<ProviderEvent>(detail).ok())
        .find_map(|e| match e.kind {
            EventKind::Call(c) if c.status == CallStatus::Answered => e.occurred_at_ms,
            _ => None,
        });
    let ms = match (answered_there, ended_at_ms) {
        (Some(from), Some(to)) => to - from,
        _ => now - answered_here,
    };
    Ok(Some((ms.max(0) + 999) / 1000))
}

/// Talk time of an ended call.
fn talk_secs(call: &CallRecord) -> u32 {
    call.times
        .duration_secs
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0)
}

/// What an ended call cost and what its end says of the network.
struct Ending {
    rated: Option<Rated>,
    outcome: Option<CallOutcome>,
}

async fn ending(state: &Shared, call: &CallRecord, update: &CallEvent) -> Ending {
    // A lost answer report still shows in the talk time the provider reports at the end.
    let answered = update.status == CallStatus::Completed
        && (call.times.answered_at.is_some() || call.times.duration_secs.is_some_and(|d| d > 0));
    let duration_secs = if answered { talk_secs(call) } else { 0 };
    let usage = Usage::Call {
        answered,
        duration_secs,
    };
    let provider_id = call.provider_id.as_deref().unwrap_or_default();
    let rated = super::rate(
        state,
        &call.org_id,
        &call.to,
        switchyard_core::Channel::Voice,
        usage,
        provider_id,
        &call.plan,
    )
    .await;
    let outcome = match update.status {
        CallStatus::Completed if answered => Some(CallOutcome::Answered { duration_secs }),
        CallStatus::Busy => Some(CallOutcome::Busy),
        CallStatus::NoAnswer => Some(CallOutcome::NoAnswer),
        CallStatus::Failed => Some(CallOutcome::Failed),
        // Canceled by us, or completed unanswered: says nothing of the network.
        _ => None,
    };
    Ending { rated, outcome }
}

/// Post-dial delay: from the accepted attempt to the first ring.
async fn pdd(state: &Shared, call: &CallRecord) -> Result<Option<u32>, StoreError> {
    let dialled = state
        .store
        .attempts(Outbox::Calls, &call.id)
        .await?
        .into_iter()
        .rfind(|a| a.status == "accepted")
        .map(|a| a.started_at);
    Ok(call
        .times
        .ringing_at
        .zip(dialled)
        .and_then(|(rang, dialled)| u32::try_from(rang - dialled).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_stored_in_a_stable_shape() {
        let spec = AnswerSpec::Instructions(vec![Instruction::Say {
            text: "hi".into(),
            language: None,
        }]);
        assert_eq!(
            serde_json::to_string(&spec).ok().as_deref(),
            Some(r#"{"instructions":[{"action":"say","text":"hi"}]}"#)
        );
        assert_eq!(
            serde_json::from_str::<AnswerSpec>(r#"{"url":"https://x.test/a"}"#).ok(),
            Some(AnswerSpec::Url("https://x.test/a".into()))
        );
    }
}
