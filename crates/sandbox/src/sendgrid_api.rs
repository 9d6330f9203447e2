//! The SendGrid v3 endpoints the adapter uses: Mail Send, checked as SendGrid checks it
//! (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors), and the key's
//! scopes.

use crate::accounts::{Account, AttachmentInfo, Email, Refusal, Style};
use crate::reply::{Fail, Reply};
use crate::{Sandbox, lifecycle, lock, text};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::sync::Arc;
use switchyard_core::scoring::mix64;

pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v3/mail/send", post(mail_send))
        .route("/v3/scopes", get(scopes))
}

/// SendGrid's error body: `{"errors": [{"message", "field", "help"}]}`.
fn errors(status: StatusCode, list: &[(String, Option<String>)]) -> Response {
    let errors: Vec<Value> = list
        .iter()
        .map(|(message, field)| json!({ "message": message, "field": field, "help": null }))
        .collect();
    (status, axum::Json(json!({ "errors": errors }))).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    errors(status, &[(message.to_string(), None)])
}

fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Outage => error(StatusCode::SERVICE_UNAVAILABLE, "service unavailable"),
        Refusal::RateLimited => {
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "too many requests");
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            resp
        }
        Refusal::Error | Refusal::Timeout => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
        }
    }
}

/// Checks the bearer key and passes the fault gate.
async fn authorize(sb: &Sandbox, headers: &HeaderMap) -> Result<Arc<Account>, Fail> {
    let denied = || {
        error(
            StatusCode::UNAUTHORIZED,
            "The provided authorization grant is invalid, expired, or revoked",
        )
    };
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| Fail::from(denied()))?;
    let account = sb
        .account(key.trim())
        .filter(|a| a.creds.style == Style::Sendgrid)
        .ok_or_else(|| Fail::from(denied()))?;
    crate::admin::gate(sb, &account)
        .await
        .map_err(|r| Fail::from(refusal(r)))?;
    Ok(account)
}

async fn scopes(State(sb): State<Sandbox>, headers: HeaderMap) -> Reply {
    authorize(&sb, &headers).await?;
    Ok(axum::Json(json!({ "scopes": [
        "mail.send", "scopes.read", "user.webhooks.event.settings.read",
        "user.webhooks.event.settings.update",
    ] }))
    .into_response())
}

/// An address SendGrid would take: `local@domain.tld`, no spaces or brackets.
fn valid_address(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !a
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';'))
}

/// The validation errors SendGrid would answer, each with its field, plus what is stored.
struct Checked {
    problems: Vec<(String, Option<String>)>,
    email: Email,
}

/// Reads a Mail Send body the way SendGrid validates it (every problem reported at once).
fn check(v: &Value) -> Checked {
    let mut problems: Vec<(String, Option<String>)> = Vec::new();
    let mut problem = |message: &str, field: &str| {
        problems.push((message.to_string(), Some(field.to_string())));
    };
    let mut custom_args = v
        .get("custom_args")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (mut to, mut cc, mut bcc) = (Vec::new(), Vec::new(), Vec::new());
    let mut every_subject = false;
    match v.get("personalizations").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            every_subject = list.iter().all(|p| text(p, "subject").is_some());
            if list.len() > 1000 {
                problem(
                    "The personalization block is limited to 1000 personalizations per API request.",
                    "personalizations",
                );
            }
            for (i, p) in list.iter().enumerate() {
                if p.get("to")
                    .and_then(Value::as_array)
                    .is_none_or(|t| t.is_empty())
                {
                    problem(
                        "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
                        &format!("personalizations.{i}.to"),
                    );
                }
                let mut seen: Vec<String> = Vec::new();
                for (kind, out) in [("to", &mut to), ("cc", &mut cc), ("bcc", &mut bcc)] {
                    for (j, m) in p
                        .get(kind)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        let address = text(m, "email").unwrap_or_default();
                        if !valid_address(address) {
                            problem(
                                "Does not contain a valid address.",
                                &format!("personalizations.{i}.{kind}.{j}.email"),
                            );
                        } else if seen.iter().any(|s| s.eq_ignore_ascii_case(address)) {
                            problem(
                                &format!(
                                    "Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [{address}] in the personalizations.{i}.{kind} field."
                                ),
                                &format!("personalizations.{i}"),
                            );
                        } else {
                            seen.push(address.to_string());
                            out.push(address.to_string());
                        }
                    }
                }
                if let Some(args) = p.get("custom_args").and_then(Value::as_object) {
                    custom_args.extend(args.clone());
                }
            }
        }
        _ => problem(
            "The personalizations field is required and must have at least one personalization.",
            "personalizations",
        ),
    }
    let from = v.get("from").and_then(|f| text(f, "email"));
    match from {
        None => problem(
            "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {\"email\" : \"example@example.com\"}  or {\"email\" : \"example@example.com\", \"name\" : \"Example Recipient\"}.",
            "from.email",
        ),
        Some(a) if !valid_address(a) => problem(
            "The from email does not contain a valid address.",
            "from.email",
        ),
        Some(_) => {}
    }
    let reply_to = v.get("reply_to").and_then(|r| text(r, "email"));
    if reply_to.is_some_and(|a| !valid_address(a)) {
        problem(
            "The reply_to email does not contain a valid address.",
            "reply_to.email",
        );
    }
    let subject = text(v, "subject");
    if subject.is_none() && !every_subject {
        problem(
            "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
            "subject",
        );
    }
    let content: Vec<(&str, &str)> = v
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c.get("type").and_then(Value::as_str).unwrap_or_default(),
                c.get("value").and_then(Value::as_str).unwrap_or_default(),
            )
        })
        .collect();
    if content.is_empty() {
        problem(
            "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.",
            "content",
        );
    }
    for (i, (kind, value)) in content.iter().enumerate() {
        if kind.is_empty() {
            problem(
                "The content type must be a string at least one character in length.",
                &format!("content.{i}.type"),
            );
        }
        if value.is_empty() {
            problem(
                "The content value must be a string at least one character in length.",
                &format!("content.{i}.value"),
            );
        }
    }
    let plain_at = content.iter().position(|(k, _)| *k == "text/plain");
    let html_at = content.iter().position(|(k, _)| *k == "text/html");
    if plain_at.is_some_and(|p| p != 0)
        || html_at.is_some_and(|h| h > usize::from(plain_at.is_some()))
    {
        problem(
            "If present, text/plain and text/html may only be provided once. If present, text/plain content must be first, followed by text/html, followed by any other content.",
            "content",
        );
    }
    let mut attachments = Vec::new();
    for (i, a) in v
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let filename = text(a, "filename");
        if filename.is_none() {
            problem(
                "The attachment filename parameter is required.",
                &format!("attachments.{i}.filename"),
            );
        }
        match text(a, "content").map(|c| STANDARD.decode(c)) {
            Some(Ok(bytes)) => attachments.push(AttachmentInfo {
                filename: filename.unwrap_or_default().to_string(),
                content_type: text(a, "type").map(str::to_owned),
                size: bytes.len(),
            }),
            _ => problem(
                "The attachment content must be base64 encoded.",
                &format!("attachments.{i}.content"),
            ),
        }
    }
    let headers = v
        .get("headers")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, value) in &headers {
        if !value.is_string() {
            problem(
                "Invalid type. Expected: string, given: non-string.",
                &format!("headers.{name}"),
            );
        }
    }
    let categories: Vec<String> = v
        .get("categories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if categories.len() > 10 {
        problem(
            "You may not have more than 10 categories per request.",
            "categories",
        );
    }
    let tracking = |kind: &str| {
        v.pointer(&format!("/tracking_settings/{kind}/enable"))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    };
    let body_of = |kind: &str| {
        content
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, value)| value.to_string())
    };
    let email = Email {
        id: String::new(),
        seq: 0,
        from: from.unwrap_or_default().to_string(),
        to,
        cc,
        bcc,
        reply_to: reply_to.map(str::to_owned),
        subject: subject.unwrap_or_default().to_string(),
        text: body_of("text/plain"),
        html: body_of("text/html"),
        attachments,
        headers,
        custom_args,
        categories,
        open_tracking: tracking("open_tracking"),
        click_tracking: tracking("click_tracking"),
        created_ms: 0,
        events: Vec::new(),
    };
    Checked { problems, email }
}

/// `POST /v3/mail/send`: 202 with `X-Message-Id` and no body, or 400 with every problem.
async fn mail_send(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Reply {
    let account = authorize(&sb, &headers).await?;
    let Some(v) = serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(Value::is_object)
    else {
        return Err(error(StatusCode::BAD_REQUEST, "Bad Request").into());
    };
    let Checked {
        problems,
        mut email,
    } = check(&v);
    if !problems.is_empty() {
        return Err(errors(StatusCode::BAD_REQUEST, &problems).into());
    }
    let n = sb.next_id();
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&mix64(n).to_be_bytes());
    raw[8..].copy_from_slice(&mix64(n ^ 0x5bd1_e995).to_be_bytes());
    // 22 URL-safe characters, like SendGrid's ids, and no `.` (events append one).
    email.id = URL_SAFE_NO_PAD.encode(raw);
    email.seq = n;
    email.created_ms = sb.clock().now_ms();
    let id = email.id.clone();
    lock(&account.emails).push(email);
    lifecycle::run_email(sb.clone(), account, id.clone());
    let mut resp = StatusCode::ACCEPTED.into_response();
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-message-id", value);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        json!({
            "personalizations": [{ "to": [{ "email": "a@example.com" }], "custom_args": { "k": "v" } }],
            "from": { "email": "me@shop.example" },
            "subject": "Hi",
            "content": [{ "type": "text/plain", "value": "x" }, { "type": "text/html", "value": "<p>x</p>" }],
        })
    }

    fn fields(v: &Value) -> Vec<String> {
        check(v)
            .problems
            .into_iter()
            .filter_map(|(_, field)| field)
            .collect()
    }

    #[test]
    fn validates_like_sendgrid() {
        assert!(fields(&valid()).is_empty());
        let stored = check(&valid()).email;
        assert_eq!(stored.to, vec!["a@example.com"]);
        assert_eq!(stored.custom_args["k"], "v");
        assert!(
            stored.open_tracking && stored.click_tracking,
            "SendGrid's defaults"
        );

        assert_eq!(
            fields(&json!({})),
            vec!["personalizations", "from.email", "subject", "content"]
        );
        let mut v = valid();
        v["personalizations"][0]["to"][0]["email"] = json!("not an address");
        v["personalizations"][0]["cc"] = json!([{ "email": "A@example.com" }]);
        assert_eq!(
            fields(&v),
            vec!["personalizations.0.to.0.email"],
            "the invalid one is not counted as a duplicate"
        );
        let mut v = valid();
        v["personalizations"][0]["bcc"] = json!([{ "email": "A@example.com" }]);
        assert_eq!(fields(&v), vec!["personalizations.0"]);
        let mut v = valid();
        v["content"] = json!([{ "type": "text/html", "value": "<p>x</p>" }, { "type": "text/plain", "value": "x" }]);
        assert_eq!(fields(&v), vec!["content"]);
        let mut v = valid();
        v["attachments"] = json!([{ "content": "not base64!", "filename": "a.txt" }]);
        assert_eq!(fields(&v), vec!["attachments.0.content"]);
        let mut v = valid();
        v["personalizations"][0]["to"] = json!([]);
        assert_eq!(fields(&v), vec!["personalizations.0.to"]);
        let mut v = valid();
        v["tracking_settings"] = json!({ "open_tracking": { "enable": false } });
        let stored = check(&v).email;
        assert!(!stored.open_tracking && stored.click_tracking);
    }

    #[test]
    fn addresses() {
        assert!(valid_address("a.b+c@mail.example.com"));
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@.com",
            "a@b.",
            "a b@c.com",
            "<a@b.com>",
        ] {
            assert!(!valid_address(bad), "{bad}");
        }
    }
}
