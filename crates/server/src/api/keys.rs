//! `/v1/keys`, `/v1/org` and `/v1/audit`: access and accountability.

use crate::api::providers::PageQuery;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_store::Role;

/// A key to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// owner, admin, operator or viewer.
    #[schema(value_type = String)]
    role: Role,
    /// A label.
    #[serde(default)]
    name: String,
}

/// Creates a key; the secret is in this response only.
#[utoipa::path(post, path = "/v1/keys", tag = "access", request_body = CreateKey, responses((status = 201, description = "The key and its secret")))]
pub async fn create(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<CreateKey>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    if body.role > auth.role {
        return Err(ApiError::forbidden(format!(
            "a {} key cannot create a {} key",
            auth.role, body.role
        )));
    }
    let (key, secret) = state
        .store
        .create_key(auth.org(), body.role, &body.name)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "key": key, "secret": secret })),
    ))
}

/// Lists the organisation's keys (never their secrets).
#[utoipa::path(get, path = "/v1/keys", tag = "access", responses((status = 200, description = "Keys")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    Ok(axum::Json(
        json!({ "data": state.store.keys(auth.org()).await? }),
    ))
}

/// Revokes a key.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "access", responses((status = 204, description = "Revoked")))]
pub async fn revoke(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Admin)?;
    if !state.store.revoke_key(auth.org(), &id).await? {
        return Err(ApiError::not_found("key"));
    }
    state.forget_keys();
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's organisation and role.
#[utoipa::path(get, path = "/v1/org", tag = "access", responses((status = 200, description = "The organisation")))]
pub async fn org(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    let org = state
        .store
        .org(auth.org())
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    Ok(axum::Json(
        json!({ "org": org, "role": auth.role, "key_id": auth.key_id, "user_id": auth.user_id }),
    ))
}

/// The audit log of mutating requests, newest first.
#[utoipa::path(get, path = "/v1/audit", tag = "access", params(PageQuery), responses((status = 200, description = "Audit entries")))]
pub async fn audit(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let page = state
        .store
        .audit_page(auth.org(), q.cursor.as_deref(), q.limit())
        .await?;
    Ok(axum::Json(
        json!({ "data": page.items, "next_cursor": page.next_cursor }),
    ))
}
