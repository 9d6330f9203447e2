//! The Mailgun client and its capability implementations. Messages go to
//! `POST /v3/{domain}/messages` as `multipart/form-data`, authenticated as `api:<key>`
//! (https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Messages/).

use super::{EMAIL_ID_VAR, bare_message_id, events, signature};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::events::ProviderEvent;
use crate::http::{Auth, Body, FormPart, HttpClient, Request, Response};
use async_trait::async_trait;
use http::Method;
use serde_json::Value;

const NAME: &str = "mailgun";

/// What a Mailgun client is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// API base without `/v3`.
    pub base: String,
    /// The sending domain.
    pub domain: String,
    /// Private API key.
    pub api_key: String,
    /// HTTP webhook signing key; without it webhooks are refused.
    pub signing_key: Option<String>,
    /// Shared client.
    pub http: HttpClient,
}

/// A Mailgun sending domain.
#[derive(Debug, Clone)]
pub struct Mailgun {
    s: Settings,
}

/// `yes` or `no`, as Mailgun's `o:` options take them.
fn yes_no(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}

/// Whether a 400 says a recipient address is invalid: Mailgun answers
/// `'to' parameter is not a valid address. please check documentation` (likewise for
/// `cc` and `bcc`) when an address fails its syntax checks.
fn invalid_recipient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["to", "cc", "bcc"].iter().any(|field| {
        m.contains(&format!("'{field}' parameter is not a valid address"))
            || m.starts_with(&format!("{field} parameter is not a valid address"))
    })
}

/// A non-2xx answer as an error. Mailgun has no error codes: a 400 carries
/// `{"message": …}`, a 401 the bare word `Forbidden`
/// (https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses).
fn error_from(resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    let message = serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&resp.body)
                .trim()
                .chars()
                .take(200)
                .collect()
        });
    let class = if status == 400 && invalid_recipient(&message) {
        ErrorClass::Permanent
    } else {
        ErrorClass::from_status(status)
    };
    ProviderError {
        provider: NAME,
        class,
        delivery: Delivery::NotAccepted,
        status: Some(status),
        code: None,
        message: format!("{message} (HTTP {status})"),
        retry_after: None,
    }
}

impl Mailgun {
    /// A client.
    pub fn new(settings: Settings) -> Self {
        Mailgun { s: settings }
    }

    fn auth(&self) -> Auth {
        Auth::Basic {
            user: "api".into(),
            password: self.s.api_key.clone(),
        }
    }

    async fn call_api(&self, req: Request) -> Result<Value, ProviderError> {
        let resp = self.s.http.send(NAME, &req).await?;
        if !resp.status.is_success() {
            return Err(error_from(&resp));
        }
        resp.json(NAME)
    }

    /// The form Mailgun builds the message from. Every recipient is its own field, extra
    /// headers go verbatim as `h:` fields, tags as repeated `o:tag`, and tracking is set
    /// explicitly either way so the domain's own setting never rewrites links that
    /// Switchyard already tracks.
    pub(super) fn message_form(req: &EmailRequest) -> Vec<FormPart> {
        let mut parts = vec![FormPart::text("from", req.from.formatted())];
        for (field, list) in [("to", &req.to), ("cc", &req.cc), ("bcc", &req.bcc)] {
            parts.extend(list.iter().map(|m| FormPart::text(field, m.formatted())));
        }
        parts.push(FormPart::text("subject", &req.subject));
        if let Some(text) = &req.text {
            parts.push(FormPart::text("text", text));
        }
        if let Some(html) = &req.html {
            parts.push(FormPart::text("html", html));
        }
        if let Some(reply_to) = &req.reply_to {
            parts.push(FormPart::text("h:Reply-To", reply_to.formatted()));
        }
        parts.extend(
            req.headers
                .iter()
                .map(|(name, value)| FormPart::text(format!("h:{name}"), value)),
        );
        parts.extend(req.tags.iter().map(|tag| FormPart::text("o:tag", tag)));
        let tracking = yes_no(req.provider_tracking);
        parts.extend([
            FormPart::text("o:tracking", tracking),
            FormPart::text("o:tracking-opens", tracking),
            FormPart::text("o:tracking-clicks", tracking),
            FormPart::text(format!("v:{EMAIL_ID_VAR}"), &req.email_id),
        ]);
        parts.extend(req.attachments.iter().map(|a| FormPart::File {
            name: "attachment".into(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            bytes: a.content.clone(),
        }));
        parts
    }
}

#[async_trait]
impl Connection for Mailgun {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        let url = format!("{}/v3/domains/{}", self.s.base, self.s.domain);
        let v = self
            .call_api(Request::new(Method::GET, url, self.auth(), Body::Empty))
            .await?;
        let domain = v.get("domain").unwrap_or(&Value::Null);
        let name = domain
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&self.s.domain)
            .to_string();
        let state = domain
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        if state != "active" {
            return Err(
                ProviderError::refused(NAME, format!("the domain {name} is {state}"))
                    .with_code("domain_not_active"),
            );
        }
        Ok(ConnectionInfo {
            detail: format!("domain {name} is active"),
            account: name,
        })
    }
}

#[async_trait]
impl Email for Mailgun {
    async fn send_email(&self, req: &EmailRequest) -> Result<SentEmail, ProviderError> {
        let url = format!("{}/v3/{}/messages", self.s.base, self.s.domain);
        // Mailgun takes no idempotency key: a 5xx or a timeout is returned as "maybe
        // accepted" rather than repeated.
        let v = self
            .call_api(Request::new(
                Method::POST,
                url,
                self.auth(),
                Body::Multipart(Self::message_form(req)),
            ))
            .await?;
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .map(bare_message_id)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ProviderError::malformed(NAME, "message without id"))?;
        Ok(SentEmail { message_id: id })
    }
}

impl Webhooks for Mailgun {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let key = self.s.signing_key.as_deref().ok_or_else(|| {
            WebhookError::NotConfigured(
                "credentials.webhook_signing_key is required to verify Mailgun webhooks".into(),
            )
        })?;
        signature::verify(key, req.body, req.now_secs)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        events::parse(req.body)
    }
}
