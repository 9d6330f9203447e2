//! Messages through the dispatcher: sending one to a provider, rating it by segments on
//! acceptance, and following the provider's delivery reports.

use super::{Accepted, Outbound, PlanStep, Rated};
use crate::state::Shared;
use switchyard_core::quality::Observation;
use switchyard_core::rating::Usage;
use switchyard_providers::capability::{MessageChannel, MessageRequest, SentMessage};
use switchyard_providers::events::{MessageEvent, MessageStatus};
use switchyard_providers::{Adapter, ProviderError};
use switchyard_store::{MessageRecord, Outbox, StatusMove, StoreError};

fn channel(name: &str) -> MessageChannel {
    match name {
        "mms" => MessageChannel::Mms,
        "whatsapp" => MessageChannel::Whatsapp,
        _ => MessageChannel::Sms,
    }
}

fn accepted(sent: SentMessage) -> Accepted {
    Accepted {
        provider_ref: sent.message_id,
        // A lookup may find it already delivered.
        status: match sent.status {
            MessageStatus::Queued => "queued",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Undelivered => "undelivered",
            MessageStatus::Failed => "failed",
        },
    }
}

fn request(m: &MessageRecord, step: &PlanStep, idempotency_key: String) -> MessageRequest {
    MessageRequest {
        channel: channel(&m.channel),
        to: m.to.clone(),
        from: step.from.clone(),
        body: m.body.clone(),
        media_urls: serde_json::from_str(&m.media).unwrap_or_default(),
        idempotency_key,
    }
}

#[async_trait::async_trait]
impl Outbound for MessageRecord {
    const OUTBOX: Outbox = Outbox::Messages;
    const FINAL_RANK: i64 = 3;

    /// accepted 0, queued 1, sent 2, finals 3.
    fn rank(status: &str) -> i64 {
        match status {
            "accepted" => 0,
            "queued" => 1,
            "sent" => 2,
            _ => 3,
        }
    }

    super::stored_entry_fields!();

    async fn load(state: &Shared, id: &str) -> Result<Option<Self>, StoreError> {
        state.store.message_by_id(id).await
    }

    async fn send(
        &self,
        adapter: &Adapter,
        step: &PlanStep,
        idempotency_key: String,
    ) -> Option<Result<Accepted, ProviderError>> {
        let messaging = adapter.messaging.as_ref()?;
        let request = request(self, step, idempotency_key);
        Some(messaging.send_message(&request).await.map(accepted))
    }

    async fn lookup(
        &self,
        adapter: &Adapter,
        step: &PlanStep,
        since_ms: i64,
    ) -> Option<Result<Option<Accepted>, ProviderError>> {
        let messaging = adapter.messaging.as_ref()?;
        let request = request(self, step, String::new());
        match messaging.find_sent(&request, since_ms).await {
            Err(e) if e.code.as_deref() == Some("unsupported") => None,
            found => Some(found.map(|m| m.map(accepted))),
        }
    }

    async fn reconcile(
        state: &Shared,
        org_id: &str,
        provider_id: &str,
        adapter: &Adapter,
        provider_ref: &str,
    ) -> Option<Result<(), StoreError>> {
        let now = match adapter
            .messaging
            .as_ref()?
            .message_status(provider_ref)
            .await
        {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(provider = provider_id, error = %e, "message status lookup failed");
                return None;
            }
        };
        let update = MessageEvent {
            message_id: provider_ref.to_string(),
            status: now.status,
            error_code: None,
            price: now.price,
        };
        Some(apply_status(state, org_id, provider_id, &update).await)
    }

    /// Per segment, as soon as a provider takes it.
    async fn rate_on_acceptance(&self, state: &Shared, step: &PlanStep) -> Option<Rated> {
        let channel = self
            .channel
            .parse()
            .unwrap_or(switchyard_core::Channel::Sms);
        let usage = Usage::Message {
            segments: u32::try_from(self.segments).unwrap_or(1),
        };
        super::rate(
            state,
            &self.org_id,
            &self.to,
            channel,
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
        if let Ok(Some(now)) = state.store.message_by_id(id).await {
            announce(state, &now).await;
        }
    }
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
) -> Result<(), StoreError> {
    let store = &state.store;
    let Some(id) = store
        .find_by_reference(Outbox::Messages, provider_id, &update.message_id)
        .await?
    else {
        return Ok(());
    };
    let status = serde_json::to_value(update.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let price = update
        .price
        .as_ref()
        .map(|p| format!("{} {}", p.amount, p.currency));
    // Flagged before the status moves, so whoever sees the final status sees the flag.
    if let Some(price) = &update.price
        && let Some(current) = store.message_by_id(&id).await?
        && super::price_differs(current.cost.as_deref(), price.amount)
    {
        tracing::warn!(message = current.id, cost = ?current.cost, price = %price.amount, "provider price differs from the rated cost");
        store.flag_price_mismatch(Outbox::Messages, &id).await?;
    }
    let moved = store
        .advance_status(
            Outbox::Messages,
            &id,
            &StatusMove {
                status: &status,
                rank: MessageRecord::rank(&status),
                error_code: update.error_code.as_deref(),
                price: price.as_deref(),
                cost: None,
            },
        )
        .await?;
    let Some(message) = store.message_by_id(&id).await?.filter(|_| moved) else {
        return Ok(());
    };
    announce(state, &message).await;
    if update.status.is_final() {
        let delivered = update.status == MessageStatus::Delivered;
        super::observe(
            state,
            org_id,
            provider_id,
            &message.to,
            Observation::Message { delivered },
        )
        .await;
    }
    Ok(())
}

async fn announce(state: &Shared, m: &MessageRecord) {
    if let Err(e) = crate::events_out::status(state, &m.org_id, "message", m, &m.metadata).await {
        tracing::warn!(message = m.id, error = ?e.message, "message.status not queued");
    }
}
