//! `/v1/features`: which parts of the product the organisation and each user have switched
//! on, presets that set them all at once, and simple mode. The API refuses what is off
//! ([`crate::features::gate`]); the dashboard hides it.

use crate::error::{ApiError, ApiResult};
use crate::features::{catalog, provider_kinds};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchyard_core::features::{
    self, AREAS, BUILT_IN_PRESETS, FeatureSettings, Toggles, built_in_preset, check_toggles,
};
use switchyard_store::{OrgDocument, Role};

fn catalog_view() -> Vec<Value> {
    let (carriers, ai) = provider_kinds();
    let named = |kind: &str, list: &[&str], key: fn(&str) -> String| -> Vec<Value> {
        list.iter()
            .map(|name| {
                let label = switchyard_providers::registry::find(name)
                    .map_or_else(|| name.to_string(), |t| t.display_name.to_string());
                json!({ "key": key(name), "label": label, "kind": kind,
                        "description": format!("Adding and routing through {label} providers") })
            })
            .collect()
    };
    AREAS
        .iter()
        .map(|a| json!({ "key": a.key, "label": a.label, "description": a.description, "kind": "area" }))
        .chain(named("carrier", &carriers, features::carrier_key))
        .chain(named("ai", &ai, features::ai_key))
        .collect()
}

fn presets_view(org: &FeatureSettings) -> Vec<Value> {
    let (carriers, ai) = provider_kinds();
    BUILT_IN_PRESETS
        .iter()
        .filter_map(|name| {
            built_in_preset(name, &carriers, &ai).map(|(toggles, simple)| {
                json!({ "name": name, "built_in": true, "toggles": toggles, "simple_mode": simple })
            })
        })
        .chain(org.presets.iter().map(|(name, toggles)| {
            json!({ "name": name, "built_in": false, "toggles": toggles, "simple_mode": false })
        }))
        .collect()
}

async fn view(state: &Shared, auth: &Auth) -> ApiResult<Value> {
    let org = state.features(auth.org()).await?;
    let user = auth.user_features.as_ref();
    let effective: Map<String, Value> = catalog()
        .into_iter()
        .map(|k| {
            let on = features::enabled(&org, user, &k);
            (k, Value::Bool(on))
        })
        .collect();
    let simple_mode = org.simple_mode || user.is_some_and(|u| u.simple_mode);
    Ok(json!({
        "catalog": catalog_view(),
        "organisation": { "toggles": org.toggles, "simple_mode": org.simple_mode, "preset": org.preset },
        "user": user.map(|u| json!({ "toggles": u.toggles, "simple_mode": u.simple_mode })),
        "effective": effective,
        "simple_mode": simple_mode,
        "presets": presets_view(&org),
    }))
}

/// The feature catalog, the organisation's and the caller's choices, and the result.
#[utoipa::path(get, path = "/v1/features", tag = "features", responses((status = 200, description = "Features")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(view(&state, &auth).await?))
}

/// Toggles and simple mode to set.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFeatures {
    /// Feature key to on/off; keys left out are on.
    #[serde(default)]
    #[schema(value_type = Object)]
    toggles: Toggles,
    /// Hide advanced settings.
    #[serde(default)]
    simple_mode: bool,
}

fn checked(toggles: &Toggles) -> ApiResult<()> {
    check_toggles(toggles, &catalog())
        .map_err(|e| ApiError::invalid("toggles", format!("toggles: {e}")))
}

async fn save_org(state: &Shared, org: &str, settings: &FeatureSettings) -> ApiResult<()> {
    let doc = serde_json::to_string(settings).map_err(ApiError::internal)?;
    state
        .store
        .set_org_document(org, OrgDocument::Features, &doc)
        .await?;
    state.forget_features(org);
    // Providers of a switched-off type leave routing (and come back) at once.
    crate::api::providers::routing_changed(state, org).await
}

/// Sets the organisation's toggles and simple mode (a custom choice: no preset).
#[utoipa::path(put, path = "/v1/features", tag = "features", request_body = SetFeatures,
    responses((status = 200, description = "Features"), (status = 422, description = "Unknown feature")))]
pub async fn set(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<SetFeatures>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    checked(&body.toggles)?;
    let mut org = state.features(auth.org()).await?;
    org.toggles = body.toggles;
    org.simple_mode = body.simple_mode;
    org.preset = None;
    save_org(&state, auth.org(), &org).await?;
    Ok(axum::Json(view(&state, &auth).await?))
}

/// Applies a preset (built in, or saved by the organisation) to the organisation.
#[utoipa::path(post, path = "/v1/features/presets/{name}/apply", tag = "features",
    responses((status = 200, description = "Features"), (status = 404, description = "No such preset")))]
pub async fn apply_preset(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let (carriers, ai) = provider_kinds();
    let mut org = state.features(auth.org()).await?;
    let (toggles, simple) = match built_in_preset(&name, &carriers, &ai) {
        Some(found) => found,
        None => (
            org.presets
                .get(&name)
                .cloned()
                .ok_or_else(|| ApiError::not_found("preset"))?,
            org.simple_mode,
        ),
    };
    org.toggles = toggles;
    org.simple_mode = simple;
    org.preset = Some(name);
    save_org(&state, auth.org(), &org).await?;
    Ok(axum::Json(view(&state, &auth).await?))
}

/// A preset's toggles.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePreset {
    /// Feature key to on/off.
    #[schema(value_type = Object)]
    toggles: Toggles,
}

/// Saves a custom preset under a name (not a built-in one).
#[utoipa::path(put, path = "/v1/features/presets/{name}", tag = "features", request_body = SavePreset,
    responses((status = 200, description = "Features"), (status = 422, description = "Invalid name or feature")))]
pub async fn save_preset(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(name): Path<String>,
    Json(body): Json<SavePreset>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let name = name.trim().to_string();
    if name.is_empty() || name.len() > 80 || BUILT_IN_PRESETS.contains(&name.as_str()) {
        return Err(ApiError::invalid(
            "name",
            "name: 1 to 80 characters, not the name of a built-in preset",
        ));
    }
    checked(&body.toggles)?;
    let mut org = state.features(auth.org()).await?;
    org.presets.insert(name, body.toggles);
    save_org(&state, auth.org(), &org).await?;
    Ok(axum::Json(view(&state, &auth).await?))
}

/// Deletes a custom preset.
#[utoipa::path(delete, path = "/v1/features/presets/{name}", tag = "features",
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such preset")))]
pub async fn delete_preset(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Admin)?;
    let mut org = state.features(auth.org()).await?;
    if org.presets.remove(&name).is_none() {
        return Err(ApiError::not_found("preset"));
    }
    save_org(&state, auth.org(), &org).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a user's own toggles (they can only switch off what the organisation has on) and
/// simple mode. Admins set anyone's; a user sets their own.
#[utoipa::path(put, path = "/v1/users/{id}/features", tag = "features", request_body = SetFeatures,
    responses((status = 200, description = "The user's settings"), (status = 404, description = "No such user")))]
pub async fn set_for_user(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<SetFeatures>,
) -> ApiResult<axum::Json<Value>> {
    if auth.user_id.as_deref() != Some(id.as_str()) {
        auth.require(Role::Admin)?;
    }
    checked(&body.toggles)?;
    let settings = FeatureSettings {
        toggles: body.toggles,
        simple_mode: body.simple_mode,
        ..FeatureSettings::default()
    };
    let doc = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    if !state.store.set_user_features(auth.org(), &id, &doc).await? {
        return Err(ApiError::not_found("user"));
    }
    state.forget_keys();
    Ok(axum::Json(
        json!({ "user_id": id, "toggles": settings.toggles, "simple_mode": settings.simple_mode }),
    ))
}
