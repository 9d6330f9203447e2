//! Sending a stored message or call: through each provider of its plan in turn until one
//! takes it.
//!
//! Every attempt is written before its provider is called. A failure the provider surely
//! did not act on (a refusal, 429, 503, a connection that never opened) moves on to the next
//! provider at once; a permanent one (invalid or opted-out recipient) ends the entry as
//! failed; one the provider may have acted on (another 5xx, a timeout after sending, or an
//! attempt a crash interrupted) ends it as `unconfirmed` rather than risk sending it twice.
//! Each outcome moves the provider's health.

pub mod calls;
pub mod emails;
pub mod messages;

use crate::adapters;
use crate::state::Shared;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchyard_core::quality::Observation;
use switchyard_core::rating::Usage;
use switchyard_providers::events::{EventKind, ProviderEvent};
use switchyard_providers::{Adapter, ErrorClass, ProviderError};
use switchyard_store::{AttemptOutcome, Dispatched, Outbox, StoreError};

/// How long a dispatcher holds an entry before another instance may take it over; renewed
/// at each attempt, and longer than one attempt can take (three tries of ten seconds).
pub const LEASE_MS: i64 = 45_000;

/// One step of an entry's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    /// Provider to try.
    pub provider_id: String,
    /// Sender number at that provider.
    pub from: String,
    /// For a pool number kept for failover: the use to reserve before the step is tried
    /// (the step is skipped if the number's cap was reached meanwhile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve: Option<UseReservation>,
}

/// One use of a pool number, counted against its daily cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseReservation {
    /// Number id.
    pub number_id: String,
    /// Local day of the number (`YYYY-MM-DD`).
    pub day: String,
    /// Channel counted.
    pub channel: String,
    /// The number's cap that day.
    pub cap: u32,
}

/// What a provider said when it took an entry.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The provider's id for it.
    pub provider_ref: String,
    /// Status to record.
    pub status: &'static str,
}

/// The [`Outbound`] accessors of a stored entry whose fields bear the same names (`id`,
/// `org_id`, `to`, `plan`, `decision`, `next_candidate`), as messages, calls and emails do.
macro_rules! stored_entry_fields {
    () => {
        fn id(&self) -> &str {
            &self.id
        }

        fn org_id(&self) -> &str {
            &self.org_id
        }

        fn to(&self) -> &str {
            &self.to
        }

        fn plan(&self) -> &str {
            &self.plan
        }

        fn decision(&self) -> &str {
            &self.decision
        }

        fn next_candidate(&self) -> i64 {
            self.next_candidate
        }
    };
}
pub(crate) use stored_entry_fields;

/// A message, a call or an email, as the dispatcher sees it.
#[async_trait::async_trait]
pub trait Outbound: Send + Sync + Sized + 'static {
    /// Where it is stored.
    const OUTBOX: Outbox;
    /// Rank of its final statuses (every final status shares it).
    const FINAL_RANK: i64;
    /// Rank of a status, so that a status never moves backwards.
    fn rank(status: &str) -> i64;
    /// Its id.
    fn id(&self) -> &str;
    /// Owner.
    fn org_id(&self) -> &str;
    /// Destination.
    fn to(&self) -> &str;
    /// JSON plan.
    fn plan(&self) -> &str;
    /// JSON routing decision (with the budget admissions the send is settled against).
    fn decision(&self) -> &str;
    /// Index of the next step of the plan.
    fn next_candidate(&self) -> i64;
    /// Whether it should still go out (a call hung up before dialling should not).
    async fn still_wanted(&self, _state: &Shared) -> Result<bool, StoreError> {
        Ok(true)
    }
    /// Reads it back.
    async fn load(state: &Shared, id: &str) -> Result<Option<Self>, StoreError>;
    /// Hands it to one provider; `None` when that provider cannot carry it.
    async fn send(
        &self,
        adapter: &Adapter,
        step: &PlanStep,
        idempotency_key: String,
    ) -> Option<Result<Accepted, ProviderError>>;
    /// Asks the provider whether it already has this entry, sent from `step` at or after
    /// `since_ms`: `None` when this kind of entry cannot be looked up.
    async fn lookup(
        &self,
        adapter: &Adapter,
        step: &PlanStep,
        since_ms: i64,
    ) -> Option<Result<Option<Accepted>, ProviderError>> {
        let _ = (adapter, step, since_ms);
        None
    }
    /// Asks the provider where the entry it knows as `provider_ref` stands now, and applies
    /// the answer as if it were a report; `None` when the provider cannot be asked.
    async fn reconcile(
        state: &Shared,
        org_id: &str,
        provider_id: &str,
        adapter: &Adapter,
        provider_ref: &str,
    ) -> Option<Result<(), StoreError>>;
    /// What it costs once a provider takes it, when that is known then (messages; a call is
    /// rated when it ends).
    async fn rate_on_acceptance(&self, _state: &Shared, _step: &PlanStep) -> Option<Rated> {
        None
    }
    /// What follows a provider's acceptance (early reports, a hangup requested meanwhile).
    async fn accepted(
        &self,
        state: &Shared,
        step: &PlanStep,
        accepted: &Accepted,
    ) -> Result<(), StoreError>;
    /// Tells the organisation where it stands now.
    async fn announce(state: &Shared, id: &str);
}

/// Feeds an observation about a provider (to `to`'s country) into its live statistics and,
/// for API requests, its health.
async fn observe(state: &Shared, org: &str, provider_id: &str, to: &str, observation: Observation) {
    if let Ok(routing) = state.routing.for_org(org).await
        && let Some(cell) = routing.router.current().live(&provider_id.into())
    {
        let country = switchyard_core::number::parse_e164(to)
            .ok()
            .map(|n| n.country_code());
        cell.observe(observation, country, chrono::Utc::now().timestamp_millis());
    }
}

/// Whether the provider's circuit breaker is open now (it failed repeatedly since this
/// entry was routed): the dispatcher then skips it while later steps remain.
async fn breaker_open(state: &Shared, org: &str, provider_id: &str) -> bool {
    let Ok(routing) = state.routing.for_org(org).await else {
        return false;
    };
    let now = chrono::Utc::now().timestamp_millis();
    routing
        .router
        .current()
        .live(&provider_id.into())
        .is_some_and(|cell| {
            matches!(
                cell.health_view(now).breaker,
                switchyard_core::health::BreakerState::Open { .. }
            )
        })
}

/// A rated cost and its baseline, as decimal text, with their currency, and the cost as an
/// invoice line.
pub struct Rated {
    /// Cost on the provider used.
    pub cost: String,
    /// Cost on the baseline.
    pub baseline: Option<String>,
    /// Currency.
    pub currency: String,
    /// The cost as an invoice line, kept with it.
    pub line: switchyard_store::CostComponent,
}

impl Rated {
    /// As the store takes it.
    pub fn text(&self) -> switchyard_store::CostText<'_> {
        switchyard_store::CostText {
            cost: &self.cost,
            baseline: self.baseline.as_deref(),
            currency: &self.currency,
            line: Some(&self.line),
        }
    }
}

/// Rates usage on `provider_id`'s deck and on the baseline: the organisation's reference
/// provider, or the dearest provider of the plan. `None` without an open rate.
pub async fn rate(
    state: &Shared,
    org: &str,
    to: &str,
    channel: switchyard_core::Channel,
    usage: Usage,
    provider_id: &str,
    plan: &str,
) -> Option<Rated> {
    use switchyard_core::rating::{breakdown, rate_usage};
    let routing = state.routing.for_org(org).await.ok()?;
    let snapshot = routing.router.current();
    let digits = to.trim_start_matches('+');
    let now = chrono::Utc::now().timestamp_millis();
    let on = |id: &str| {
        snapshot
            .rate_event(&id.into(), digits, channel, usage, now)
            .map(|c| c.total)
    };
    let terms = snapshot.terms_for(&provider_id.into(), digits, channel, now)?;
    let cost = rate_usage(&terms, usage).total;
    let baseline = match &snapshot.policy().baseline_provider {
        Some(reference) => on(reference),
        None => serde_json::from_str::<Vec<PlanStep>>(plan)
            .unwrap_or_default()
            .iter()
            .filter_map(|step| on(&step.provider_id))
            .max_by(|a, b| a.amount.cmp(&b.amount)),
    };
    let part = breakdown(&terms, usage);
    let component = match channel {
        switchyard_core::Channel::Voice => "telephony",
        switchyard_core::Channel::Email => "email",
        _ => "messaging",
    };
    let amount = cost.amount.normalize().to_string();
    Some(Rated {
        baseline: baseline.map(|b| b.amount.normalize().to_string()),
        currency: cost.currency.to_string(),
        line: switchyard_store::CostComponent {
            component: component.into(),
            provider_id: provider_id.to_owned(),
            period: String::new(),
            quantity: part.quantity.to_string(),
            unit: part.unit.into(),
            unit_price: part.unit_price.normalize().to_string(),
            fee: part.fee.normalize().to_string(),
            amount: amount.clone(),
            currency: cost.currency.to_string(),
            created_at: now,
        },
        cost: amount,
    })
}

/// Whether a provider's price is more than 1 % away from the rated cost.
pub fn price_differs(rated: Option<&str>, price: rust_decimal::Decimal) -> bool {
    rated
        .and_then(|c| c.parse::<rust_decimal::Decimal>().ok())
        .filter(|cost| !cost.is_zero())
        .is_some_and(|cost| ((price.abs() - cost).abs() / cost) > rust_decimal::Decimal::new(1, 2))
}

/// Works through the plan of an entry whose lease this instance holds.
pub async fn dispatch<T: Outbound>(state: Shared, item: T) {
    if let Err(e) = try_dispatch(&state, &item).await {
        // The lease runs out and the recovery worker takes it up again.
        tracing::warn!(id = item.id(), error = %e, "dispatch interrupted");
        return;
    }
    T::announce(&state, item.id()).await;
}

fn metric(outbox: Outbox, outcome: &'static str, failovers: usize) {
    let kind = match outbox {
        Outbox::Messages => "message",
        Outbox::Calls => "call",
        Outbox::Emails => "email",
    };
    metrics::counter!("switchyard_dispatched_total", "kind" => kind, "outcome" => outcome, "failovers" => failovers.to_string()).increment(1);
}

/// How dispatching ends when no provider took the entry.
fn given_up<'a, T: Outbound>(
    status: &'a str,
    last: Option<(&'a str, &'a str)>,
    error: (&'a str, &'a str),
) -> Dispatched<'a> {
    Dispatched {
        status,
        rank: T::FINAL_RANK,
        provider_id: last.map(|l| l.0),
        from: last.map(|l| l.1),
        provider_ref: None,
        error: Some(error),
        cost: None,
    }
}

/// Ends dispatching without a provider having taken the entry.
async fn give_up<T: Outbound>(
    state: &Shared,
    item: &T,
    status: &str,
    last: Option<(&str, &str)>,
    error: (&str, &str),
) -> Result<(), StoreError> {
    state
        .store
        .finish_dispatch(T::OUTBOX, item.id(), &given_up::<T>(status, last, error))
        .await?;
    // It never went out: its budgets get back what they admitted.
    crate::spend::settle(state, item.decision(), None, None).await;
    Ok(())
}

async fn adapter_of(
    state: &Shared,
    org: &str,
    provider_id: &str,
) -> Result<Option<Adapter>, StoreError> {
    Ok(match state.store.provider(org, provider_id).await? {
        Some(record) => adapters::adapter_for(state, &record).ok(),
        None => None,
    })
}

/// Records that a provider took the entry, and what follows.
async fn take<T: Outbound>(
    state: &Shared,
    item: &T,
    attempt_id: &str,
    step: &PlanStep,
    accepted: &Accepted,
) -> Result<(), StoreError> {
    let store = &state.store;
    let ok = AttemptOutcome {
        status: "accepted",
        provider_ref: Some(accepted.provider_ref.clone()),
        ..AttemptOutcome::default()
    };
    let rated = item.rate_on_acceptance(state, step).await;
    let done = Dispatched {
        status: accepted.status,
        rank: T::rank(accepted.status),
        provider_id: Some(&step.provider_id),
        from: Some(&step.from),
        provider_ref: Some(&accepted.provider_ref),
        error: None,
        cost: rated.as_ref().map(Rated::text),
    };
    store
        .finish_attempt(T::OUTBOX, attempt_id, item.id(), &ok, Some(&done))
        .await?;
    if let Some(r) = &rated {
        // Rated on acceptance (messages): its budgets count what it cost now. Calls are
        // settled when they end.
        crate::spend::settle(
            state,
            item.decision(),
            Some(&step.provider_id),
            Some((&r.cost, &r.currency)),
        )
        .await;
    }
    item.accepted(state, step, accepted).await
}

/// What became of an attempt a crash interrupted.
enum Interrupted {
    /// The provider has it: dispatching is over.
    Taken,
    /// The provider surely does not have it: try the same step again.
    NotSent,
    /// Nobody can tell: given up as `unconfirmed`.
    Unknown,
}

/// Settles an attempt a crash interrupted between writing it and hearing back, by asking
/// the provider whether it has the entry; without an answer the entry ends `unconfirmed`
/// rather than risk sending it twice.
async fn settle_interrupted<T: Outbound>(
    state: &Shared,
    item: &T,
    last: &switchyard_store::Attempt,
) -> Result<Interrupted, StoreError> {
    let step = PlanStep {
        provider_id: last.provider_id.clone(),
        from: last.from.clone(),
        reserve: None,
    };
    let found = match adapter_of(state, item.org_id(), &step.provider_id).await? {
        Some(adapter) => item.lookup(&adapter, &step, last.started_at).await,
        None => None,
    };
    match found {
        Some(Ok(Some(accepted))) => {
            tracing::info!(
                id = item.id(),
                provider = step.provider_id,
                "interrupted attempt reached the provider"
            );
            take(state, item, &last.id, &step, &accepted).await?;
            metric(T::OUTBOX, "recovered", 0);
            Ok(Interrupted::Taken)
        }
        Some(Ok(None)) => {
            tracing::info!(
                id = item.id(),
                provider = step.provider_id,
                "interrupted attempt never reached the provider"
            );
            let not_sent = AttemptOutcome {
                status: "failed",
                error_code: Some("interrupted".into()),
                error_message: Some(
                    "interrupted; the provider confirmed it never received it".into(),
                ),
                retry_step: true,
                ..AttemptOutcome::default()
            };
            state
                .store
                .finish_attempt(T::OUTBOX, &last.id, item.id(), &not_sent, None)
                .await?;
            Ok(Interrupted::NotSent)
        }
        _ => {
            tracing::warn!(
                id = item.id(),
                provider = step.provider_id,
                "interrupted attempt cannot be settled"
            );
            let why = format!(
                "attempt {} at {} was interrupted and the provider cannot say whether it took it",
                last.seq, last.provider_id
            );
            give_up(
                state,
                item,
                "unconfirmed",
                Some((&last.provider_id, &last.from)),
                ("interrupted", &why),
            )
            .await?;
            metric(T::OUTBOX, "unconfirmed", 0);
            Ok(Interrupted::Unknown)
        }
    }
}

async fn try_dispatch<T: Outbound>(state: &Shared, item: &T) -> Result<(), StoreError> {
    let store = &state.store;
    let outbox = T::OUTBOX;
    let plan: Vec<PlanStep> = serde_json::from_str(item.plan()).unwrap_or_default();
    let attempts = store.attempts(outbox, item.id()).await?;
    let mut next_step = usize::try_from(item.next_candidate()).unwrap_or(usize::MAX);
    if let Some(last) = attempts.last().filter(|a| a.status == "sending") {
        match settle_interrupted(state, item, last).await? {
            Interrupted::NotSent => {}
            Interrupted::Taken | Interrupted::Unknown => return Ok(()),
        }
        // finish_attempt left the plan where it was.
    }
    let mut seq = attempts.len() as i64;
    while let Some(step) = plan.get(next_step) {
        if !item.still_wanted(state).await? {
            return Ok(());
        }
        let attempt = store
            .begin_attempt(
                outbox,
                item.id(),
                seq,
                &step.provider_id,
                &step.from,
                LEASE_MS,
            )
            .await?;
        let idempotency_key = format!("{}:{seq}", item.id());
        seq += 1;
        next_step += 1;
        if next_step < plan.len() && breaker_open(state, item.org_id(), &step.provider_id).await {
            let skipped = AttemptOutcome {
                status: "skipped",
                error_code: Some("circuit_open".into()),
                error_message: Some(
                    "not tried: the provider's circuit breaker opened after repeated failures"
                        .into(),
                ),
                ..AttemptOutcome::default()
            };
            store
                .finish_attempt(outbox, &attempt, item.id(), &skipped, None)
                .await?;
            continue;
        }
        if let Some(r) = &step.reserve
            && store
                .reserve_use(&r.number_id, &r.day, &r.channel, r.cap)
                .await?
                .is_none()
        {
            let capped = AttemptOutcome {
                status: "skipped",
                error_code: Some("number_capped".into()),
                error_message: Some(format!(
                    "not tried: {} reached its cap of {} for the day",
                    step.from, r.cap
                )),
                ..AttemptOutcome::default()
            };
            store
                .finish_attempt(outbox, &attempt, item.id(), &capped, None)
                .await?;
            continue;
        }
        let adapter = adapter_of(state, item.org_id(), &step.provider_id).await?;
        let sent_at = switchyard_store::now_ms();
        let sent = match &adapter {
            Some(adapter) => item.send(adapter, step, idempotency_key).await,
            None => None,
        };
        let Some(sent) = sent else {
            let failed = AttemptOutcome {
                status: "failed",
                error_code: Some("provider_unavailable".into()),
                error_message: Some("the provider was removed or cannot carry this".into()),
                ..AttemptOutcome::default()
            };
            store
                .finish_attempt(outbox, &attempt, item.id(), &failed, None)
                .await?;
            continue;
        };
        let ok = sent.is_ok();
        observe(
            state,
            item.org_id(),
            &step.provider_id,
            item.to(),
            Observation::Request { ok },
        )
        .await;
        let e = match sent {
            Ok(accepted) => {
                take(state, item, &attempt, step, &accepted).await?;
                metric(outbox, "accepted", next_step - 1);
                return Ok(());
            }
            Err(e) => e,
        };
        let mut fails_over = e.may_fail_over();
        let ambiguous = !fails_over && e.class != ErrorClass::Permanent;
        if ambiguous && let Some(adapter) = &adapter {
            // The provider may have it (a 500, a timeout after sending): ask it.
            match item.lookup(adapter, step, sent_at).await {
                Some(Ok(Some(accepted))) => {
                    take(state, item, &attempt, step, &accepted).await?;
                    metric(outbox, "recovered", next_step - 1);
                    return Ok(());
                }
                Some(Ok(None)) => fails_over = true,
                _ => {}
            }
        }
        let failed = AttemptOutcome {
            status: if fails_over || e.class == ErrorClass::Permanent {
                "failed"
            } else {
                "unknown"
            },
            error_class: serde_json::to_value(e.class)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned)),
            error_code: e.code.clone(),
            error_message: Some(e.message.clone()),
            ..AttemptOutcome::default()
        };
        if fails_over {
            store
                .finish_attempt(outbox, &attempt, item.id(), &failed, None)
                .await?;
            tracing::info!(id = item.id(), provider = step.provider_id, error = %e, "failing over");
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
        let last = Some((step.provider_id.as_str(), step.from.as_str()));
        let end = given_up::<T>(status, last, (&code, &e.message));
        store
            .finish_attempt(outbox, &attempt, item.id(), &failed, Some(&end))
            .await?;
        metric(outbox, status, next_step - 1);
        return Ok(());
    }
    give_up(
        state,
        item,
        "failed",
        None,
        (
            "no_provider_left",
            "every provider in the plan failed or refused",
        ),
    )
    .await?;
    metric(outbox, "exhausted", plan.len());
    Ok(())
}

/// Applies the reports a provider sent about an entry before its acceptance was recorded
/// (fast providers send receipts before their API answer is processed).
async fn catch_up(
    state: &Shared,
    org_id: &str,
    provider_id: &str,
    provider_ref: &str,
) -> Result<(), StoreError> {
    for detail in state.store.events_about(provider_id, provider_ref).await? {
        let Ok(event) = serde_json::from_str::<ProviderEvent>(&detail) else {
            continue;
        };
        match event.kind {
            EventKind::Message(update) => {
                messages::apply_status(state, org_id, provider_id, &update).await?;
            }
            EventKind::Call(update) => {
                let at = event.occurred_at_ms;
                calls::apply_status(state, org_id, provider_id, &update, at).await?;
            }
            EventKind::Email(update) => {
                let (key, at) = (&event.dedupe_key, event.occurred_at_ms);
                emails::apply_event(state, org_id, provider_id, &update, key, at).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn resume<T: Outbound>(state: &Shared) {
    match state.store.claim_stranded(T::OUTBOX, 50, LEASE_MS).await {
        Ok(ids) => {
            for id in ids {
                match T::load(state, &id).await {
                    Ok(Some(item)) => {
                        tracing::info!(id, "resuming a stranded entry");
                        tokio::spawn(dispatch(state.clone(), item));
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(id, error = %e, "cannot load a stranded entry"),
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot claim stranded entries"),
    }
}

/// How long a message or call may sit without news before its provider is asked.
pub const QUIET_MS: i64 = 60_000;

/// Asks providers about entries whose reports seem lost (sent while no instance listened).
async fn reconcile<T: Outbound>(state: &Shared) {
    let quiet = match state
        .store
        .quiet_in_flight(T::OUTBOX, T::FINAL_RANK, QUIET_MS, 50)
        .await
    {
        Ok(q) => q,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for quiet entries");
            return;
        }
    };
    for (id, org, provider_id, reference) in quiet {
        let adapter = match adapter_of(state, &org, &provider_id).await {
            Ok(Some(a)) => a,
            _ => continue,
        };
        match T::reconcile(state, &org, &provider_id, &adapter, &reference).await {
            Some(Err(e)) => tracing::warn!(id, error = %e, "reconciling failed"),
            Some(Ok(())) => tracing::debug!(id, "reconciled with the provider"),
            None => {}
        }
    }
}

/// A send a provider took that has heard nothing for this long is counted in the usage
/// rollups as it stands (some providers never confirm delivery).
const TALLY_QUIET_MS: i64 = 24 * 3600 * 1000;

/// Counts finished entries in the usage rollups.
async fn tally<T: Outbound>(state: &Shared) {
    let store = &state.store;
    if let Err(e) = store
        .tally_finished(T::OUTBOX, T::FINAL_RANK, TALLY_QUIET_MS, 500)
        .await
    {
        tracing::warn!(error = %e, "cannot count finished entries in the usage rollups");
    }
}

/// Records this month's rental of every number with a monthly cost.
async fn record_rentals(state: &Shared) {
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    if let Err(e) = state.store.record_number_rentals(&month).await {
        tracing::warn!(error = %e, "cannot record number rentals");
    }
}

/// Takes over messages and calls whose dispatcher died (their lease ran out), asks providers
/// about those whose reports went missing, counts finished sends in the usage rollups and
/// records number rentals, until the task is dropped.
pub async fn recover(state: Shared) {
    let mut round = 0u32;
    loop {
        resume::<switchyard_store::MessageRecord>(&state).await;
        resume::<switchyard_store::CallRecord>(&state).await;
        resume::<switchyard_store::EmailRecord>(&state).await;
        tally::<switchyard_store::MessageRecord>(&state).await;
        tally::<switchyard_store::CallRecord>(&state).await;
        tally::<switchyard_store::EmailRecord>(&state).await;
        if round.is_multiple_of(5) {
            reconcile::<switchyard_store::MessageRecord>(&state).await;
            reconcile::<switchyard_store::CallRecord>(&state).await;
        }
        if round.is_multiple_of(1800) {
            record_rentals(&state).await;
        }
        round = round.wrapping_add(1);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
