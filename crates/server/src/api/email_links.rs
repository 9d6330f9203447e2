//! The links inside emails, served without an API key (the signed token is the proof):
//! `GET /u/{token}` shows an unsubscribe page, `POST /u/{token}` unsubscribes (RFC 8058
//! one-click from a mail client, or the page's button), `GET /t/o/{token}` is the open
//! pixel and `GET /t/c/{token}` records a click and redirects to the signed URL.

use crate::dispatch::emails::{Happened, OWN_SOURCE, record};
use crate::email::links::{self, Link};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};
use switchyard_providers::events::EmailEventType;
use switchyard_store::EmailRecord;

/// A 1×1 transparent GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// The link and its email, when the token is genuine and the email exists.
async fn resolve(state: &Shared, token: &str) -> Option<(Link, EmailRecord)> {
    let link = links::verify(state.master_key.link_key(), token)?;
    let email = state.store.email_by_id(link.email_id()).await.ok()??;
    Some((link, email))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `ada@example.com` → `a••@example.com`: enough to recognise, not to harvest.
fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}••@{domain}")
        }
        None => "••".into(),
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
         margin:4rem auto;padding:0 1rem;color:#1a1a1a}}button{{font-size:1rem;padding:.6rem 1.2rem;\
         background:#1a56db;color:#fff;border:0;border-radius:.3rem;cursor:pointer}}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link not recognised",
        "<p>This link is not valid. If you copied it, check that it is complete.</p>",
    )
}

async fn sender_name(state: &Shared, email: &EmailRecord) -> String {
    match state.store.org(&email.org_id).await {
        Ok(Some(org)) => org.name,
        _ => "this sender".into(),
    }
}

/// The unsubscribe page: what will happen and a button. Nothing is recorded by a GET, so
/// link scanners that fetch every URL in a message do not unsubscribe anyone.
pub async fn unsubscribe_page(State(state): State<Shared>, Path(token): Path<String>) -> Response {
    let Some((Link::Unsubscribe { address, .. }, email)) = resolve(&state, &token).await else {
        return not_found();
    };
    let sender = sender_name(&state, &email).await;
    let body = format!(
        "<p>Stop marketing email from <strong>{}</strong> to <strong>{}</strong>?</p>\
         <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Unsubscribe</button></form>",
        escape(&sender),
        escape(&masked(&address)),
    );
    page(StatusCode::OK, "Unsubscribe", &body)
}

/// Records the opt-out: the address goes on the organisation's suppression list for
/// marketing email (transactional email such as receipts still arrives). Idempotent.
pub async fn unsubscribe(State(state): State<Shared>, Path(token): Path<String>) -> Response {
    let Some((Link::Unsubscribe { address, .. }, email)) = resolve(&state, &token).await else {
        return not_found();
    };
    let dedupe_key = format!("unsubscribe:{address}");
    let happened = Happened {
        event: EmailEventType::Unsubscribed,
        recipient: Some(&address),
        detail: Some("one-click"),
        source: OWN_SOURCE,
        dedupe_key: &dedupe_key,
        occurred_at_ms: None,
    };
    if let Err(e) = record(&state, &email, &happened).await {
        tracing::error!(email = email.id, error = %e, "unsubscribe not recorded");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again",
            "<p>Your request could not be recorded just now. Please try again in a minute.</p>",
        );
    }
    tracing::info!(email = email.id, "unsubscribed");
    let sender = sender_name(&state, &email).await;
    page(
        StatusCode::OK,
        "You are unsubscribed",
        &format!(
            "<p>{} will not send marketing email to {} any more.</p>",
            escape(&sender),
            escape(&masked(&address))
        ),
    )
}

fn key_for(kind: &str, extra: &str) -> String {
    let secs = chrono::Utc::now().timestamp();
    let digest = hex::encode(&Sha256::digest(extra.as_bytes())[..8]);
    format!("{kind}:{secs}:{digest}")
}

/// The open pixel: records an open (repeated opens within a second count once).
pub async fn open(State(state): State<Shared>, Path(token): Path<String>) -> Response {
    if let Some((Link::Open { .. }, email)) = resolve(&state, &token).await {
        let dedupe_key = key_for("open", "");
        let happened = Happened {
            event: EmailEventType::Opened,
            recipient: (email.recipients == 1).then_some(email.to.as_str()),
            detail: None,
            source: OWN_SOURCE,
            dedupe_key: &dedupe_key,
            occurred_at_ms: None,
        };
        if let Err(e) = record(&state, &email, &happened).await {
            tracing::warn!(email = email.id, error = %e, "open not recorded");
        }
    }
    // The image is served whatever the token: a broken image helps nobody.
    (
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-store, max-age=0"),
        ],
        PIXEL,
    )
        .into_response()
}

/// A tracked link: records the click and redirects to the URL that was signed (never to
/// any other, so the endpoint is no open redirect).
pub async fn click(State(state): State<Shared>, Path(token): Path<String>) -> Response {
    let Some((Link::Click { url, .. }, email)) = resolve(&state, &token).await else {
        return not_found();
    };
    let dedupe_key = key_for("click", &url);
    let happened = Happened {
        event: EmailEventType::Clicked,
        recipient: (email.recipients == 1).then_some(email.to.as_str()),
        detail: Some(&url),
        source: OWN_SOURCE,
        dedupe_key: &dedupe_key,
        occurred_at_ms: None,
    };
    if let Err(e) = record(&state, &email, &happened).await {
        tracing::warn!(email = email.id, error = %e, "click not recorded");
    }
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, url.as_str()),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_and_mask() {
        assert_eq!(masked("ada@example.com"), "a••@example.com");
        assert_eq!(escape("<b>\"x\"</b>"), "&lt;b&gt;&quot;x&quot;&lt;/b&gt;");
        assert_eq!(&PIXEL[..6], b"GIF89a");
    }
}
