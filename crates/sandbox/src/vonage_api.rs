//! The Vonage endpoints the adapter uses, under `/vonage`: `/api/v1/calls` and
//! `/api/v1/messages` (bearer JWTs signed with the application's key), and on `/rest` the
//! SMS API (key and secret, or `sig`), the Numbers API and the balance (key and secret).

use crate::accounts::{
    Account, Call, Message, OwnedNumber, Refusal, Style, VONAGE_APPLICATION_KEY,
};
use crate::reply::{Fail, Reply};
use crate::wire::{form_pairs, param, query_pairs, rfc3339_ms};
use crate::{Sandbox, lifecycle, lock, text};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use switchyard_core::scoring::mix64;
use switchyard_providers::jwt::{self, RsaPublicKey};
use switchyard_providers::vonage::signature::{self, Method};

pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/api/v1/calls", post(create_call))
        .route("/api/v1/calls/{uuid}", get(fetch_call).put(modify_call))
        .route("/api/v1/messages", post(create_message))
        .route("/rest/sms/json", post(send_sms))
        .route("/rest/account/get-balance", get(balance))
        .route("/rest/account/numbers", get(list_numbers))
        .route("/rest/number/search", get(search))
        .route("/rest/number/buy", post(buy))
        .route("/rest/number/cancel", post(cancel))
        .route("/rest/number/update", post(update))
}

/// RFC 7807, as the Voice and Messages APIs answer errors.
fn problem(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    (
        status,
        [("content-type", "application/problem+json")],
        json!({
            "type": format!("https://developer.vonage.com/api-errors#{code}"), "title": title,
            "detail": detail, "instance": format!("{:032x}", mix64(detail.len() as u64)),
        })
        .to_string(),
    )
        .into_response()
}

fn fail(status: StatusCode, code: &str, title: &str, detail: &str) -> Reply {
    Err(problem(status, code, title, detail).into())
}

/// The REST APIs' `{error-code, error-code-label}`.
fn rest_error(status: StatusCode, code: &str, label: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error-code": code, "error-code-label": label })),
    )
        .into_response()
}

fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Outage => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "try again later",
        ),
        Refusal::RateLimited => problem(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "Too Many Requests",
            "rate limit exceeded",
        ),
        Refusal::Error | Refusal::Timeout => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "internal error",
        ),
    }
}

fn public_key() -> Option<&'static RsaPublicKey> {
    static KEY: OnceLock<Option<RsaPublicKey>> = OnceLock::new();
    KEY.get_or_init(|| {
        jwt::private_key(VONAGE_APPLICATION_KEY)
            .ok()
            .map(|k| k.to_public_key())
    })
    .as_ref()
}

/// A bearer JWT signed with the application key, naming one of the sandbox's Vonage
/// applications and not expired; then the fault gate.
async fn authorize_app(sb: &Sandbox, headers: &HeaderMap) -> Result<Arc<Account>, Fail> {
    let denied = |why: &str| {
        Fail::from(problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Invalid credentials supplied",
            why,
        ))
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| denied("a bearer JWT is required"))?;
    let key = public_key().ok_or_else(|| denied("the sandbox has no application key"))?;
    let claims = jwt::verify_rs256(token, key).map_err(|e| denied(&e.to_string()))?;
    let now = chrono::Utc::now().timestamp();
    if claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_some_and(|exp| exp < now)
    {
        return Err(denied("the JWT has expired"));
    }
    if claims.get("jti").and_then(Value::as_str).is_none()
        || claims.get("iat").and_then(Value::as_i64).is_none()
    {
        return Err(denied("the JWT needs iat and jti"));
    }
    let app = claims
        .get("application_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let account = sb
        .accounts()
        .into_iter()
        .find(|a| a.creds.style == Style::Vonage && a.creds.application_id.as_deref() == Some(app))
        .ok_or_else(|| denied("no such application"))?;
    crate::admin::gate(sb, &account)
        .await
        .map_err(|r| Fail::from(refusal(r)))?;
    Ok(account)
}

/// `api_key` and `api_secret` among the parameters; then the fault gate.
async fn authorize_key(sb: &Sandbox, params: &[(String, String)]) -> Result<Arc<Account>, Fail> {
    let denied = || {
        Fail::from(rest_error(
            StatusCode::UNAUTHORIZED,
            "401",
            "authentication failed",
        ))
    };
    let account = param(params, "api_key")
        .and_then(|k| sb.account(k))
        .filter(|a| a.creds.style == Style::Vonage)
        .ok_or_else(denied)?;
    if param(params, "api_secret") != account.creds.api_secret.as_deref() {
        return Err(denied());
    }
    crate::admin::gate(sb, &account)
        .await
        .map_err(|r| Fail::from(refusal(r)))?;
    Ok(account)
}

fn digits_ok(s: &str) -> bool {
    (7..=15).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
}

fn number_field(v: &Value, key: &str) -> Option<String> {
    let endpoint = match v.get(key)? {
        Value::Array(list) => list.first()?,
        other => other,
    };
    text(endpoint, "number").map(str::to_owned)
}

async fn create_call(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Reply {
    let account = authorize_app(&sb, &headers).await?;
    let Some(v) = serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(Value::is_object)
    else {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            "Invalid JSON",
            "the body is not a JSON object",
        );
    };
    let (Some(to), Some(from)) = (number_field(&v, "to"), number_field(&v, "from")) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid-params",
            "Bad Request",
            "to and from must be phone endpoints",
        );
    };
    if !digits_ok(&to) {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid-params",
            "Bad Request",
            "to.number must be 7 to 15 digits",
        );
    }
    if account.owned(&format!("+{from}")).is_none() {
        return fail(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            "from must be a number linked to this account",
        );
    }
    if v.get("ncco").is_none() && v.get("answer_url").is_none() {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid-params",
            "Bad Request",
            "ncco or answer_url is required",
        );
    }
    let event_url = v
        .get("event_url")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .and_then(Value::as_str)
        .map(str::to_owned);
    let n = sb.next_id();
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        mix64(n) as u32,
        n as u16,
        (n >> 16) & 0xfff,
        (n >> 28) & 0xfff,
        mix64(n ^ 7) & 0xffff_ffff_ffff
    );
    let call = Call {
        id: id.clone(),
        seq: n,
        to: format!("+{to}"),
        from: format!("+{from}"),
        status: "queued".into(),
        duration: 0,
        callback: event_url,
        events: Vec::new(),
        created_ms: sb.clock().now_ms(),
        command_id: None,
        answer_url: None,
        callback_auth: None,
        sequence: 0,
    };
    lock(&account.calls).insert(id.clone(), call);
    lifecycle::run_call(sb.clone(), account.clone(), id.clone(), n);
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "uuid": id, "status": "started", "direction": "outbound", "conversation_uuid": format!("CON-{id}") })),
    )
        .into_response())
}

async fn fetch_call(
    State(sb): State<Sandbox>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize_app(&sb, &headers).await?;
    let Some(c) = lock(&account.calls).get(&uuid).cloned() else {
        return fail(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not Found",
            "no such call",
        );
    };
    let status = match c.status.as_str() {
        "queued" | "initiated" => "started",
        "in-progress" => "answered",
        "no-answer" => "unanswered",
        "canceled" => "cancelled",
        other => other,
    };
    let price = lifecycle::call_price(&account, c.duration);
    Ok(axum::Json(json!({
        "uuid": c.id, "conversation_uuid": format!("CON-{}", c.id), "direction": "outbound", "status": status,
        "from": { "type": "phone", "number": c.from.trim_start_matches('+') },
        "to": { "type": "phone", "number": c.to.trim_start_matches('+') },
        "duration": c.duration.to_string(), "price": price.to_string(),
        "rate": account.profile().voice_per_minute.to_string(), "start_time": rfc3339_ms(c.created_ms),
        "network": "23410",
    }))
    .into_response())
}

async fn modify_call(
    State(sb): State<Sandbox>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize_app(&sb, &headers).await?;
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let live = lock(&account.calls)
        .get(&uuid)
        .map(|c| !lifecycle::is_final(&c.status));
    match (live, text(&v, "action")) {
        (None, _) => fail(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not Found",
            "no such call",
        ),
        (Some(false), _) => fail(
            StatusCode::BAD_REQUEST,
            "invalid-params",
            "Bad Request",
            "the call has completed",
        ),
        (Some(true), Some("hangup")) => {
            lifecycle::hang_up(&sb, &account, &uuid);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (Some(true), Some("transfer"))
            if v.pointer("/destination/ncco").is_some_and(Value::is_array) =>
        {
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => fail(
            StatusCode::BAD_REQUEST,
            "invalid-params",
            "Bad Request",
            "action must be hangup, or transfer with an NCCO destination",
        ),
    }
}

/// `{"message_uuid"}` for MMS (an image) and WhatsApp (text or an image).
async fn create_message(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Reply {
    let account = authorize_app(&sb, &headers).await?;
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let invalid = |detail: &str| {
        fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "messages#1150",
            "Invalid params",
            detail,
        )
    };
    let channel = text(&v, "channel").unwrap_or_default();
    if !matches!(channel, "mms" | "whatsapp") {
        return invalid("channel must be mms or whatsapp in this sandbox");
    }
    let (Some(to), Some(from)) = (text(&v, "to"), text(&v, "from")) else {
        return invalid("to and from are required");
    };
    if !digits_ok(to) {
        return invalid("to must be 7 to 15 digits");
    }
    if account.owned(&format!("+{from}")).is_none() {
        return invalid("from must be a number linked to this account");
    }
    let (body_text, media) = match text(&v, "message_type") {
        Some("text") if channel == "whatsapp" => {
            (text(&v, "text").unwrap_or_default().to_string(), Vec::new())
        }
        Some("image") => match v.pointer("/image/url").and_then(Value::as_str) {
            Some(url) => (
                v.pointer("/image/caption")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                vec![url.to_string()],
            ),
            None => return invalid("image.url is required"),
        },
        _ => return invalid("message_type must be text (WhatsApp) or image"),
    };
    let n = sb.next_id();
    let id = format!(
        "{:08x}-dec6-442f-870a-{:012x}",
        mix64(n) as u32,
        n & 0xffff_ffff_ffff
    );
    let m = Message {
        id: id.clone(),
        to: format!("+{to}"),
        from: format!("+{from}"),
        segments: 1,
        body: body_text,
        media,
        status: "queued".into(),
        error_code: None,
        callback: text(&v, "webhook_url").map(str::to_owned),
        created_ms: sb.clock().now_ms(),
    };
    lock(&account.messages).insert(id.clone(), m);
    lifecycle::run_message(sb.clone(), account.clone(), id.clone(), n);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "message_uuid": id })),
    )
        .into_response())
}

/// One SMS API answer: HTTP 200 with a per-message `status`.
fn sms_status(code: &str, text: &str) -> Reply {
    Ok(axum::Json(
        json!({ "message-count": "1", "messages": [{ "status": code, "error-text": text }] }),
    )
    .into_response())
}

/// The SMS API: `api_key` with `api_secret`, or with `timestamp` and `sig` (never both).
/// Throttling is SMS status 1 in a 200, as Vonage answers it.
async fn send_sms(State(sb): State<Sandbox>, body: Bytes) -> Reply {
    let params = form_pairs(&body);
    let Some(account) = param(&params, "api_key")
        .and_then(|k| sb.account(k))
        .filter(|a| a.creds.style == Style::Vonage)
    else {
        return sms_status("4", "Bad Credentials");
    };
    match (param(&params, "api_secret"), param(&params, "sig")) {
        (Some(_), Some(_)) => return sms_status("32", "Signature And API Secret Disallowed"),
        (Some(secret), None) if Some(secret) == account.creds.api_secret.as_deref() => {}
        (None, Some(_)) => {
            let method = account
                .creds
                .signature_method
                .as_deref()
                .and_then(Method::parse)
                .unwrap_or(Method::Md5Hash);
            let secret = account.creds.signature_secret.clone().unwrap_or_default();
            if signature::verify_sms(method, &secret, &params, chrono::Utc::now().timestamp())
                .is_err()
            {
                return sms_status("14", "Invalid Signature");
            }
        }
        _ => return sms_status("4", "Bad Credentials"),
    }
    match crate::admin::gate(&sb, &account).await {
        Ok(()) => {}
        Err(Refusal::RateLimited) => {
            return sms_status(
                "1",
                "Throughput Rate Exceeded - please wait [ 1000 ] and retry",
            );
        }
        Err(r) => return Err(refusal(r).into()),
    }
    let (Some(to), Some(from)) = (param(&params, "to"), param(&params, "from")) else {
        return sms_status("2", "Missing from, to or text");
    };
    if !digits_ok(to) {
        return sms_status("3", "Invalid to address");
    }
    if account.owned(&format!("+{from}")).is_none() {
        return sms_status("15", "Illegal Sender Address - rejected");
    }
    let body_text = param(&params, "text").unwrap_or_default().to_string();
    if body_text.is_empty() {
        return sms_status("2", "Missing text");
    }
    let n = sb.next_id();
    let id = format!("{:016X}", mix64(n));
    let segments = switchyard_core::rating::count_segments(&body_text).count;
    let price = account.profile().sms_price;
    let m = Message {
        id: id.clone(),
        to: format!("+{to}"),
        from: format!("+{from}"),
        segments,
        body: body_text,
        media: Vec::new(),
        status: "queued".into(),
        error_code: None,
        callback: param(&params, "callback").map(str::to_owned),
        created_ms: sb.clock().now_ms(),
    };
    lock(&account.messages).insert(id.clone(), m);
    lifecycle::run_message(sb.clone(), account.clone(), id.clone(), n);
    // One entry per part; receipts name the first.
    let parts: Vec<Value> = (0..segments)
        .map(|i| {
            let part_id = if i == 0 { id.clone() } else { format!("{:016X}", mix64(n ^ u64::from(i))) };
            json!({ "to": to, "message-id": part_id, "status": "0", "remaining-balance": "100.00000000",
                    "message-price": price.to_string(), "network": "23410", "client-ref": param(&params, "client-ref") })
        })
        .collect();
    Ok(
        axum::Json(json!({ "message-count": segments.to_string(), "messages": parts }))
            .into_response(),
    )
}

async fn balance(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Reply {
    authorize_key(&sb, &query_pairs(&q)).await?;
    Ok(axum::Json(json!({ "value": 100.0, "autoReload": false })).into_response())
}

fn number_json(n: &OwnedNumber, app: Option<&str>) -> Value {
    let country = switchyard_core::number::parse_e164(&n.e164)
        .ok()
        .and_then(|p| p.region().map(str::to_owned))
        .unwrap_or_else(|| "US".into());
    let mut v = json!({ "country": country, "msisdn": n.id, "type": "landline", "features": ["VOICE", "SMS", "MMS"] });
    if let Some(app) = app {
        v["app_id"] = json!(app);
        v["voiceCallbackType"] = json!("app");
        v["voiceCallbackValue"] = json!(app);
    }
    v
}

async fn list_numbers(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Reply {
    let params = query_pairs(&q);
    let account = authorize_key(&sb, &params).await?;
    let size: usize = param(&params, "size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let index: usize = param(&params, "index")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1);
    let all = lock(&account.numbers).clone();
    let linked = |n: &OwnedNumber| n.voice_url.as_deref().map(str::to_owned);
    let numbers: Vec<Value> = all
        .iter()
        .skip((index - 1) * size)
        .take(size)
        .map(|n| number_json(n, linked(n).as_deref()))
        .collect();
    Ok(axum::Json(json!({ "count": all.len(), "numbers": numbers })).into_response())
}

async fn search(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Reply {
    let params = query_pairs(&q);
    authorize_key(&sb, &params).await?;
    let Some(country) = param(&params, "country") else {
        return Err(rest_error(StatusCode::BAD_REQUEST, "400", "country is required").into());
    };
    let kind = match param(&params, "type") {
        Some("landline-toll-free") => "toll_free",
        Some("mobile-lvn") => "mobile",
        _ => "local",
    };
    let code = switchyard_core::number::calling_code(country)
        .map(|c| c.to_string())
        .unwrap_or_default();
    let area = param(&params, "pattern").map(|p| p.strip_prefix(code.as_str()).unwrap_or(p));
    let size: usize = param(&params, "size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .min(100);
    let numbers: Vec<Value> = sb.offer(country, kind, area, size)
        .into_iter()
        .map(|(e164, _)| json!({ "country": country, "msisdn": e164.trim_start_matches('+'), "cost": "1.00",
                                  "type": if kind == "mobile" { "mobile-lvn" } else { "landline" }, "features": ["VOICE", "SMS"] }))
        .collect();
    // Vonage leaves `numbers` out when nothing matches.
    Ok(if numbers.is_empty() {
        axum::Json(json!({ "count": 0 })).into_response()
    } else {
        axum::Json(json!({ "count": numbers.len(), "numbers": numbers })).into_response()
    })
}

const OK: &str = r#"{"error-code":"200","error-code-label":"success"}"#;

fn method_failed() -> Reply {
    Ok((
        StatusCode::OK,
        axum::Json(json!({ "error-code": "420", "error-code-label": "method failed" })),
    )
        .into_response())
}

async fn buy(State(sb): State<Sandbox>, body: Bytes) -> Reply {
    let params = form_pairs(&body);
    let account = authorize_key(&sb, &params).await?;
    let Some(msisdn) = param(&params, "msisdn").filter(|m| digits_ok(m)) else {
        return method_failed();
    };
    let e164 = format!("+{msisdn}");
    if param(&params, "country").is_none()
        || !sb.is_offered(&e164)
        || account.owned(&e164).is_some()
    {
        return method_failed();
    }
    lock(&account.numbers).push(OwnedNumber {
        id: msisdn.to_string(),
        e164,
        sms_url: None,
        voice_url: None,
    });
    Ok(([("content-type", "application/json")], OK).into_response())
}

async fn cancel(State(sb): State<Sandbox>, body: Bytes) -> Reply {
    let params = form_pairs(&body);
    let account = authorize_key(&sb, &params).await?;
    let msisdn = param(&params, "msisdn").unwrap_or_default();
    let mut numbers = lock(&account.numbers);
    let Some(pos) = numbers.iter().position(|n| n.id == msisdn) else {
        drop(numbers);
        return method_failed();
    };
    numbers.remove(pos);
    Ok(([("content-type", "application/json")], OK).into_response())
}

/// Links a number to an application (`app_id`); the sandbox keeps the link as the number's
/// voice URL.
async fn update(State(sb): State<Sandbox>, body: Bytes) -> Reply {
    let params = form_pairs(&body);
    let account = authorize_key(&sb, &params).await?;
    let msisdn = param(&params, "msisdn").unwrap_or_default();
    let mut numbers = lock(&account.numbers);
    let Some(n) = numbers.iter_mut().find(|n| n.id == msisdn) else {
        drop(numbers);
        return method_failed();
    };
    if let Some(app) = param(&params, "app_id") {
        n.voice_url = Some(app.to_string());
    }
    Ok(([("content-type", "application/json")], OK).into_response())
}
