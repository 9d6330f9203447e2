//! The Vonage client: the Voice API and the Messages API (`api.nexmo.com`, bearer JWTs
//! signed with the application's private key), the SMS API and the Numbers and Account
//! APIs (`rest.nexmo.com`, API key and secret, or a `sig` for SMS), and its capability
//! implementations.

use super::signature::{self, Method};
use super::{events, ncco};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::events::digits_of as digits;
use crate::events::{CallStatus, MessageStatus, ProviderEvent, ProviderPrice};
use crate::http::{Auth, Body, HttpClient, Request, Response, path_segment};
use crate::json::text;
use async_trait::async_trait;
use http::Method as Verb;
use rsa::RsaPrivateKey;
use serde_json::{Value, json};

const NAME: &str = "vonage";

/// Lifetime of the JWTs the adapter signs (Vonage's SDKs use the same 15 minutes).
const JWT_SECS: i64 = 900;

/// Owned numbers per page.
const PAGE: usize = 100;

/// Where Vonage's APIs live.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// Voice and Messages (`https://api.nexmo.com`).
    pub api: String,
    /// SMS, Numbers and Account (`https://rest.nexmo.com`).
    pub rest: String,
}

/// What a Vonage client is built from.
pub struct Settings {
    /// API hosts.
    pub hosts: Hosts,
    /// API key.
    pub api_key: String,
    /// API secret.
    pub api_secret: String,
    /// Application calls and Messages API sends go through.
    pub application_id: Option<String>,
    /// The application's private key, which signs the JWTs of the Voice and Messages APIs.
    pub private_key: Option<RsaPrivateKey>,
    /// Signature secret: signs SMS requests, verifies every callback.
    pub signature_secret: Option<String>,
    /// How SMS requests and callbacks are signed.
    pub signature_method: Method,
    /// Where callbacks must go.
    pub webhook_url: String,
    /// Shared client.
    pub http: HttpClient,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("hosts", &self.hosts)
            .field("api_key", &self.api_key)
            .field("application_id", &self.application_id)
            .finish_non_exhaustive()
    }
}

/// A Vonage account.
#[derive(Debug)]
pub struct Vonage {
    s: Settings,
}

/// An error of the newer APIs (RFC 7807 `{type, title, detail, invalid_parameters}`; the
/// `type` ends with the error's code) or of the REST APIs (`{error-code, error-code-label}`).
fn error_from(resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = text(&body, "type")
        .and_then(|t| t.rsplit_once('#').map(|(_, c)| c.to_string()))
        .or_else(|| text(&body, "error-code"));
    let invalid: Vec<String> = body
        .get("invalid_parameters")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    Some(format!(
                        "{}: {}",
                        text(p, "name")?,
                        text(p, "reason").unwrap_or_default()
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let detail = text(&body, "detail")
        .or_else(|| text(&body, "title"))
        .or_else(|| text(&body, "error-code-label"))
        .unwrap_or_else(|| "Vonage refused the request".into());
    let detail = if invalid.is_empty() {
        detail
    } else {
        format!("{detail} ({})", invalid.join("; "))
    };
    ProviderError {
        provider: NAME,
        class: ErrorClass::from_status(status),
        delivery: Delivery::NotAccepted,
        status: Some(status),
        message: format!("{detail} (HTTP {status})"),
        code,
        retry_after: None,
    }
}

/// An SMS API refusal (its `status` is not `0`), classified by Vonage's SMS status codes
/// (https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms).
fn sms_refusal(code: &str, detail: &str) -> ProviderError {
    let class = match code {
        // Throttled, internal error, too many binds.
        "1" | "5" | "10" => ErrorClass::Retryable,
        // Invalid message or number, barred or de-activated destination, too long.
        "3" | "6" | "7" | "12" | "33" => ErrorClass::Permanent,
        // Credentials, account barred or out of credit, sender not allowed, trial account.
        _ => ErrorClass::ProviderRefused,
    };
    ProviderError {
        provider: NAME,
        class,
        delivery: Delivery::NotAccepted,
        status: Some(200),
        message: format!("{detail} (SMS status {code})"),
        code: Some(code.to_string()),
        retry_after: None,
    }
}

impl Vonage {
    /// A client.
    pub fn new(settings: Settings) -> Self {
        Vonage { s: settings }
    }

    /// A bearer JWT for the application: `application_id`, `iat`, `jti`, `exp`.
    fn app_jwt(&self) -> Result<Auth, ProviderError> {
        let (Some(app), Some(key)) = (&self.s.application_id, &self.s.private_key) else {
            return Err(ProviderError::refused(
                NAME,
                "credentials.application_id and private_key are needed for calls, MMS and WhatsApp",
            )
            .with_code("not_configured"));
        };
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "application_id": app, "iat": now, "jti": uuid::Uuid::new_v4().to_string(), "exp": now + JWT_SECS,
        });
        crate::jwt::sign_rs256(key, &claims)
            .map(Auth::Bearer)
            .map_err(|e| ProviderError::refused(NAME, e).with_code("jwt"))
    }

    fn key_and_secret(&self) -> Vec<(String, String)> {
        vec![
            ("api_key".into(), self.s.api_key.clone()),
            ("api_secret".into(), self.s.api_secret.clone()),
        ]
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

    async fn voice_api(
        &self,
        method: Verb,
        rest: &str,
        body: Body,
    ) -> Result<Value, ProviderError> {
        let url = format!("{}/v1/calls{rest}", self.s.hosts.api);
        self.call_api(Request::new(method, url, self.app_jwt()?, body))
            .await
    }

    /// A GET on the REST host with the key and secret in the query.
    async fn rest_get(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        let mut pairs = self.key_and_secret();
        pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        let url = format!("{}{path}?{qs}", self.s.hosts.rest);
        self.call_api(Request::new(Verb::GET, url, Auth::None, Body::Empty))
            .await
    }

    /// A form POST on the REST host (numbers), checked for Vonage's `error-code`.
    async fn rest_post(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        let mut pairs = self.key_and_secret();
        pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let url = format!("{}{path}", self.s.hosts.rest);
        let v = self
            .call_api(Request::new(Verb::POST, url, Auth::None, Body::Form(pairs)))
            .await?;
        match text(&v, "error-code").as_deref() {
            Some("200") | None => Ok(v),
            Some(code) => Err(ProviderError::refused(
                NAME,
                format!(
                    "{} (error-code {code})",
                    text(&v, "error-code-label").unwrap_or_default()
                ),
            )
            .with_code(code)),
        }
    }

    /// Owned numbers as Vonage lists them (country, msisdn, features).
    async fn owned_raw(&self) -> Result<Vec<Value>, ProviderError> {
        let mut out: Vec<Value> = Vec::new();
        for index in 1.. {
            let v = self
                .rest_get(
                    "/account/numbers",
                    &[("index", index.to_string()), ("size", PAGE.to_string())],
                )
                .await?;
            let page: Vec<Value> = v
                .get("numbers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = v.get("count").and_then(Value::as_u64).unwrap_or(0) as usize;
            let empty = page.is_empty();
            out.extend(page);
            if empty || out.len() >= total {
                break;
            }
        }
        Ok(out)
    }

    fn owned(v: &Value) -> Option<OwnedNumber> {
        let msisdn = text(v, "msisdn")?;
        let features: Vec<String> = v
            .get("features")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_uppercase)
                    .collect()
            })
            .unwrap_or_default();
        Some(OwnedNumber {
            e164: format!("+{msisdn}"),
            provider_number_id: msisdn,
            voice: features.iter().any(|f| f == "VOICE"),
            sms: features.iter().any(|f| f == "SMS"),
            mms: features.iter().any(|f| f == "MMS"),
        })
    }

    /// An SMS through the SMS API, signed with `sig` when a signature secret is set.
    async fn send_sms(&self, req: &MessageRequest) -> Result<SentMessage, ProviderError> {
        let unicode = switchyard_core::rating::count_segments(&req.body).encoding
            == switchyard_core::rating::Encoding::Ucs2;
        let mut params: Vec<(String, String)> = vec![
            ("api_key".into(), self.s.api_key.clone()),
            ("from".into(), digits(&req.from).to_string()),
            ("to".into(), digits(&req.to).to_string()),
            ("text".into(), req.body.clone()),
            (
                "type".into(),
                if unicode { "unicode" } else { "text" }.into(),
            ),
            ("callback".into(), self.s.webhook_url.clone()),
            ("status-report-req".into(), "1".into()),
            (
                "client-ref".into(),
                req.idempotency_key.chars().take(40).collect(),
            ),
        ];
        match &self.s.signature_secret {
            Some(secret) => {
                params.push((
                    "timestamp".into(),
                    chrono::Utc::now().timestamp().to_string(),
                ));
                let sig = signature::sign(self.s.signature_method, secret, &params);
                params.push(("sig".into(), sig));
            }
            None => params.push(("api_secret".into(), self.s.api_secret.clone())),
        }
        let url = format!("{}/sms/json", self.s.hosts.rest);
        // The SMS API takes no idempotency key: not repeated once sent.
        let v = self
            .call_api(Request::new(
                Verb::POST,
                url,
                Auth::None,
                Body::Form(params),
            ))
            .await?;
        let parts: Vec<Value> = v
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let first = parts
            .first()
            .ok_or_else(|| ProviderError::malformed(NAME, "SMS response without messages"))?;
        let status = text(first, "status").unwrap_or_default();
        if status != "0" {
            return Err(sms_refusal(
                &status,
                &text(first, "error-text").unwrap_or_default(),
            ));
        }
        // A long message is sent in parts, each priced; its receipts name the first part.
        let price = parts
            .iter()
            .map(|p| text(p, "message-price").and_then(|a| a.parse::<rust_decimal::Decimal>().ok()))
            .sum::<Option<rust_decimal::Decimal>>()
            .map(|amount| ProviderPrice {
                amount,
                currency: "EUR".into(),
            });
        Ok(SentMessage {
            message_id: text(first, "message-id")
                .ok_or_else(|| ProviderError::malformed(NAME, "SMS accepted without message-id"))?,
            status: MessageStatus::Queued,
            segments: Some(parts.len() as u32),
            price,
        })
    }

    /// MMS and WhatsApp through the Messages API.
    async fn send_rich(&self, req: &MessageRequest) -> Result<SentMessage, ProviderError> {
        let channel = match req.channel {
            MessageChannel::Mms => "mms",
            _ => "whatsapp",
        };
        let mut body = json!({
            "channel": channel, "to": digits(&req.to), "from": digits(&req.from),
            "client_ref": req.idempotency_key, "webhook_url": self.s.webhook_url,
        });
        match req.media_urls.first() {
            Some(url) => {
                body["message_type"] = json!("image");
                body["image"] = json!({ "url": url });
                if !req.body.is_empty() {
                    body["image"]["caption"] = json!(req.body);
                }
            }
            None if channel == "mms" => {
                return Err(ProviderError::refused(NAME, "an MMS needs a media URL")
                    .with_code("invalid_message"));
            }
            None => {
                body["message_type"] = json!("text");
                body["text"] = json!(req.body);
            }
        }
        let url = format!("{}/v1/messages", self.s.hosts.api);
        let v = self
            .call_api(Request::new(
                Verb::POST,
                url,
                self.app_jwt()?,
                Body::Json(body),
            ))
            .await?;
        Ok(SentMessage {
            message_id: text(&v, "message_uuid")
                .ok_or_else(|| ProviderError::malformed(NAME, "message without message_uuid"))?,
            status: MessageStatus::Queued,
            segments: None,
            price: None,
        })
    }
}

#[async_trait]
impl Connection for Vonage {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        let v = self.rest_get("/account/get-balance", &[]).await?;
        Ok(ConnectionInfo {
            account: self.s.api_key.clone(),
            detail: format!(
                "balance {} EUR{}",
                text(&v, "value").unwrap_or_else(|| "?".into()),
                if v.get("autoReload").and_then(Value::as_bool) == Some(true) {
                    ", auto reload"
                } else {
                    ""
                }
            ),
        })
    }
}

#[async_trait]
impl Voice for Vonage {
    async fn create_call(&self, req: &CallRequest) -> Result<PlacedCall, ProviderError> {
        let mut body = json!({
            "to": [{ "type": "phone", "number": digits(&req.to) }],
            "from": { "type": "phone", "number": digits(&req.from) },
            "event_url": [self.s.webhook_url],
            "event_method": "POST",
            "ringing_timer": req.ring_timeout_secs.clamp(1, 120),
        });
        match &req.answer {
            Answer::Url(url) => {
                body["answer_url"] = json!([url]);
                body["answer_method"] = json!("POST");
            }
            Answer::Instructions(steps) => body["ncco"] = ncco::render(steps),
        }
        // The Voice API takes no idempotency key: a call request is never repeated.
        let v = self.voice_api(Verb::POST, "", Body::Json(body)).await?;
        Ok(PlacedCall {
            call_id: text(&v, "uuid")
                .ok_or_else(|| ProviderError::malformed(NAME, "call without uuid"))?,
            status: CallStatus::Initiated,
        })
    }

    async fn hangup(&self, call_id: &str) -> Result<(), ProviderError> {
        let rest = format!("/{}", path_segment(NAME, call_id)?);
        match self
            .voice_api(Verb::PUT, &rest, Body::Json(json!({ "action": "hangup" })))
            .await
        {
            // Over already.
            Err(e) if matches!(e.status, Some(404) | Some(400)) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn call_status(&self, call_id: &str) -> Result<CallInfo, ProviderError> {
        let rest = format!("/{}", path_segment(NAME, call_id)?);
        let v = self.voice_api(Verb::GET, &rest, Body::Empty).await?;
        Ok(CallInfo {
            call_id: call_id.to_string(),
            status: text(&v, "status")
                .and_then(|s| events::call_status(&s, text(&v, "detail").as_deref()))
                .unwrap_or(CallStatus::Initiated),
            duration_secs: text(&v, "duration").and_then(|d| d.parse().ok()),
            price: text(&v, "price")
                .and_then(|p| p.parse().ok())
                .map(|amount| ProviderPrice {
                    amount,
                    currency: "EUR".into(),
                }),
        })
    }

    /// Transfers the live call to a new NCCO.
    async fn perform(&self, call_id: &str, steps: &[Instruction]) -> Result<(), ProviderError> {
        let rest = format!("/{}", path_segment(NAME, call_id)?);
        let body = json!({ "action": "transfer", "destination": { "type": "ncco", "ncco": ncco::render(steps) } });
        self.voice_api(Verb::PUT, &rest, Body::Json(body)).await?;
        Ok(())
    }
}

#[async_trait]
impl Messaging for Vonage {
    async fn send_message(&self, req: &MessageRequest) -> Result<SentMessage, ProviderError> {
        match req.channel {
            MessageChannel::Sms => self.send_sms(req).await,
            MessageChannel::Mms | MessageChannel::Whatsapp => self.send_rich(req).await,
        }
    }

    /// Neither the SMS API nor the Messages API has a message to read back: status comes
    /// from receipts only.
    async fn message_status(&self, _message_id: &str) -> Result<SentMessage, ProviderError> {
        Err(ProviderError::unsupported(
            NAME,
            "reading a message's status back",
        ))
    }
}

#[async_trait]
impl Numbers for Vonage {
    async fn search_available(
        &self,
        query: &NumberQuery,
    ) -> Result<Vec<AvailableNumber>, ProviderError> {
        let country = query.country.to_ascii_uppercase();
        let kind = match query.kind {
            NumberKind::Local => "landline",
            NumberKind::Mobile => "mobile-lvn",
            NumberKind::TollFree => "landline-toll-free",
        };
        let mut params = vec![("country", country.clone()), ("type", kind.to_string())];
        if let Some(area) = &query.area_code {
            // The pattern matches from the country code on: area 415 in the US is `1415`.
            let code = switchyard_core::number::calling_code(&country)
                .map(|c| c.to_string())
                .unwrap_or_default();
            params.push(("pattern", format!("{code}{area}")));
            params.push(("search_pattern", "0".into()));
        }
        let features: Vec<&str> = [(query.sms || query.mms, "SMS"), (query.voice, "VOICE")]
            .into_iter()
            .filter_map(|(w, f)| w.then_some(f))
            .collect();
        if !features.is_empty() {
            params.push(("features", features.join(",")));
        }
        params.push(("size", query.limit.unwrap_or(10).clamp(1, 100).to_string()));
        let v = self.rest_get("/number/search", &params).await?;
        // `numbers` is absent when nothing matches.
        Ok(v.get("numbers")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| {
                let owned = Self::owned(n)?;
                Some(AvailableNumber {
                    e164: owned.e164,
                    country: text(n, "country"),
                    locality: None,
                    voice: owned.voice,
                    sms: owned.sms,
                    mms: owned.mms,
                })
            })
            .collect())
    }

    async fn buy(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let country = switchyard_core::number::parse_e164(e164)
            .ok()
            .and_then(|n| n.region().map(str::to_owned))
            .ok_or_else(|| {
                ProviderError::refused(NAME, format!("{e164} is not a number Vonage sells"))
                    .with_code("invalid_number")
            })?;
        let msisdn = digits(e164).to_string();
        let mut params = vec![("country", country.clone()), ("msisdn", msisdn.clone())];
        self.rest_post("/number/buy", &params).await?;
        if let Some(app) = &self.s.application_id {
            params.push(("app_id", app.clone()));
            self.rest_post("/number/update", &params).await?;
        }
        self.import(e164).await
    }

    async fn release(&self, provider_number_id: &str) -> Result<(), ProviderError> {
        let msisdn = path_segment(NAME, provider_number_id)?;
        let listed = self.owned_raw().await?;
        let country = listed
            .iter()
            .find(|n| text(n, "msisdn").as_deref() == Some(msisdn))
            .and_then(|n| text(n, "country"))
            .ok_or_else(|| {
                ProviderError::refused(NAME, format!("the account does not own {msisdn}"))
                    .with_code("not_owned")
            })?;
        self.rest_post(
            "/number/cancel",
            &[("country", country), ("msisdn", msisdn.to_string())],
        )
        .await?;
        Ok(())
    }

    async fn list_owned(&self) -> Result<Vec<OwnedNumber>, ProviderError> {
        Ok(self
            .owned_raw()
            .await?
            .iter()
            .filter_map(Self::owned)
            .collect())
    }

    /// The number, linked to the application so its calls and messages reach Switchyard.
    async fn import(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let listed = self.owned_raw().await?;
        let raw = listed
            .iter()
            .find(|n| text(n, "msisdn").as_deref() == Some(digits(e164)))
            .ok_or_else(|| {
                ProviderError::refused(NAME, format!("the account does not own {e164}"))
                    .with_code("not_owned")
            })?;
        if let (Some(app), Some(country)) = (&self.s.application_id, text(raw, "country"))
            && text(raw, "app_id").as_deref() != Some(app.as_str())
        {
            self.rest_post(
                "/number/update",
                &[
                    ("country", country),
                    ("msisdn", digits(e164).to_string()),
                    ("app_id", app.clone()),
                ],
            )
            .await?;
        }
        Self::owned(raw).ok_or_else(|| ProviderError::malformed(NAME, "number without msisdn"))
    }
}

impl Webhooks for Vonage {
    /// Voice and Messages callbacks carry a bearer JWT; SMS callbacks a `sig`.
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let secret = self.s.signature_secret.as_deref().ok_or_else(|| {
            WebhookError::NotConfigured(
                "credentials.signature_secret is not set, so Vonage callbacks cannot be verified"
                    .into(),
            )
        })?;
        if let Some(token) = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
        {
            return signature::verify_jwt(token, secret, &self.s.api_key, req.body);
        }
        let params: Vec<(String, String)> = events::params(req.body)?
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect();
        if !params.iter().any(|(k, _)| k == "sig") {
            return Err(WebhookError::Unsigned("authorization or sig"));
        }
        signature::verify_sms(self.s.signature_method, secret, &params, req.now_secs)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        events::parse(req.body)
    }

    /// An inbound call's answer request reads the answer as an NCCO: an empty one.
    fn acknowledgement(&self, _: &WebhookRequest<'_>) -> (&'static str, String) {
        ("application/json", "[]".into())
    }
}
