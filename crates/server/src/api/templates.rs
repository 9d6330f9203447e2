//! `/v1/templates`: message templates (minijinja), checked when saved, previewed with
//! variables; a missing variable is a 422 that names it.

use super::providers::PageQuery;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::{Auth, ReadOnly};
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_engine::templates::{self, TemplateError};
use switchyard_store::{Role, TemplateRecord};

const CHANNELS: &[&str] = &["sms", "mms", "whatsapp", "email"];

/// A new template.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    /// Unique within the organisation (letters, digits, `-`, `_`, `.`).
    name: String,
    /// `sms` (default), `mms`, `whatsapp` or `email` (the body is then HTML).
    #[serde(default)]
    channel: Option<String>,
    /// minijinja source, e.g. `Hi {{ first_name }}, your code is {{ code }}`.
    body: String,
}

/// A template's new body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateChange {
    /// minijinja source.
    body: String,
}

/// Variables to render with.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preview {
    /// An object; nested objects are reached with dots (`contact.first_name`).
    #[serde(default)]
    #[schema(value_type = Object)]
    variables: Value,
}

pub(crate) fn template_error(field: &str, e: &TemplateError) -> ApiError {
    match e {
        TemplateError::Missing(names) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_variable",
            e.to_string(),
        )
        .with_details(json!({ "field": format!("variables.{}", names[0]), "missing": names })),
        TemplateError::Syntax { line, .. } => ApiError::invalid(field, e.to_string())
            .with_details(json!({ "field": field, "line": line })),
        TemplateError::Render(_) => ApiError::invalid(field, e.to_string()),
    }
}

/// Checks a body of a `channel` template (an email's HTML may be up to 500 kB, a text
/// message's 10,000 bytes) and returns the variables it uses.
fn check_body(channel: &str, body: &str) -> ApiResult<Vec<String>> {
    let max = if channel == "email" { 500_000 } else { 10_000 };
    if body.trim().is_empty() || body.len() > max {
        return Err(ApiError::invalid(
            "body",
            format!("body of a {channel} template must be 1 to {max} bytes"),
        ));
    }
    templates::check(body).map_err(|e| template_error("body", &e))
}

fn view(t: &TemplateRecord) -> Value {
    json!({
        "id": t.id, "name": t.name, "channel": t.channel, "body": t.body,
        "variables": templates::check(&t.body).unwrap_or_default(),
        "created_at": t.created_at, "updated_at": t.updated_at,
    })
}

async fn load(state: &Shared, auth: &Auth, id: &str) -> ApiResult<TemplateRecord> {
    state
        .store
        .template(auth.org(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))
}

/// Saves a template.
#[utoipa::path(post, path = "/v1/templates", tag = "templates", request_body = NewTemplate,
    responses((status = 201, description = "Saved"), (status = 409, description = "Name taken"), (status = 422, description = "Invalid field or template syntax")))]
pub async fn create(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<NewTemplate>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Operator)?;
    let name_ok = !body.name.is_empty()
        && body.name.len() <= 100
        && body
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(ApiError::invalid(
            "name",
            "name must be 1 to 100 letters, digits, '-', '_' or '.'",
        ));
    }
    let channel = body.channel.as_deref().unwrap_or("sms");
    if !CHANNELS.contains(&channel) {
        return Err(ApiError::invalid(
            "channel",
            "channel must be sms, mms, whatsapp or email",
        ));
    }
    check_body(channel, &body.body)?;
    let saved = state
        .store
        .insert_template(auth.org(), &body.name, channel, &body.body)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "name_taken",
                format!("a template named {} exists", body.name),
            )
            .with_details(json!({ "field": "name" }))
        })?;
    Ok((StatusCode::CREATED, axum::Json(view(&saved))))
}

/// Lists templates, newest first.
#[utoipa::path(get, path = "/v1/templates", tag = "templates", params(PageQuery), responses((status = 200, description = "A page of templates")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .templates_page(auth.org(), q.cursor.as_deref(), q.limit())
        .await?;
    let data: Vec<Value> = page.items.iter().map(view).collect();
    Ok(axum::Json(
        json!({ "data": data, "next_cursor": page.next_cursor }),
    ))
}

/// One template, by id or name.
#[utoipa::path(get, path = "/v1/templates/{id}", tag = "templates", responses((status = 200, description = "The template"), (status = 404, description = "No such template")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(view(&load(&state, &auth, &id).await?)))
}

/// Replaces a template's body.
#[utoipa::path(patch, path = "/v1/templates/{id}", tag = "templates", request_body = TemplateChange, responses((status = 200, description = "Changed")))]
pub async fn update(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<TemplateChange>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Operator)?;
    let t = load(&state, &auth, &id).await?;
    check_body(&t.channel, &body.body)?;
    state
        .store
        .update_template(auth.org(), &t.id, &body.body)
        .await?;
    Ok(axum::Json(view(&load(&state, &auth, &t.id).await?)))
}

/// Deletes a template.
#[utoipa::path(delete, path = "/v1/templates/{id}", tag = "templates", responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Operator)?;
    let t = load(&state, &auth, &id).await?;
    state.store.delete_template(auth.org(), &t.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Renders a template with variables, and counts the SMS segments of the result.
#[utoipa::path(post, path = "/v1/templates/{id}/preview", tag = "templates", request_body = Preview,
    responses((status = 200, description = "The rendered text"), (status = 422, description = "A variable is missing (named in details.missing)")))]
pub async fn preview(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<Preview>,
) -> ApiResult<impl IntoResponse> {
    let t = load(&state, &auth, &id).await?;
    let vars = match body.variables {
        Value::Null => json!({}),
        v @ Value::Object(_) => v,
        _ => {
            return Err(ApiError::invalid(
                "variables",
                "variables must be an object",
            ));
        }
    };
    let text = templates::render(&t.body, &vars).map_err(|e| template_error("variables", &e))?;
    let segments = switchyard_core::rating::count_segments(&text);
    Ok((
        Extension(ReadOnly),
        axum::Json(json!({ "template": t.id, "body": text, "segments": segments })),
    ))
}
