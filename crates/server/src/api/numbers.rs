//! Phone numbers at providers: searching what is on offer, importing one, syncing all.

use super::providers::PageQuery;
use crate::adapters::{self, provider_error};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_providers::capability::{NumberKind, NumberQuery, Numbers, OwnedNumber};
use switchyard_store::{NumberAtProvider, Role};

/// A search for numbers to buy.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AvailableQuery {
    /// ISO 3166 alpha-2 country (required).
    country: Option<String>,
    /// `local` (default), `toll_free` or `mobile`.
    kind: Option<String>,
    /// Area code / national destination code.
    area_code: Option<String>,
    /// Must take calls.
    voice: Option<bool>,
    /// Must take SMS.
    sms: Option<bool>,
    /// Must take MMS.
    mms: Option<bool>,
    /// Most results (1–100, default 20).
    limit: Option<u32>,
}

/// A number to bring in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportNumber {
    /// E.164 number the provider account owns.
    e164: String,
}

async fn numbers_of(
    state: &Shared,
    auth: &Auth,
    id: &str,
) -> ApiResult<(String, Arc<dyn Numbers>)> {
    let r = state
        .store
        .provider(auth.org(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let adapter = adapters::adapter_for(state, &r)?;
    let numbers = adapter.numbers.ok_or_else(|| {
        ApiError::invalid(
            "id",
            format!("{} providers do not manage phone numbers", r.kind),
        )
    })?;
    Ok((r.id, numbers))
}

fn at_provider(n: &OwnedNumber) -> NumberAtProvider {
    NumberAtProvider {
        e164: n.e164.clone(),
        provider_number_id: n.provider_number_id.clone(),
        voice: n.voice,
        sms: n.sms,
        mms: n.mms,
    }
}

/// Numbers the provider offers for sale.
#[utoipa::path(get, path = "/v1/providers/{id}/numbers/available", tag = "numbers", params(AvailableQuery),
    responses((status = 200, description = "Numbers on offer"), (status = 502, description = "The provider failed")))]
pub async fn available(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Query(q): Query<AvailableQuery>,
) -> ApiResult<axum::Json<Value>> {
    let country = q
        .country
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
        .ok_or_else(|| {
            ApiError::invalid("country", "country must be an ISO 3166 two-letter code")
        })?;
    let kind = match q.kind.as_deref().unwrap_or("local") {
        "local" => NumberKind::Local,
        "toll_free" => NumberKind::TollFree,
        "mobile" => NumberKind::Mobile,
        other => {
            return Err(ApiError::invalid(
                "kind",
                format!("kind must be local, toll_free or mobile, not {other:?}"),
            ));
        }
    };
    if let Some(area) = &q.area_code
        && !(1..=5).contains(&area.len())
    {
        return Err(ApiError::invalid(
            "area_code",
            "area_code must be 1 to 5 digits",
        ));
    }
    let (_, numbers) = numbers_of(&state, &auth, &id).await?;
    let query = NumberQuery {
        country,
        kind,
        area_code: q.area_code,
        voice: q.voice.unwrap_or(false),
        sms: q.sms.unwrap_or(false),
        mms: q.mms.unwrap_or(false),
        limit: Some(q.limit.unwrap_or(20).clamp(1, 100)),
    };
    let found = numbers
        .search_available(&query)
        .await
        .map_err(provider_error)?;
    Ok(axum::Json(json!({ "data": found })))
}

/// Brings one number the provider account owns into Switchyard, pointing its inbound
/// traffic at Switchyard's webhook where the provider allows.
#[utoipa::path(post, path = "/v1/providers/{id}/numbers/import", tag = "numbers", request_body = ImportNumber,
    responses((status = 201, description = "Imported"), (status = 502, description = "Not owned or the provider failed")))]
pub async fn import(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<ImportNumber>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    let e164 = super::e164_field("e164", &body.e164)?.to_string();
    let (provider_id, numbers) = numbers_of(&state, &auth, &id).await?;
    let owned = numbers.import(&e164).await.map_err(provider_error)?;
    let (stored, created) = state
        .store
        .upsert_number(auth.org(), &provider_id, &at_provider(&owned))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(json!(stored))))
}

/// Makes Switchyard's list of the provider's numbers match the provider: new numbers
/// added, missing ones marked released.
#[utoipa::path(post, path = "/v1/providers/{id}/numbers/sync", tag = "numbers",
    responses((status = 200, description = "What changed"), (status = 502, description = "The provider failed")))]
pub async fn sync(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let (provider_id, numbers) = numbers_of(&state, &auth, &id).await?;
    let owned = numbers.list_owned().await.map_err(provider_error)?;
    let reported: Vec<NumberAtProvider> = owned.iter().map(at_provider).collect();
    let outcome = state
        .store
        .sync_numbers(auth.org(), &provider_id, &reported)
        .await?;
    let stored = state
        .store
        .provider_numbers(auth.org(), &provider_id)
        .await?;
    Ok(axum::Json(json!({
        "added": outcome.added,
        "updated": outcome.updated,
        "released": outcome.released,
        "data": stored,
    })))
}

/// The organisation's numbers, newest first.
#[utoipa::path(get, path = "/v1/numbers", tag = "numbers", params(PageQuery), responses((status = 200, description = "A page of numbers")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .numbers_page(auth.org(), q.cursor.as_deref(), q.limit())
        .await?;
    Ok(axum::Json(
        json!({ "data": page.items, "next_cursor": page.next_cursor }),
    ))
}

/// A number to look up.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    /// E.164 number.
    number: String,
    /// Start of quiet hours, local `HH:MM` (with `quiet_end`).
    quiet_start: Option<String>,
    /// End of quiet hours, local `HH:MM`.
    quiet_end: Option<String>,
    /// The instant to judge (RFC 3339; default now).
    at: Option<String>,
}

fn local_time(field: &str, text: &str) -> ApiResult<chrono::NaiveTime> {
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| ApiError::invalid(field, format!("{field} must be HH:MM, not {text:?}")))
}

/// A number's country, the time zones it may be in with their local times, and, given
/// quiet hours, whether it may be contacted now and when next.
#[utoipa::path(get, path = "/v1/numbers/lookup", tag = "numbers", params(LookupQuery),
    responses((status = 200, description = "What is known of the number"), (status = 422, description = "Invalid number or time")))]
pub async fn lookup(Query(q): Query<LookupQuery>) -> ApiResult<axum::Json<Value>> {
    use switchyard_core::timezone::{self, QuietHours};
    let n = super::e164_field("number", &q.number)?;
    let at = match &q.at {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|_| ApiError::invalid("at", "at must be an RFC 3339 instant"))?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let zones: Vec<Value> = timezone::zones(n.digits())
        .iter()
        .map(|tz| json!({ "zone": tz.name(), "local_time": at.with_timezone(tz).format("%Y-%m-%dT%H:%M:%S%:z").to_string() }))
        .collect();
    let mut out = json!({
        "e164": n.to_string(),
        "country_code": n.country_code(),
        "region": n.region(),
        "zones": zones,
    });
    match (&q.quiet_start, &q.quiet_end) {
        (Some(s), Some(e)) => {
            let quiet = QuietHours {
                start: local_time("quiet_start", s)?,
                end: local_time("quiet_end", e)?,
            };
            out["contact"] = json!(timezone::check(n.digits(), at, &quiet));
            out["next_allowed"] =
                json!(timezone::next_allowed(n.digits(), at, &quiet).map(|t| t.to_rfc3339()));
        }
        (None, None) => {}
        _ => {
            return Err(ApiError::invalid(
                "quiet_end",
                "quiet_start and quiet_end go together",
            ));
        }
    }
    Ok(axum::Json(out))
}
