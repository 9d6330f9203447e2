//! The Twilio REST 2010-04-01 endpoints the adapter uses.

use crate::accounts::{Account, Call, Message, OwnedNumber, Refusal, Style, number_id};
use crate::reply::{Fail, Reply};
use crate::wire::valid_e164;
use crate::{Sandbox, lifecycle, lock};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::sync::Arc;

type Form = Vec<(String, String)>;

pub fn routes() -> Router<Sandbox> {
    let acct = "/2010-04-01/Accounts/{sid}";
    Router::new()
        .route("/2010-04-01/Accounts/{file}", get(fetch_account))
        .route(
            &format!("{acct}/Calls.json"),
            axum::routing::post(create_call),
        )
        .route(
            &format!("{acct}/Calls/{{file}}"),
            get(fetch_call).post(update_call),
        )
        .route(
            &format!("{acct}/Messages.json"),
            get(list_messages).post(create_message),
        )
        .route(&format!("{acct}/Messages/{{file}}"), get(fetch_message))
        .route(
            &format!("{acct}/IncomingPhoneNumbers.json"),
            get(list_numbers).post(buy_number),
        )
        .route(
            &format!("{acct}/IncomingPhoneNumbers/{{file}}"),
            axum::routing::post(update_number).delete(release_number),
        )
        .route(
            &format!("{acct}/AvailablePhoneNumbers/{{country}}/{{file}}"),
            get(available),
        )
}

/// Ends a handler with an error.
fn fail(status: StatusCode, code: u32, message: &str) -> Reply {
    Err(error(status, code, message).into())
}

/// Twilio's error body.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "code": code, "message": message, "status": status.as_u16(),
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        })),
    )
        .into_response()
}

/// Twilio's 404.
fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        20404,
        "The requested resource was not found",
    )
}

fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Outage => error(
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
            "Service unavailable",
        ),
        Refusal::RateLimited => {
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests");
            resp.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            resp
        }
        Refusal::Error | Refusal::Timeout => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "Internal Server Error",
        ),
    }
}

/// Checks basic auth against the account in the path and passes the fault gate.
async fn authorize(sb: &Sandbox, headers: &HeaderMap, sid: &str) -> Result<Arc<Account>, Fail> {
    let denied = || error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    let (user, password) = crate::wire::basic_auth(headers).ok_or_else(|| Fail::from(denied()))?;
    let account = sb
        .account(sid)
        .filter(|a| a.creds.style.twilio_compatible())
        .ok_or_else(|| Fail::from(denied()))?;
    if user != sid || Some(password.as_str()) != account.creds.auth_token.as_deref() {
        return Err(denied().into());
    }
    crate::admin::gate(sb, &account)
        .await
        .map_err(|r| Fail::from(refusal(r)))?;
    Ok(account)
}

fn form(body: &Bytes) -> Result<Form, Fail> {
    serde_urlencoded::from_bytes(body)
        .map_err(|_| error(StatusCode::BAD_REQUEST, 20001, "Malformed form body").into())
}

fn field<'a>(f: &'a Form, name: &str) -> Option<&'a str> {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn strip_json(file: &str) -> Result<&str, Fail> {
    file.strip_suffix(".json").ok_or_else(|| not_found().into())
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc2822()
}

fn call_json(account: &Account, c: &Call) -> Value {
    let ended = lifecycle::is_final(&c.status);
    json!({
        "sid": c.id, "account_sid": account.creds.key(), "to": c.to, "from": c.from,
        "status": c.status, "direction": "outbound-api", "api_version": "2010-04-01",
        "date_created": iso(c.created_ms),
        "duration": if ended { Some(c.duration.to_string()) } else { None },
        "price": if ended { Some(format!("-{}", lifecycle::call_price(account, c.duration))) } else { None },
        "price_unit": "USD",
        "uri": format!("/2010-04-01/Accounts/{}/Calls/{}.json", account.creds.key(), c.id),
    })
}

fn message_json(account: &Account, m: &Message) -> Value {
    let price = account.profile().sms_price * rust_decimal::Decimal::from(m.segments);
    json!({
        "sid": m.id, "account_sid": account.creds.key(), "to": m.to, "from": m.from, "body": m.body,
        "status": m.status, "direction": "outbound-api", "api_version": "2010-04-01",
        "num_segments": m.segments.to_string(), "num_media": m.media.len().to_string(),
        "price": if m.status == "queued" { None } else { Some(format!("-{price}")) }, "price_unit": "USD",
        "error_code": m.error_code.as_ref().and_then(|c| c.parse::<u32>().ok()),
        "date_created": iso(m.created_ms),
        "uri": format!("/2010-04-01/Accounts/{}/Messages/{}.json", account.creds.key(), m.id),
    })
}

fn number_json(account: &Account, n: &OwnedNumber) -> Value {
    json!({
        "sid": n.id, "account_sid": account.creds.key(), "phone_number": n.e164, "friendly_name": n.e164,
        "capabilities": { "voice": true, "sms": true, "mms": true, "fax": false },
        "sms_url": n.sms_url, "voice_url": n.voice_url, "status": "in-use",
        "uri": format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json", account.creds.key(), n.id),
    })
}

fn new_sid(sb: &Sandbox, prefix: &str) -> (String, u64) {
    let n = sb.next_id();
    let word = switchyard_core::scoring::mix64(n ^ 0x5eed);
    (format!("{prefix}{n:016x}{word:016x}"), n)
}

async fn fetch_account(
    State(sb): State<Sandbox>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let sid = strip_json(&file)?;
    let account = authorize(&sb, &headers, sid).await?;
    // Like Twilio, the account resource shows its auth token.
    Ok(axum::Json(json!({
        "sid": sid, "friendly_name": "Sandbox account", "status": "active", "type": "Full",
        "auth_token": account.creds.auth_token,
    }))
    .into_response())
}

async fn create_call(
    State(sb): State<Sandbox>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let f = form(&body)?;
    let (Some(to), Some(from)) = (field(&f, "To"), field(&f, "From")) else {
        return fail(
            StatusCode::BAD_REQUEST,
            21201,
            "No 'To' number is specified",
        );
    };
    if !valid_e164(to) {
        return fail(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("Invalid 'To' Phone Number: {to}"),
        );
    }
    if account.owned(from).is_none() {
        return fail(
            StatusCode::BAD_REQUEST,
            21210,
            &format!(
                "The source phone number provided, {from}, is not yet verified for your account"
            ),
        );
    }
    if field(&f, "Url").is_none()
        && field(&f, "Twiml").is_none()
        && field(&f, "ApplicationSid").is_none()
    {
        return fail(StatusCode::BAD_REQUEST, 21205, "Url parameter is required");
    }
    let mut events: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "StatusCallbackEvent")
        .flat_map(|(_, v)| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    if !events.iter().any(|e| e == "completed") {
        events.push("completed".into());
    }
    let (id, seq) = new_sid(&sb, "CA");
    let call = Call {
        id: id.clone(),
        seq,
        to: to.into(),
        from: from.into(),
        status: "queued".into(),
        duration: 0,
        callback: field(&f, "StatusCallback").map(str::to_owned),
        events,
        command_id: None,
        answer_url: None,
        callback_auth: None,
        created_ms: sb.clock().now_ms(),
        sequence: 0,
    };
    let view = call_json(&account, &call);
    lock(&account.calls).insert(id.clone(), call);
    lifecycle::run_call(sb.clone(), account.clone(), id, seq);
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

async fn fetch_call(
    State(sb): State<Sandbox>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let Ok(id) = strip_json(&file) else {
        return Err(not_found().into());
    };
    Ok(match lock(&account.calls).get(id) {
        Some(c) => axum::Json(call_json(&account, c)).into_response(),
        None => not_found(),
    })
}

async fn update_call(
    State(sb): State<Sandbox>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let (Ok(id), Ok(f)) = (strip_json(&file), form(&body)) else {
        return fail(StatusCode::BAD_REQUEST, 20001, "Malformed request");
    };
    if lock(&account.calls).get(id).is_none() {
        return Err(not_found().into());
    }
    match field(&f, "Status") {
        Some("completed" | "canceled") => {
            lifecycle::hang_up(&sb, &account, id);
        }
        Some(other) => {
            return fail(
                StatusCode::BAD_REQUEST,
                21218,
                &format!("Invalid Status {other}"),
            );
        }
        None if field(&f, "Twiml").is_some() || field(&f, "Url").is_some() => {}
        None => return fail(StatusCode::BAD_REQUEST, 21218, "Nothing to update"),
    }
    Ok(match lock(&account.calls).get(id) {
        Some(c) => axum::Json(call_json(&account, c)).into_response(),
        None => not_found(),
    })
}

async fn create_message(
    State(sb): State<Sandbox>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let f = form(&body)?;
    let Some(to) = field(&f, "To") else {
        return fail(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required",
        );
    };
    let from = field(&f, "From").unwrap_or_default();
    let bare = |s: &str| s.strip_prefix("whatsapp:").unwrap_or(s).to_string();
    if !valid_e164(&bare(to)) {
        return fail(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("Invalid 'To' Phone Number: {to}"),
        );
    }
    if account.owned(&bare(from)).is_none() {
        return fail(
            StatusCode::BAD_REQUEST,
            21606,
            &format!(
                "The From phone number {from} is not a valid, SMS-capable inbound phone number or short code for your account"
            ),
        );
    }
    let text = field(&f, "Body").unwrap_or_default().to_string();
    let media: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "MediaUrl")
        .map(|(_, v)| v.clone())
        .collect();
    if text.is_empty() && media.is_empty() {
        return fail(StatusCode::BAD_REQUEST, 21602, "Message body is required");
    }
    let (id, seq) = new_sid(&sb, if media.is_empty() { "SM" } else { "MM" });
    let m = Message {
        id: id.clone(),
        to: to.into(),
        from: from.into(),
        segments: switchyard_core::rating::count_segments(&text).count,
        body: text,
        media,
        status: "queued".into(),
        error_code: None,
        callback: field(&f, "StatusCallback").map(str::to_owned),
        created_ms: sb.clock().now_ms(),
    };
    let view = message_json(&account, &m);
    lock(&account.messages).insert(id.clone(), m);
    lifecycle::run_message(sb.clone(), account.clone(), id, seq);
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

async fn fetch_message(
    State(sb): State<Sandbox>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let found = strip_json(&file)
        .ok()
        .and_then(|id| lock(&account.messages).get(id).cloned());
    Ok(match found {
        Some(m) => axum::Json(message_json(&account, &m)).into_response(),
        None => not_found(),
    })
}

/// Messages newest first, filtered by `To`, `From` and `DateSent>` (a date), paged.
async fn list_messages(
    State(sb): State<Sandbox>,
    Path(sid): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let q: Form = serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    let since = match field(&q, "DateSent>") {
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(day) => day
                .and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis()),
            Err(_) => {
                return fail(
                    StatusCode::BAD_REQUEST,
                    20001,
                    "DateSent must be YYYY-MM-DD",
                );
            }
        },
        None => 0,
    };
    let mut all: Vec<Message> = lock(&account.messages)
        .values()
        .filter(|m| field(&q, "To").is_none_or(|t| t == m.to))
        .filter(|m| field(&q, "From").is_none_or(|f| f == m.from))
        .filter(|m| m.created_ms >= since)
        .cloned()
        .collect();
    all.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then(b.id.cmp(&a.id)));
    let base = format!("/2010-04-01/Accounts/{sid}/Messages.json");
    let page = page_of(&q, &base, "messages", &all, |m| message_json(&account, m));
    Ok(axum::Json(page).into_response())
}

/// One page of a Twilio list: `PageSize` (1–1000, default 50) and `Page` from the query,
/// the items under `key`, and the page URIs.
fn page_of<T>(q: &Form, base: &str, key: &str, all: &[T], to_json: impl Fn(&T) -> Value) -> Value {
    let size: usize = field(q, "PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let page: usize = field(q, "Page").and_then(|s| s.parse().ok()).unwrap_or(0);
    let slice: Vec<Value> = all
        .iter()
        .skip(page * size)
        .take(size)
        .map(to_json)
        .collect();
    let next = ((page + 1) * size < all.len())
        .then(|| format!("{base}?PageSize={size}&Page={}", page + 1));
    let mut v = json!({
        "page": page, "page_size": size, "next_page_uri": next,
        "uri": format!("{base}?PageSize={size}&Page={page}"),
        "first_page_uri": format!("{base}?PageSize={size}&Page=0"),
    });
    v[key] = Value::Array(slice);
    v
}

async fn list_numbers(
    State(sb): State<Sandbox>,
    Path(sid): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let q: Form = serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    let all: Vec<OwnedNumber> = lock(&account.numbers)
        .iter()
        .filter(|n| field(&q, "PhoneNumber").is_none_or(|p| p == n.e164))
        .cloned()
        .collect();
    let base = format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json");
    let page = page_of(&q, &base, "incoming_phone_numbers", &all, |n| {
        number_json(&account, n)
    });
    Ok(axum::Json(page).into_response())
}

async fn buy_number(
    State(sb): State<Sandbox>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let f = form(&body)?;
    let Some(e164) = field(&f, "PhoneNumber").filter(|n| valid_e164(n)) else {
        return fail(StatusCode::BAD_REQUEST, 21421, "PhoneNumber is invalid");
    };
    if account.owned(e164).is_some() || !sb.is_offered(e164) {
        return fail(
            StatusCode::BAD_REQUEST,
            21422,
            &format!("PhoneNumber {e164} is not available"),
        );
    }
    let n = OwnedNumber {
        id: number_id(Style::Twilio, sb.next_id(), 0, e164),
        e164: e164.into(),
        sms_url: field(&f, "SmsUrl").map(str::to_owned),
        voice_url: field(&f, "VoiceUrl").map(str::to_owned),
    };
    lock(&account.numbers).push(n.clone());
    Ok((StatusCode::CREATED, axum::Json(number_json(&account, &n))).into_response())
}

async fn update_number(
    State(sb): State<Sandbox>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let (Ok(id), Ok(f)) = (strip_json(&file), form(&body)) else {
        return fail(StatusCode::BAD_REQUEST, 20001, "Malformed request");
    };
    let mut numbers = lock(&account.numbers);
    let Some(n) = numbers.iter_mut().find(|n| n.id == id) else {
        return Err(not_found().into());
    };
    if let Some(url) = field(&f, "SmsUrl") {
        n.sms_url = Some(url.into());
    }
    if let Some(url) = field(&f, "VoiceUrl") {
        n.voice_url = Some(url.into());
    }
    let view = number_json(&account, n);
    Ok(axum::Json(view).into_response())
}

async fn release_number(
    State(sb): State<Sandbox>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &sid).await?;
    let Ok(id) = strip_json(&file) else {
        return Err(not_found().into());
    };
    let mut numbers = lock(&account.numbers);
    let before = numbers.len();
    numbers.retain(|n| n.id != id);
    if numbers.len() == before {
        return Err(not_found().into());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn available(
    State(sb): State<Sandbox>,
    Path((sid, country, file)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    authorize(&sb, &headers, &sid).await?;
    let kind = match file.as_str() {
        "Local.json" => "local",
        "TollFree.json" => "toll_free",
        "Mobile.json" => "mobile",
        _ => {
            return Err(not_found().into());
        }
    };
    let q: Form = serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    let limit = field(&q, "PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(20usize)
        .min(50);
    let list: Vec<Value> = sb.offer(&country, kind, field(&q, "AreaCode"), limit)
    .into_iter()
    .map(|(e164, region)| json!({
        "phone_number": e164, "friendly_name": e164, "iso_country": country.to_ascii_uppercase(),
        "locality": region, "region": region,
        "capabilities": { "voice": true, "SMS": true, "MMS": kind != "toll_free", "fax": false },
    }))
    .collect();
    Ok(axum::Json(json!({ "available_phone_numbers": list, "uri": format!("/2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/{country}/{file}") })).into_response())
}
