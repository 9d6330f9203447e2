//! Rate decks: upload (CSV body or multipart) with dry runs, versions, rows, deletion, and
//! look-ups of every provider's rate for a number.

use crate::api::providers::PageQuery;
use crate::error::{ApiError, ApiResult};
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::Channel;
use switchyard_core::deck::{ColumnMapping, ImportError, ImportOptions, import_csv};
use switchyard_store::{NewDeck, Role};

/// Options of an upload, from the query string (or multipart fields of the same names).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// Channel of the deck (default voice).
    channel: Option<String>,
    /// When the version takes effect (RFC 3339 or YYYY-MM-DD; default now).
    effective_from: Option<String>,
    /// Validate only: report every error, store nothing.
    dry_run: Option<bool>,
    /// Import the valid rows and report the skipped ones.
    skip_invalid: Option<bool>,
    /// Column mapping as JSON: `{"prefix": "Code", "rate": 3}`.
    mapping: Option<String>,
    /// Currency of rows without a currency column (default USD).
    currency: Option<String>,
}

struct Upload {
    bytes: Vec<u8>,
    name: String,
    query: UploadQuery,
}

async fn read_upload(state: &Shared, query: UploadQuery, req: Request) -> ApiResult<Upload> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request("malformed_multipart", e.body_text()))?;
        let mut upload = Upload {
            bytes: Vec::new(),
            name: "upload.csv".into(),
            query,
        };
        let mut got_file = false;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request("malformed_multipart", e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" {
                upload.name = field.file_name().unwrap_or("upload.csv").to_string();
                upload.bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::new(e.status(), "unreadable_upload", e.body_text()))?
                    .to_vec();
                got_file = true;
            } else {
                let text = field
                    .text()
                    .await
                    .map_err(|e| ApiError::bad_request("malformed_multipart", e.body_text()))?;
                let q = &mut upload.query;
                match name.as_str() {
                    "channel" => q.channel = Some(text),
                    "effective_from" => q.effective_from = Some(text),
                    "dry_run" => q.dry_run = Some(text == "true"),
                    "skip_invalid" => q.skip_invalid = Some(text == "true"),
                    "mapping" => q.mapping = Some(text),
                    "currency" => q.currency = Some(text),
                    other => {
                        return Err(ApiError::bad_request(
                            "unknown_field",
                            format!("unknown form field {other:?}"),
                        ));
                    }
                }
            }
        }
        if !got_file {
            return Err(ApiError::invalid(
                "file",
                "the multipart upload has no `file` field",
            ));
        }
        Ok(upload)
    } else if content_type.starts_with("text/csv")
        || content_type.starts_with("text/plain")
        || content_type.starts_with("application/octet-stream")
    {
        let bytes = axum::body::to_bytes(req.into_body(), state.settings.max_upload_bytes)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the deck is larger than the upload limit",
                )
            })?;
        Ok(Upload {
            bytes: bytes.to_vec(),
            name: "upload.csv".into(),
            query,
        })
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the deck as text/csv or multipart/form-data with a `file` field",
        ))
    }
}

fn parse_effective(text: Option<&str>) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    let Some(t) = text else {
        return Ok(chrono::Utc::now());
    };
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            ApiError::invalid(
                "effective_from",
                format!("effective_from {t:?} is not RFC 3339 or YYYY-MM-DD"),
            )
        })
}

fn row_errors(errors: &[switchyard_core::deck::RowError]) -> Value {
    json!(errors)
}

/// Uploads a deck version for a provider and channel.
#[utoipa::path(post, path = "/v1/providers/{id}/rates", tag = "rates", params(UploadQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, description = "Imported"), (status = 200, description = "Dry-run report"), (status = 422, description = "Invalid rows, by line and column")))]
pub async fn upload(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    req: Request,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    let provider = state
        .store
        .provider(auth.org(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let upload = read_upload(&state, query, req).await?;
    let q = &upload.query;
    let channel: Channel = q.channel.as_deref().unwrap_or("voice").parse().map_err(
        |e: switchyard_core::channel::UnknownChannel| ApiError::invalid("channel", e.to_string()),
    )?;
    let effective_from = parse_effective(q.effective_from.as_deref())?;
    let mut options = ImportOptions {
        skip_invalid: q.skip_invalid.unwrap_or(false),
        ..ImportOptions::default()
    };
    if let Some(m) = &q.mapping {
        options.mapping = serde_json::from_str::<ColumnMapping>(m).map_err(|e| {
            ApiError::invalid(
                "mapping",
                format!("mapping is not a field-to-column object: {e}"),
            )
        })?;
    }
    if let Some(c) = &q.currency {
        options.default_currency =
            c.parse()
                .map_err(|e: switchyard_core::money::UnknownCurrency| {
                    ApiError::invalid("currency", e.to_string())
                })?;
    }
    let dry_run = q.dry_run.unwrap_or(false);
    let bytes = upload.bytes;
    let result = tokio::task::spawn_blocking(move || import_csv(bytes.as_slice(), &options))
        .await
        .map_err(ApiError::internal)?;
    match (result, dry_run) {
        (Ok(report), true) => Ok((
            StatusCode::OK,
            axum::Json(json!({
                "dry_run": true, "valid": true, "rows": report.rows.len(),
                "closed_rows": report.closed_rows, "duplicate_rows": report.duplicate_rows,
                "skipped": row_errors(&report.skipped), "skipped_count": report.skipped_total,
            })),
        )),
        (Err(ImportError::Invalid { errors, total }), true) => Ok((
            StatusCode::OK,
            axum::Json(
                json!({ "dry_run": true, "valid": false, "errors": row_errors(&errors), "error_count": total }),
            ),
        )),
        (Err(e @ (ImportError::Layout(_) | ImportError::Empty | ImportError::Read(_))), true) => {
            Ok((
                StatusCode::OK,
                axum::Json(
                    json!({ "dry_run": true, "valid": false, "errors": [{"line": 1, "column": null, "reason": e.to_string()}], "error_count": 1 }),
                ),
            ))
        }
        (Err(ImportError::Invalid { errors, total }), false) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_deck",
            format!("{total} invalid row(s); nothing was imported"),
        )
        .with_details(json!({ "errors": row_errors(&errors), "error_count": total }))),
        (Err(e), false) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_deck",
            e.to_string(),
        )),
        (Ok(report), false) => {
            let meta = state
                .store
                .insert_deck(NewDeck {
                    org_id: auth.org().to_string(),
                    provider_id: provider.id.clone(),
                    channel,
                    effective_from,
                    source_name: upload.name,
                    rows: report.rows,
                })
                .await?;
            state
                .routing
                .changed(auth.org())
                .await
                .map_err(ApiError::internal)?;
            Ok((
                StatusCode::CREATED,
                axum::Json(json!({
                    "deck": meta, "skipped": row_errors(&report.skipped), "skipped_count": report.skipped_total,
                    "closed_rows": report.closed_rows, "duplicate_rows": report.duplicate_rows,
                })),
            ))
        }
    }
}

/// Lists a provider's deck versions, newest first.
#[utoipa::path(get, path = "/v1/providers/{id}/rates", tag = "rates", params(PageQuery), responses((status = 200, description = "Deck versions")))]
pub async fn versions(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    if state.store.provider(auth.org(), &id).await?.is_none() {
        return Err(ApiError::not_found("provider"));
    }
    let page = state
        .store
        .decks_page(auth.org(), &id, q.cursor.as_deref(), q.limit())
        .await?;
    Ok(axum::Json(
        json!({ "data": page.items, "next_cursor": page.next_cursor }),
    ))
}

/// Row paging of one deck.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RowsQuery {
    /// First row position (default 0).
    offset: Option<i64>,
    /// Rows to return (1–5000, default 500).
    limit: Option<usize>,
}

/// One deck version with a page of its rows.
#[utoipa::path(get, path = "/v1/rates/decks/{deck_id}", tag = "rates", params(RowsQuery), responses((status = 200, description = "Deck and rows"), (status = 404, description = "No such deck")))]
pub async fn deck(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(deck_id): Path<String>,
    Query(q): Query<RowsQuery>,
) -> ApiResult<axum::Json<Value>> {
    let meta = state
        .store
        .deck(auth.org(), &deck_id)
        .await?
        .ok_or_else(|| ApiError::not_found("deck"))?;
    let offset = q.offset.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    let rows = state.store.deck_rows(&meta.id, offset, limit).await?;
    let end = offset + rows.len() as i64;
    let next = (end < meta.row_count).then_some(end);
    Ok(axum::Json(
        json!({ "deck": meta, "rows": rows, "next_offset": next }),
    ))
}

/// Deletes a deck version.
#[utoipa::path(delete, path = "/v1/rates/decks/{deck_id}", tag = "rates", responses((status = 204, description = "Deleted")))]
pub async fn delete_deck(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(deck_id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Admin)?;
    if !state.store.delete_deck(auth.org(), &deck_id).await? {
        return Err(ApiError::not_found("deck"));
    }
    state
        .routing
        .changed(auth.org())
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A number and channel to look up.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LookupQuery {
    /// E.164 number.
    number: String,
    /// Channel (default voice).
    channel: Option<String>,
}

/// Every provider's matching prefix and rate for a number.
#[utoipa::path(get, path = "/v1/rates/lookup", tag = "rates", params(LookupQuery), responses((status = 200, description = "Matches")))]
pub async fn lookup(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<LookupQuery>,
) -> ApiResult<axum::Json<Value>> {
    let number = switchyard_core::number::parse_e164(&q.number)
        .map_err(|e| ApiError::invalid("number", e.to_string()))?;
    let channel = crate::api::routing::channel_param(q.channel.as_deref())?;
    let routing = state
        .routing
        .for_org(auth.org())
        .await
        .map_err(ApiError::internal)?;
    let matches = routing.router.current().lookup(
        number.digits(),
        channel,
        chrono::Utc::now().timestamp_millis(),
    );
    Ok(axum::Json(
        json!({ "number": number.to_string(), "channel": channel, "matches": matches }),
    ))
}
