//! `/v1/provider-types` and `/v1/providers`: the provider registry.

use crate::adapters;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::provider_settings::{ProviderSettings, ThresholdSettings};
use crate::secrets::mask;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use switchyard_core::Capability;
use switchyard_providers::{ProviderType, registry};
use switchyard_store::{NewProvider, ProviderRecord, Role};

/// A provider as the API shows it: credentials masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    /// Every value masked.
    #[schema(value_type = Object)]
    credentials: Map<String, Value>,
    #[serde(flatten)]
    settings: ProviderSettings,
    /// Capabilities in effect (overrides or the type's).
    #[schema(value_type = Vec<String>)]
    effective_capabilities: Vec<Capability>,
    /// Live health, once routing has seen the provider.
    #[schema(value_type = Option<Object>)]
    health: Option<Value>,
    /// Where this provider must send its webhooks (used as the status callback).
    webhook_url: String,
    created_at: i64,
    updated_at: i64,
}

/// A new provider.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProvider {
    /// Provider type, from `/v1/provider-types`.
    #[serde(rename = "type")]
    kind: String,
    /// Display name.
    name: String,
    /// Credentials as the type lists them.
    #[schema(value_type = Object)]
    #[serde(default)]
    credentials: Map<String, Value>,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    weight: Option<u32>,
    #[serde(default)]
    active: Option<bool>,
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(default)]
    capabilities: Option<Vec<Capability>>,
    #[serde(default)]
    max_concurrency: Option<u32>,
    #[serde(default)]
    max_cps: Option<u32>,
    #[serde(default)]
    thresholds: ThresholdSettings,
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    budget_cap: Option<rust_decimal::Decimal>,
    /// Largest email it takes, in bytes (default: the type's documented limit).
    #[serde(default)]
    max_email_bytes: Option<u64>,
}

/// Changes to a provider; absent fields stay as they are. `credentials` replaces the whole
/// set.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProvider {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    credentials: Option<Map<String, Value>>,
    priority: Option<i32>,
    weight: Option<u32>,
    active: Option<bool>,
    #[schema(value_type = Option<Vec<String>>)]
    capabilities: Option<Vec<Capability>>,
    max_concurrency: Option<u32>,
    max_cps: Option<u32>,
    thresholds: Option<ThresholdSettings>,
    #[schema(value_type = Option<String>)]
    budget_cap: Option<rust_decimal::Decimal>,
    max_email_bytes: Option<u64>,
}

/// Cursor pagination parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Items per page (1–500, default 50).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The limit, clamped.
    pub fn limit(&self) -> usize {
        clamp_limit(self.limit)
    }
}

/// A page size from the query, clamped to 1–500 (default 50).
pub fn clamp_limit(limit: Option<usize>) -> usize {
    limit.unwrap_or(50).clamp(1, 500)
}

/// Cursor pagination of a list that can be narrowed to one provider.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ProviderPageQuery {
    /// Only entries of this provider.
    pub provider: Option<String>,
    /// Items per page (1–500, default 50).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ProviderPageQuery {
    /// The limit, clamped.
    pub fn limit(&self) -> usize {
        clamp_limit(self.limit)
    }
}

fn provider_type(kind: &str) -> ApiResult<ProviderType> {
    registry::find(kind).ok_or_else(|| {
        let names: Vec<&str> = registry::all().iter().map(|t| t.name).collect();
        ApiError::invalid(
            "type",
            format!(
                "unknown provider type {kind:?}; expected one of {}",
                names.join(", ")
            ),
        )
    })
}

fn check_credentials(t: &ProviderType, creds: &Map<String, Value>) -> ApiResult<()> {
    t.check_credentials(creds).map_err(|m| {
        let field = m
            .split_whitespace()
            .next()
            .unwrap_or("credentials")
            .to_string();
        ApiError::invalid(&field, m)
    })
}

fn check_settings(s: &ProviderSettings) -> ApiResult<()> {
    s.validate()
        .map_err(|(field, message)| ApiError::invalid(&field, message))
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.len() > 200 {
        return Err(ApiError::invalid(
            "name",
            "name must be 1 to 200 characters",
        ));
    }
    Ok(())
}

async fn view(state: &Shared, r: &ProviderRecord) -> ApiResult<ProviderView> {
    let creds: Map<String, Value> = state
        .master_key
        .decrypt(&r.credentials)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let masked = creds
        .into_iter()
        .map(|(k, v)| (k, Value::String(mask(v.as_str().unwrap_or_default()))))
        .collect();
    let settings: ProviderSettings = serde_json::from_str(&r.settings).unwrap_or_default();
    let effective = settings
        .profile(&r.id, registry::find(&r.kind).as_ref())
        .capabilities
        .iter()
        .collect();
    let health = match state.routing.for_org(&r.org_id).await {
        Ok(routing) => routing.router.current().live(&r.id.as_str().into()).map(|cell| {
            let now = chrono::Utc::now().timestamp_millis();
            json!({ "score": cell.health_view(now).score, "breaker": cell.health_view(now).breaker, "quality": cell.quality_view() })
        }),
        Err(_) => None,
    };
    Ok(ProviderView {
        id: r.id.clone(),
        kind: r.kind.clone(),
        name: r.name.clone(),
        credentials: masked,
        settings,
        effective_capabilities: effective,
        health,
        webhook_url: adapters::webhook_url(state, &r.id),
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// Rebuilds the organisation's routing after its providers changed.
pub(crate) async fn routing_changed(state: &Shared, org: &str) -> ApiResult<()> {
    state.routing.changed(org).await.map_err(ApiError::internal)
}

/// Lists provider types with their capabilities and credential fields.
#[utoipa::path(get, path = "/v1/provider-types", tag = "providers", responses((status = 200, description = "Provider types")))]
pub async fn list_types() -> axum::Json<Value> {
    axum::Json(json!({ "data": registry::all() }))
}

/// Adds a provider.
#[utoipa::path(post, path = "/v1/providers", tag = "providers", request_body = CreateProvider,
    responses((status = 201, body = ProviderView), (status = 422, description = "Invalid field")))]
pub async fn create(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<CreateProvider>,
) -> ApiResult<(StatusCode, axum::Json<ProviderView>)> {
    auth.require(Role::Admin)?;
    let t = provider_type(&body.kind)?;
    let (feature, ai) = crate::features::provider_feature(t.name);
    if ai {
        crate::features::require(&state, &auth, "ai_agents").await?;
    }
    crate::features::require(&state, &auth, &feature).await?;
    check_name(&body.name)?;
    check_credentials(&t, &body.credentials)?;
    let mut credentials = body.credentials;
    if t.name == "sandbox" {
        adapters::open_sandbox_account(&state, &mut credentials)?;
    }
    let settings = ProviderSettings {
        priority: body.priority,
        weight: body.weight.unwrap_or(1),
        active: body.active.unwrap_or(true),
        capabilities: body.capabilities,
        max_concurrency: body.max_concurrency,
        max_cps: body.max_cps,
        thresholds: body.thresholds,
        budget_cap: body.budget_cap,
        max_email_bytes: body.max_email_bytes,
    };
    check_settings(&settings)?;
    let sealed = state
        .master_key
        .encrypt(&serde_json::to_vec(&credentials).map_err(ApiError::internal)?);
    let record = state
        .store
        .insert_provider(NewProvider {
            org_id: auth.org().to_string(),
            kind: t.name.to_string(),
            name: body.name,
            credentials: sealed,
            settings: serde_json::to_string(&settings).map_err(ApiError::internal)?,
        })
        .await?;
    tracing::info!(
        org = auth.org(),
        provider = record.id,
        kind = record.kind,
        "provider added"
    );
    routing_changed(&state, auth.org()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(view(&state, &record).await?),
    ))
}

/// Lists the organisation's providers, newest first.
#[utoipa::path(get, path = "/v1/providers", tag = "providers", params(PageQuery), responses((status = 200, description = "A page of providers")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .providers_page(auth.org(), q.cursor.as_deref(), q.limit())
        .await?;
    let mut data = Vec::with_capacity(page.items.len());
    for r in &page.items {
        data.push(view(&state, r).await?);
    }
    Ok(axum::Json(
        json!({ "data": data, "next_cursor": page.next_cursor }),
    ))
}

async fn load(state: &Shared, auth: &Auth, id: &str) -> ApiResult<ProviderRecord> {
    state
        .store
        .provider(auth.org(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))
}

/// One provider.
#[utoipa::path(get, path = "/v1/providers/{id}", tag = "providers", responses((status = 200, body = ProviderView), (status = 404, description = "No such provider")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ProviderView>> {
    let r = load(&state, &auth, &id).await?;
    Ok(axum::Json(view(&state, &r).await?))
}

/// Changes a provider.
#[utoipa::path(patch, path = "/v1/providers/{id}", tag = "providers", request_body = UpdateProvider, responses((status = 200, body = ProviderView)))]
pub async fn update(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<UpdateProvider>,
) -> ApiResult<axum::Json<ProviderView>> {
    auth.require(Role::Admin)?;
    let mut r = load(&state, &auth, &id).await?;
    let mut settings: ProviderSettings = serde_json::from_str(&r.settings).unwrap_or_default();
    if let Some(name) = body.name {
        check_name(&name)?;
        r.name = name;
    }
    if let Some(mut creds) = body.credentials {
        if r.kind == "sandbox" {
            // The sandbox account's generated credentials stay unless replaced.
            let mut merged = adapters::credentials(&state, &r)?;
            merged.append(&mut creds);
            adapters::sandbox_profile(&merged)?;
            creds = merged;
        }
        check_credentials(&provider_type(&r.kind)?, &creds)?;
        r.credentials = state
            .master_key
            .encrypt(&serde_json::to_vec(&creds).map_err(ApiError::internal)?);
    }
    settings.priority = body.priority.unwrap_or(settings.priority);
    settings.weight = body.weight.unwrap_or(settings.weight);
    settings.active = body.active.unwrap_or(settings.active);
    settings.capabilities = body.capabilities.or(settings.capabilities);
    settings.max_concurrency = body.max_concurrency.or(settings.max_concurrency);
    settings.max_cps = body.max_cps.or(settings.max_cps);
    settings.thresholds = body.thresholds.unwrap_or(settings.thresholds);
    settings.budget_cap = body.budget_cap.or(settings.budget_cap);
    settings.max_email_bytes = body.max_email_bytes.or(settings.max_email_bytes);
    check_settings(&settings)?;
    r.settings = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    let updated = state
        .store
        .update_provider(&r)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    routing_changed(&state, auth.org()).await?;
    Ok(axum::Json(view(&state, &updated).await?))
}

/// Deletes a provider and its decks.
#[utoipa::path(delete, path = "/v1/providers/{id}", tag = "providers", responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Admin)?;
    if !state.store.delete_provider(auth.org(), &id).await? {
        return Err(ApiError::not_found("provider"));
    }
    routing_changed(&state, auth.org()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the provider's credentials by calling the provider.
#[utoipa::path(post, path = "/v1/providers/{id}/test", tag = "providers",
    responses((status = 200, description = "Reachable"), (status = 502, description = "The provider refused or failed"),
        (status = 501, description = "No adapter for this type yet")))]
pub async fn test(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Operator)?;
    let r = load(&state, &auth, &id).await?;
    let adapter = adapters::adapter_for(&state, &r)?;
    let started = std::time::Instant::now();
    let info = adapter
        .connection
        .test_connection()
        .await
        .map_err(adapters::provider_error)?;
    Ok(axum::Json(json!({
        "ok": true,
        "provider": r.id,
        "account": info.account,
        "detail": info.detail,
        "latency_ms": started.elapsed().as_millis() as u64,
        "webhook_url": adapters::webhook_url(&state, &r.id),
    })))
}
