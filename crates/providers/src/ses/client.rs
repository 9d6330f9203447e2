//! The SES API v2 client (SigV4-signed JSON over HTTPS) and its capability
//! implementations. API reference:
//! https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html and
//! https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html.

use super::sigv4::{self, Credentials, Scope, Unsigned};
use super::{EMAIL_ID_TAG, events, sns};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::events::ProviderEvent;
use crate::http::{Auth, Body, HttpClient, Request, Response};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde_json::{Value, json};

const NAME: &str = "ses";

/// SigV4 signing name of SES (API v1 and v2 alike).
const SIGNING_SERVICE: &str = "ses";

/// What [`Ses::new`] needs.
#[derive(Debug)]
pub struct Settings {
    /// `https://email.{region}.amazonaws.com`, or a test double.
    pub base: String,
    /// The region requests are signed for.
    pub region: String,
    /// The access key.
    pub credentials: Credentials,
    /// The configuration set named on every email. Its event destination is what
    /// publishes the email's events to the SNS topic that POSTs to Switchyard's webhook,
    /// so without one SES sends no delivery, bounce or complaint events (unless feedback
    /// notifications are set on the identity).
    pub configuration_set: Option<String>,
    /// The configuration set used instead for emails that ask for SES's own open and
    /// click tracking (a set whose event destination publishes `Open` and `Click`).
    pub tracking_configuration_set: Option<String>,
    /// SNS verification (certificate cache, pinned topic).
    pub sns: sns::Verifier,
    /// The shared HTTP client.
    pub http: HttpClient,
}

/// An Amazon SES account in one region.
#[derive(Debug)]
pub struct Ses {
    s: Settings,
}

impl Ses {
    /// A client with these settings.
    pub fn new(settings: Settings) -> Self {
        Ses { s: settings }
    }

    /// Signs and sends one request; `body` is JSON text.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, ProviderError> {
        const JSON: &str = "application/json";
        let url = format!("{}{path}", self.s.base);
        let content_type: &[(&str, &str)] = if body.is_some() {
            &[("Content-Type", JSON)]
        } else {
            &[]
        };
        let signed = sigv4::sign(
            &Unsigned {
                method: method.as_str(),
                url: &url,
                headers: content_type,
                payload: body.as_deref().unwrap_or_default(),
            },
            &self.s.credentials,
            Scope {
                region: &self.s.region,
                service: SIGNING_SERVICE,
            },
            chrono::Utc::now(),
        )
        .map_err(|e| ProviderError::refused(NAME, e.to_string()))?;
        let body = match body {
            Some(bytes) => Body::Raw {
                content_type: JSON.to_string(),
                bytes,
            },
            None => Body::Empty,
        };
        // SES has no idempotency key for SendEmail: a POST that fails after sending comes
        // back as "maybe accepted" instead of being repeated.
        let req = Request::new(method, url, Auth::Headers(signed), body);
        let resp = self.s.http.send(NAME, &req).await?;
        if resp.status.is_success() {
            Ok(resp)
        } else {
            Err(error(&resp))
        }
    }

    /// The SendEmail request body.
    fn send_email_body(&self, req: &EmailRequest) -> Result<Value, ProviderError> {
        let message = if req.provider_tracking {
            crate::mime::build(NAME, req)?
        } else {
            let mut untracked = req.clone();
            untracked.html = untracked.html.as_deref().map(without_click_tracking);
            crate::mime::build(NAME, &untracked)?
        };
        let addresses =
            |list: &[Mailbox]| -> Vec<String> { list.iter().map(|m| m.address.clone()).collect() };
        let mut body = json!({
            "FromEmailAddress": req.from.address,
            "Destination": {
                "ToAddresses": addresses(&req.to),
                "CcAddresses": addresses(&req.cc),
                "BccAddresses": addresses(&req.bcc),
            },
            "ReplyToAddresses": addresses(req.reply_to.as_slice()),
            "Content": {"Raw": {"Data": STANDARD.encode(message.formatted())}},
            "EmailTags": tags(req),
        });
        let set = if req.provider_tracking {
            self.s
                .tracking_configuration_set
                .as_ref()
                .or(self.s.configuration_set.as_ref())
        } else {
            self.s.configuration_set.as_ref()
        };
        if let Some(set) = set {
            body["ConfigurationSetName"] = set.clone().into();
        }
        Ok(body)
    }
}

/// SES message tags: `switchyard_email_id` (echoed back in every event's `mail.tags`)
/// then one tag per caller tag, named after it, with the value `true`. Names and values
/// are cut to what SES accepts (ASCII letters, digits, `_` and `-`, at most 256
/// characters; https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html),
/// anything else becoming `_`.
fn tags(req: &EmailRequest) -> Vec<Value> {
    let mut names = vec![EMAIL_ID_TAG.to_string()];
    let mut out = vec![json!({"Name": EMAIL_ID_TAG, "Value": tag_text(&req.email_id)})];
    for tag in &req.tags {
        let name = tag_text(tag);
        if name.is_empty() || names.contains(&name) {
            continue;
        }
        out.push(json!({"Name": name, "Value": "true"}));
        names.push(name);
    }
    out
}

/// A tag name or value in SES's character set.
fn tag_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

/// The HTML with `ses:no-track` on every link, which tells SES not to rewrite it for click
/// tracking; SES removes the attribute before delivery
/// (https://docs.aws.amazon.com/ses/latest/dg/faqs-metrics.html). Open tracking has no
/// per-message switch: SES adds its pixel only when the configuration set publishes `Open`
/// events, which is why tracked emails use `tracking_configuration_set`.
fn without_click_tracking(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut copied = 0;
    for (at, _) in html.match_indices('<') {
        let tag = &html.as_bytes()[at + 1..];
        if tag.len() >= 2
            && tag[0].eq_ignore_ascii_case(&b'a')
            && (tag[1].is_ascii_whitespace() || tag[1] == b'>')
        {
            out.push_str(&html[copied..at + 2]);
            out.push_str(" ses:no-track");
            copied = at + 2;
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// An SES error response as an error. The error code is in `x-amzn-ErrorType`
/// (`MessageRejected:http://…`) or the body's `__type`; the SES v2 errors are listed per
/// operation (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html#API_SendEmail_Errors)
/// and the common ones, such as signature and credential errors, in
/// https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html.
fn error(resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let header = resp
        .headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok());
    let raw_code = header
        .or_else(|| body.get("__type").and_then(Value::as_str))
        .or_else(|| body.get("code").and_then(Value::as_str))
        .unwrap_or_default();
    // `Code:http://…` in the header, `namespace#Code` in the body.
    let code = raw_code
        .split(':')
        .next()
        .unwrap_or_default()
        .rsplit('#')
        .next()
        .unwrap_or_default();
    let message = body
        .get("message")
        .or_else(|| body.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or("Amazon SES refused the request");
    ProviderError {
        provider: NAME,
        class: class_of(code, message, status),
        delivery: Delivery::NotAccepted,
        status: Some(status),
        code: (!code.is_empty()).then(|| code.to_string()),
        message: format!("{message} (HTTP {status}, {code})"),
        retry_after: None,
    }
}

/// The class of an SES error.
fn class_of(code: &str, message: &str, http_status: u16) -> ErrorClass {
    match code {
        // Unverified identities (the sending address, or any recipient while the account
        // is in the sandbox): this account cannot send it, another provider may.
        "MessageRejected" if message.contains("not verified") => ErrorClass::ProviderRefused,
        // Content SES will not send (a virus, a malformed message).
        "MessageRejected" => ErrorClass::Permanent,
        "BadRequestException" if is_bad_address(message) => ErrorClass::Permanent,
        "TooManyRequestsException" | "LimitExceededException" | "ThrottlingException" => {
            ErrorClass::Retryable
        }
        // The account or its identities, credentials and signature.
        "MailFromDomainNotVerifiedException"
        | "AccountSuspendedException"
        | "SendingPausedException"
        | "NotFoundException"
        | "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredTokenException" => ErrorClass::ProviderRefused,
        _ => ErrorClass::from_status(http_status),
    }
}

/// Whether a `BadRequestException` is about an address SES cannot parse
/// (`Illegal address`, `Missing final '@domain'`, `Domain contains illegal character`).
fn is_bad_address(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "illegal address",
        "missing final",
        "illegal character",
        "domain ends with dot",
    ]
    .iter()
    .any(|s| m.contains(s))
}

#[async_trait]
impl Connection for Ses {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        let resp = self.call(Method::GET, "/v2/email/account", None).await?;
        let v = resp.json(NAME)?;
        if v.get("SendingEnabled").and_then(Value::as_bool) == Some(false) {
            return Err(
                ProviderError::refused(NAME, "sending is disabled for this SES account")
                    .with_code("sending_disabled"),
            );
        }
        let production = v.get("ProductionAccessEnabled").and_then(Value::as_bool);
        let quota = |key: &str| {
            v.pointer(&format!("/SendQuota/{key}"))
                .map(Value::to_string)
                .unwrap_or_else(|| "?".into())
        };
        Ok(ConnectionInfo {
            account: format!("Amazon SES {}", self.s.region),
            detail: format!(
                "{}; quota {} per 24 h ({} sent), {} per second; enforcement {}",
                if production == Some(true) {
                    "production access"
                } else {
                    "sandbox (verified recipients only)"
                },
                quota("Max24HourSend"),
                quota("SentLast24Hours"),
                quota("MaxSendRate"),
                v.get("EnforcementStatus")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown"),
            ),
        })
    }
}

#[async_trait]
impl Email for Ses {
    async fn send_email(&self, req: &EmailRequest) -> Result<SentEmail, ProviderError> {
        let body = serde_json::to_vec(&self.send_email_body(req)?)
            .map_err(|e| ProviderError::refused(NAME, format!("unencodable request ({e})")))?;
        let resp = self
            .call(Method::POST, "/v2/email/outbound-emails", Some(body))
            .await?;
        let v = resp.json(NAME)?;
        let message_id = v
            .get("MessageId")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::malformed(NAME, "SendEmail answered no MessageId"))?;
        Ok(SentEmail {
            message_id: message_id.to_string(),
        })
    }
}

#[async_trait]
impl Webhooks for Ses {
    async fn prepare(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        self.s.sns.prepare(&self.s.http, NAME, req).await
    }

    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        self.s.sns.verify(req)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        events::parse(req.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_marked_untracked() {
        assert_eq!(
            without_click_tracking(
                "<p>Grüße <a href=\"https://x.example/1\">one</a> <A\nHREF='/2'>two</A> <abbr>t</abbr> <a>3</a></p>"
            ),
            "<p>Grüße <a ses:no-track href=\"https://x.example/1\">one</a> <A ses:no-track\nHREF='/2'>two</A> <abbr>t</abbr> <a ses:no-track>3</a></p>"
        );
        assert_eq!(without_click_tracking("no links <"), "no links <");
    }

    #[test]
    fn tag_texts_fit_the_ses_charset() {
        assert_eq!(tag_text("spring sale/2025.é"), "spring_sale_2025__");
        assert_eq!(tag_text(&"x".repeat(300)).len(), 256);
        assert_eq!(tag_text("em_01HZ-abc"), "em_01HZ-abc");
    }

    #[test]
    fn error_classes() {
        use ErrorClass::*;
        let cases = [
            (
                "MessageRejected",
                "Email address is not verified. The following identities failed the check in region US-EAST-1: a@b.example",
                400,
                ProviderRefused,
            ),
            (
                "MessageRejected",
                "Message contains a virus",
                400,
                Permanent,
            ),
            (
                "BadRequestException",
                "Missing final '@domain'",
                400,
                Permanent,
            ),
            (
                "BadRequestException",
                "Tags must be unique",
                400,
                ProviderRefused,
            ),
            ("LimitExceededException", "", 400, Retryable),
            (
                "MailFromDomainNotVerifiedException",
                "",
                400,
                ProviderRefused,
            ),
            ("AccountSuspendedException", "", 400, ProviderRefused),
            ("SendingPausedException", "", 400, ProviderRefused),
            ("NotFoundException", "", 404, ProviderRefused),
            ("InvalidSignatureException", "", 403, ProviderRefused),
            ("", "", 401, ProviderRefused),
            ("", "", 503, Retryable),
        ];
        for (code, message, status, class) in cases {
            assert_eq!(class_of(code, message, status), class, "{code} {message}");
        }
    }
}
