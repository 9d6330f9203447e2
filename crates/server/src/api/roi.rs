//! The ROI calculator at `POST /v1/analytics/roi`: what a monthly volume to a destination
//! costs on the provider a prospect uses today, against where the organisation's current
//! decks and routing strategy would send it.

use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::State;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::rating::Usage;
use switchyard_core::{Channel, RouteRequest};
use switchyard_store::now_ms;

/// A volume to price.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoiRequest {
    /// A typical destination number (E.164): its country and prefix pick the rates.
    destination: String,
    /// `voice` (default), `sms`, `mms` or `whatsapp`.
    #[schema(value_type = Option<String>)]
    channel: Option<Channel>,
    /// Calls or messages a month.
    monthly_volume: u64,
    /// Average talk time of an answered call, in seconds (voice).
    avg_duration_secs: Option<u32>,
    /// Share of calls answered, 0–1 (voice, default 1): unanswered calls cost nothing.
    #[schema(value_type = Option<String>)]
    answer_rate: Option<Decimal>,
    /// Segments per message (default 1).
    segments: Option<u32>,
    /// The provider used today (one of the organisation's, with its deck).
    current_provider: String,
}

/// Projects a monthly volume's cost on the current provider and on the organisation's
/// routing.
#[utoipa::path(post, path = "/v1/analytics/roi", tag = "analytics", request_body = RoiRequest,
    responses((status = 200, description = "Monthly cost now and with Switchyard's routing"), (status = 422, description = "Invalid field, or no rate to the destination")))]
pub async fn roi(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<RoiRequest>,
) -> ApiResult<axum::Json<Value>> {
    let channel = body.channel.unwrap_or(Channel::Voice);
    if channel == Channel::Email {
        return Err(ApiError::invalid(
            "channel",
            "the ROI calculator prices calls and messages",
        ));
    }
    let number = super::e164_field("destination", &body.destination)?;
    let answer_rate = body.answer_rate.unwrap_or(Decimal::ONE);
    if answer_rate < Decimal::ZERO || answer_rate > Decimal::ONE {
        return Err(ApiError::invalid(
            "answer_rate",
            "answer_rate must be 0 to 1",
        ));
    }
    let (usage, billed_share) = if channel == Channel::Voice {
        let secs = body.avg_duration_secs.ok_or_else(|| {
            ApiError::invalid(
                "avg_duration_secs",
                "avg_duration_secs is required for voice",
            )
        })?;
        let answered = Usage::Call {
            answered: true,
            duration_secs: secs,
        };
        (answered, answer_rate)
    } else {
        let segments = body.segments.unwrap_or(1).max(1);
        (Usage::Message { segments }, Decimal::ONE)
    };
    let routing = state
        .routing
        .for_org(auth.org())
        .await
        .map_err(ApiError::internal)?;
    let snapshot = routing.router.current();
    let now = now_ms();
    let digits = number.digits();
    let current = snapshot
        .rate_event(
            &body.current_provider.as_str().into(),
            digits,
            channel,
            usage,
            now,
        )
        .ok_or_else(|| {
            ApiError::invalid(
                "current_provider",
                format!(
                    "provider {:?} has no open {channel} rate to {}",
                    body.current_provider, body.destination
                ),
            )
        })?
        .total;
    let mut req = RouteRequest::new(digits, channel, now);
    req.country_code = Some(number.country_code());
    req.usage = usage;
    let decision = routing.router.decide(&req);
    let primary = decision.primary.as_ref().ok_or_else(|| {
        ApiError::invalid(
            "destination",
            format!("no provider routes {channel} to {}", body.destination),
        )
    })?;
    let projected = primary.expected_cost();
    let volume = Decimal::from(body.monthly_volume) * billed_share;
    let now_monthly = (current.amount * volume).round_dp(2);
    let then_monthly = (projected.amount * volume).round_dp(2);
    let saved = now_monthly - then_monthly;
    Ok(axum::Json(json!({
        "destination": number.to_string(), "channel": channel, "monthly_volume": body.monthly_volume,
        "current": {
            "provider": body.current_provider, "per_send": current.amount.normalize().to_string(),
            "monthly": now_monthly.to_string(), "currency": current.currency,
        },
        "projected": {
            "provider": primary.provider.as_str(), "strategy": decision.strategy,
            "per_send": projected.amount.normalize().to_string(),
            "monthly": then_monthly.to_string(), "currency": projected.currency,
        },
        "saving": {
            "monthly": saved.to_string(),
            "pct": (!now_monthly.is_zero()).then(|| (saved * Decimal::ONE_HUNDRED / now_monthly).round_dp(2).to_string()),
            "comparable": current.currency == projected.currency,
        },
    })))
}
