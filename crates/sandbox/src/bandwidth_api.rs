//! The Bandwidth endpoints the adapter uses, all under `/bandwidth`: the OAuth token
//! endpoint (`/api/v1/oauth2/token`), Voice API v2 (`/voice/api/v2/accounts/{id}/calls…`),
//! Messaging API v2 (`/messaging/api/v2/users/{id}/messages`) and the Dashboard API's XML
//! (`/dashboard/api/accounts/{id}/…`).

use crate::accounts::{Account, Call, Message, OwnedNumber, Refusal, Style};
use crate::reply::{Fail, Reply};
use crate::wire::{basic_auth, rfc3339_ms, strings, valid_e164};
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
    let voice = "/voice/api/v2/accounts/{account}";
    let dash = "/dashboard/api/accounts/{account}";
    Router::new()
        .route("/api/v1/oauth2/token", post(token))
        .route(&format!("{voice}/calls"), post(create_call))
        .route(
            &format!("{voice}/calls/{{id}}"),
            get(fetch_call).post(update_call),
        )
        .route(
            "/messaging/api/v2/users/{account}/messages",
            get(list_messages).post(create_message),
        )
        .route(dash, get(fetch_account))
        .route(&format!("{dash}/availableNumbers"), get(search))
        .route(&format!("{dash}/orders"), post(order))
        .route(&format!("{dash}/orders/{{id}}"), get(fetch_order))
        .route(&format!("{dash}/inserviceNumbers"), get(in_service))
        .route(&format!("{dash}/disconnects"), post(disconnect))
}

/// Voice and Messaging errors: `{type, description}`.
fn error(status: StatusCode, kind: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "type": kind, "description": description })),
    )
        .into_response()
}

fn fail(status: StatusCode, kind: &str, description: &str) -> Reply {
    Err(error(status, kind, description).into())
}

fn xml(status: StatusCode, doc: String) -> Response {
    (
        status,
        [("content-type", "application/xml; charset=utf-8")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>{doc}"),
    )
        .into_response()
}

/// The Dashboard's errors: `<{root}><Error><Code>…`.
fn xml_fail(status: StatusCode, root: &str, code: u32, description: &str) -> Reply {
    Err(xml(
        status,
        format!("<{root}><Error><Code>{code}</Code><Description>{description}</Description></Error></{root}>"),
    )
    .into())
}

fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Outage => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "error",
            "Service unavailable",
        ),
        Refusal::RateLimited => {
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "error",
                "Account call creation rate limit exceeded",
            );
            resp.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            resp
        }
        Refusal::Error | Refusal::Timeout => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error",
            "Internal server error",
        ),
    }
}

/// The bearer token the sandbox issues to an account: its id and a digest of its secret.
fn token_for(account: &Account) -> String {
    let secret = account.creds.client_secret.as_deref().unwrap_or_default();
    let digest = secret.bytes().fold(0u64, |h, b| mix64(h ^ u64::from(b)));
    format!("bw.{}.{digest:016x}", account.creds.key())
}

/// OAuth 2.0 client credentials: Basic client id and secret, `grant_type=client_credentials`.
async fn token(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Reply {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "client_credentials")
    {
        return Err((
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "unsupported_grant_type" })),
        )
            .into_response()
            .into());
    }
    let account = basic_auth(&headers).and_then(|(id, secret)| {
        sb.accounts().into_iter().find(|a| {
            a.creds.style == Style::Bandwidth
                && a.creds.client_id.as_deref() == Some(id.as_str())
                && a.creds.client_secret.as_deref() == Some(secret.as_str())
        })
    });
    let Some(account) = account else {
        return Err((
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client" })),
        )
            .into_response()
            .into());
    };
    Ok(axum::Json(
        json!({ "access_token": token_for(&account), "token_type": "Bearer", "expires_in": 3600 }),
    )
    .into_response())
}

/// A bearer token for the account in the path, then the fault gate.
async fn authorize(
    sb: &Sandbox,
    headers: &HeaderMap,
    account_id: &str,
) -> Result<Arc<Account>, Fail> {
    let denied = || {
        Fail::from(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication Failed",
        ))
    };
    let account = sb
        .account(account_id)
        .filter(|a| a.creds.style == Style::Bandwidth)
        .ok_or_else(denied)?;
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(denied)?;
    if given.trim() != token_for(&account) {
        return Err(denied());
    }
    crate::admin::gate(sb, &account)
        .await
        .map_err(|r| Fail::from(refusal(r)))?;
    Ok(account)
}

fn json_body(body: &Bytes) -> Result<Value, Fail> {
    crate::wire::json_object(body).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "validation",
            "The request body is not a JSON object",
        )
        .into()
    })
}

fn call_json(account: &Account, c: &Call) -> Value {
    let acct = account.creds.key();
    json!({
        "applicationId": account.creds.voice_application_id, "accountId": acct, "callId": c.id,
        "to": c.to, "from": c.from, "enqueuedTime": rfc3339_ms(c.created_ms),
        "callUrl": format!("https://voice.bandwidth.com/api/v2/accounts/{acct}/calls/{}", c.id),
        "callTimeout": 30, "callbackTimeout": 15, "answerMethod": "POST", "answerUrl": c.answer_url,
        "disconnectMethod": "POST", "disconnectUrl": c.callback, "priority": 5,
    })
}

async fn create_call(
    State(sb): State<Sandbox>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let v = json_body(&body)?;
    let (Some(to), Some(from), Some(app), Some(answer_url)) = (
        text(&v, "to"),
        text(&v, "from"),
        text(&v, "applicationId"),
        text(&v, "answerUrl"),
    ) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "from, to, applicationId and answerUrl are required",
        );
    };
    if Some(app) != account.creds.voice_application_id.as_deref() {
        return fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "applicationId is not a voice application of this account",
        );
    }
    if !valid_e164(to) {
        return fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid to: must be an E.164 number or a SIP URI",
        );
    }
    if account.owned(from).is_none() {
        return fail(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid from: must be a number on this account",
        );
    }
    let n = sb.next_id();
    let id = format!(
        "c-{:08x}-{:08x}-{:04x}-4{:03x}-{:012x}",
        mix64(n) as u32,
        n as u32,
        (n >> 32) as u16,
        n & 0xfff,
        mix64(n ^ 1) & 0xffff_ffff_ffff
    );
    let call = Call {
        id: id.clone(),
        seq: n,
        to: to.into(),
        from: from.into(),
        status: "queued".into(),
        duration: 0,
        callback: text(&v, "disconnectUrl").map(str::to_owned),
        events: Vec::new(),
        created_ms: sb.clock().now_ms(),
        command_id: None,
        answer_url: Some(answer_url.to_string()),
        callback_auth: text(&v, "username")
            .zip(text(&v, "password"))
            .map(|(u, p)| (u.to_string(), p.to_string())),
        sequence: 0,
    };
    let view = call_json(&account, &call);
    lock(&account.calls).insert(id.clone(), call);
    lifecycle::run_call(sb.clone(), account.clone(), id.clone(), n);
    let mut resp = (StatusCode::CREATED, axum::Json(view)).into_response();
    if let Ok(location) =
        format!("https://voice.bandwidth.com/api/v2/accounts/{account_id}/calls/{id}").parse()
    {
        resp.headers_mut().insert("location", location);
    }
    Ok(resp)
}

async fn fetch_call(
    State(sb): State<Sandbox>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let Some(c) = lock(&account.calls).get(&id).cloned() else {
        return fail(StatusCode::NOT_FOUND, "validation", "Call not found");
    };
    let mut v = call_json(&account, &c);
    v["direction"] = json!("outbound");
    v["startTime"] = json!(rfc3339_ms(c.created_ms));
    v["state"] = json!(match c.status.as_str() {
        "queued" => "queued",
        "initiated" | "ringing" => "initiated",
        "in-progress" => "answered",
        _ => "disconnected",
    });
    // The lifecycle answers a quarter ring time plus a ring time after creation.
    let answered = c.created_ms + (account.profile().ring_ms * 5 / 4) as i64;
    if c.status == "in-progress" || c.status == "completed" {
        v["answerTime"] = json!(rfc3339_ms(answered));
    }
    if lifecycle::is_final(&c.status) {
        let end = if c.status == "completed" {
            answered + i64::from(c.duration) * 1000
        } else {
            answered
        };
        v["endTime"] = json!(rfc3339_ms(end));
        v["disconnectCause"] = json!(match c.status.as_str() {
            "completed" => "hangup",
            "busy" => "busy",
            "no-answer" => "timeout",
            "canceled" => "cancel",
            _ => "error",
        });
    }
    Ok(axum::Json(v).into_response())
}

/// `state: completed` hangs up or cancels; `state: active` with `redirectUrl` fetches new
/// BXML from there at once.
async fn update_call(
    State(sb): State<Sandbox>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let v = json_body(&body)?;
    let Some(c) = lock(&account.calls).get(&id).cloned() else {
        return fail(StatusCode::NOT_FOUND, "validation", "Call not found");
    };
    if lifecycle::is_final(&c.status) {
        return fail(StatusCode::NOT_FOUND, "validation", "Call not found");
    }
    match (
        text(&v, "state").unwrap_or("active"),
        text(&v, "redirectUrl"),
    ) {
        ("completed", _) => {
            lifecycle::hang_up(&sb, &account, &id);
        }
        ("active", Some(url)) => {
            if c.status != "in-progress" {
                return fail(
                    StatusCode::CONFLICT,
                    "validation",
                    "The call is not answered yet",
                );
            }
            let call = {
                let mut calls = lock(&account.calls);
                let Some(call) = calls.get_mut(&id) else {
                    return fail(StatusCode::NOT_FOUND, "validation", "Call not found");
                };
                call.answer_url = Some(url.to_string());
                call.clone()
            };
            let now = sb.clock().now_ms();
            let mut event = notify::bandwidth_call(&account, &call, "redirect", None, now);
            if let notify::Payload::Bandwidth { auth, .. } = &mut event
                && let Some(creds) = text(&v, "username").zip(text(&v, "password"))
            {
                *auth = Some((creds.0.to_string(), creds.1.to_string()));
            }
            notify::deliver(&sb, &account, Some(url.to_string()), event);
        }
        _ => {
            return fail(
                StatusCode::BAD_REQUEST,
                "validation",
                "state must be active with redirectUrl, or completed",
            );
        }
    }
    Ok(StatusCode::OK.into_response())
}

fn message_id(n: u64) -> String {
    format!("{n:013}{}", &format!("{:016x}", mix64(n))[..16])
}

async fn create_message(
    State(sb): State<Sandbox>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let v = json_body(&body)?;
    let to: Vec<&str> = v
        .get("to")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let invalid = |field: &str, description: &str| -> Reply {
        Err((
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "type": "request-validation", "description": "Your request could not be accepted",
                "fieldErrors": [{ "fieldName": field, "description": description }],
            })),
        )
            .into_response()
            .into())
    };
    let [to] = to.as_slice() else {
        return invalid(
            "to",
            "to must list one number (group messages are not simulated)",
        );
    };
    if !valid_e164(to) {
        return invalid(
            "to",
            &format!("'{to}' must be replaced with a valid E164 formatted telephone number"),
        );
    }
    let from = text(&v, "from").unwrap_or_default();
    if account.owned(from).is_none() {
        return invalid("from", "from must be a number on this account");
    }
    if text(&v, "applicationId") != account.creds.messaging_application_id.as_deref() {
        return invalid(
            "applicationId",
            "applicationId is not a messaging application of this account",
        );
    }
    let media = strings(&v, "media");
    let body_text = text(&v, "text").unwrap_or_default().to_string();
    if body_text.is_empty() && media.is_empty() {
        return invalid("text", "text or media is required");
    }
    let n = sb.next_id();
    let id = message_id(n);
    let m = Message {
        id: id.clone(),
        to: to.to_string(),
        from: from.into(),
        segments: switchyard_core::rating::count_segments(&body_text).count,
        body: body_text.clone(),
        media: media.clone(),
        status: "queued".into(),
        error_code: None,
        // Bandwidth reports to the messaging application's URL, not one per message.
        callback: None,
        created_ms: sb.clock().now_ms(),
    };
    let view = json!({
        "id": id, "owner": from, "applicationId": account.creds.messaging_application_id,
        "time": rfc3339_ms(m.created_ms), "segmentCount": m.segments, "direction": "out",
        "to": [to], "from": from, "text": body_text, "media": media, "tag": text(&v, "tag"),
    });
    lock(&account.messages).insert(id.clone(), m);
    lifecycle::run_message(sb.clone(), account.clone(), id, n);
    Ok((StatusCode::ACCEPTED, axum::Json(view)).into_response())
}

async fn list_messages(
    State(sb): State<Sandbox>,
    Path(account_id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    let wanted = pairs
        .iter()
        .find(|(k, _)| k == "messageId")
        .map(|(_, v)| v.clone());
    let messages: Vec<Value> = lock(&account.messages)
        .values()
        .filter(|m| wanted.as_deref().is_none_or(|w| w == m.id))
        .map(|m| {
            json!({
                "messageId": m.id, "accountId": account_id, "sourceTn": m.from, "destinationTn": m.to,
                "messageStatus": m.status.to_ascii_uppercase(), "messageDirection": "OUTBOUND",
                "messageType": if m.media.is_empty() { "sms" } else { "mms" }, "segmentCount": m.segments,
                "errorCode": m.error_code.as_deref().and_then(|c| c.parse::<u32>().ok()).unwrap_or(0),
                "receiveTime": rfc3339_ms(m.created_ms), "carrierName": "Sandbox",
            })
        })
        .collect();
    Ok(
        axum::Json(json!({ "totalCount": messages.len(), "pageInfo": {}, "messages": messages }))
            .into_response(),
    )
}

/// The Dashboard takes the same bearer token.
async fn fetch_account(
    State(sb): State<Sandbox>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    authorize(&sb, &headers, &account_id).await?;
    Ok(xml(
        StatusCode::OK,
        format!(
            "<AccountResponse><Account><AccountId>{account_id}</AccountId><CompanyName>Sandbox</CompanyName><AccountType>Business</AccountType></Account></AccountResponse>"
        ),
    ))
}

async fn search(
    State(sb): State<Sandbox>,
    Path(account_id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    authorize(&sb, &headers, &account_id).await?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit: usize = param("quantity")
        .and_then(|q| q.parse().ok())
        .unwrap_or(5)
        .min(100);
    let offer = match (param("areaCode"), param("tollFreeWildCardPattern")) {
        (Some(area), _) => sb.offer("US", "local", Some(area), limit),
        (None, Some(_)) => sb.offer("US", "toll_free", None, limit),
        _ => {
            return xml_fail(
                StatusCode::BAD_REQUEST,
                "SearchResult",
                4010,
                "One of more required search parameters are null or empty, please refer to the api documentation",
            );
        }
    };
    let numbers: String = offer
        .iter()
        .map(|(e164, _)| {
            format!(
                "<TelephoneNumber>{}</TelephoneNumber>",
                e164.trim_start_matches("+1")
            )
        })
        .collect();
    Ok(xml(
        StatusCode::OK,
        format!(
            "<SearchResult><ResultCount>{}</ResultCount><TelephoneNumberList>{numbers}</TelephoneNumberList></SearchResult>",
            offer.len()
        ),
    ))
}

/// The text of every element called `name`.
fn elements<'a>(
    doc: &'a roxmltree::Document<'_>,
    name: &'a str,
) -> impl Iterator<Item = String> + 'a {
    doc.descendants()
        .filter(move |n| n.has_tag_name(name))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
}

fn xml_body(body: &Bytes) -> Option<roxmltree::Document<'_>> {
    roxmltree::Document::parse(std::str::from_utf8(body).ok()?).ok()
}

/// `ExistingTelephoneNumberOrderType` orders complete at once; the answer says RECEIVED, as
/// Bandwidth's does, and the order's own resource says COMPLETE.
async fn order(
    State(sb): State<Sandbox>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let Some(doc) = xml_body(&body).filter(|d| d.root_element().has_tag_name("Order")) else {
        return xml_fail(
            StatusCode::BAD_REQUEST,
            "OrderResponse",
            5000,
            "The request body is not an Order",
        );
    };
    if elements(&doc, "SiteId").next() != account.creds.site_id {
        return xml_fail(
            StatusCode::BAD_REQUEST,
            "OrderResponse",
            5016,
            "SiteId is invalid",
        );
    }
    let wanted: Vec<String> = elements(&doc, "TelephoneNumber").collect();
    if wanted.is_empty() {
        return xml_fail(
            StatusCode::BAD_REQUEST,
            "OrderResponse",
            5070,
            "Telephone number is invalid.",
        );
    }
    for tn in &wanted {
        let e164 = format!("+1{tn}");
        if !sb.is_offered(&e164) || account.owned(&e164).is_some() {
            return xml_fail(
                StatusCode::BAD_REQUEST,
                "OrderResponse",
                5005,
                "Telephone Number Unavailable",
            );
        }
    }
    for tn in &wanted {
        lock(&account.numbers).push(OwnedNumber {
            id: tn.clone(),
            e164: format!("+1{tn}"),
            sms_url: None,
            voice_url: None,
        });
    }
    let n = sb.next_id();
    let id = format!(
        "{:08x}-67aa-4adb-8c0f-{:012x}",
        n as u32,
        mix64(n) & 0xffff_ffff_ffff
    );
    lock(&account.orders).insert(id.clone(), ("COMPLETE".into(), wanted.clone()));
    let list: String = wanted
        .iter()
        .map(|t| format!("<TelephoneNumber>{t}</TelephoneNumber>"))
        .collect();
    Ok(xml(
        StatusCode::CREATED,
        format!(
            "<OrderResponse><Order><id>{id}</id><ExistingTelephoneNumberOrderType><TelephoneNumberList>{list}</TelephoneNumberList></ExistingTelephoneNumberOrderType><SiteId>{}</SiteId></Order><OrderStatus>RECEIVED</OrderStatus></OrderResponse>",
            account.creds.site_id.clone().unwrap_or_default()
        ),
    ))
}

async fn fetch_order(
    State(sb): State<Sandbox>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let Some((status, numbers)) = lock(&account.orders).get(&id).cloned() else {
        return xml_fail(
            StatusCode::NOT_FOUND,
            "OrderResponse",
            5004,
            "Order not found",
        );
    };
    let completed: String = numbers
        .iter()
        .map(|t| format!("<TelephoneNumber><FullNumber>{t}</FullNumber></TelephoneNumber>"))
        .collect();
    Ok(xml(
        StatusCode::OK,
        format!(
            "<OrderResponse><CompletedQuantity>{}</CompletedQuantity><Order><SiteId>{}</SiteId></Order><OrderStatus>{status}</OrderStatus><CompletedNumbers>{completed}</CompletedNumbers><FailedQuantity>0</FailedQuantity></OrderResponse>",
            numbers.len(),
            account.creds.site_id.clone().unwrap_or_default()
        ),
    ))
}

async fn in_service(
    State(sb): State<Sandbox>,
    Path(account_id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let size = param("size").unwrap_or(500).clamp(1, 2500);
    let page = param("page").unwrap_or(1).max(1);
    let all = lock(&account.numbers).clone();
    let shown: Vec<&OwnedNumber> = all.iter().skip((page - 1) * size).take(size).collect();
    let list: String = shown
        .iter()
        .map(|n| format!("<TelephoneNumber>{}</TelephoneNumber>", n.id))
        .collect();
    Ok(xml(
        StatusCode::OK,
        format!(
            "<TNs><TotalCount>{}</TotalCount><Links><first>page=1</first></Links><TelephoneNumbers><Count>{}</Count>{list}</TelephoneNumbers></TNs>",
            all.len(),
            shown.len()
        ),
    ))
}

async fn disconnect(
    State(sb): State<Sandbox>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&sb, &headers, &account_id).await?;
    let Some(doc) = xml_body(&body).filter(|d| {
        d.root_element()
            .has_tag_name("DisconnectTelephoneNumberOrder")
    }) else {
        return xml_fail(
            StatusCode::BAD_REQUEST,
            "DisconnectTelephoneNumberOrderResponse",
            5000,
            "The request body is not a DisconnectTelephoneNumberOrder",
        );
    };
    let numbers: Vec<String> = elements(&doc, "TelephoneNumber").collect();
    {
        let mut owned = lock(&account.numbers);
        if numbers.iter().any(|t| !owned.iter().any(|n| &n.id == t)) {
            return xml_fail(
                StatusCode::BAD_REQUEST,
                "DisconnectTelephoneNumberOrderResponse",
                5076,
                "Telephone number does not belong to the account",
            );
        }
        owned.retain(|n| !numbers.contains(&n.id));
    }
    let n = sb.next_id();
    Ok(xml(
        StatusCode::CREATED,
        format!(
            "<DisconnectTelephoneNumberOrderResponse><orderRequest><id>{:08x}-653d-466c-945d-{:012x}</id></orderRequest><OrderStatus>RECEIVED</OrderStatus></DisconnectTelephoneNumberOrderResponse>",
            n as u32,
            mix64(n) & 0xffff_ffff_ffff
        ),
    ))
}
