//! The Bandwidth client: Voice API v2 and Messaging API v2 (JSON), the Dashboard API for
//! numbers (XML, in [`super::numbers`]), and its capability implementations.

use super::auth::Authenticator;
use super::{bxml, events};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::events::{CallStatus, MessageStatus, ProviderEvent};
use crate::http::{Body, HttpClient, Request, Response, path_segment};
use crate::json::text;
use async_trait::async_trait;
use http::Method;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

pub(super) const NAME: &str = "bandwidth";

/// Where each of Bandwidth's APIs lives.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// Voice API v2 (`…/api/v2`).
    pub voice: String,
    /// Messaging API v2 (`…/api/v2`).
    pub messaging: String,
    /// Dashboard (numbers) API (`…/api`).
    pub numbers: String,
}

impl Hosts {
    /// Bandwidth's own hosts.
    pub fn bandwidth() -> Self {
        Hosts {
            voice: "https://voice.bandwidth.com/api/v2".into(),
            messaging: "https://messaging.bandwidth.com/api/v2".into(),
            numbers: "https://dashboard.bandwidth.com/api".into(),
        }
    }

    /// Every API under one base (the sandbox): `{base}/voice/api/v2`, `{base}/messaging/api/v2`,
    /// `{base}/dashboard/api`.
    pub fn under(base: &str) -> Self {
        Hosts {
            voice: format!("{base}/voice/api/v2"),
            messaging: format!("{base}/messaging/api/v2"),
            numbers: format!("{base}/dashboard/api"),
        }
    }
}

/// The Basic credentials Bandwidth sends with its callbacks (set on the applications, and
/// on each call the adapter places).
#[derive(Clone)]
pub struct CallbackCredentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for CallbackCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CallbackCredentials({}, ***)", self.username)
    }
}

/// What a Bandwidth client is built from.
#[derive(Debug)]
pub struct Settings {
    /// API hosts.
    pub hosts: Hosts,
    /// Account id.
    pub account_id: String,
    /// Voice application calls are placed through.
    pub voice_application_id: Option<String>,
    /// Messaging application messages are sent through.
    pub messaging_application_id: Option<String>,
    /// Sub-account (site) ordered numbers go to.
    pub site_id: Option<String>,
    /// Location (SIP peer) within the site, if not its default.
    pub peer_id: Option<String>,
    /// API authentication.
    pub auth: Authenticator,
    /// What callbacks must carry; without it they are refused.
    pub callback: Option<CallbackCredentials>,
    /// Where callbacks must go.
    pub webhook_url: String,
    /// Shared client.
    pub http: HttpClient,
}

/// A Bandwidth account.
#[derive(Debug)]
pub struct Bandwidth {
    pub(super) s: Settings,
}

/// Voice and Messaging errors are `{"type", "description"}` (Messaging adds `fieldErrors`
/// on a refused send): an invalid `to` is the request's fault, anything else the status
/// classifies.
fn error_from(resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let kind = text(&body, "type").unwrap_or_default();
    let fields: Vec<(String, String)> = body
        .get("fieldErrors")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|f| {
                    Some((
                        text(f, "fieldName")?,
                        text(f, "description").unwrap_or_default(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let detail = fields
        .iter()
        .map(|(f, d)| format!("{f}: {d}"))
        .chain(text(&body, "description").or_else(|| text(&body, "message")))
        .collect::<Vec<_>>()
        .join("; ");
    let class = if fields.iter().any(|(f, _)| f == "to") {
        ErrorClass::Permanent
    } else {
        ErrorClass::from_status(status)
    };
    ProviderError {
        provider: NAME,
        class,
        delivery: Delivery::NotAccepted,
        status: Some(status),
        message: format!(
            "{} (HTTP {status})",
            if detail.is_empty() {
                "Bandwidth refused the request".to_string()
            } else {
                detail
            }
        ),
        code: (!kind.is_empty()).then_some(kind),
        retry_after: None,
    }
}

impl Bandwidth {
    /// A client.
    pub fn new(settings: Settings) -> Self {
        Bandwidth { s: settings }
    }

    /// Sends a request built with the current credentials; a 401 with OAuth renews the
    /// token and tries once more. Non-2xx answers come back as they are.
    pub(super) async fn exchange(
        &self,
        build: impl Fn(crate::http::Auth) -> Request,
    ) -> Result<Response, ProviderError> {
        let resp = self
            .s
            .http
            .send(NAME, &build(self.s.auth.auth().await?))
            .await?;
        if resp.status.as_u16() == 401 && self.s.auth.renews() {
            self.s.auth.forget();
            return self
                .s
                .http
                .send(NAME, &build(self.s.auth.auth().await?))
                .await;
        }
        Ok(resp)
    }

    async fn call_api(
        &self,
        method: Method,
        url: String,
        body: Body,
    ) -> Result<Value, ProviderError> {
        let resp = self
            .exchange(|auth| Request::new(method.clone(), url.clone(), auth, body.clone()))
            .await?;
        if !resp.status.is_success() {
            return Err(error_from(&resp));
        }
        if resp.body.is_empty() {
            return Ok(Value::Null);
        }
        resp.json(NAME)
    }

    fn calls_url(&self, rest: &str) -> String {
        format!(
            "{}/accounts/{}/calls{rest}",
            self.s.hosts.voice, self.s.account_id
        )
    }

    fn needs(&self, what: Option<&String>, name: &str) -> Result<String, ProviderError> {
        what.cloned().ok_or_else(|| {
            ProviderError::refused(NAME, format!("credentials.{name} is not set"))
                .with_code("not_configured")
        })
    }

    /// The callback credentials a call carries, so Bandwidth authenticates its callbacks.
    fn with_callback_auth(&self, body: &mut Value) {
        if let Some(c) = &self.s.callback {
            body["username"] = json!(c.username);
            body["password"] = json!(c.password);
        }
    }
}

#[async_trait]
impl Voice for Bandwidth {
    async fn create_call(&self, req: &CallRequest) -> Result<PlacedCall, ProviderError> {
        let application =
            self.needs(self.s.voice_application_id.as_ref(), "voice_application_id")?;
        // The answer always comes to Switchyard (so it is reported), which hands the call to
        // a customer's URL with `<Redirect>`.
        let doc = match &req.answer {
            Answer::Url(url) => bxml::redirect(url),
            Answer::Instructions(steps) => bxml::render(steps),
        };
        let mut body = json!({
            "from": req.from,
            "to": req.to,
            "applicationId": application,
            "answerUrl": crate::xml::answer_url(&self.s.webhook_url, &doc),
            "answerMethod": "POST",
            "disconnectUrl": self.s.webhook_url,
            "disconnectMethod": "POST",
            "callTimeout": req.ring_timeout_secs.clamp(1, 300),
        });
        if let Some(state) = &req.client_state {
            body["tag"] = json!(state);
        }
        self.with_callback_auth(&mut body);
        // Bandwidth takes no idempotency key for calls: a call request is never repeated.
        let v = self
            .call_api(Method::POST, self.calls_url(""), Body::Json(body))
            .await?;
        Ok(PlacedCall {
            call_id: text(&v, "callId")
                .ok_or_else(|| ProviderError::malformed(NAME, "call without callId"))?,
            status: CallStatus::Initiated,
        })
    }

    /// `state: completed` hangs up an answered call and cancels a ringing one.
    async fn hangup(&self, call_id: &str) -> Result<(), ProviderError> {
        let url = self.calls_url(&format!("/{}", path_segment(NAME, call_id)?));
        match self
            .call_api(
                Method::POST,
                url,
                Body::Json(json!({ "state": "completed" })),
            )
            .await
        {
            // 404: gone; 409: already over.
            Err(e) if matches!(e.status, Some(404) | Some(409)) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn call_status(&self, call_id: &str) -> Result<CallInfo, ProviderError> {
        let url = self.calls_url(&format!("/{}", path_segment(NAME, call_id)?));
        let v = self.call_api(Method::GET, url, Body::Empty).await?;
        let state = text(&v, "state").unwrap_or_default();
        let cause = text(&v, "disconnectCause");
        let ms = |k: &str| {
            text(&v, k)
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.timestamp_millis())
        };
        let duration_secs = match (ms("answerTime"), ms("endTime")) {
            (Some(a), Some(e)) if e >= a => Some(((e - a + 999) / 1000) as u32),
            _ => None,
        };
        Ok(CallInfo {
            call_id: call_id.to_string(),
            status: events::call_state(&state, cause.as_deref()),
            duration_secs,
            price: None,
        })
    }

    /// Redirects the live call to a new document.
    async fn perform(&self, call_id: &str, steps: &[Instruction]) -> Result<(), ProviderError> {
        let url = self.calls_url(&format!("/{}", path_segment(NAME, call_id)?));
        let mut body = json!({
            "state": "active",
            "redirectUrl": crate::xml::answer_url(&self.s.webhook_url, &bxml::render(steps)),
            "redirectMethod": "POST",
        });
        self.with_callback_auth(&mut body);
        self.call_api(Method::POST, url, Body::Json(body)).await?;
        Ok(())
    }
}

#[async_trait]
impl Messaging for Bandwidth {
    async fn send_message(&self, req: &MessageRequest) -> Result<SentMessage, ProviderError> {
        if req.channel == MessageChannel::Whatsapp {
            return Err(ProviderError::unsupported(NAME, "WhatsApp"));
        }
        let application = self.needs(
            self.s.messaging_application_id.as_ref(),
            "messaging_application_id",
        )?;
        let mut body = json!({
            "from": req.from,
            "to": [req.to],
            "applicationId": application,
            "tag": req.idempotency_key,
        });
        if !req.body.is_empty() {
            body["text"] = json!(req.body);
        }
        if !req.media_urls.is_empty() {
            body["media"] = json!(req.media_urls);
        }
        // Bandwidth offers no idempotency key for messages: not retried once sent.
        let url = format!(
            "{}/users/{}/messages",
            self.s.hosts.messaging, self.s.account_id
        );
        let v = self.call_api(Method::POST, url, Body::Json(body)).await?;
        Ok(SentMessage {
            message_id: text(&v, "id")
                .ok_or_else(|| ProviderError::malformed(NAME, "message without id"))?,
            status: MessageStatus::Queued,
            segments: v
                .get("segmentCount")
                .and_then(Value::as_u64)
                .map(|n| n as u32),
            price: None,
        })
    }

    /// Bandwidth keeps no message resource, only the message list, searched by id.
    async fn message_status(&self, message_id: &str) -> Result<SentMessage, ProviderError> {
        let qs = serde_urlencoded::to_string([("messageId", message_id)]).unwrap_or_default();
        let url = format!(
            "{}/users/{}/messages?{qs}",
            self.s.hosts.messaging, self.s.account_id
        );
        let v = self.call_api(Method::GET, url, Body::Empty).await?;
        let m = v
            .get("messages")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|m| text(m, "messageId").as_deref() == Some(message_id))
            })
            .ok_or_else(|| {
                ProviderError::refused(NAME, format!("no message {message_id}"))
                    .with_code("not_found")
            })?;
        Ok(SentMessage {
            message_id: message_id.to_string(),
            status: text(m, "messageStatus")
                .and_then(|s| events::listed_status(&s))
                .unwrap_or(MessageStatus::Queued),
            segments: m
                .get("segmentCount")
                .and_then(Value::as_u64)
                .map(|n| n as u32),
            price: None,
        })
    }
}

impl Webhooks for Bandwidth {
    /// Bandwidth signs neither voice nor messaging callbacks: it authenticates them with the
    /// Basic credentials set on the application (and on each call), compared here in
    /// constant time.
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let expected = self.s.callback.as_ref().ok_or_else(|| {
            WebhookError::NotConfigured(
                "credentials.callback_username and callback_password are not set, so Bandwidth callbacks cannot be authenticated".into(),
            )
        })?;
        let given = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Basic "))
            .ok_or(WebhookError::Unsigned("authorization"))?;
        let want = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", expected.username, expected.password),
        );
        if bool::from(given.trim().as_bytes().ct_eq(want.as_bytes())) {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        events::parse(req.body)
    }

    /// The BXML an answer or redirect URL carries; an empty document otherwise.
    fn acknowledgement(&self, req: &WebhookRequest<'_>) -> (&'static str, String) {
        let doc = crate::xml::document_in(req.url).unwrap_or_else(|| bxml::EMPTY.to_string());
        ("application/xml", doc)
    }
}
