//! Emails through the dispatcher: handing one to an email provider, rating it per 1,000
//! recipients on acceptance, and following what the provider reports — deliveries,
//! bounces and complaints (which suppress the address), opens, clicks, unsubscribes.

use super::{Accepted, Outbound, PlanStep, Rated};
use crate::state::Shared;
use switchyard_core::quality::Observation;
use switchyard_core::rating::Usage;
use switchyard_providers::capability::EmailRequest;
use switchyard_providers::events::{EmailEvent, EmailEventType};
use switchyard_providers::{Adapter, ProviderError};
use switchyard_store::{EmailRecord, NewEmailEvent, Outbox, StatusMove, StoreError, Suppression};

/// Where an email's events come from when Switchyard saw them itself (tracking links,
/// the unsubscribe page).
pub const OWN_SOURCE: &str = "switchyard";

#[async_trait::async_trait]
impl Outbound for EmailRecord {
    const OUTBOX: Outbox = Outbox::Emails;
    const FINAL_RANK: i64 = 3;

    /// accepted 0, sent 1, deferred 2, finals 3.
    fn rank(status: &str) -> i64 {
        match status {
            "accepted" => 0,
            "sent" => 1,
            "deferred" => 2,
            _ => 3,
        }
    }

    super::stored_entry_fields!();

    async fn load(state: &Shared, id: &str) -> Result<Option<Self>, StoreError> {
        state.store.email_by_id(id).await
    }

    async fn send(
        &self,
        adapter: &Adapter,
        _step: &PlanStep,
        idempotency_key: String,
    ) -> Option<Result<Accepted, ProviderError>> {
        let email = adapter.email.as_ref()?;
        let mut request: EmailRequest = match serde_json::from_str(&self.content) {
            Ok(r) => r,
            Err(e) => {
                return Some(Err(ProviderError {
                    class: switchyard_providers::ErrorClass::Permanent,
                    ..ProviderError::refused("switchyard", format!("stored email unreadable: {e}"))
                }));
            }
        };
        request.idempotency_key = idempotency_key;
        Some(email.send_email(&request).await.map(|sent| Accepted {
            provider_ref: sent.message_id,
            status: "sent",
        }))
    }

    async fn reconcile(
        _state: &Shared,
        _org_id: &str,
        _provider_id: &str,
        _adapter: &Adapter,
        _provider_ref: &str,
    ) -> Option<Result<(), StoreError>> {
        // Email providers report by webhook only; none offers a per-message status read.
        None
    }

    /// Per 1,000 recipients plus attachment surcharges, as soon as a provider takes it.
    async fn rate_on_acceptance(&self, state: &Shared, step: &PlanStep) -> Option<Rated> {
        let usage = Usage::Email {
            recipients: u32::try_from(self.recipients).unwrap_or(1),
            attachments: u32::try_from(self.attachments).unwrap_or(0),
        };
        super::rate(
            state,
            &self.org_id,
            "",
            switchyard_core::Channel::Email,
            usage,
            &step.provider_id,
            &self.plan,
        )
        .await
    }

    async fn accepted(
        &self,
        state: &Shared,
        step: &PlanStep,
        accepted: &Accepted,
    ) -> Result<(), StoreError> {
        super::catch_up(
            state,
            &self.org_id,
            &step.provider_id,
            &accepted.provider_ref,
        )
        .await
    }

    async fn announce(state: &Shared, id: &str) {
        if let Ok(Some(now)) = state.store.email_by_id(id).await {
            announce(state, &now).await;
        }
    }
}

/// The status an event moves the email to, if any: engagement (opens, clicks, complaints,
/// unsubscribes) follows delivery and leaves the status alone.
fn status_of(event: EmailEventType) -> Option<&'static str> {
    match event {
        EmailEventType::Sent => Some("sent"),
        EmailEventType::Deferred => Some("deferred"),
        EmailEventType::Delivered => Some("delivered"),
        EmailEventType::HardBounce | EmailEventType::SoftBounce => Some("bounced"),
        EmailEventType::Dropped => Some("failed"),
        EmailEventType::Complained
        | EmailEventType::Opened
        | EmailEventType::Clicked
        | EmailEventType::Unsubscribed => None,
    }
}

/// Finds the email a provider event is about: by the provider's id once stored, else by
/// Switchyard's id when the provider echoed it (and it is this organisation's).
async fn find(
    state: &Shared,
    org_id: &str,
    provider_id: &str,
    event: &EmailEvent,
) -> Result<Option<EmailRecord>, StoreError> {
    let store = &state.store;
    if let Some(email) = store
        .email_by_provider_ref(org_id, provider_id, &event.message_id)
        .await?
    {
        return Ok(Some(email));
    }
    match &event.email_id {
        Some(id) => store.email(org_id, id).await,
        None => Ok(None),
    }
}

/// Applies a provider's report: recorded once per event, the status moved forward, the
/// address suppressed after a hard bounce, a complaint or an unsubscribe, and the
/// organisation told. Safe to apply twice.
pub async fn apply_event(
    state: &Shared,
    org_id: &str,
    provider_id: &str,
    event: &EmailEvent,
    dedupe_key: &str,
    occurred_at_ms: Option<i64>,
) -> Result<(), StoreError> {
    let Some(email) = find(state, org_id, provider_id, event).await? else {
        return Ok(());
    };
    record(
        state,
        &email,
        &Happened {
            event: event.event,
            recipient: event.recipient.as_deref(),
            detail: event.reason.as_deref().or(event.url.as_deref()),
            source: provider_id,
            dedupe_key,
            occurred_at_ms,
        },
    )
    .await
}

/// One thing that happened to an email, from a provider or seen by Switchyard.
pub struct Happened<'a> {
    /// What.
    pub event: EmailEventType,
    /// To whom.
    pub recipient: Option<&'a str>,
    /// Reason or link.
    pub detail: Option<&'a str>,
    /// Provider id or [`OWN_SOURCE`].
    pub source: &'a str,
    /// Unique per email.
    pub dedupe_key: &'a str,
    /// When, if known.
    pub occurred_at_ms: Option<i64>,
}

/// Records an event of `email` and acts on it (see [`apply_event`]): suppression and status
/// first, the event itself last.
pub async fn record(
    state: &Shared,
    email: &EmailRecord,
    h: &Happened<'_>,
) -> Result<(), StoreError> {
    let store = &state.store;
    let now = chrono::Utc::now().timestamp_millis();
    if h.event.suppresses()
        && let Some(address) = h.recipient.or(Some(email.to.as_str()))
    {
        let (reason, scope) = match h.event {
            EmailEventType::Unsubscribed => ("unsubscribed", "marketing"),
            EmailEventType::Complained => ("complained", "all"),
            _ => ("hard_bounce", "all"),
        };
        store
            .suppress(
                &email.org_id,
                &Suppression {
                    address: address.to_string(),
                    reason: reason.into(),
                    scope: scope.into(),
                    email_id: Some(email.id.clone()),
                    detail: h.detail.map(str::to_owned),
                    created_at: now,
                },
            )
            .await?;
    }
    // The email as it is after this event, when the event moved it.
    let moved = match status_of(h.event) {
        Some(status) => {
            let error_code = (status == "bounced" || status == "failed").then(|| h.event.as_str());
            let step = StatusMove {
                status,
                rank: EmailRecord::rank(status),
                error_code,
                ..StatusMove::default()
            };
            store
                .advance_status(Outbox::Emails, &email.id, &step)
                .await?
                .then(|| EmailRecord {
                    status: status.to_string(),
                    error_code: error_code.map(str::to_owned).or(email.error_code.clone()),
                    updated_at: now,
                    ..email.clone()
                })
        }
        None => None,
    };
    // The event is written last: whoever sees it (the API, a test) also sees the address
    // suppressed and the status moved.
    let fresh = store
        .add_email_event(&NewEmailEvent {
            email_id: &email.id,
            event: h.event.as_str(),
            recipient: h.recipient,
            detail: h.detail,
            source: h.source,
            dedupe_key: h.dedupe_key,
            occurred_at: h.occurred_at_ms.unwrap_or(now),
        })
        .await?;
    if fresh {
        let payload = serde_json::json!({
            "id": email.id, "event": h.event.as_str(), "recipient": h.recipient,
            "detail": h.detail, "source": h.source,
            "metadata": serde_json::from_str::<serde_json::Value>(&email.metadata).unwrap_or_default(),
        });
        let name = format!("email.{}", h.event.as_str());
        if let Err(e) = crate::events_out::emit(state, &email.org_id, &name, payload).await {
            tracing::warn!(
                email = email.id,
                error = e.message,
                "email event not queued"
            );
        }
    }
    if let Some(moved) = moved {
        announce(state, &moved).await;
        if matches!(status_of(h.event), Some("delivered" | "bounced" | "failed"))
            && let Some(provider_id) = &email.provider_id
        {
            let delivered = h.event == EmailEventType::Delivered;
            super::observe(
                state,
                &email.org_id,
                provider_id,
                "",
                Observation::Message { delivered },
            )
            .await;
        }
    }
    Ok(())
}

async fn announce(state: &Shared, e: &EmailRecord) {
    if let Err(err) = crate::events_out::status(state, &e.org_id, "email", e, &e.metadata).await {
        tracing::warn!(email = e.id, error = ?err.message, "email.status not queued");
    }
}
