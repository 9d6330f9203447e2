//! The SendGrid v3 client (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send)
//! and its capability implementations.

use super::{EMAIL_ID_ARG, events, signature};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::events::ProviderEvent;
use crate::http::{Auth, Body, HttpClient, Request, Response};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use p256::ecdsa::VerifyingKey;
use serde::Deserialize;
use serde_json::{Map, Value, json};

const NAME: &str = "sendgrid";

/// SendGrid takes at most ten categories per message.
const MAX_CATEGORIES: usize = 10;

/// What a SendGrid client is built from.
#[derive(Clone)]
pub struct Settings {
    /// API base without `/v3`.
    pub base: String,
    /// Bearer API key.
    pub api_key: String,
    /// Verifies the signed event webhook; without it webhooks are refused.
    pub public_key: Option<VerifyingKey>,
    /// Shared client.
    pub http: HttpClient,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base", &self.base)
            .field("api_key", &"***")
            .field("public_key", &self.public_key.is_some())
            .finish_non_exhaustive()
    }
}

/// A SendGrid account (one API key).
#[derive(Debug, Clone)]
pub struct SendGrid {
    s: Settings,
}

/// SendGrid's error body: `{"errors": [{"message", "field", "help"}]}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
struct ErrorItem {
    #[serde(default)]
    message: String,
    field: Option<String>,
}

/// Whether an error field names a recipient's address
/// (`personalizations.0.to.0.email`, as SendGrid reports an address it will not take).
fn recipient_address(field: &str) -> bool {
    let parts: Vec<&str> = field.split('.').collect();
    matches!(
        parts.as_slice(),
        ["personalizations", n, "to" | "cc" | "bcc", m, "email"]
            if n.parse::<u32>().is_ok() && m.parse::<u32>().is_ok()
    )
}

/// A non-2xx response as an error. Mail Send answers every validation problem with 400
/// (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors); a recipient
/// address it refuses is one no provider will deliver to, anything else (credentials,
/// an unverified sender, a request it does not take) is this provider's refusal.
fn error_from(resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    let body: ErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
    let field = body
        .errors
        .iter()
        .filter_map(|e| e.field.as_deref())
        .find(|f| !f.is_empty() && *f != "null");
    let class = if status == 400
        && body
            .errors
            .iter()
            .any(|e| e.field.as_deref().is_some_and(recipient_address))
    {
        ErrorClass::Permanent
    } else {
        ErrorClass::from_status(status)
    };
    let message = body
        .errors
        .iter()
        .map(|e| e.message.as_str())
        .filter(|m| !m.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let message = if message.is_empty() {
        "SendGrid refused the request".to_string()
    } else {
        message
    };
    ProviderError {
        provider: NAME,
        class,
        delivery: Delivery::NotAccepted,
        status: Some(status),
        code: None,
        message: match field {
            Some(field) => format!("{message} (HTTP {status}, field {field})"),
            None => format!("{message} (HTTP {status})"),
        },
        retry_after: None,
    }
}

/// `{"email", "name"}`, the name left out when there is none.
fn address(m: &Mailbox) -> Value {
    match m.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => json!({ "email": m.address, "name": name }),
        None => json!({ "email": m.address }),
    }
}

fn addresses(list: &[Mailbox]) -> Value {
    Value::Array(list.iter().map(address).collect())
}

/// The Mail Send body for one email: one personalization with every recipient and our id
/// as a custom argument (custom arguments come back in every event), `text/plain` before
/// `text/html` as SendGrid requires, attachments in base64, extra headers verbatim, the
/// first ten distinct tags as categories (SendGrid's limit), and SendGrid's own open and
/// click tracking turned on or off explicitly (an account default must not rewrite links
/// Switchyard already tracks).
fn mail_send_body(req: &EmailRequest) -> Result<Value, ProviderError> {
    let mut personalization = json!({
        "to": addresses(&req.to),
        "custom_args": { EMAIL_ID_ARG: req.email_id },
    });
    if !req.cc.is_empty() {
        personalization["cc"] = addresses(&req.cc);
    }
    if !req.bcc.is_empty() {
        personalization["bcc"] = addresses(&req.bcc);
    }
    let track = req.provider_tracking;
    let mut body = json!({
        "personalizations": [personalization],
        "from": address(&req.from),
        "tracking_settings": {
            "click_tracking": { "enable": track, "enable_text": track },
            "open_tracking": { "enable": track },
        },
    });
    if !req.subject.is_empty() {
        body["subject"] = json!(req.subject);
    }
    if let Some(reply_to) = &req.reply_to {
        body["reply_to"] = address(reply_to);
    }
    let content: Vec<Value> = [("text/plain", &req.text), ("text/html", &req.html)]
        .into_iter()
        .filter_map(|(kind, value)| {
            let value = value.as_deref().filter(|v| !v.is_empty())?;
            Some(json!({ "type": kind, "value": value }))
        })
        .collect();
    if !content.is_empty() {
        body["content"] = Value::Array(content);
    }
    if !req.attachments.is_empty() {
        body["attachments"] = req
            .attachments
            .iter()
            .map(|a| {
                json!({
                    "content": STANDARD.encode(&a.content),
                    "type": a.content_type,
                    "filename": a.filename,
                    "disposition": "attachment",
                })
            })
            .collect();
    }
    if !req.headers.is_empty() {
        let mut headers = Map::new();
        for (name, value) in &req.headers {
            if headers.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                // SendGrid takes headers as a JSON object: one value per name.
                return Err(ProviderError::refused(
                    NAME,
                    format!("SendGrid takes each header once; {name} is given twice"),
                )
                .with_code("duplicate_header"));
            }
            headers.insert(name.clone(), json!(value));
        }
        body["headers"] = Value::Object(headers);
    }
    let mut categories: Vec<&str> = Vec::new();
    for tag in &req.tags {
        if categories.len() < MAX_CATEGORIES && !categories.contains(&tag.as_str()) {
            categories.push(tag);
        }
    }
    if !categories.is_empty() {
        body["categories"] = json!(categories);
    }
    Ok(body)
}

impl SendGrid {
    /// A client.
    pub fn new(settings: Settings) -> Self {
        SendGrid { s: settings }
    }

    fn request(&self, method: Method, rest: &str, body: Body) -> Request {
        Request::new(
            method,
            format!("{}/v3{rest}", self.s.base),
            Auth::Bearer(self.s.api_key.clone()),
            body,
        )
    }

    async fn call(&self, req: Request) -> Result<Response, ProviderError> {
        let resp = self.s.http.send(NAME, &req).await?;
        if resp.status.is_success() {
            Ok(resp)
        } else {
            Err(error_from(&resp))
        }
    }

    /// The key's id, which SendGrid shows in its console (`SG.<id>.<secret>`).
    fn key_id(&self) -> Option<&str> {
        let mut parts = self.s.api_key.split('.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("SG"), Some(id), Some(_)) if !id.is_empty() => Some(id),
            _ => None,
        }
    }
}

#[async_trait]
impl Connection for SendGrid {
    /// Lists the key's scopes (any key may), and requires `mail.send` among them.
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        #[derive(Deserialize)]
        struct Scopes {
            #[serde(default)]
            scopes: Vec<String>,
        }
        let resp = self
            .call(self.request(Method::GET, "/scopes", Body::Empty))
            .await?;
        let scopes: Scopes = serde_json::from_slice(&resp.body)
            .map_err(|e| ProviderError::malformed(NAME, format!("scopes: {e}")))?;
        if !scopes.scopes.iter().any(|s| s == "mail.send") {
            return Err(ProviderError::refused(
                NAME,
                "the API key may not send mail (no mail.send scope)",
            )
            .with_code("missing_scope"));
        }
        Ok(ConnectionInfo {
            account: self
                .key_id()
                .map_or_else(|| "SendGrid".to_string(), |id| format!("API key {id}")),
            detail: format!("the key may send mail ({} scopes)", scopes.scopes.len()),
        })
    }
}

#[async_trait]
impl Email for SendGrid {
    /// Mail Send has no idempotency key, so a 5xx or a timeout after sending comes back
    /// as "maybe accepted" rather than being retried.
    async fn send_email(&self, req: &EmailRequest) -> Result<SentEmail, ProviderError> {
        let body = mail_send_body(req)?;
        let resp = self
            .call(self.request(Method::POST, "/mail/send", Body::Json(body)))
            .await?;
        let message_id = resp
            .headers
            .get("x-message-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ProviderError::malformed(NAME, "the answer has no X-Message-Id"))?;
        Ok(SentEmail {
            message_id: message_id.to_string(),
        })
    }
}

impl Webhooks for SendGrid {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let key = self.s.public_key.as_ref().ok_or_else(|| {
            WebhookError::NotConfigured(
                "credentials.webhook_public_key is needed to verify SendGrid's signed event webhook"
                    .into(),
            )
        })?;
        signature::verify(key, req)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        events::parse(req.body)
    }
}
