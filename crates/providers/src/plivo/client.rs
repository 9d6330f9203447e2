//! The Plivo REST client (`/v1/Account/{auth_id}/…`, JSON bodies, Basic auth) and its
//! capability implementations.

use super::{events, signature, xml};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::events::digits_of as digits;
use crate::events::{CallStatus, MessageStatus, ProviderEvent};
use crate::http::{Auth, Body, HttpClient, Request, Response, path_segment};
use crate::json::text;
use async_trait::async_trait;
use http::Method;
use serde_json::{Value, json};

const NAME: &str = "plivo";

/// Most results Plivo returns per page.
const PAGE: usize = 20;

/// What a Plivo client is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// API host, without `/v1`.
    pub base: String,
    /// Auth id (`MA…` or `SA…`).
    pub auth_id: String,
    /// Auth token: the API password and the webhook signing key.
    pub auth_token: String,
    /// Application that bought and imported numbers are attached to, so their inbound
    /// calls and messages reach Switchyard.
    pub app_id: Option<String>,
    /// Where callbacks must go.
    pub webhook_url: String,
    /// Shared client.
    pub http: HttpClient,
}

/// A Plivo account.
#[derive(Debug, Clone)]
pub struct Plivo {
    s: Settings,
}

/// Plivo's errors are `{"api_id", "error"}` with a sentence and no code, so the HTTP status
/// classifies them; a refused destination country (403) is this account's limit.
fn error_from(resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let detail = text(&body, "error")
        .or_else(|| text(&body, "message"))
        .unwrap_or_else(|| "Plivo refused the request".into());
    ProviderError {
        provider: NAME,
        class: ErrorClass::from_status(status),
        delivery: Delivery::NotAccepted,
        status: Some(status),
        message: format!("{detail} (HTTP {status})"),
        code: None,
        retry_after: None,
    }
}

impl Plivo {
    /// A client.
    pub fn new(settings: Settings) -> Self {
        Plivo { s: settings }
    }

    fn request(&self, method: Method, rest: &str, body: Body) -> Request {
        Request::new(
            method,
            format!("{}/v1/Account/{}{rest}", self.s.base, self.s.auth_id),
            Auth::Basic {
                user: self.s.auth_id.clone(),
                password: self.s.auth_token.clone(),
            },
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
        resp.json(NAME)
    }

    fn message(v: &Value, id: &str) -> SentMessage {
        SentMessage {
            message_id: text(v, "message_uuid").unwrap_or_else(|| id.to_string()),
            status: text(v, "message_state")
                .and_then(|s| events::message_status(&s))
                .unwrap_or(MessageStatus::Queued),
            segments: v.get("units").and_then(Value::as_u64).map(|u| u as u32),
            price: text(v, "total_amount").and_then(|a| events::usd(&a)),
        }
    }

    fn owned(v: &Value) -> Option<OwnedNumber> {
        let number = text(v, "number")?;
        Some(OwnedNumber {
            e164: events::e164(&number),
            provider_number_id: number,
            voice: v
                .get("voice_enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            sms: v
                .get("sms_enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            mms: v
                .get("mms_enabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// Points the number's inbound calls and messages at the configured application.
    async fn attach(&self, number: &str) -> Result<(), ProviderError> {
        if let Some(app) = &self.s.app_id {
            let rest = format!("/Number/{}/", path_segment(NAME, number)?);
            self.call_api(self.request(Method::POST, &rest, Body::Json(json!({ "app_id": app }))))
                .await?;
        }
        Ok(())
    }

    /// The owned number, or `None` when the account does not rent it.
    async fn find_owned(&self, e164: &str) -> Result<Option<OwnedNumber>, ProviderError> {
        let rest = format!("/Number/{}/", path_segment(NAME, digits(e164))?);
        match self
            .call_api(self.request(Method::GET, &rest, Body::Empty))
            .await
        {
            Ok(v) => Ok(Self::owned(&v)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Connection for Plivo {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        let v = self
            .call_api(self.request(Method::GET, "/", Body::Empty))
            .await?;
        Ok(ConnectionInfo {
            account: text(&v, "name").unwrap_or_else(|| self.s.auth_id.clone()),
            detail: format!(
                "{} account, {} USD credit",
                text(&v, "account_type").unwrap_or_else(|| "Plivo".into()),
                text(&v, "cash_credits").unwrap_or_else(|| "?".into())
            ),
        })
    }
}

#[async_trait]
impl Voice for Plivo {
    async fn create_call(&self, req: &CallRequest) -> Result<PlacedCall, ProviderError> {
        // The answer always comes to Switchyard (so it is reported), which hands the call
        // to a customer's URL with `<Redirect>`.
        let doc = match &req.answer {
            Answer::Url(url) => xml::redirect(url),
            Answer::Instructions(steps) => xml::render(steps),
        };
        let answer_url = xml::answer_url(&self.s.webhook_url, &doc);
        let body = json!({
            "from": digits(&req.from),
            "to": digits(&req.to),
            "answer_url": answer_url,
            "answer_method": "POST",
            "ring_url": self.s.webhook_url,
            "ring_method": "POST",
            "hangup_url": self.s.webhook_url,
            "hangup_method": "POST",
            "ring_timeout": req.ring_timeout_secs,
        });
        // Plivo takes no idempotency key for calls: a call request is never repeated.
        let v = self
            .call_api(self.request(Method::POST, "/Call/", Body::Json(body)))
            .await?;
        Ok(PlacedCall {
            call_id: text(&v, "request_uuid")
                .ok_or_else(|| ProviderError::malformed(NAME, "call without request_uuid"))?,
            status: CallStatus::Initiated,
        })
    }

    /// Plivo gives a one-destination call's leg the UUID of its request (its live-call
    /// object shows `request_uuid` equal to `call_uuid`), so the id the API returned ends
    /// the call whether it is still queued, ringing or answered.
    async fn hangup(&self, call_id: &str) -> Result<(), ProviderError> {
        let rest = format!("/Call/{}/", path_segment(NAME, call_id)?);
        match self
            .call_api(self.request(Method::DELETE, &rest, Body::Empty))
            .await
        {
            // Already over.
            Err(e) if e.status == Some(404) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn call_status(&self, call_id: &str) -> Result<CallInfo, ProviderError> {
        let id = path_segment(NAME, call_id)?;
        let live = self
            .call_api(self.request(
                Method::GET,
                &format!("/Call/{id}/?status=live"),
                Body::Empty,
            ))
            .await;
        match live {
            Ok(v) => Ok(CallInfo {
                call_id: call_id.to_string(),
                status: text(&v, "call_status")
                    .and_then(|s| events::call_status(&s))
                    .unwrap_or(CallStatus::Ringing),
                duration_secs: None,
                price: None,
            }),
            // Not live: the call detail record of a finished call.
            Err(e) if e.status == Some(404) => {
                let v = self
                    .call_api(self.request(Method::GET, &format!("/Call/{id}/"), Body::Empty))
                    .await?;
                let billed = v.get("bill_duration").and_then(Value::as_u64);
                let status = match (
                    text(&v, "call_state").as_deref(),
                    text(&v, "hangup_cause_name"),
                ) {
                    (Some("ANSWER") | Some("ANSWERED"), _) => CallStatus::Completed,
                    (_, Some(cause)) if cause.contains("Busy") => CallStatus::Busy,
                    (_, Some(cause)) if cause.contains("No Answer") => CallStatus::NoAnswer,
                    (_, Some(cause)) if cause.contains("Cancel") => CallStatus::Canceled,
                    _ if billed.unwrap_or(0) > 0 => CallStatus::Completed,
                    _ => CallStatus::Failed,
                };
                Ok(CallInfo {
                    call_id: call_id.to_string(),
                    status,
                    duration_secs: billed.map(|d| d as u32),
                    price: text(&v, "total_amount").and_then(|a| events::usd(&a)),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Moves the live call to a new document (Plivo's transfer of the A leg).
    async fn perform(&self, call_id: &str, steps: &[Instruction]) -> Result<(), ProviderError> {
        let rest = format!("/Call/{}/", path_segment(NAME, call_id)?);
        let body = json!({
            "legs": "aleg",
            "aleg_url": xml::answer_url(&self.s.webhook_url, &xml::render(steps)),
            "aleg_method": "POST",
        });
        self.call_api(self.request(Method::POST, &rest, Body::Json(body)))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Messaging for Plivo {
    async fn send_message(&self, req: &MessageRequest) -> Result<SentMessage, ProviderError> {
        let kind = match req.channel {
            MessageChannel::Sms => "sms",
            MessageChannel::Mms => "mms",
            MessageChannel::Whatsapp => "whatsapp",
        };
        let mut body = json!({
            "src": digits(&req.from),
            "dst": digits(&req.to),
            "text": req.body,
            "type": kind,
            "url": self.s.webhook_url,
            "method": "POST",
        });
        if !req.media_urls.is_empty() {
            body["media_urls"] = json!(req.media_urls);
        }
        // No idempotency key for messages either: not repeated once sent.
        let v = self
            .call_api(self.request(Method::POST, "/Message/", Body::Json(body)))
            .await?;
        let id = v
            .get("message_uuid")
            .and_then(Value::as_array)
            .and_then(|ids| ids.first())
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::malformed(NAME, "message without message_uuid"))?;
        Ok(SentMessage {
            message_id: id.to_string(),
            status: MessageStatus::Queued,
            segments: None,
            price: None,
        })
    }

    async fn message_status(&self, message_id: &str) -> Result<SentMessage, ProviderError> {
        let rest = format!("/Message/{}/", path_segment(NAME, message_id)?);
        let v = self
            .call_api(self.request(Method::GET, &rest, Body::Empty))
            .await?;
        Ok(Self::message(&v, message_id))
    }
}

#[async_trait]
impl Numbers for Plivo {
    async fn search_available(
        &self,
        query: &NumberQuery,
    ) -> Result<Vec<AvailableNumber>, ProviderError> {
        let kind = match query.kind {
            NumberKind::Local => "local",
            NumberKind::TollFree => "tollfree",
            NumberKind::Mobile => "mobile",
        };
        let mut params: Vec<(&str, String)> = vec![
            ("country_iso", query.country.to_ascii_uppercase()),
            ("type", kind.into()),
        ];
        if let Some(area) = &query.area_code {
            // Plivo's pattern matches from the country code on.
            let prefix = match query.country.to_ascii_uppercase().as_str() {
                "US" | "CA" => format!("1{area}"),
                _ => area.clone(),
            };
            params.push(("pattern", prefix));
        }
        let services: Vec<&str> = [
            (query.voice, "voice"),
            (query.sms, "sms"),
            (query.mms, "mms"),
        ]
        .into_iter()
        .filter_map(|(wanted, name)| wanted.then_some(name))
        .collect();
        if !services.is_empty() {
            params.push(("services", services.join(",")));
        }
        params.push((
            "limit",
            query.limit.unwrap_or(20).clamp(1, PAGE as u32).to_string(),
        ));
        let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
        let v = self
            .call_api(self.request(Method::GET, &format!("/PhoneNumber/?{qs}"), Body::Empty))
            .await?;
        Ok(v.get("objects")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| {
                let flag = |k: &str| n.get(k).and_then(Value::as_bool).unwrap_or(false);
                Some(AvailableNumber {
                    e164: events::e164(&text(n, "number")?),
                    country: Some(query.country.to_ascii_uppercase()),
                    locality: text(n, "city")
                        .or_else(|| text(n, "rate_center"))
                        .or_else(|| text(n, "region")),
                    voice: flag("voice_enabled"),
                    sms: flag("sms_enabled"),
                    mms: flag("mms_enabled"),
                })
            })
            .collect())
    }

    async fn buy(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let rest = format!("/PhoneNumber/{}/", path_segment(NAME, digits(e164))?);
        let body = match &self.s.app_id {
            Some(app) => json!({ "app_id": app }),
            None => json!({}),
        };
        let v = self
            .call_api(self.request(Method::POST, &rest, Body::Json(body)))
            .await?;
        let line = v
            .get("numbers")
            .and_then(Value::as_array)
            .and_then(|n| n.first())
            .cloned()
            .unwrap_or_default();
        match text(&line, "status").as_deref() {
            Some("Success") | Some("success") => {}
            // Countries that need documents first: bought, not yet in service.
            Some(other) => {
                return Err(ProviderError::refused(
                    NAME,
                    format!("the order for {e164} is {other}, not complete"),
                )
                .with_code("order_pending"));
            }
            None => {
                return Err(ProviderError::malformed(
                    NAME,
                    "order without a number status",
                ));
            }
        }
        self.find_owned(e164).await?.ok_or_else(|| {
            ProviderError::refused(NAME, format!("{e164} was bought but is not listed"))
                .with_code("order_pending")
        })
    }

    async fn release(&self, provider_number_id: &str) -> Result<(), ProviderError> {
        let rest = format!("/Number/{}/", path_segment(NAME, provider_number_id)?);
        self.call_api(self.request(Method::DELETE, &rest, Body::Empty))
            .await?;
        Ok(())
    }

    async fn list_owned(&self) -> Result<Vec<OwnedNumber>, ProviderError> {
        let mut out = Vec::new();
        loop {
            let rest = format!("/Number/?limit={PAGE}&offset={}", out.len());
            let v = self
                .call_api(self.request(Method::GET, &rest, Body::Empty))
                .await?;
            let page: Vec<OwnedNumber> = v
                .get("objects")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(Self::owned)
                .collect();
            let more = v.pointer("/meta/next").is_some_and(|n| !n.is_null());
            let empty = page.is_empty();
            out.extend(page);
            if !more || empty {
                return Ok(out);
            }
        }
    }

    async fn import(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let owned = self.find_owned(e164).await?.ok_or_else(|| {
            ProviderError::refused(NAME, format!("the account does not own {e164}"))
                .with_code("not_owned")
        })?;
        self.attach(&owned.provider_number_id).await?;
        Ok(owned)
    }
}

impl Webhooks for Plivo {
    /// V3 (or its main-account twin) when present, and then it must match: falling back to
    /// V2 after a V3 failure would let a body be swapped under a valid V2 signature. V2
    /// alone is taken for messaging callbacks only, which older accounts sign that way.
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let token = &self.s.auth_token;
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(req.body).into_owned().collect();
        let v3: Vec<&str> = [signature::V3_HEADER, signature::MA_V3_HEADER]
            .into_iter()
            .filter_map(|h| req.header(h))
            .collect();
        if !v3.is_empty() {
            let nonce = req
                .header(signature::V3_NONCE_HEADER)
                .ok_or(WebhookError::Unsigned(signature::V3_NONCE_HEADER))?;
            return if v3
                .iter()
                .any(|s| signature::matches_v3(token, req.url, &params, nonce, s))
            {
                Ok(())
            } else {
                Err(WebhookError::BadSignature)
            };
        }
        let is_message = params.iter().any(|(k, _)| k == "MessageUUID")
            && !params.iter().any(|(k, _)| k == "CallUUID");
        match (req.header(signature::V2_HEADER), is_message) {
            (Some(sig), true) => {
                let nonce = req
                    .header(signature::V2_NONCE_HEADER)
                    .ok_or(WebhookError::Unsigned(signature::V2_NONCE_HEADER))?;
                if signature::matches_v2(token, req.url, nonce, sig) {
                    Ok(())
                } else {
                    Err(WebhookError::BadSignature)
                }
            }
            _ => Err(WebhookError::Unsigned(signature::V3_HEADER)),
        }
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        events::parse(req.body)
    }

    /// The document an answer or transfer URL carries; an empty one otherwise.
    fn acknowledgement(&self, req: &WebhookRequest<'_>) -> (&'static str, String) {
        let doc = xml::document_in(req.url).unwrap_or_else(|| xml::EMPTY.to_string());
        ("application/xml", doc)
    }
}
