//! `POST /v1/webhooks/{provider_id}`: provider webhooks, verified with that provider's
//! credentials before anything is stored; and the stored events for inspection.

use super::consent;
use super::providers::ProviderPageQuery;
use crate::adapters;
use crate::dispatch;
use crate::error::{ApiError, ApiResult};
use crate::events_out;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchyard_core::consent::Keyword;
use switchyard_providers::Adapter;
use switchyard_providers::capability::{
    MessageChannel, MessageRequest, WebhookError, WebhookRequest,
};
use switchyard_providers::events::{EventKind, InboundMessage};
use switchyard_store::NewWebhookEvent;

fn refused(e: &WebhookError) -> ApiError {
    match e {
        WebhookError::Malformed(m) => ApiError::bad_request("malformed_webhook", m.clone()),
        other => ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_signature",
            other.to_string(),
        ),
    }
}

/// Receives a provider's webhook. Unsigned, tampered or replayed webhooks answer 403 and
/// change nothing; malformed bodies 400; events this version does not interpret are stored
/// and acknowledged. A webhook delivered twice is stored once.
#[utoipa::path(post, path = "/v1/webhooks/{provider_id}", tag = "webhooks", security(()),
    request_body(content = String, description = "The provider's body, form or JSON, as it signed it"),
    responses((status = 200, description = "Accepted"), (status = 403, description = "Signature missing, wrong or replayed"),
        (status = 400, description = "Malformed body"), (status = 404, description = "No such provider")))]
pub async fn receive(
    State(state): State<Shared>,
    Path(provider_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let record = state
        .store
        .provider_by_id(&provider_id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let adapter = adapters::adapter_for(&state, &record)?;
    let url = format!(
        "{}{}",
        state.public_url,
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(uri.path())
    );
    let now_secs = chrono::Utc::now().timestamp();
    let req = WebhookRequest {
        url: &url,
        headers: &headers,
        body: &body,
        now_secs,
    };
    let verified = match adapter.webhooks.prepare(&req).await {
        Ok(()) => adapter.webhooks.verify(&req),
        Err(e) => Err(e),
    };
    if let Err(e) = verified {
        metrics::counter!("switchyard_webhooks_refused_total", "provider" => record.kind.clone())
            .increment(1);
        tracing::warn!(provider = record.id, kind = record.kind, reason = %e, "webhook refused");
        return Err(refused(&e));
    }
    let events = adapter.webhooks.parse(&req).map_err(|e| refused(&e))?;
    let payloads = payloads(&body, events.len());
    for (event, payload) in events.iter().zip(payloads) {
        // An opt-out is recorded before the event is marked as seen, so that a crash in
        // between cannot lose it: the provider's redelivery applies it again (idempotent).
        if let EventKind::InboundMessage(m) = &event.kind {
            honour_keywords(
                &state,
                &record.org_id,
                &adapter,
                m,
                &event.dedupe_key,
                false,
            )
            .await?;
        }
        let fresh = state
            .store
            .insert_webhook_event(&NewWebhookEvent {
                org_id: record.org_id.clone(),
                provider_id: record.id.clone(),
                dedupe_key: event.dedupe_key.clone(),
                event: event.name(),
                detail: serde_json::to_string(event).map_err(ApiError::internal)?,
                payload,
                occurred_at: event.occurred_at_ms,
                resource_id: event.resource_id().map(str::to_owned),
            })
            .await?;
        metrics::counter!("switchyard_webhook_events_total", "provider" => record.kind.clone(), "duplicate" => (!fresh).to_string()).increment(1);
        // Status reports are applied even when redelivered: applying is idempotent (a status
        // never moves backwards), and a redelivery after a failed first try must not be lost.
        match &event.kind {
            EventKind::Message(update) => {
                dispatch::messages::apply_status(&state, &record.org_id, &record.id, update)
                    .await?;
            }
            EventKind::Call(update) => {
                let at = event.occurred_at_ms;
                dispatch::calls::apply_status(&state, &record.org_id, &record.id, update, at)
                    .await?;
            }
            EventKind::Email(update) => {
                let (key, at) = (&event.dedupe_key, event.occurred_at_ms);
                dispatch::emails::apply_event(&state, &record.org_id, &record.id, update, key, at)
                    .await?;
            }
            _ => {}
        }
        // Everything else acts once per event: a redelivered webhook is not fresh.
        if fresh {
            match &event.kind {
                EventKind::InboundMessage(m) => {
                    events_out::emit(
                        &state,
                        &record.org_id,
                        "message.inbound",
                        json!({
                            "provider_id": record.id, "provider_message_id": m.message_id,
                            "from": m.from, "to": m.to, "body": m.body, "media_urls": m.media_urls,
                        }),
                    )
                    .await?;
                    honour_keywords(&state, &record.org_id, &adapter, m, &event.dedupe_key, true)
                        .await?;
                }
                EventKind::InboundCall(c) => {
                    events_out::emit(&state, &record.org_id, "call.inbound", json!({
                        "provider_id": record.id, "provider_call_id": c.call_id, "from": c.from, "to": c.to,
                    }))
                    .await?;
                }
                _ => {}
            }
        }
        tracing::debug!(
            provider = record.id,
            event = event.name(),
            duplicate = !fresh,
            "webhook event"
        );
    }
    let (content_type, ack) = adapter.webhooks.acknowledgement(&req);
    Ok(([(header::CONTENT_TYPE, content_type)], ack).into_response())
}

/// The raw payload stored with each of a webhook's `n` events: a JSON array with one
/// element per event (SendGrid posts batches of hundreds) gives each event its own element,
/// so a batch is not stored once per event; anything else is stored whole with each.
fn payloads(body: &[u8], n: usize) -> Vec<String> {
    if n > 1
        && let Ok(items) = serde_json::from_slice::<Vec<Box<serde_json::value::RawValue>>>(body)
        && items.len() == n
    {
        return items.into_iter().map(|raw| raw.get().to_string()).collect();
    }
    vec![String::from_utf8_lossy(body).into_owned(); n]
}

/// STOP and its synonyms opt the sender out of the channel, START opts back in, HELP asks
/// for help; each gets the organisation's reply (when `send_reply`), sent from the number that
/// was written to.
async fn honour_keywords(
    state: &Shared,
    org: &str,
    adapter: &Adapter,
    m: &InboundMessage,
    dedupe_key: &str,
    send_reply: bool,
) -> ApiResult<()> {
    let Some(word) = switchyard_core::consent::keyword(&m.body) else {
        return Ok(());
    };
    let (channel, kind, from) = match m.from.strip_prefix("whatsapp:") {
        Some(number) => ("whatsapp", MessageChannel::Whatsapp, number),
        None => ("sms", MessageChannel::Sms, m.from.as_str()),
    };
    let texts = consent::texts(state, org).await?;
    let reply = match word {
        Keyword::OptOut => {
            state
                .store
                .add_opt_out(org, channel, from, "keyword")
                .await?;
            texts.opt_out
        }
        Keyword::OptIn => {
            state.store.remove_opt_out(org, channel, from).await?;
            texts.opt_in
        }
        Keyword::Help => texts.help,
    };
    tracing::info!(org, channel, keyword = ?word, "consent keyword");
    let Some(messaging) = adapter.messaging.clone().filter(|_| send_reply) else {
        return Ok(());
    };
    let request = MessageRequest {
        channel: kind,
        to: from.to_string(),
        from: m.to.strip_prefix("whatsapp:").unwrap_or(&m.to).to_string(),
        body: reply,
        media_urls: Vec::new(),
        idempotency_key: format!("consent:{dedupe_key}"),
    };
    // The provider is waiting for our answer to its webhook: reply in the background.
    tokio::spawn(async move {
        if let Err(e) = messaging.send_message(&request).await {
            tracing::warn!(error = %e, "consent reply not sent");
        }
    });
    Ok(())
}

/// Stored webhook events, newest first, with their raw bodies.
#[utoipa::path(get, path = "/v1/webhook-events", tag = "webhooks", params(ProviderPageQuery), responses((status = 200, description = "A page of events")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ProviderPageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let limit = q.limit();
    let page = state
        .store
        .webhook_events_page(
            auth.org(),
            q.provider.as_deref(),
            q.cursor.as_deref(),
            limit,
        )
        .await?;
    let data: Vec<Value> = page
        .items
        .into_iter()
        .map(|e| {
            let detail: Value = serde_json::from_str(&e.detail).unwrap_or(Value::Null);
            json!({
                "id": e.id, "provider_id": e.provider_id, "event": e.event, "dedupe_key": e.dedupe_key,
                "detail": detail, "payload": e.payload, "occurred_at": e.occurred_at, "received_at": e.received_at,
            })
        })
        .collect();
    Ok(axum::Json(
        json!({ "data": data, "next_cursor": page.next_cursor }),
    ))
}

#[cfg(test)]
mod tests {
    use super::payloads;

    #[test]
    fn a_batch_is_stored_one_element_per_event() {
        let body = br#"[{"event":"processed","n":1}, {"event":"delivered","n":2}]"#;
        assert_eq!(
            payloads(body, 2),
            [
                r#"{"event":"processed","n":1}"#,
                r#"{"event":"delivered","n":2}"#
            ]
        );
        let single = br#"{"Type":"Notification"}"#;
        assert_eq!(payloads(single, 2), [r#"{"Type":"Notification"}"#; 2]);
        assert_eq!(
            payloads(body, 3).len(),
            3,
            "no per-event split when counts differ"
        );
        assert_eq!(payloads(b"x=1", 1), ["x=1"]);
    }
}
