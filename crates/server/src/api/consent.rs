//! Consent: the per-channel opt-out list, the do-not-contact list (CSV in and out), and the
//! replies sent to STOP, START and HELP.

use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchyard_store::{OrgDocument, Role};

/// Channels consent is kept for.
pub const CHANNELS: &[&str] = &["sms", "mms", "whatsapp", "voice", "email"];

/// The replies to consent keywords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentTexts {
    /// Sent once when a number opts out.
    pub opt_out: String,
    /// Sent when a number opts back in.
    pub opt_in: String,
    /// Sent in answer to HELP or INFO.
    pub help: String,
}

impl Default for ConsentTexts {
    fn default() -> Self {
        ConsentTexts {
            opt_out: "You have been unsubscribed and will receive no more messages. Reply START to resubscribe.".into(),
            opt_in: "You have been resubscribed. Reply STOP to unsubscribe.".into(),
            help: "Reply STOP to unsubscribe, START to resubscribe.".into(),
        }
    }
}

/// The organisation's consent replies.
pub async fn texts(state: &Shared, org: &str) -> ApiResult<ConsentTexts> {
    let stored = state
        .store
        .org_document(org, OrgDocument::ConsentTexts)
        .await?;
    Ok(stored
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

fn channel(raw: &str) -> ApiResult<&str> {
    CHANNELS
        .iter()
        .find(|c| **c == raw)
        .copied()
        .ok_or_else(|| {
            ApiError::invalid(
                "channel",
                format!("channel must be one of {}", CHANNELS.join(", ")),
            )
        })
}

/// Channel filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ChannelQuery {
    /// Only this channel.
    channel: Option<String>,
}

/// An opt-out to record.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOptOut {
    /// E.164 number.
    e164: String,
    /// Channel.
    channel: String,
}

/// The opt-out list.
#[utoipa::path(get, path = "/v1/opt-outs", tag = "consent", params(ChannelQuery), responses((status = 200, description = "Opt-outs")))]
pub async fn list_opt_outs(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ChannelQuery>,
) -> ApiResult<axum::Json<Value>> {
    if let Some(c) = &q.channel {
        channel(c)?;
    }
    let list = state
        .store
        .opt_outs(auth.org(), q.channel.as_deref())
        .await?;
    Ok(axum::Json(json!({ "data": list })))
}

/// Opts a number out of a channel.
#[utoipa::path(post, path = "/v1/opt-outs", tag = "consent", request_body = NewOptOut, responses((status = 201, description = "Recorded"), (status = 200, description = "Already opted out")))]
pub async fn add_opt_out(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<NewOptOut>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Operator)?;
    let number = super::e164_field("e164", &body.e164)?.to_string();
    let ch = channel(&body.channel)?;
    let new = state
        .store
        .add_opt_out(auth.org(), ch, &number, "api")
        .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(json!({ "e164": number, "channel": ch }))))
}

/// Opts a number back in to a channel.
#[utoipa::path(delete, path = "/v1/opt-outs/{channel}/{e164}", tag = "consent", responses((status = 204, description = "Removed"), (status = 404, description = "Not opted out")))]
pub async fn remove_opt_out(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path((ch, raw)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Operator)?;
    let number = super::e164_field("e164", &raw)?.to_string();
    if state
        .store
        .remove_opt_out(auth.org(), channel(&ch)?, &number)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("opt-out"))
    }
}

/// Reads a do-not-contact CSV: `e164[,reason]` per line, an optional header line. Every bad
/// line is reported; any bad line means nothing is imported.
fn parse_dnc(text: &str) -> Result<Vec<(String, String)>, Vec<Value>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(json!({ "line": line, "reason": e.to_string() }));
                continue;
            }
        };
        let first = record.get(0).unwrap_or_default();
        if line == 1
            && matches!(
                first.to_ascii_lowercase().as_str(),
                "e164" | "number" | "phone" | "phone_number"
            )
        {
            continue;
        }
        if first.is_empty() && record.len() <= 1 {
            continue;
        }
        match switchyard_core::number::parse_e164(first) {
            Ok(n) => rows.push((n.to_string(), record.get(1).unwrap_or_default().to_string())),
            Err(e) => errors.push(
                json!({ "line": line, "column": 1, "value": first, "reason": e.to_string() }),
            ),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Adds numbers to the do-not-contact list from CSV (`text/csv`): all or nothing.
#[utoipa::path(post, path = "/v1/do-not-contact", tag = "consent", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "Imported"), (status = 422, description = "Bad lines, each named; nothing imported")))]
pub async fn import_dnc(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("not_utf8", "the CSV must be UTF-8"))?;
    let rows = parse_dnc(text).map_err(|errors| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_rows",
            format!("{} invalid line(s); nothing was imported", errors.len()),
        )
        .with_details(json!({ "errors": errors }))
    })?;
    let added = state.store.add_do_not_contact(auth.org(), &rows).await?;
    Ok(axum::Json(json!({ "read": rows.len(), "added": added })))
}

/// The do-not-contact list: JSON, or CSV when the request accepts `text/csv`.
#[utoipa::path(get, path = "/v1/do-not-contact", tag = "consent", responses((status = 200, description = "The list (JSON or CSV)")))]
pub async fn export_dnc(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let list = state.store.do_not_contact(auth.org()).await?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    if !wants_csv {
        return Ok(axum::Json(json!({ "data": list })).into_response());
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["e164", "reason", "added_at"])
        .map_err(ApiError::internal)?;
    for entry in &list {
        let at = chrono::DateTime::from_timestamp_millis(entry.created_at)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        out.write_record([entry.e164.as_str(), entry.reason.as_str(), at.as_str()])
            .map_err(ApiError::internal)?;
    }
    let bytes = out.into_inner().map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
}

/// Takes a number off the do-not-contact list.
#[utoipa::path(delete, path = "/v1/do-not-contact/{e164}", tag = "consent", responses((status = 204, description = "Removed")))]
pub async fn remove_dnc(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Admin)?;
    let number = super::e164_field("e164", &raw)?.to_string();
    if state
        .store
        .remove_do_not_contact(auth.org(), &number)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("do-not-contact entry"))
    }
}

/// The replies sent to STOP, START and HELP.
#[utoipa::path(get, path = "/v1/consent/texts", tag = "consent", responses((status = 200, body = ConsentTexts)))]
pub async fn get_texts(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<ConsentTexts>> {
    Ok(axum::Json(texts(&state, auth.org()).await?))
}

/// Replaces the replies sent to STOP, START and HELP (absent fields take the defaults).
#[utoipa::path(put, path = "/v1/consent/texts", tag = "consent", request_body = ConsentTexts, responses((status = 200, body = ConsentTexts)))]
pub async fn set_texts(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<ConsentTexts>,
) -> ApiResult<axum::Json<ConsentTexts>> {
    auth.require(Role::Admin)?;
    for (field, text) in [
        ("opt_out", &body.opt_out),
        ("opt_in", &body.opt_in),
        ("help", &body.help),
    ] {
        if text.trim().is_empty() || text.chars().count() > 320 {
            return Err(ApiError::invalid(
                field,
                format!("{field} must be 1 to 320 characters"),
            ));
        }
    }
    let doc = serde_json::to_string(&body).map_err(ApiError::internal)?;
    state
        .store
        .set_org_document(auth.org(), OrgDocument::ConsentTexts, &doc)
        .await?;
    Ok(axum::Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnc_csv_reports_every_bad_line() {
        let ok = parse_dnc("\u{feff}e164,reason\n+447911123456,asked\n+1 212 555 0100\n\n")
            .expect("valid");
        assert_eq!(
            ok,
            vec![
                ("+447911123456".into(), "asked".into()),
                ("+12125550100".into(), String::new())
            ]
        );
        let errors = parse_dnc("+447911123456\nnot a number\n+1\n").expect_err("invalid");
        let lines: Vec<u64> = errors.iter().filter_map(|e| e["line"].as_u64()).collect();
        assert_eq!(lines, [2, 3]);
    }
}
