//! The Plivo REST endpoints the adapter uses (`/v1/Account/{auth_id}/…`), with Plivo's
//! JSON bodies, numbers written without `+`, and `{"api_id", "error"}` errors.

use crate::accounts::{Account, Call, Message, OwnedNumber, Refusal, Style};
use crate::reply::{Fail, Reply};
use crate::wire::{param, query_pairs, strings};
use crate::{Sandbox, lifecycle, lock, notify, text};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_core::scoring::mix64;

pub fn routes() -> Router<Sandbox> {
    let acct = "/v1/Account/{auth_id}";
    Router::new()
        .route(&format!("{acct}/"), get(fetch_account))
        .route(&format!("{acct}/Call/"), post(create_call))
        .route(
            &format!("{acct}/Call/{{id}}/"),
            get(fetch_call).post(transfer).delete(hang_up),
        )
        .route(&format!("{acct}/Message/"), post(create_message))
        .route(&format!("{acct}/Message/{{id}}/"), get(fetch_message))
        .route(&format!("{acct}/PhoneNumber/"), get(search))
        .route(&format!("{acct}/PhoneNumber/{{number}}/"), post(buy))
        .route(&format!("{acct}/Number/"), get(list_numbers))
        .route(
            &format!("{acct}/Number/{{number}}/"),
            get(fetch_number).post(update_number).delete(release),
        )
}

fn api_id(sb: &Sandbox) -> String {
    let n = sb.next_id();
    format!(
        "{:08x}-0000-11e1-8000-{:012x}",
        n as u32,
        mix64(n) & 0xffff_ffff_ffff
    )
}

/// Plivo's error body.
fn error(sb: &Sandbox, status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "api_id": api_id(sb), "error": message })),
    )
        .into_response()
}

/// Plivo's 202 with its `message` (`call transferred`, `changed`).
fn accepted(sb: &Sandbox, message: &str) -> Reply {
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "api_id": api_id(sb), "message": message })),
    )
        .into_response())
}

fn fail(sb: &Sandbox, status: StatusCode, message: &str) -> Reply {
    Err(error(sb, status, message).into())
}

fn refusal(sb: &Sandbox, r: Refusal) -> Response {
    match r {
        Refusal::Outage => error(sb, StatusCode::SERVICE_UNAVAILABLE, "service unavailable"),
        // Plivo documents no Retry-After on its 429.
        Refusal::RateLimited => error(sb, StatusCode::TOO_MANY_REQUESTS, "too many requests"),
        Refusal::Error | Refusal::Timeout => error(
            sb,
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error",
        ),
    }
}

/// Checks Basic auth against the auth id in the path and passes the fault gate.
async fn authorize(sb: &Sandbox, headers: &HeaderMap, auth_id: &str) -> Result<Arc<Account>, Fail> {
    let denied = || Fail::from(error(sb, StatusCode::UNAUTHORIZED, "Authentication failed"));
    let (user, password) = crate::wire::basic_auth(headers).ok_or_else(denied)?;
    let account = sb
        .account(auth_id)
        .filter(|a| a.creds.style == Style::Plivo)
        .ok_or_else(denied)?;
    if user != auth_id || Some(password.as_str()) != account.creds.auth_token.as_deref() {
        return Err(denied());
    }
    crate::admin::gate(sb, &account)
        .await
        .map_err(|r| Fail::from(refusal(sb, r)))?;
    Ok(account)
}

fn json_body(sb: &Sandbox, body: &Bytes) -> Result<Value, Fail> {
    crate::wire::json_object(body).ok_or_else(|| {
        error(
            sb,
            StatusCode::BAD_REQUEST,
            "invalid json data sent in raw POST",
        )
        .into()
    })
}

/// A number as Plivo takes it (digits, a `+` tolerated) in E.164, if it is one.
fn e164(number: &str) -> Option<String> {
    let d = number.trim().trim_start_matches('+');
    (d.len() > 3 && d.len() <= 15 && d.chars().all(|c| c.is_ascii_digit())).then(|| format!("+{d}"))
}

fn plain(e164: &str) -> &str {
    e164.trim_start_matches('+')
}

fn uuid(n: u64) -> String {
    let h = mix64(n);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h as u32,
        (h >> 32) as u16,
        (h >> 48) & 0xfff,
        n & 0xfff,
        mix64(h) & 0xffff_ffff_ffff
    )
}

async fn fetch_account(
    State(sb): State<Sandbox>,
    Path(auth_id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    authorize(&sb, &headers, &auth_id).await?;
    Ok(axum::Json(json!({
        "account_type": "standard", "api_id": api_id(&sb), "auth_id": auth_id, "auto_recharge": false,
        "billing_mode": "prepaid", "cash_credits": "100.00000", "name": "Sandbox",
        "resource_uri": format!("/v1/Account/{auth_id}/"), "timezone": "UTC",
    }))
    .into_response())
}

async fn create_call(
    State(sb): State<Sandbox>,
    Path(auth_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let v = json_body(&sb, &body)?;
    let (Some(to), Some(from), Some(answer_url)) =
        (text(&v, "to"), text(&v, "from"), text(&v, "answer_url"))
    else {
        return fail(
            &sb,
            StatusCode::BAD_REQUEST,
            "from, to and answer_url are required",
        );
    };
    let Some(to) = e164(to) else {
        return fail(
            &sb,
            StatusCode::BAD_REQUEST,
            &format!("'{to}' is not a valid phone number"),
        );
    };
    let from = e164(from).unwrap_or_default();
    if account.owned(&from).is_none() {
        return fail(
            &sb,
            StatusCode::BAD_REQUEST,
            "from must be a number on this account",
        );
    }
    let n = sb.next_id();
    let id = uuid(n);
    let call = Call {
        id: id.clone(),
        seq: n,
        to,
        from,
        status: "queued".into(),
        duration: 0,
        callback: text(&v, "hangup_url")
            .or_else(|| text(&v, "ring_url"))
            .map(str::to_owned),
        events: Vec::new(),
        created_ms: sb.clock().now_ms(),
        command_id: None,
        answer_url: Some(answer_url.to_string()),
        callback_auth: None,
        sequence: 0,
    };
    lock(&account.calls).insert(id.clone(), call);
    lifecycle::run_call(sb.clone(), account.clone(), id.clone(), n);
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "api_id": api_id(&sb), "message": "call fired", "request_uuid": id })),
    )
        .into_response())
}

async fn fetch_call(
    State(sb): State<Sandbox>,
    Path((auth_id, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let Some(c) = lock(&account.calls).get(&id).cloned() else {
        return fail(&sb, StatusCode::NOT_FOUND, "call not found");
    };
    let live = !lifecycle::is_final(&c.status);
    if param(&query_pairs(&q), "status") == Some("live") {
        if !live || c.status == "queued" {
            return fail(&sb, StatusCode::NOT_FOUND, "call not found");
        }
        return Ok(axum::Json(json!({
            "api_id": api_id(&sb), "call_status": c.status, "call_uuid": c.id, "request_uuid": c.id,
            "direction": "outbound", "from": plain(&c.from), "to": plain(&c.to), "caller_name": "",
        }))
        .into_response());
    }
    if live {
        return fail(&sb, StatusCode::NOT_FOUND, "call not found");
    }
    let (cause_code, cause_name) = match c.status.as_str() {
        "completed" => (4000, "Normal Hangup"),
        "busy" => (3010, "Busy Line"),
        "no-answer" => (3000, "No Answer"),
        "canceled" => (1000, "Canceled"),
        _ => (2000, "Invalid Destination Address"),
    };
    let price = lifecycle::call_price(&account, c.duration);
    Ok(axum::Json(json!({
        "api_id": api_id(&sb), "call_uuid": c.id, "call_direction": "outbound",
        "from_number": plain(&c.from), "to_number": plain(&c.to),
        "call_duration": c.duration, "bill_duration": c.duration, "billed_duration": c.duration,
        "call_state": if c.status == "completed" { "ANSWER" } else { "NOANSWER" },
        "hangup_cause_code": cause_code, "hangup_cause_name": cause_name, "hangup_source": "Callee",
        "total_amount": price.to_string(), "total_rate": account.profile().voice_per_minute.to_string(),
        "resource_uri": format!("/v1/Account/{auth_id}/Call/{}/", c.id),
    }))
    .into_response())
}

/// `legs=aleg` with `aleg_url`: the live call fetches its next document from that URL.
async fn transfer(
    State(sb): State<Sandbox>,
    Path((auth_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let v = json_body(&sb, &body)?;
    let Some(url) = text(&v, "aleg_url").filter(|_| text(&v, "legs") == Some("aleg")) else {
        return fail(
            &sb,
            StatusCode::BAD_REQUEST,
            "legs must be aleg, with aleg_url",
        );
    };
    let call = {
        let mut calls = lock(&account.calls);
        match calls.get_mut(&id) {
            Some(c) if c.status == "in-progress" => {
                c.answer_url = Some(url.to_string());
                c.clone()
            }
            _ => return fail(&sb, StatusCode::NOT_FOUND, "call not found"),
        }
    };
    let payload = notify::plivo_call(&call, "0", sb.clock().now_ms());
    notify::deliver(&sb, &account, Some(url.to_string()), payload);
    accepted(&sb, "call transferred")
}

async fn hang_up(
    State(sb): State<Sandbox>,
    Path((auth_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let live = lock(&account.calls)
        .get(&id)
        .is_some_and(|c| !lifecycle::is_final(&c.status));
    if !live {
        return fail(&sb, StatusCode::NOT_FOUND, "call not found");
    }
    lifecycle::hang_up(&sb, &account, &id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn message_json(sb: &Sandbox, account: &Account, m: &Message) -> Value {
    let rate = account.profile().sms_price;
    json!({
        "api_id": api_id(sb), "message_uuid": m.id, "message_direction": "outbound",
        "message_state": m.status, "message_type": if m.media.is_empty() { "sms" } else { "mms" },
        "from_number": plain(&m.from), "to_number": plain(&m.to), "units": m.segments,
        "error_code": m.error_code, "total_rate": rate.to_string(),
        "total_amount": (rate * rust_decimal::Decimal::from(m.segments)).to_string(),
        "resource_uri": format!("/v1/Account/{}/Message/{}/", account.creds.key(), m.id),
    })
}

async fn create_message(
    State(sb): State<Sandbox>,
    Path(auth_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let v = json_body(&sb, &body)?;
    let Some(to) = text(&v, "dst").and_then(e164) else {
        return fail(
            &sb,
            StatusCode::BAD_REQUEST,
            "dst is not a valid phone number",
        );
    };
    let from = text(&v, "src").and_then(e164).unwrap_or_default();
    if account.owned(&from).is_none() {
        return fail(
            &sb,
            StatusCode::BAD_REQUEST,
            "src is not a number on this account",
        );
    }
    let kind = text(&v, "type").unwrap_or("sms");
    if !matches!(kind, "sms" | "mms" | "whatsapp") {
        return fail(
            &sb,
            StatusCode::BAD_REQUEST,
            "type must be sms, mms or whatsapp",
        );
    }
    let media = strings(&v, "media_urls");
    if kind == "mms" && media.is_empty() {
        return fail(
            &sb,
            StatusCode::BAD_REQUEST,
            "media_urls is required for mms",
        );
    }
    let body_text = text(&v, "text").unwrap_or_default().to_string();
    if body_text.is_empty() && media.is_empty() {
        return fail(&sb, StatusCode::BAD_REQUEST, "text is required");
    }
    let n = sb.next_id();
    let id = uuid(n);
    let m = Message {
        id: id.clone(),
        to,
        from,
        segments: switchyard_core::rating::count_segments(&body_text).count,
        body: body_text,
        media,
        status: "queued".into(),
        error_code: None,
        callback: text(&v, "url").map(str::to_owned),
        created_ms: sb.clock().now_ms(),
    };
    lock(&account.messages).insert(id.clone(), m);
    lifecycle::run_message(sb.clone(), account.clone(), id.clone(), n);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(
            json!({ "api_id": api_id(&sb), "message": "message(s) queued", "message_uuid": [id] }),
        ),
    )
        .into_response())
}

async fn fetch_message(
    State(sb): State<Sandbox>,
    Path((auth_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let found = lock(&account.messages).get(&id).cloned();
    match found {
        Some(m) => Ok(axum::Json(message_json(&sb, &account, &m)).into_response()),
        None => fail(&sb, StatusCode::NOT_FOUND, "message not found"),
    }
}

async fn search(
    State(sb): State<Sandbox>,
    Path(auth_id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    authorize(&sb, &headers, &auth_id).await?;
    let pairs = query_pairs(&q);
    let Some(country) = param(&pairs, "country_iso") else {
        return fail(&sb, StatusCode::BAD_REQUEST, "country_iso is required");
    };
    let kind = match param(&pairs, "type").unwrap_or("local") {
        "tollfree" => "toll_free",
        other => other,
    };
    // The pattern starts with the country code: `1415` is area code 415.
    let area = param(&pairs, "pattern").map(|p| match country {
        "US" | "CA" => p.strip_prefix('1').unwrap_or(p),
        _ => p,
    });
    let limit = param(&pairs, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20usize)
        .min(20);
    let objects: Vec<Value> = sb.offer(country, kind, area, limit)
        .into_iter()
        .map(|(e164, region)| {
            let number = plain(&e164).to_string();
            json!({
                "number": number, "prefix": number.get(1..4), "country": country, "region": region,
                "type": if kind == "toll_free" { "tollfree" } else { "fixed" }, "sub_type": kind,
                "monthly_rental_rate": "0.80000", "setup_rate": "0.00000",
                "voice_enabled": true, "voice_rate": "0.00500", "sms_enabled": true, "sms_rate": "0.00800",
                "mms_enabled": true, "mms_rate": "0.01800", "restriction": null, "restriction_text": null,
                "resource_uri": format!("/v1/Account/{auth_id}/PhoneNumber/{number}/"),
            })
        })
        .collect();
    let total = objects.len();
    Ok(axum::Json(json!({
        "api_id": api_id(&sb),
        "meta": { "limit": limit, "next": null, "offset": 0, "previous": null, "total_count": total },
        "objects": objects,
    }))
    .into_response())
}

async fn buy(
    State(sb): State<Sandbox>,
    Path((auth_id, number)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let Some(e164) = e164(&number).filter(|n| sb.is_offered(n)) else {
        return fail(&sb, StatusCode::NOT_FOUND, "phone number not found");
    };
    if account.owned(&e164).is_some() {
        return fail(&sb, StatusCode::BAD_REQUEST, "phone number already rented");
    }
    lock(&account.numbers).push(OwnedNumber {
        id: plain(&e164).to_string(),
        e164,
        sms_url: None,
        voice_url: None,
    });
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "api_id": api_id(&sb), "message": "created",
            "numbers": [{ "number": plain(&number), "status": "Success" }], "status": "fulfilled",
        })),
    )
        .into_response())
}

fn number_json(auth_id: &str, n: &OwnedNumber) -> Value {
    json!({
        "number": n.id, "alias": null, "application": null, "carrier": "Plivo", "number_type": "local",
        "region": "Sandbox, UNITED STATES", "country": "United States", "monthly_rental_rate": "0.80000",
        "voice_enabled": true, "sms_enabled": true, "mms_enabled": true, "active": true,
        "resource_uri": format!("/v1/Account/{auth_id}/Number/{}/", n.id),
    })
}

async fn list_numbers(
    State(sb): State<Sandbox>,
    Path(auth_id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let pairs = query_pairs(&q);
    let limit: usize = param(&pairs, "limit")
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .clamp(1, 20);
    let offset: usize = param(&pairs, "offset")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let all = lock(&account.numbers).clone();
    let objects: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|n| number_json(&auth_id, n))
        .collect();
    let next = (offset + limit < all.len()).then(|| {
        format!(
            "/v1/Account/{auth_id}/Number/?limit={limit}&offset={}",
            offset + limit
        )
    });
    Ok(axum::Json(json!({
        "api_id": api_id(&sb),
        "meta": { "limit": limit, "next": next, "offset": offset, "previous": null, "total_count": all.len() },
        "objects": objects,
    }))
    .into_response())
}

async fn fetch_number(
    State(sb): State<Sandbox>,
    Path((auth_id, number)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    match e164(&number).and_then(|n| account.owned(&n)) {
        Some(n) => Ok(axum::Json(number_json(&auth_id, &n)).into_response()),
        None => fail(&sb, StatusCode::NOT_FOUND, "number not found"),
    }
}

async fn update_number(
    State(sb): State<Sandbox>,
    Path((auth_id, number)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    json_body(&sb, &body)?;
    if e164(&number).and_then(|n| account.owned(&n)).is_none() {
        return fail(&sb, StatusCode::NOT_FOUND, "number not found");
    }
    accepted(&sb, "changed")
}

async fn release(
    State(sb): State<Sandbox>,
    Path((auth_id, number)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &auth_id).await?;
    let mut numbers = lock(&account.numbers);
    let Some(pos) = numbers.iter().position(|n| n.id == number) else {
        return fail(&sb, StatusCode::NOT_FOUND, "number not found");
    };
    numbers.remove(pos);
    Ok(StatusCode::NO_CONTENT.into_response())
}
