//! The Telnyx API v2 endpoints the adapter uses.

use crate::accounts::{Account, Call, Message, OwnedNumber, Refusal, Style, number_id};
use crate::reply::{Fail, Reply};
use crate::wire::{param, query_pairs, strings, valid_e164};
use crate::{Sandbox, lifecycle, lock, text};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;

pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v2/balance", get(balance))
        .route("/v2/calls", post(create_call))
        .route("/v2/calls/{id}", get(fetch_call))
        .route("/v2/calls/{id}/actions/{action}", post(command))
        .route("/v2/messages", post(create_message))
        .route("/v2/messages/{id}", get(fetch_message))
        .route("/v2/available_phone_numbers", get(available))
        .route("/v2/number_orders", post(order))
        .route("/v2/phone_numbers", get(list_numbers))
        .route("/v2/phone_numbers/{id}", axum::routing::delete(release))
}

/// Ends a handler with an error.
fn fail(status: StatusCode, code: &str, title: &str, detail: &str) -> Reply {
    Err(error(status, code, title, detail).into())
}

/// Telnyx's error body.
fn error(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    (
        status,
        axum::Json(json!({ "errors": [{ "code": code, "title": title, "detail": detail }] })),
    )
        .into_response()
}

/// Ends a handler with Telnyx's 422 for an invalid parameter.
fn fail_invalid(detail: &str) -> Reply {
    Err(invalid(detail).into())
}

fn invalid(detail: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "10015",
        "Invalid parameter",
        detail,
    )
}

/// Telnyx's 404.
fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, "10005", "Resource not found", what)
}

fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Outage => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "10007",
            "Service unavailable",
            "try again later",
        ),
        Refusal::RateLimited => {
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "10011",
                "Too many requests",
                "rate limit exceeded",
            );
            resp.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            resp
        }
        Refusal::Error | Refusal::Timeout => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "10007",
            "Unexpected error",
            "internal error",
        ),
    }
}

async fn authorize(sb: &Sandbox, headers: &HeaderMap) -> Result<Arc<Account>, Fail> {
    let denied = || {
        error(
            StatusCode::UNAUTHORIZED,
            "10009",
            "Authentication failed",
            "The API key is missing or invalid",
        )
    };
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| Fail::from(denied()))?;
    let account = sb
        .account(key.trim())
        .filter(|a| a.creds.style == Style::Telnyx)
        .ok_or_else(|| Fail::from(denied()))?;
    crate::admin::gate(sb, &account)
        .await
        .map_err(|r| Fail::from(refusal(r)))?;
    Ok(account)
}

fn json_body(body: &Bytes) -> Result<Value, Fail> {
    crate::wire::json_object(body).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "10002",
            "Invalid request body",
            "the body must be a JSON object",
        )
        .into()
    })
}

fn call_json(account: &Account, sb: &Sandbox, c: &Call) -> Value {
    let alive = !lifecycle::is_final(&c.status);
    let talked = if c.status == "in-progress" {
        ((sb.clock().now_ms() - c.created_ms) / 1000).max(1) as u32
    } else {
        c.duration
    };
    json!({
        "record_type": "call", "call_control_id": c.id, "call_leg_id": c.id.trim_start_matches("v3:"),
        "call_session_id": c.id.trim_start_matches("v3:"), "is_alive": alive, "call_duration": talked,
        "connection_id": account.creds.connection_id,
    })
}

fn message_json(account: &Account, m: &Message) -> Value {
    let status = match m.status.as_str() {
        "undelivered" => "delivery_failed",
        other => other,
    };
    let cost = account.profile().sms_price * rust_decimal::Decimal::from(m.segments);
    json!({
        "record_type": "message", "id": m.id, "direction": "outbound",
        "type": if m.media.is_empty() { "SMS" } else { "MMS" },
        "from": { "phone_number": m.from }, "to": [{ "phone_number": m.to, "status": status }],
        "text": m.body, "media": m.media.iter().map(|u| json!({ "url": u })).collect::<Vec<_>>(),
        "parts": m.segments, "cost": { "amount": cost.to_string(), "currency": "USD" },
        "errors": m.error_code.iter().map(|c| json!({ "code": c })).collect::<Vec<_>>(),
    })
}

fn number_json(account: &Account, n: &OwnedNumber) -> Value {
    json!({
        "record_type": "phone_number", "id": n.id, "phone_number": n.e164, "status": "active",
        "connection_id": account.creds.connection_id,
    })
}

async fn balance(State(sb): State<Sandbox>, headers: HeaderMap) -> Reply {
    authorize(&sb, &headers).await?;
    Ok(axum::Json(json!({ "data": {
        "record_type": "balance", "balance": "100.00", "available_credit": "100.00", "currency": "USD",
    } }))
    .into_response())
}

async fn create_call(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Reply {
    let account = authorize(&sb, &headers).await?;
    let v = json_body(&body)?;
    let (Some(to), Some(from), Some(conn)) =
        (text(&v, "to"), text(&v, "from"), text(&v, "connection_id"))
    else {
        return fail_invalid("to, from and connection_id are required");
    };
    if Some(conn) != account.creds.connection_id.as_deref() {
        return fail_invalid("connection_id does not belong to this account");
    }
    if !valid_e164(to) {
        return fail_invalid("to must be an E.164 number");
    }
    if account.owned(from).is_none() {
        return fail_invalid("from must be a number on this account");
    }
    // `command_id` makes the dial idempotent: the same id returns the same call.
    if let Some(cmd) = text(&v, "command_id") {
        let calls = lock(&account.calls);
        if let Some(existing) = calls
            .values()
            .find(|c| c.command_id.as_deref() == Some(cmd))
        {
            return Ok(
                axum::Json(json!({ "data": call_json(&account, &sb, existing) })).into_response(),
            );
        }
    }
    let n = sb.next_id();
    let id = format!(
        "v3:{:032x}",
        switchyard_core::scoring::mix64(n) as u128 | (n as u128) << 64
    );
    let call = Call {
        id: id.clone(),
        seq: n,
        to: to.into(),
        from: from.into(),
        status: "queued".into(),
        duration: 0,
        callback: text(&v, "webhook_url").map(str::to_owned),
        events: Vec::new(),
        command_id: text(&v, "command_id").map(str::to_owned),
        answer_url: None,
        callback_auth: None,
        created_ms: sb.clock().now_ms(),
        sequence: 0,
    };
    let view = call_json(&account, &sb, &call);
    lock(&account.calls).insert(id.clone(), call);
    lifecycle::run_call(sb.clone(), account.clone(), id, n);
    Ok(axum::Json(json!({ "data": view })).into_response())
}

async fn fetch_call(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers).await?;
    Ok(match lock(&account.calls).get(&id) {
        Some(c) => axum::Json(json!({ "data": call_json(&account, &sb, c) })).into_response(),
        None => not_found("no such call"),
    })
}

async fn command(
    State(sb): State<Sandbox>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers).await?;
    json_body(&body)?;
    let status = match lock(&account.calls).get(&id) {
        Some(c) => c.status.clone(),
        None => {
            return Err(not_found("no such call").into());
        }
    };
    if lifecycle::is_final(&status) {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "90018",
            "Call has already ended",
            "This call is no longer active",
        );
    }
    match action.as_str() {
        "hangup" => {
            lifecycle::hang_up(&sb, &account, &id);
        }
        "speak" | "playback_start" | "transfer" => {}
        _ => {
            return Err(not_found("unknown action").into());
        }
    }
    Ok(axum::Json(json!({ "data": { "result": "ok" } })).into_response())
}

async fn create_message(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Reply {
    let account = authorize(&sb, &headers).await?;
    let v = json_body(&body)?;
    let Some(to) = text(&v, "to").filter(|t| valid_e164(t)) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "40310",
            "Invalid 'to' address",
            "to must be an E.164 number",
        );
    };
    let from = text(&v, "from").unwrap_or_default();
    if account.owned(from).is_none() {
        return fail(
            StatusCode::BAD_REQUEST,
            "40305",
            "Invalid 'from' address",
            "from must be a number on this account",
        );
    }
    let media = strings(&v, "media_urls");
    let body_text = text(&v, "text").unwrap_or_default().to_string();
    if body_text.is_empty() && media.is_empty() {
        return fail_invalid("text or media_urls is required");
    }
    let n = sb.next_id();
    let id = format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        n as u32,
        (n >> 32) as u16,
        switchyard_core::scoring::mix64(n) & 0xffff_ffff_ffff
    );
    let m = Message {
        id: id.clone(),
        to: to.into(),
        from: from.into(),
        segments: switchyard_core::rating::count_segments(&body_text).count,
        body: body_text,
        media,
        status: "queued".into(),
        error_code: None,
        callback: text(&v, "webhook_url").map(str::to_owned),
        created_ms: sb.clock().now_ms(),
    };
    let view = message_json(&account, &m);
    lock(&account.messages).insert(id.clone(), m);
    lifecycle::run_message(sb.clone(), account.clone(), id, n);
    Ok(axum::Json(json!({ "data": view })).into_response())
}

async fn fetch_message(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers).await?;
    let found = lock(&account.messages).get(&id).cloned();
    Ok(match found {
        Some(m) => axum::Json(json!({ "data": message_json(&account, &m) })).into_response(),
        None => not_found("no such message"),
    })
}

async fn available(State(sb): State<Sandbox>, RawQuery(q): RawQuery, headers: HeaderMap) -> Reply {
    authorize(&sb, &headers).await?;
    let pairs = query_pairs(&q);
    let Some(country) = param(&pairs, "filter[country_code]") else {
        return fail_invalid("filter[country_code] is required");
    };
    let kind = param(&pairs, "filter[phone_number_type]").unwrap_or("local");
    let limit = param(&pairs, "filter[limit]")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20usize)
        .min(100);
    let data: Vec<Value> = sb.offer(country, kind, param(&pairs, "filter[national_destination_code]"), limit)
    .into_iter()
    .map(|(e164, region)| json!({
        "record_type": "available_phone_number", "phone_number": e164,
        "region_information": [{ "region_type": "country_code", "region_name": region }],
        "features": [{ "name": "sms" }, { "name": "voice" }, { "name": "mms" }],
        "cost_information": { "monthly_cost": "1.00", "upfront_cost": "1.00", "currency": "USD" },
    }))
    .collect();
    let total = data.len();
    Ok(axum::Json(
        json!({ "data": data, "meta": { "total_results": total, "best_effort_results": 0 } }),
    )
    .into_response())
}

async fn order(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Reply {
    let account = authorize(&sb, &headers).await?;
    let v = json_body(&body)?;
    let wanted: Vec<String> = v
        .get("phone_numbers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|p| text(p, "phone_number"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if wanted.is_empty() {
        return fail_invalid("phone_numbers must list at least one phone_number");
    }
    let mut lines = Vec::new();
    for e164 in &wanted {
        let ok = valid_e164(e164) && sb.is_offered(e164) && account.owned(e164).is_none();
        if ok {
            lock(&account.numbers).push(OwnedNumber {
                id: number_id(Style::Telnyx, sb.next_id(), 0, e164),
                e164: e164.clone(),
                sms_url: None,
                voice_url: None,
            });
        }
        lines.push(json!({ "id": format!("{:x}", sb.next_id()), "phone_number": e164, "status": if ok { "success" } else { "failure" } }));
    }
    let all_ok = lines.iter().all(|l| l["status"] == "success");
    Ok(axum::Json(json!({ "data": {
    "record_type": "number_order", "id": format!("order-{:x}", sb.next_id()),
    "status": if all_ok { "success" } else { "failure" }, "phone_numbers_count": lines.len(), "phone_numbers": lines,
    } }))
    .into_response())
}

async fn list_numbers(
    State(sb): State<Sandbox>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers).await?;
    let pairs = query_pairs(&q);
    let size: usize = param(&pairs, "page[size]")
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .clamp(1, 250);
    let page: usize = param(&pairs, "page[number]")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1);
    let filter = param(&pairs, "filter[phone_number]");
    let all: Vec<OwnedNumber> = lock(&account.numbers)
        .iter()
        .filter(|n| filter.is_none_or(|f| f == n.e164))
        .cloned()
        .collect();
    let data: Vec<Value> = all
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|n| number_json(&account, n))
        .collect();
    Ok(axum::Json(json!({ "data": data, "meta": {
    "total_results": all.len(), "total_pages": all.len().div_ceil(size).max(1), "page_number": page, "page_size": size,
    } }))
    .into_response())
}

async fn release(State(sb): State<Sandbox>, Path(id): Path<String>, headers: HeaderMap) -> Reply {
    let account = authorize(&sb, &headers).await?;
    let mut numbers = lock(&account.numbers);
    let Some(pos) = numbers.iter().position(|n| n.id == id) else {
        return Err(not_found("no such phone number").into());
    };
    let n = numbers.remove(pos);
    Ok(axum::Json(json!({ "data": { "record_type": "phone_number", "id": n.id, "phone_number": n.e164, "status": "deleted" } })).into_response())
}
