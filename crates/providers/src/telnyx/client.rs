//! The Telnyx API v2 client and its capability implementations.

use super::{events, signature};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::events::{CallStatus, MessageStatus, ProviderEvent};
use crate::http::{Auth, Body, HttpClient, Request, Response, path_segment};
use async_trait::async_trait;
use ed25519_dalek::VerifyingKey;
use http::Method;
use serde_json::{Value, json};

const NAME: &str = "telnyx";

/// What a Telnyx client is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// API base without `/v2`.
    pub base: String,
    /// Bearer key.
    pub api_key: String,
    /// Call Control application (connection) calls are placed through.
    pub connection_id: String,
    /// Messaging profile, if any.
    pub messaging_profile_id: Option<String>,
    /// Verifies webhooks; without it webhooks are refused.
    pub public_key: Option<VerifyingKey>,
    /// Where events must go.
    pub webhook_url: String,
    /// Shared client.
    pub http: HttpClient,
}

/// A Telnyx account.
#[derive(Debug, Clone)]
pub struct Telnyx {
    s: Settings,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Telnyx error codes (https://developers.telnyx.com/docs/messaging/messages/error-codes)
/// classified for failover.
fn class_of(code: &str, http_status: u16) -> ErrorClass {
    match code {
        // Recipient opted out; invalid, unroutable or blocked destination.
        "40300" | "40310" | "40311" | "40312" | "40001" | "40008" => ErrorClass::Permanent,
        // Rate limits and queue overflow.
        "10011" | "40018" => ErrorClass::Retryable,
        _ => ErrorClass::from_status(http_status),
    }
}

fn error_from(resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let first = body
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
        .cloned()
        .unwrap_or_default();
    let code = match first.get("code") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let detail = text(&first, "detail")
        .or_else(|| text(&first, "title"))
        .unwrap_or_else(|| "Telnyx refused the request".into());
    ProviderError {
        provider: NAME,
        class: class_of(&code, status),
        delivery: Delivery::NotAccepted,
        status: Some(status),
        message: format!("{detail} (HTTP {status}, code {code})"),
        code: (!code.is_empty()).then_some(code),
        retry_after: None,
    }
}

impl Telnyx {
    /// A client.
    pub fn new(settings: Settings) -> Self {
        Telnyx { s: settings }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v2{rest}", self.s.base)
    }

    fn request(&self, method: Method, rest: &str, body: Body) -> Request {
        Request::new(
            method,
            self.url(rest),
            Auth::Bearer(self.s.api_key.clone()),
            body,
        )
    }

    async fn call_api(&self, req: Request) -> Result<Value, ProviderError> {
        let resp = self.s.http.send(NAME, &req).await?;
        if !resp.status.is_success() {
            return Err(error_from(&resp));
        }
        if resp.body.is_empty() {
            return Ok(Value::Null);
        }
        let v = resp.json(NAME)?;
        Ok(v.get("data").cloned().unwrap_or(v))
    }

    async fn command(
        &self,
        call_id: &str,
        action: &str,
        mut body: Value,
    ) -> Result<(), ProviderError> {
        // `command_id` makes a repeated command a no-op at Telnyx, so commands are
        // safe to retry.
        body["command_id"] = json!(uuid::Uuid::new_v4().to_string());
        let rest = format!("/calls/{}/actions/{action}", path_segment(NAME, call_id)?);
        self.call_api(
            self.request(Method::POST, &rest, Body::Json(body))
                .idempotent(),
        )
        .await?;
        Ok(())
    }

    fn message(v: &Value) -> Result<SentMessage, ProviderError> {
        let word = events::recipient_status(v).unwrap_or_else(|| "queued".into());
        Ok(SentMessage {
            message_id: text(v, "id")
                .ok_or_else(|| ProviderError::malformed(NAME, "message without id"))?,
            status: events::message_status(&word).unwrap_or(MessageStatus::Queued),
            segments: v.get("parts").and_then(Value::as_u64).map(|p| p as u32),
            price: events::cost(v),
        })
    }

    fn owned(v: &Value) -> Option<OwnedNumber> {
        Some(OwnedNumber {
            provider_number_id: match v.get("id")? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            },
            e164: text(v, "phone_number")?,
            // Telnyx numbers carry voice and messaging; the features list refines it when present.
            voice: true,
            sms: true,
            mms: true,
        })
    }
}

#[async_trait]
impl Connection for Telnyx {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        let v = self
            .call_api(self.request(Method::GET, "/balance", Body::Empty))
            .await?;
        Ok(ConnectionInfo {
            account: "Telnyx account".into(),
            detail: format!(
                "balance {} {}",
                text(&v, "balance").unwrap_or_else(|| "?".into()),
                text(&v, "currency").unwrap_or_default()
            ),
        })
    }
}

#[async_trait]
impl Voice for Telnyx {
    async fn create_call(&self, req: &CallRequest) -> Result<PlacedCall, ProviderError> {
        let mut body = json!({
            "connection_id": self.s.connection_id,
            "to": req.to,
            "from": req.from,
            "webhook_url": self.s.webhook_url,
            "webhook_url_method": "POST",
            "timeout_secs": req.ring_timeout_secs,
            "command_id": req.idempotency_key,
        });
        match &req.answer {
            Answer::Url(_) => {
                return Err(ProviderError::unsupported(
                    NAME,
                    "an answer URL (Call Control takes commands; use instructions)",
                ));
            }
            // A lone Play needs no command: Telnyx plays `audio_url` on answer. Anything
            // else is performed by command once the call is answered.
            Answer::Instructions(steps) => {
                if let [Instruction::Play { url }] = steps.as_slice() {
                    body["audio_url"] = json!(url);
                }
            }
        }
        if let Some(state) = &req.client_state {
            body["client_state"] = json!(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                state
            ));
        }
        let v = self
            .call_api(
                self.request(Method::POST, "/calls", Body::Json(body))
                    .idempotent(),
            )
            .await?;
        Ok(PlacedCall {
            call_id: text(&v, "call_control_id")
                .ok_or_else(|| ProviderError::malformed(NAME, "call without call_control_id"))?,
            status: CallStatus::Initiated,
        })
    }

    async fn hangup(&self, call_id: &str) -> Result<(), ProviderError> {
        match self.command(call_id, "hangup", json!({})).await {
            // 90018: the call has already ended.
            Err(e) if e.code.as_deref() == Some("90018") => Ok(()),
            other => other,
        }
    }

    async fn call_status(&self, call_id: &str) -> Result<CallInfo, ProviderError> {
        let rest = format!("/calls/{}", path_segment(NAME, call_id)?);
        let v = self
            .call_api(self.request(Method::GET, &rest, Body::Empty))
            .await?;
        let alive = v.get("is_alive").and_then(Value::as_bool).unwrap_or(false);
        let duration = v
            .get("call_duration")
            .and_then(Value::as_u64)
            .map(|d| d as u32);
        // Telnyx reports only whether the call lives and how long it has lasted; the
        // webhooks carry the precise status.
        let status = match (alive, duration.unwrap_or(0) > 0) {
            (true, true) => CallStatus::Answered,
            (true, false) => CallStatus::Ringing,
            (false, true) => CallStatus::Completed,
            (false, false) => CallStatus::Failed,
        };
        Ok(CallInfo {
            call_id: call_id.to_string(),
            status,
            duration_secs: duration,
            price: None,
        })
    }

    fn answers_by_command(&self) -> bool {
        true
    }

    async fn perform(&self, call_id: &str, steps: &[Instruction]) -> Result<(), ProviderError> {
        for step in steps {
            match step {
                Instruction::Say { text, language } => {
                    let mut body = json!({ "payload": text, "voice": "female" });
                    if let Some(l) = language {
                        body["language"] = json!(l);
                    }
                    self.command(call_id, "speak", body).await?
                }
                Instruction::Play { url } => {
                    self.command(call_id, "playback_start", json!({ "audio_url": url }))
                        .await?
                }
                Instruction::Forward { to } => {
                    self.command(call_id, "transfer", json!({ "to": to }))
                        .await?
                }
                // Call Control has no pause command; the next command simply follows.
                Instruction::Pause { .. } => {}
                Instruction::Hangup => self.hangup(call_id).await?,
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Messaging for Telnyx {
    async fn send_message(&self, req: &MessageRequest) -> Result<SentMessage, ProviderError> {
        let kind = match req.channel {
            MessageChannel::Sms => "SMS",
            MessageChannel::Mms => "MMS",
            MessageChannel::Whatsapp => return Err(ProviderError::unsupported(NAME, "WhatsApp")),
        };
        let mut body = json!({
            "from": req.from,
            "to": req.to,
            "text": req.body,
            "type": kind,
            "webhook_url": self.s.webhook_url,
            "use_profile_webhooks": false,
        });
        if !req.media_urls.is_empty() {
            body["media_urls"] = json!(req.media_urls);
        }
        if let Some(profile) = &self.s.messaging_profile_id {
            body["messaging_profile_id"] = json!(profile);
        }
        // Telnyx offers no idempotency key for messages: not retried once sent.
        let v = self
            .call_api(self.request(Method::POST, "/messages", Body::Json(body)))
            .await?;
        Self::message(&v)
    }

    async fn message_status(&self, message_id: &str) -> Result<SentMessage, ProviderError> {
        let rest = format!("/messages/{}", path_segment(NAME, message_id)?);
        let v = self
            .call_api(self.request(Method::GET, &rest, Body::Empty))
            .await?;
        Self::message(&v)
    }
}

#[async_trait]
impl Numbers for Telnyx {
    async fn search_available(
        &self,
        query: &NumberQuery,
    ) -> Result<Vec<AvailableNumber>, ProviderError> {
        let kind = match query.kind {
            NumberKind::Local => "local",
            NumberKind::TollFree => "toll_free",
            NumberKind::Mobile => "mobile",
        };
        let mut params: Vec<(&str, String)> = vec![
            ("filter[country_code]", query.country.to_ascii_uppercase()),
            ("filter[phone_number_type]", kind.into()),
        ];
        if let Some(area) = &query.area_code {
            params.push(("filter[national_destination_code]", area.clone()));
        }
        for (wanted, name) in [
            (query.voice, "voice"),
            (query.sms, "sms"),
            (query.mms, "mms"),
        ] {
            if wanted {
                params.push(("filter[features][]", name.into()));
            }
        }
        params.push((
            "filter[limit]",
            query.limit.unwrap_or(20).clamp(1, 100).to_string(),
        ));
        let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
        let v = self
            .call_api(self.request(
                Method::GET,
                &format!("/available_phone_numbers?{qs}"),
                Body::Empty,
            ))
            .await?;
        Ok(v.as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| {
                let features: Vec<String> = n
                    .get("features")
                    .and_then(Value::as_array)
                    .map(|f| f.iter().filter_map(|x| text(x, "name")).collect())
                    .unwrap_or_default();
                let region = n
                    .get("region_information")
                    .and_then(Value::as_array)
                    .and_then(|r| r.iter().find_map(|x| text(x, "region_name")));
                Some(AvailableNumber {
                    e164: text(n, "phone_number")?,
                    country: Some(query.country.to_ascii_uppercase()),
                    locality: region,
                    voice: features.iter().any(|f| f == "voice"),
                    sms: features.iter().any(|f| f == "sms"),
                    mms: features.iter().any(|f| f == "mms"),
                })
            })
            .collect())
    }

    async fn buy(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let mut body = json!({
            "phone_numbers": [{ "phone_number": e164 }],
            "connection_id": self.s.connection_id,
        });
        if let Some(profile) = &self.s.messaging_profile_id {
            body["messaging_profile_id"] = json!(profile);
        }
        let order = self
            .call_api(self.request(Method::POST, "/number_orders", Body::Json(body)))
            .await?;
        let status = text(&order, "status").unwrap_or_default();
        if status == "failure" {
            return Err(
                ProviderError::refused(NAME, format!("the order for {e164} failed"))
                    .with_code("order_failed"),
            );
        }
        // The order's own ids are not the number's; look the number up once it is ours.
        self.find_owned(e164).await?.ok_or_else(|| {
            ProviderError::refused(
                NAME,
                format!("the order for {e164} is {status}, not complete"),
            )
            .with_code("order_pending")
        })
    }

    async fn release(&self, provider_number_id: &str) -> Result<(), ProviderError> {
        let rest = format!("/phone_numbers/{}", path_segment(NAME, provider_number_id)?);
        self.call_api(self.request(Method::DELETE, &rest, Body::Empty))
            .await?;
        Ok(())
    }

    async fn list_owned(&self) -> Result<Vec<OwnedNumber>, ProviderError> {
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let rest = format!("/phone_numbers?page[number]={page}&page[size]=250");
            let resp = self
                .s
                .http
                .send(NAME, &self.request(Method::GET, &rest, Body::Empty))
                .await?;
            if !resp.status.is_success() {
                return Err(error_from(&resp));
            }
            let v = resp.json(NAME)?;
            out.extend(
                v.get("data")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Self::owned),
            );
            let total = v
                .pointer("/meta/total_pages")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            if u64::from(page) >= total {
                return Ok(out);
            }
            page += 1;
        }
    }

    async fn import(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        self.find_owned(e164).await?.ok_or_else(|| {
            ProviderError::refused(NAME, format!("the account does not own {e164}"))
                .with_code("not_owned")
        })
    }
}

impl Telnyx {
    async fn find_owned(&self, e164: &str) -> Result<Option<OwnedNumber>, ProviderError> {
        let qs = serde_urlencoded::to_string([("filter[phone_number]", e164)]).unwrap_or_default();
        let v = self
            .call_api(self.request(Method::GET, &format!("/phone_numbers?{qs}"), Body::Empty))
            .await?;
        Ok(v.as_array()
            .and_then(|list| list.iter().filter_map(Self::owned).find(|n| n.e164 == e164)))
    }
}

impl Webhooks for Telnyx {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let key = self.s.public_key.as_ref().ok_or_else(|| {
            WebhookError::NotConfigured(
                "credentials.public_key is not set, so Telnyx webhooks cannot be verified".into(),
            )
        })?;
        signature::verify(key, req)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        events::parse(req.body)
    }
}
