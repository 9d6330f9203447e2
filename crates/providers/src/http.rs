//! The HTTP client every adapter shares: timeouts, retries with jittered backoff on 429 and
//! 5xx honouring `Retry-After`, and debug logs with secrets left out.
//!
//! A request that may already have been acted on is retried only when the provider offers
//! an idempotency mechanism (the adapter says so with [`Request::idempotent`]); otherwise a
//! 5xx or a timeout after sending is returned as [`Delivery::MaybeAccepted`].

use crate::error::{Delivery, ErrorClass, ProviderError};
use http::{HeaderMap, Method, StatusCode};
use std::time::Duration;

/// Retry and timeout settings.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff; doubles each attempt, with full jitter.
    pub base_delay: Duration,
    /// Longest wait between attempts, `Retry-After` included (a longer `Retry-After` is
    /// returned to the caller instead of slept through).
    pub max_delay: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Credentials a request carries.
#[derive(Clone)]
pub enum Auth {
    /// HTTP basic.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer`.
    Bearer(String),
    /// Headers computed for this exact request (a request signature such as AWS
    /// Signature Version 4, which covers the body and the time).
    Headers(Vec<(String, String)>),
    /// No credentials (public resources such as a signing certificate).
    None,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { user, .. } => write!(f, "Basic({user}, ***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Headers(headers) => {
                let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
                write!(f, "Headers({}: ***)", names.join(", "))
            }
            Auth::None => f.write_str("None"),
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    Empty,
    /// `application/x-www-form-urlencoded`, pairs in order (names may repeat).
    Form(Vec<(String, String)>),
    /// `application/json`.
    Json(serde_json::Value),
    /// Bytes sent exactly as given, for bodies a signature covers byte for byte.
    Raw {
        /// The `Content-Type` header.
        content_type: String,
        /// The body.
        bytes: Vec<u8>,
    },
    /// `multipart/form-data`, parts in order (names may repeat), for APIs that take files
    /// as uploads (Mailgun's attachments).
    Multipart(Vec<FormPart>),
}

/// One part of a [`Body::Multipart`].
#[derive(Clone)]
pub enum FormPart {
    /// A text field.
    Text {
        /// Field name.
        name: String,
        /// Value (UTF-8, sent as is).
        value: String,
    },
    /// A file upload.
    File {
        /// Field name.
        name: String,
        /// File name the receiver sees.
        filename: String,
        /// MIME type of the contents.
        content_type: String,
        /// Contents.
        bytes: Vec<u8>,
    },
}

impl FormPart {
    /// A text field.
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Self {
        FormPart::Text {
            name: name.into(),
            value: value.into(),
        }
    }

    /// The field and what the debug log shows of it (a file as its name and size).
    fn shown(&self) -> (String, String) {
        match self {
            FormPart::Text { name, value } => (name.clone(), value.clone()),
            FormPart::File {
                name,
                filename,
                bytes,
                ..
            } => (name.clone(), format!("<{filename}, {} bytes>", bytes.len())),
        }
    }
}

impl std::fmt::Debug for FormPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, shown) = self.shown();
        write!(f, "{name}={shown}")
    }
}

/// One request an adapter wants made.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Absolute URL, query included.
    pub url: String,
    /// Credentials.
    pub auth: Auth,
    /// Body.
    pub body: Body,
    /// Whether repeating it cannot act twice (reads, deletes, or a provider idempotency
    /// key in the request).
    pub idempotent: bool,
}

impl Request {
    /// A request; idempotent when the method is.
    pub fn new(method: Method, url: String, auth: Auth, body: Body) -> Self {
        let idempotent = matches!(method, Method::GET | Method::DELETE | Method::PUT);
        Request {
            method,
            url,
            auth,
            body,
            idempotent,
        }
    }

    /// Marks a request safe to repeat because it carries a provider idempotency key.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
}

/// A response with a body read in full.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self, provider: &'static str) -> Result<serde_json::Value, ProviderError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ProviderError::malformed(provider, format!("response is not JSON ({e})")))
    }
}

/// The shared client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    policy: RetryPolicy,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new(RetryPolicy::default())
    }
}

/// What one attempt produced, before the retry decision.
enum Attempt {
    Done(Response),
    Failed { error: ProviderError, retry: bool },
}

impl HttpClient {
    /// A client with these settings.
    pub fn new(policy: RetryPolicy) -> Self {
        let inner = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        HttpClient { inner, policy }
    }

    /// The settings.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Sends `req`, retrying what is safe to retry. A final 2xx–4xx response is returned
    /// as is for the adapter to interpret; transport failures and exhausted retries are
    /// errors.
    pub async fn send(
        &self,
        provider: &'static str,
        req: &Request,
    ) -> Result<Response, ProviderError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.attempt(provider, req).await;
            let (error, retry) = match outcome {
                Attempt::Done(resp) => return Ok(resp),
                Attempt::Failed { error, retry } => (error, retry),
            };
            if !retry || attempt >= self.policy.max_attempts {
                return Err(error);
            }
            let backoff = self.backoff(attempt);
            let wait = match error.retry_after {
                Some(asked) if asked > self.policy.max_delay => return Err(error),
                Some(asked) => asked.max(backoff),
                None => backoff,
            };
            tracing::debug!(provider, attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Full jitter: a random wait up to `base · 2^(attempt-1)`, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .policy
            .base_delay
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.policy.max_delay);
        let millis = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(fastrand::u64(millis / 2..=millis))
    }

    async fn attempt(&self, provider: &'static str, req: &Request) -> Attempt {
        let mut builder = self.inner.request(req.method.clone(), &req.url);
        builder = match &req.auth {
            Auth::Basic { user, password } => builder.basic_auth(user, Some(password)),
            Auth::Bearer(token) => builder.bearer_auth(token),
            Auth::Headers(headers) => headers
                .iter()
                .fold(builder, |b, (name, value)| b.header(name, value)),
            Auth::None => builder,
        };
        builder = match &req.body {
            Body::Empty => builder,
            Body::Form(pairs) => builder.form(pairs),
            Body::Json(v) => builder.json(v),
            Body::Raw {
                content_type,
                bytes,
            } => builder
                .header(http::header::CONTENT_TYPE, content_type)
                .body(bytes.clone()),
            Body::Multipart(parts) => match multipart_form(provider, parts) {
                Ok(form) => builder.multipart(form),
                Err(error) => {
                    return Attempt::Failed {
                        error,
                        retry: false,
                    };
                }
            },
        };
        tracing::debug!(provider, method = %req.method, url = %req.url, body = %redacted_request(&req.body), "provider request");
        let sent = builder.send().await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                // A connection that never opened cannot have delivered anything.
                let never_sent = e.is_connect() || e.is_builder();
                let delivery = if never_sent {
                    Delivery::NotAccepted
                } else {
                    Delivery::MaybeAccepted
                };
                let what = if e.is_timeout() {
                    "timed out"
                } else if never_sent {
                    "could not connect"
                } else {
                    "transport error"
                };
                let error = ProviderError {
                    provider,
                    class: ErrorClass::Retryable,
                    delivery,
                    status: None,
                    code: Some(
                        if e.is_timeout() {
                            "timeout"
                        } else {
                            "transport"
                        }
                        .into(),
                    ),
                    message: format!("{} {} {what}", req.method, path_of(&req.url)),
                    retry_after: None,
                };
                tracing::debug!(provider, error = %error, "provider request failed");
                return Attempt::Failed {
                    retry: never_sent || req.idempotent,
                    error,
                };
            }
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(_) => {
                return Attempt::Failed {
                    error: ProviderError::malformed(provider, "response body cut off"),
                    retry: req.idempotent,
                };
            }
        };
        tracing::debug!(provider, status = status.as_u16(), body = %redacted(&body), "provider response");
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            // 429 and 503 say the request was not handled (RFC 9110 15.6.4); any other 5xx
            // may come after the work was done.
            let refused = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            let error = ProviderError {
                provider,
                class: ErrorClass::Retryable,
                delivery: if refused {
                    Delivery::NotAccepted
                } else {
                    Delivery::MaybeAccepted
                },
                status: Some(status.as_u16()),
                code: Some(status.as_u16().to_string()),
                message: format!(
                    "{} {} answered {}",
                    req.method,
                    path_of(&req.url),
                    status.as_u16()
                ),
                retry_after: retry_after(&headers),
            };
            return Attempt::Failed {
                retry: refused || req.idempotent,
                error,
            };
        }
        Attempt::Done(Response {
            status,
            headers,
            body,
        })
    }
}

/// Whether a field name holds a secret (`auth_token`, `api_key`, `password`…).
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["token", "secret", "password", "key", "credential"]
        .iter()
        .any(|s| n.contains(s))
}

fn redact_json(v: &mut serde_json::Value) {
    redact_value(v, false);
}

/// Masks every value under a secret-looking name, including each item of a list of
/// secrets (Postmark's server resource lists its `ApiTokens`); objects are judged by
/// their own field names.
fn redact_value(v: &mut serde_json::Value, secret: bool) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                redact_value(v, secret_name(k));
            }
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|item| redact_value(item, secret))
        }
        _ if secret => *v = serde_json::Value::String("****".into()),
        _ => {}
    }
}

fn redact_pairs(pairs: &[(String, String)]) -> String {
    let shown: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), if secret_name(k) { "****" } else { v.as_str() }))
        .collect();
    serde_urlencoded::to_string(shown).unwrap_or_default()
}

/// A body for the debug log: secret-looking fields masked, long bodies cut.
fn redacted(body: &[u8]) -> String {
    let text = if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) {
        redact_json(&mut v);
        v.to_string()
    } else if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        redact_pairs(&pairs)
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    text.chars().take(2048).collect()
}

fn redacted_request(body: &Body) -> String {
    match body {
        Body::Empty => String::new(),
        Body::Form(pairs) => redact_pairs(pairs),
        Body::Json(v) => {
            let mut v = v.clone();
            redact_json(&mut v);
            v.to_string()
        }
        Body::Raw { bytes, .. } => redacted(bytes),
        Body::Multipart(parts) => {
            redact_pairs(&parts.iter().map(FormPart::shown).collect::<Vec<_>>())
        }
    }
}

/// A multipart body built afresh for each attempt (a sent form cannot be reused). A file
/// whose content type is not a MIME type makes the request itself wrong.
fn multipart_form(
    provider: &'static str,
    parts: &[FormPart],
) -> Result<reqwest::multipart::Form, ProviderError> {
    parts
        .iter()
        .try_fold(reqwest::multipart::Form::new(), |form, part| match part {
            FormPart::Text { name, value } => Ok(form.text(name.clone(), value.clone())),
            FormPart::File {
                name,
                filename,
                content_type,
                bytes,
            } => {
                let file = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name(filename.clone())
                    .mime_str(content_type)
                    .map_err(|_| ProviderError {
                        class: ErrorClass::Permanent,
                        ..ProviderError::refused(
                            provider,
                            format!("{filename:?}: {content_type:?} is not a MIME type"),
                        )
                        .with_code("invalid_content_type")
                    })?;
                Ok(form.part(name.clone(), file))
            }
        })
}

/// An id about to go into a URL path: refuses anything that could change the path.
pub fn path_segment<'a>(provider: &'static str, id: &'a str) -> Result<&'a str, ProviderError> {
    if !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
    {
        Ok(id)
    } else {
        Err(
            ProviderError::refused(provider, format!("{id:?} is not a valid id"))
                .with_code("invalid_id"),
        )
    }
}

/// The URL without its query, for messages.
fn path_of(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// `Retry-After` in seconds (the HTTP-date form is read as "soon").
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    match value.trim().parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => Some(Duration::from_secs(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(http::header::RETRY_AFTER, "3".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(1)));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let client = HttpClient::default();
        for attempt in 1..10 {
            let wait = client.backoff(attempt);
            assert!(wait <= Duration::from_secs(5), "{wait:?}");
            assert!(wait >= Duration::from_millis(100) * (1 << (attempt - 1)).min(25));
        }
    }

    #[test]
    fn logged_bodies_mask_secrets() {
        let json = redacted(br#"{"sid":"AC1","auth_token":"hunter2","nested":[{"api_key":"k"}]}"#);
        assert!(
            json.contains("AC1") && !json.contains("hunter2") && !json.contains("\"k\""),
            "{json}"
        );
        let listed = redacted(br#"{"Name":"Staging","ApiTokens":["t-1","t-2"]}"#);
        assert!(
            listed.contains("Staging") && !listed.contains("t-1") && !listed.contains("t-2"),
            "{listed}"
        );
        let form = redacted(b"To=%2B1&SipAuthPassword=hunter2");
        assert!(
            form.contains("To=%2B1") && !form.contains("hunter2"),
            "{form}"
        );
        let req = redacted_request(&Body::Json(
            serde_json::json!({"to": "+1", "stream_auth_token": "t0p"}),
        ));
        assert!(!req.contains("t0p"), "{req}");
        let multipart = redacted_request(&Body::Multipart(vec![
            FormPart::text("to", "a@example.com"),
            FormPart::text("v:api_key", "t0p"),
            FormPart::File {
                name: "attachment".into(),
                filename: "a.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: b"%PDF".to_vec(),
            },
        ]));
        assert!(
            multipart.contains("a%40example.com")
                && multipart.contains("a.pdf%2C+4+bytes")
                && !multipart.contains("t0p")
                && !multipart.contains("PDF"),
            "{multipart}"
        );
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let basic = Auth::Basic {
            user: "AC1".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{basic:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("KEY".into())).contains("KEY"));
        let signed = format!(
            "{:?}",
            Auth::Headers(vec![(
                "Authorization".into(),
                "AWS4-HMAC-SHA256 sig".into()
            )])
        );
        assert!(
            signed.contains("Authorization") && !signed.contains("sig"),
            "{signed}"
        );
    }
}

/// A local HTTP server that records every request and answers each with the same status
/// and JSON body, for adapter tests that assert exactly what goes on the wire; with a
/// context and an email such tests share.
#[cfg(test)]
pub(crate) mod double {
    use super::{HttpClient, RetryPolicy};
    use crate::adapter::ProviderContext;
    use crate::capability::{Attachment, EmailRequest, Mailbox};
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// Owned name-value pairs from string literals.
    pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Parses `body` as a webhook with no headers (parsing never looks at them).
    pub fn parse_webhook(
        webhooks: &dyn crate::capability::Webhooks,
        body: &[u8],
    ) -> Result<Vec<crate::events::ProviderEvent>, crate::capability::WebhookError> {
        let headers = HeaderMap::new();
        webhooks.parse(&crate::capability::WebhookRequest {
            url: "https://sy.example/v1/webhooks/p1",
            headers: &headers,
            body,
            now_secs: 0,
        })
    }

    /// The one email event a documented fixture must become.
    pub struct ExpectedEmail {
        /// Normalised type.
        pub event: crate::events::EmailEventType,
        /// The provider's message id.
        pub message_id: &'static str,
        /// Switchyard's id, when echoed.
        pub email_id: Option<&'static str>,
        /// Recipient.
        pub recipient: &'static str,
        /// Reason.
        pub reason: Option<&'static str>,
        /// Link clicked.
        pub url: Option<&'static str>,
        /// Dedupe key.
        pub dedupe_key: &'static str,
        /// When it happened.
        pub occurred_at_ms: i64,
    }

    /// Checks that each fixture parses to exactly its expected event, and to the same
    /// dedupe key when delivered again.
    pub fn check_email_events(
        webhooks: &dyn crate::capability::Webhooks,
        cases: &[(&str, ExpectedEmail)],
    ) {
        for (body, want) in cases {
            let events = parse_webhook(webhooks, body.as_bytes()).expect("parsed");
            assert_eq!(events.len(), 1, "{body}");
            let e = &events[0];
            let key = want.dedupe_key;
            assert_eq!(e.dedupe_key, key);
            assert_eq!(e.occurred_at_ms, Some(want.occurred_at_ms), "{key}");
            let crate::events::EventKind::Email(email) = &e.kind else {
                panic!("not an email event: {e:?}");
            };
            assert_eq!(email.event, want.event, "{key}");
            assert_eq!(email.message_id, want.message_id, "{key}");
            assert_eq!(email.email_id.as_deref(), want.email_id, "{key}");
            assert_eq!(email.recipient.as_deref(), Some(want.recipient), "{key}");
            assert_eq!(email.reason.as_deref(), want.reason, "{key}");
            assert_eq!(email.url.as_deref(), want.url, "{key}");
            let again = parse_webhook(webhooks, body.as_bytes()).expect("again");
            assert_eq!(
                again[0].dedupe_key, e.dedupe_key,
                "a redelivery has the same key"
            );
        }
    }

    /// One request as the server received it.
    #[derive(Debug, Clone)]
    pub struct Recorded {
        /// Method.
        pub method: Method,
        /// Path and query.
        pub path: String,
        /// Headers as received.
        pub headers: HeaderMap,
        /// Raw body.
        pub body: Vec<u8>,
    }

    /// One part of a recorded `multipart/form-data` body.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ReceivedPart {
        /// Field name.
        pub name: String,
        /// File name, for a file.
        pub filename: Option<String>,
        /// The part's `Content-Type`, when it has one.
        pub content_type: Option<String>,
        /// Contents.
        pub bytes: Vec<u8>,
    }

    impl Recorded {
        /// A header as text (empty when absent).
        pub fn header(&self, name: &str) -> &str {
            self.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        }

        /// The body read as `multipart/form-data` by a real parser, parts in order.
        pub async fn multipart(&self) -> Vec<ReceivedPart> {
            use axum::extract::{FromRequest, Multipart};
            let req = axum::http::Request::builder()
                .header("content-type", self.header("content-type"))
                .body(axum::body::Body::from(self.body.clone()))
                .expect("request");
            let mut form = Multipart::from_request(req, &()).await.expect("multipart");
            let mut parts = Vec::new();
            while let Some(field) = form.next_field().await.expect("part") {
                parts.push(ReceivedPart {
                    name: field.name().unwrap_or_default().to_string(),
                    filename: field.file_name().map(str::to_owned),
                    content_type: field.content_type().map(str::to_owned),
                    bytes: field.bytes().await.expect("part body").to_vec(),
                });
            }
            parts
        }
    }

    /// A running server.
    pub struct Double {
        /// `http://127.0.0.1:port`.
        pub base_url: String,
        seen: Arc<Mutex<Vec<Recorded>>>,
        script: Script,
    }

    /// An answer: status, headers besides the JSON content type, body.
    type Answer = (StatusCode, Vec<(&'static str, &'static str)>, &'static str);
    /// Answers to give once each, in order, before the default one.
    type Script = Arc<Mutex<VecDeque<Answer>>>;
    type Shared = (Arc<Mutex<Vec<Recorded>>>, Script, StatusCode, &'static str);

    impl Double {
        /// Listens on 127.0.0.1:0 and answers every request with `status` and `body`.
        pub async fn start(status: u16, body: &'static str) -> Double {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let script: Script = Arc::default();
            let status = StatusCode::from_u16(status).expect("status");
            let app = axum::Router::new()
                .fallback(
                    |State((seen, script, status, body)): State<Shared>,
                     method: Method,
                     uri: Uri,
                     headers: HeaderMap,
                     bytes: Bytes| async move {
                        seen.lock().expect("lock").push(Recorded {
                            method,
                            path: uri.to_string(),
                            headers,
                            body: bytes.to_vec(),
                        });
                        let (status, extra, body) = script
                            .lock()
                            .expect("lock")
                            .pop_front()
                            .unwrap_or((status, Vec::new(), body));
                        let mut resp: Response =
                            (status, [("content-type", "application/json")], body).into_response();
                        for (name, value) in extra {
                            resp.headers_mut()
                                .insert(name, value.parse().expect("header value"));
                        }
                        resp
                    },
                )
                .with_state((seen.clone(), script.clone(), status, body));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move { axum::serve(listener, app).await });
            Double {
                base_url: format!("http://{addr}"),
                seen,
                script,
            }
        }

        /// Answers the next request not yet scripted with `status`, these extra headers
        /// and `body`, once; then the default answer again.
        pub fn then(
            &self,
            status: u16,
            headers: &[(&'static str, &'static str)],
            body: &'static str,
        ) {
            self.script.lock().expect("lock").push_back((
                StatusCode::from_u16(status).expect("status"),
                headers.to_vec(),
                body,
            ));
        }

        /// Every request so far, in order.
        pub fn requests(&self) -> Vec<Recorded> {
            self.seen.lock().expect("lock").clone()
        }
    }

    /// A context with these credentials whose client makes one attempt with short waits,
    /// so a test sees what a single answer becomes.
    pub fn context(credentials: serde_json::Value) -> ProviderContext {
        ProviderContext {
            provider_id: "prv_test".into(),
            credentials: credentials.as_object().cloned().unwrap_or_default(),
            webhook_url: "https://sy.example/v1/webhooks/prv_test".into(),
            sandbox_url: None,
            http: HttpClient::new(RetryPolicy {
                max_attempts: 1,
                base_delay: std::time::Duration::from_millis(1),
                max_delay: std::time::Duration::from_millis(5),
                timeout: std::time::Duration::from_secs(5),
            }),
        }
    }

    /// An email that uses every field: named and bare recipients in to, cc and bcc, a
    /// display name with a comma, a reply-to, UTF-8 in the subject, bodies and file name,
    /// a binary attachment, `List-Unsubscribe` headers and two tags.
    pub fn full_email() -> EmailRequest {
        let mailbox = |name: Option<&str>, address: &str| Mailbox {
            name: name.map(str::to_owned),
            address: address.into(),
        };
        EmailRequest {
            email_id: "em_01HZX3".into(),
            from: mailbox(Some("Acme, Inc."), "news@mg.example.com"),
            to: vec![
                mailbox(Some("Zoë Ågren"), "zoe@example.com"),
                mailbox(None, "bob@example.com"),
            ],
            cc: vec![mailbox(None, "carol@example.com")],
            bcc: vec![mailbox(None, "audit@example.com")],
            reply_to: Some(mailbox(Some("Support"), "support@example.com")),
            subject: "Grüße aus Köln – your invoice ✓".into(),
            text: Some("Hello Zoë".into()),
            html: Some("<p>Hello Zoë</p>".into()),
            attachments: vec![Attachment {
                filename: "invoice-€.pdf".into(),
                content_type: "application/pdf".into(),
                content: b"%PDF-1.4 \x00\x01\x02".to_vec(),
            }],
            headers: vec![
                (
                    "List-Unsubscribe".into(),
                    "<https://sy.example/u/em_01HZX3>, <mailto:unsub@example.com?subject=em_01HZX3>"
                        .into(),
                ),
                (
                    "List-Unsubscribe-Post".into(),
                    "List-Unsubscribe=One-Click".into(),
                ),
            ],
            tags: vec!["invoice".into(), "eu".into()],
            provider_tracking: false,
            idempotency_key: "att_1".into(),
        }
    }
}
