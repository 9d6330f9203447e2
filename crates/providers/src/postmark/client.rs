//! The Postmark client and its capability implementations: `POST /email` with a JSON
//! message (https://postmarkapp.com/developer/api/email-api), authenticated by the
//! `X-Postmark-Server-Token` header.

use super::{EMAIL_ID_KEY, events};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::events::ProviderEvent;
use crate::http::{Auth, Body, HttpClient, Request};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

const NAME: &str = "postmark";

/// What a Postmark client is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// API base.
    pub base: String,
    /// Server API token.
    pub server_token: String,
    /// Message stream every email goes through.
    pub message_stream: String,
    /// Basic-auth user and password expected on webhooks; without them webhooks are
    /// refused.
    pub webhook_login: Option<(String, String)>,
    /// Shared client.
    pub http: HttpClient,
}

/// A Postmark server.
#[derive(Debug, Clone)]
pub struct Postmark {
    s: Settings,
}

/// Postmark API error codes (https://postmarkapp.com/developer/api/overview#error-codes)
/// classified for failover.
fn class_of(code: u64, message: &str, http_status: u16) -> ErrorClass {
    match code {
        // Inactive recipient: Postmark suppressed the address after a hard bounce, a spam
        // complaint or an unsubscribe.
        406 => ErrorClass::Permanent,
        // "Invalid email request" names the faulty field. A 'From' that is not a confirmed
        // sender signature is this server's set-up
        // (https://postmarkapp.com/support/article/troubleshooting-422-unprocessable-entity-errors);
        // anything else (an invalid 'To', no recipients, no body) is the email itself.
        300 if message.contains("'From'") => ErrorClass::ProviderRefused,
        300 => ErrorClass::Permanent,
        // Bad or missing token, sender signature missing or unconfirmed, not allowed to
        // send, account pending or not allowed to send.
        10 | 400 | 401 | 405 | 412 | 413 => ErrorClass::ProviderRefused,
        // Maintenance, rate limit.
        100 | 429 => ErrorClass::Retryable,
        _ => ErrorClass::from_status(http_status),
    }
}

/// An error answer (`{"ErrorCode": 300, "Message": …}`, with HTTP 422 for a refused email
/// and 401 for a bad token) as an error.
fn error_from(status: u16, body: &Value) -> ProviderError {
    let code = body.get("ErrorCode").and_then(Value::as_u64).unwrap_or(0);
    let message = body
        .get("Message")
        .and_then(Value::as_str)
        .unwrap_or("Postmark refused the request")
        .to_string();
    ProviderError {
        provider: NAME,
        class: class_of(code, &message, status),
        delivery: Delivery::NotAccepted,
        status: Some(status),
        code: (code != 0).then(|| code.to_string()),
        message: format!("{message} (HTTP {status}, code {code})"),
        retry_after: None,
    }
}

impl Postmark {
    /// A client.
    pub fn new(settings: Settings) -> Self {
        Postmark { s: settings }
    }

    /// The token header, and `Accept: application/json`, which Postmark requires on every
    /// request.
    fn auth(&self) -> Auth {
        Auth::Headers(vec![
            (
                "X-Postmark-Server-Token".into(),
                self.s.server_token.clone(),
            ),
            ("Accept".into(), "application/json".into()),
        ])
    }

    async fn call_api(&self, req: Request) -> Result<Value, ProviderError> {
        let resp = self.s.http.send(NAME, &req).await?;
        let status = resp.status.as_u16();
        if !resp.status.is_success() {
            let body = serde_json::from_slice(&resp.body).unwrap_or_default();
            return Err(error_from(status, &body));
        }
        let v = resp.json(NAME)?;
        // Postmark reports refusals with a non-zero ErrorCode; trust that over a 200.
        if v.get("ErrorCode").and_then(Value::as_u64).unwrap_or(0) != 0 {
            return Err(error_from(status, &v));
        }
        Ok(v)
    }

    /// The JSON message. Postmark takes one `Tag` per message, so the first tag is sent
    /// and the others are left out. Tracking is set explicitly either way; note that a
    /// server whose "Open tracking" setting is on tracks opens whatever `TrackOpens` says
    /// (https://postmarkapp.com/developer/user-guide/tracking-opens/tracking-opens-per-email),
    /// so Switchyard-tracked mail wants that server setting off.
    pub(super) fn message(&self, req: &EmailRequest) -> Value {
        let list = |boxes: &[Mailbox]| {
            boxes
                .iter()
                .map(Mailbox::formatted)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut m = Map::new();
        m.insert("From".into(), json!(req.from.formatted()));
        m.insert("To".into(), json!(list(&req.to)));
        if !req.cc.is_empty() {
            m.insert("Cc".into(), json!(list(&req.cc)));
        }
        if !req.bcc.is_empty() {
            m.insert("Bcc".into(), json!(list(&req.bcc)));
        }
        if let Some(reply_to) = &req.reply_to {
            m.insert("ReplyTo".into(), json!(reply_to.formatted()));
        }
        m.insert("Subject".into(), json!(req.subject));
        if let Some(text) = &req.text {
            m.insert("TextBody".into(), json!(text));
        }
        if let Some(html) = &req.html {
            m.insert("HtmlBody".into(), json!(html));
        }
        if let Some(tag) = req.tags.first() {
            m.insert("Tag".into(), json!(tag));
        }
        if !req.headers.is_empty() {
            let headers: Vec<Value> = req
                .headers
                .iter()
                .map(|(name, value)| json!({"Name": name, "Value": value}))
                .collect();
            m.insert("Headers".into(), Value::Array(headers));
        }
        if !req.attachments.is_empty() {
            let files: Vec<Value> = req
                .attachments
                .iter()
                .map(|a| {
                    json!({
                        "Name": a.filename,
                        "Content": STANDARD.encode(&a.content),
                        "ContentType": a.content_type,
                    })
                })
                .collect();
            m.insert("Attachments".into(), Value::Array(files));
        }
        m.insert("Metadata".into(), json!({ EMAIL_ID_KEY: req.email_id }));
        m.insert("TrackOpens".into(), json!(req.provider_tracking));
        m.insert(
            "TrackLinks".into(),
            json!(if req.provider_tracking {
                "HtmlAndText"
            } else {
                "None"
            }),
        );
        m.insert("MessageStream".into(), json!(self.s.message_stream));
        Value::Object(m)
    }
}

#[async_trait]
impl Connection for Postmark {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        let url = format!("{}/server", self.s.base);
        let v = self
            .call_api(Request::new(Method::GET, url, self.auth(), Body::Empty))
            .await?;
        let name = v
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("Postmark server")
            .to_string();
        let delivery = v
            .get("DeliveryType")
            .and_then(Value::as_str)
            .unwrap_or("Live");
        Ok(ConnectionInfo {
            detail: format!(
                "server {name} ({delivery}), message stream {}",
                self.s.message_stream
            ),
            account: name,
        })
    }
}

#[async_trait]
impl Email for Postmark {
    async fn send_email(&self, req: &EmailRequest) -> Result<SentEmail, ProviderError> {
        let url = format!("{}/email", self.s.base);
        // Postmark takes no idempotency key: a 5xx or a timeout is returned as "maybe
        // accepted" rather than repeated.
        let v = self
            .call_api(Request::new(
                Method::POST,
                url,
                self.auth(),
                Body::Json(self.message(req)),
            ))
            .await?;
        let id = v
            .get("MessageID")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ProviderError::malformed(NAME, "message without MessageID"))?;
        Ok(SentEmail {
            message_id: id.to_string(),
        })
    }
}

/// Postmark does not sign webhooks. It documents two protections: allow-listing its IP
/// ranges, and basic-auth credentials in the webhook URL
/// (`https://user:password@host/…`, https://postmarkapp.com/developer/webhooks/webhooks-overview),
/// which it sends as `Authorization: Basic`. The second is checked here, in constant time.
/// Nothing in a Postmark webhook is signed with a time, so a replayed request cannot be
/// told from a new one: replays are absorbed by the dedupe key instead.
impl Webhooks for Postmark {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let (user, password) = self.s.webhook_login.as_ref().ok_or_else(|| {
            WebhookError::NotConfigured(
                "credentials.webhook_username and credentials.webhook_password are required: \
                 Postmark does not sign webhooks, so they must carry basic-auth credentials"
                    .into(),
            )
        })?;
        let header = req
            .header("authorization")
            .ok_or(WebhookError::Unsigned("Authorization"))?;
        let (scheme, encoded) = header
            .trim()
            .split_once(' ')
            .ok_or(WebhookError::BadSignature)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(WebhookError::BadSignature);
        }
        let given = STANDARD
            .decode(encoded.trim())
            .map_err(|_| WebhookError::BadSignature)?;
        let expected = format!("{user}:{password}");
        if bool::from(given.as_slice().ct_eq(expected.as_bytes())) {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        events::parse(req.body)
    }
}
