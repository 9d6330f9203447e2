//! The Twilio REST client and its capability implementations.

use super::{errors, events, signature, twiml};
use crate::capability::*;
use crate::error::ProviderError;
use crate::events::{CallStatus, ProviderEvent};
use crate::http::{Auth, Body, HttpClient, Request, Response, path_segment};
use async_trait::async_trait;
use http::Method;
use serde_json::Value;

/// What differs between Twilio and the APIs compatible with it: the same resources, forms
/// and signature algorithm under another path, name and header.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// The provider's name in errors, logs and metrics.
    pub name: &'static str,
    /// The path from the base URL to the `2010-04-01` API.
    pub api_path: &'static str,
    /// The headers that may carry the webhook signature, the provider's own first.
    pub signature_headers: &'static [&'static str],
}

/// Twilio itself.
pub const TWILIO: Dialect = Dialect {
    name: "twilio",
    api_path: "/2010-04-01",
    signature_headers: &["X-Twilio-Signature"],
};

/// A Twilio-compatible account.
#[derive(Debug, Clone)]
pub struct Twilio {
    dialect: Dialect,
    base: String,
    account_sid: String,
    signing_key: String,
    rest_auth: Auth,
    webhook_url: String,
    http: HttpClient,
}

/// How to reach and check one account.
#[derive(Debug, Clone)]
pub struct Account {
    /// API base URL (without the API path).
    pub base: String,
    /// The account's id in the API path (Twilio's Account SID, SignalWire's project id).
    pub account_sid: String,
    /// The key webhooks are signed with (Twilio's auth token, SignalWire's signing key).
    pub signing_key: String,
    /// How REST calls authenticate.
    pub rest_auth: Auth,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn flag(v: &Value, key: &str) -> bool {
    // Available numbers say `SMS`, owned numbers say `sms`.
    v.get("capabilities")
        .and_then(Value::as_object)
        .and_then(|caps| caps.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .and_then(|(_, v)| v.as_bool())
        .unwrap_or(false)
}

fn form(pairs: &[(&str, &str)]) -> Body {
    Body::Form(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

impl Twilio {
    /// A client for one account of `dialect`.
    pub fn new(dialect: Dialect, account: Account, webhook_url: String, http: HttpClient) -> Self {
        Twilio {
            dialect,
            base: account.base,
            account_sid: account.account_sid,
            signing_key: account.signing_key,
            rest_auth: account.rest_auth,
            webhook_url,
            http,
        }
    }

    fn url(&self, rest: &str) -> String {
        format!(
            "{}{}/Accounts/{}{rest}",
            self.base, self.dialect.api_path, self.account_sid
        )
    }

    async fn call_api(
        &self,
        method: Method,
        url: String,
        body: Body,
    ) -> Result<Value, ProviderError> {
        let req = Request::new(method, url, self.rest_auth.clone(), body);
        let resp = self.http.send(self.dialect.name, &req).await?;
        self.json(&resp)
    }

    fn json(&self, resp: &Response) -> Result<Value, ProviderError> {
        if !resp.status.is_success() {
            return Err(errors::from_response(self.dialect.name, resp));
        }
        if resp.body.is_empty() {
            return Ok(Value::Null);
        }
        resp.json(self.dialect.name)
    }

    fn owned(&self, v: &Value) -> Result<OwnedNumber, ProviderError> {
        Ok(OwnedNumber {
            provider_number_id: s(v, "sid")
                .ok_or_else(|| ProviderError::malformed(self.dialect.name, "number without sid"))?,
            e164: s(v, "phone_number").ok_or_else(|| {
                ProviderError::malformed(self.dialect.name, "number without phone_number")
            })?,
            voice: flag(v, "voice"),
            sms: flag(v, "sms"),
            mms: flag(v, "mms"),
        })
    }

    fn message(&self, v: &Value) -> Result<SentMessage, ProviderError> {
        let word = s(v, "status").unwrap_or_default();
        Ok(SentMessage {
            message_id: s(v, "sid").ok_or_else(|| {
                ProviderError::malformed(self.dialect.name, "message without sid")
            })?,
            status: events::message_status(&word).ok_or_else(|| {
                ProviderError::malformed(
                    self.dialect.name,
                    format!("unknown message status {word:?}"),
                )
            })?,
            segments: s(v, "num_segments").and_then(|n| n.parse().ok()),
            price: events::price(
                v.get("price").and_then(Value::as_str),
                v.get("price_unit").and_then(Value::as_str),
            ),
        })
    }

    /// Points a number's inbound messages and calls at Switchyard's webhook.
    fn inbound_routing(&self) -> [(&str, &str); 4] {
        [
            ("SmsUrl", &self.webhook_url),
            ("SmsMethod", "POST"),
            ("VoiceUrl", &self.webhook_url),
            ("VoiceMethod", "POST"),
        ]
    }

    fn address(channel: MessageChannel, number: &str) -> String {
        match channel {
            MessageChannel::Whatsapp => format!("whatsapp:{number}"),
            _ => number.to_string(),
        }
    }
}

#[async_trait]
impl Connection for Twilio {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        let url = self.url(".json");
        let v = self.call_api(Method::GET, url, Body::Empty).await?;
        let status = s(&v, "status").unwrap_or_default();
        if status != "active" {
            return Err(ProviderError::refused(
                self.dialect.name,
                format!("the account is {status}"),
            )
            .with_code("account_not_active"));
        }
        Ok(ConnectionInfo {
            account: s(&v, "friendly_name").unwrap_or_else(|| self.account_sid.clone()),
            detail: format!("account {} is active", self.account_sid),
        })
    }
}

#[async_trait]
impl Voice for Twilio {
    async fn create_call(&self, req: &CallRequest) -> Result<PlacedCall, ProviderError> {
        let timeout = req.ring_timeout_secs.to_string();
        let mut pairs: Vec<(&str, &str)> = vec![("To", &req.to), ("From", &req.from)];
        let doc;
        match &req.answer {
            Answer::Url(url) => pairs.push(("Url", url)),
            Answer::Instructions(steps) => {
                doc = twiml::render(steps);
                pairs.push(("Twiml", &doc));
            }
        }
        pairs.extend([
            ("Timeout", timeout.as_str()),
            ("StatusCallback", self.webhook_url.as_str()),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
        ]);
        // Twilio offers no idempotency key for Calls: a 5xx or timeout is returned as
        // "maybe accepted" rather than retried.
        let v = self
            .call_api(Method::POST, self.url("/Calls.json"), form(&pairs))
            .await?;
        let word = s(&v, "status").unwrap_or_default();
        Ok(PlacedCall {
            call_id: s(&v, "sid")
                .ok_or_else(|| ProviderError::malformed(self.dialect.name, "call without sid"))?,
            status: events::call_status(&word).unwrap_or(CallStatus::Initiated),
        })
    }

    async fn hangup(&self, call_id: &str) -> Result<(), ProviderError> {
        let current = self.call_status(call_id).await?;
        if current.status.is_final() {
            return Ok(());
        }
        // `canceled` ends a call that has not been answered, `completed` one in progress.
        let word = if current.status == CallStatus::Answered {
            "completed"
        } else {
            "canceled"
        };
        self.call_api(
            Method::POST,
            self.url(&format!(
                "/Calls/{}.json",
                path_segment(self.dialect.name, call_id)?
            )),
            form(&[("Status", word)]),
        )
        .await?;
        Ok(())
    }

    async fn call_status(&self, call_id: &str) -> Result<CallInfo, ProviderError> {
        let v = self
            .call_api(
                Method::GET,
                self.url(&format!(
                    "/Calls/{}.json",
                    path_segment(self.dialect.name, call_id)?
                )),
                Body::Empty,
            )
            .await?;
        let word = s(&v, "status").unwrap_or_default();
        Ok(CallInfo {
            call_id: call_id.to_string(),
            status: events::call_status(&word).ok_or_else(|| {
                ProviderError::malformed(self.dialect.name, format!("unknown call status {word:?}"))
            })?,
            duration_secs: s(&v, "duration").and_then(|d| d.parse().ok()),
            price: events::price(
                v.get("price").and_then(Value::as_str),
                v.get("price_unit").and_then(Value::as_str),
            ),
        })
    }

    async fn perform(&self, call_id: &str, steps: &[Instruction]) -> Result<(), ProviderError> {
        let doc = twiml::render(steps);
        self.call_api(
            Method::POST,
            self.url(&format!(
                "/Calls/{}.json",
                path_segment(self.dialect.name, call_id)?
            )),
            form(&[("Twiml", &doc)]),
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Messaging for Twilio {
    async fn send_message(&self, req: &MessageRequest) -> Result<SentMessage, ProviderError> {
        let to = Self::address(req.channel, &req.to);
        let from = Self::address(req.channel, &req.from);
        let mut pairs: Vec<(&str, &str)> = vec![("To", &to), ("From", &from)];
        if !req.body.is_empty() {
            pairs.push(("Body", &req.body));
        }
        for media in &req.media_urls {
            pairs.push(("MediaUrl", media));
        }
        pairs.push(("StatusCallback", &self.webhook_url));
        let v = self
            .call_api(Method::POST, self.url("/Messages.json"), form(&pairs))
            .await?;
        self.message(&v)
    }

    async fn message_status(&self, message_id: &str) -> Result<SentMessage, ProviderError> {
        let v = self
            .call_api(
                Method::GET,
                self.url(&format!(
                    "/Messages/{}.json",
                    path_segment(self.dialect.name, message_id)?
                )),
                Body::Empty,
            )
            .await?;
        self.message(&v)
    }

    /// Lists the account's messages between the two addresses sent since the day before
    /// `since_ms` (Twilio filters by date), newest first, and matches the text and the
    /// creation time (allowing five minutes of clock skew).
    async fn find_sent(
        &self,
        req: &MessageRequest,
        since_ms: i64,
    ) -> Result<Option<SentMessage>, ProviderError> {
        const SKEW_MS: i64 = 5 * 60 * 1000;
        let day = chrono::DateTime::from_timestamp_millis(since_ms - 86_400_000)
            .unwrap_or_default()
            .format("%Y-%m-%d")
            .to_string();
        let to = Self::address(req.channel, &req.to);
        let from = Self::address(req.channel, &req.from);
        let qs = serde_urlencoded::to_string([
            ("To", to.as_str()),
            ("From", from.as_str()),
            ("DateSent>", day.as_str()),
            ("PageSize", "1000"),
        ])
        .unwrap_or_default();
        let v = self
            .call_api(
                Method::GET,
                self.url(&format!("/Messages.json?{qs}")),
                Body::Empty,
            )
            .await?;
        let created = |m: &Value| {
            let text = s(m, "date_created")?;
            chrono::DateTime::parse_from_rfc2822(&text)
                .or_else(|_| chrono::DateTime::parse_from_rfc3339(&text))
                .ok()
                .map(|t| t.timestamp_millis())
        };
        let found = v
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| {
                s(m, "body").as_deref() == Some(req.body.as_str())
                    && created(m).is_some_and(|at| at >= since_ms - SKEW_MS)
            });
        found.map(|v| self.message(v)).transpose()
    }
}

#[async_trait]
impl Numbers for Twilio {
    async fn search_available(
        &self,
        query: &NumberQuery,
    ) -> Result<Vec<AvailableNumber>, ProviderError> {
        let kind = match query.kind {
            NumberKind::Local => "Local",
            NumberKind::TollFree => "TollFree",
            NumberKind::Mobile => "Mobile",
        };
        let country = query.country.to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ProviderError::refused(
                self.dialect.name,
                "country must be two letters",
            ));
        }
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(area) = &query.area_code {
            params.push(("AreaCode", area.clone()));
        }
        for (wanted, name) in [
            (query.voice, "VoiceEnabled"),
            (query.sms, "SmsEnabled"),
            (query.mms, "MmsEnabled"),
        ] {
            if wanted {
                params.push((name, "true".into()));
            }
        }
        params.push((
            "PageSize",
            query.limit.unwrap_or(20).clamp(1, 1000).to_string(),
        ));
        let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
        let url = self.url(&format!(
            "/AvailablePhoneNumbers/{country}/{kind}.json?{qs}"
        ));
        let v = self.call_api(Method::GET, url, Body::Empty).await?;
        let list = v
            .get("available_phone_numbers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(list
            .iter()
            .filter_map(|n| {
                Some(AvailableNumber {
                    e164: s(n, "phone_number")?,
                    country: s(n, "iso_country"),
                    locality: s(n, "locality").or_else(|| s(n, "region")),
                    voice: flag(n, "voice"),
                    sms: flag(n, "sms"),
                    mms: flag(n, "mms"),
                })
            })
            .collect())
    }

    async fn buy(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let v = self
            .call_api(
                Method::POST,
                self.url("/IncomingPhoneNumbers.json"),
                form(&[&[("PhoneNumber", e164)], &self.inbound_routing()[..]].concat()),
            )
            .await?;
        self.owned(&v)
    }

    async fn release(&self, provider_number_id: &str) -> Result<(), ProviderError> {
        let url = self.url(&format!(
            "/IncomingPhoneNumbers/{}.json",
            path_segment(self.dialect.name, provider_number_id)?
        ));
        self.call_api(Method::DELETE, url, Body::Empty).await?;
        Ok(())
    }

    async fn list_owned(&self) -> Result<Vec<OwnedNumber>, ProviderError> {
        let mut out = Vec::new();
        let mut next = Some(self.url("/IncomingPhoneNumbers.json?PageSize=1000"));
        while let Some(url) = next.take() {
            let v = self.call_api(Method::GET, url, Body::Empty).await?;
            for n in v
                .get("incoming_phone_numbers")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                out.push(self.owned(n)?);
            }
            next = s(&v, "next_page_uri").map(|uri| format!("{}{uri}", self.base));
        }
        Ok(out)
    }

    async fn import(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let qs = serde_urlencoded::to_string([("PhoneNumber", e164)]).unwrap_or_default();
        let v = self
            .call_api(
                Method::GET,
                self.url(&format!("/IncomingPhoneNumbers.json?{qs}")),
                Body::Empty,
            )
            .await?;
        let found = v
            .get("incoming_phone_numbers")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|n| s(n, "phone_number").as_deref() == Some(e164))
            })
            .ok_or_else(|| {
                ProviderError::refused(
                    self.dialect.name,
                    format!("the account does not own {e164}"),
                )
                .with_code("not_owned")
            })?;
        let number = self.owned(found)?;
        let v = self
            .call_api(
                Method::POST,
                self.url(&format!(
                    "/IncomingPhoneNumbers/{}.json",
                    number.provider_number_id
                )),
                form(&self.inbound_routing()),
            )
            .await?;
        self.owned(&v)
    }
}

impl Webhooks for Twilio {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let headers = self.dialect.signature_headers;
        let given = headers
            .iter()
            .find_map(|h| req.header(h))
            .ok_or(WebhookError::Unsigned(headers[0]))?;
        let params: Vec<(String, String)> = match signature::body_hash_param(req.url) {
            Some(hash) => {
                if !signature::body_sha256(req.body).eq_ignore_ascii_case(&hash) {
                    return Err(WebhookError::BadSignature);
                }
                Vec::new()
            }
            None => {
                serde_urlencoded::from_bytes(req.body).map_err(|_| WebhookError::BadSignature)?
            }
        };
        let ok = signature::url_variants(req.url)
            .iter()
            .any(|url| signature::matches(&self.signing_key, url, &params, given));
        if ok {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        if signature::body_hash_param(req.url).is_some() {
            events::parse_json(req.body)
        } else {
            events::parse_form(req.body)
        }
    }

    fn acknowledgement(&self, _: &WebhookRequest<'_>) -> (&'static str, String) {
        // Twilio reads the answer to an inbound call or message as TwiML: an empty
        // document does nothing and keeps Twilio from logging an error.
        (
            "text/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".into(),
        )
    }
}
