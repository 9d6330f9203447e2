//! From `POST /v1/emails` to the message that will be sent: every field checked (the error
//! names it), attachments decoded or fetched within their limits, the template rendered,
//! and the unsubscribe headers and tracking put in place. Nothing is stored or sent unless
//! all of it succeeds.

use super::links::{self, Link};
use super::tracking;
use crate::error::{ApiError, ApiResult};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use switchyard_providers::capability::{Attachment, EmailRequest, Mailbox};

/// Most recipients (to, cc and bcc together) of one email.
pub const MAX_RECIPIENTS: usize = 50;
/// Most attachments of one email.
pub const MAX_ATTACHMENTS: usize = 20;
/// Largest attachment, decoded.
pub const MAX_ATTACHMENT_BYTES: usize = 10 << 20;
/// Largest email as sent (attachments in base64 included); providers may allow less.
pub const MAX_EMAIL_BYTES: u64 = 30 << 20;

/// One recipient or several.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    /// `"ada@example.com"` or `"Ada <ada@example.com>"`.
    One(String),
    /// A list of them.
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(one) => vec![one.as_str()],
            OneOrMany::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// A file to attach: its bytes in base64, or a URL Switchyard fetches when the email is
/// accepted.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSpec {
    /// File name shown to the recipient.
    pub filename: String,
    /// MIME type (default `application/octet-stream`).
    #[serde(default)]
    pub content_type: Option<String>,
    /// Standard base64 of the bytes.
    #[serde(default)]
    pub content: Option<String>,
    /// An `http(s)` URL to fetch the bytes from instead.
    #[serde(default)]
    pub url: Option<String>,
}

/// Open and click tracking.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingSpec {
    /// Add an open pixel.
    #[serde(default)]
    pub opens: bool,
    /// Send links through signed redirects.
    #[serde(default)]
    pub clicks: bool,
    /// `switchyard` (default: served by this server, works with every provider) or
    /// `provider` (the provider's own tracking; only providers with `email_tracking`).
    #[serde(default)]
    pub by: TrackedBy,
}

/// Who tracks opens and clicks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackedBy {
    /// Switchyard's own pixel and redirects.
    #[default]
    Switchyard,
    /// The provider's.
    Provider,
}

/// An email to send.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendEmail {
    /// Sender: `news@shop.example` or `Shop <news@shop.example>`.
    pub from: String,
    /// Recipient or recipients.
    pub to: OneOrMany,
    /// Copy recipients.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Blind copy recipients.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Where replies go.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Subject; with `template`, rendered with `variables` too.
    pub subject: String,
    /// Plain-text body.
    #[serde(default)]
    pub text: Option<String>,
    /// HTML body.
    #[serde(default)]
    pub html: Option<String>,
    /// An `email` template (id or name) rendered with `variables` as the HTML body.
    #[serde(default)]
    pub template: Option<String>,
    /// Template variables.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Value,
    /// Files.
    #[serde(default)]
    pub attachments: Vec<AttachmentSpec>,
    /// Tags for the provider's reporting (at most 10).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Open and click tracking (off by default).
    #[serde(default)]
    pub tracking: TrackingSpec,
    /// A transactional email (receipt, password reset) carries no unsubscribe headers and
    /// still reaches addresses that unsubscribed from marketing.
    #[serde(default)]
    pub transactional: bool,
    /// Provider id to use if eligible.
    #[serde(default)]
    pub provider: Option<String>,
    /// Routing strategy (default: the organisation's).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub strategy: Option<switchyard_core::Strategy>,
    /// Highest acceptable price per 1,000 emails.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub max_rate: Option<rust_decimal::Decimal>,
    /// Your own data, returned with the email.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Value,
}

/// A checked email, ready to route and store.
#[derive(Debug)]
pub struct Composed {
    /// The message (its `email_id` set, tracking and headers in place).
    pub request: EmailRequest,
    /// `marketing` or `transactional`.
    pub kind: &'static str,
    /// Every recipient's address, lower case.
    pub addresses: Vec<String>,
    /// Size as sent, in bytes (an estimate within a few hundred bytes).
    pub size_bytes: u64,
}

fn mailbox(field: &str, text: &str) -> ApiResult<Mailbox> {
    Mailbox::parse(text).map_err(|why| ApiError::invalid(field, format!("{field}: {why}")))
}

fn mailboxes(field: &str, list: &[&str]) -> ApiResult<Vec<Mailbox>> {
    list.iter()
        .enumerate()
        .map(|(i, text)| mailbox(&format!("{field}[{i}]"), text))
        .collect()
}

/// Checks the fields that need no I/O and builds the message without attachments and
/// without tracking; the caller adds those.
pub fn check(body: &SendEmail, html: Option<String>, subject: String) -> ApiResult<Composed> {
    let from = mailbox("from", &body.from)?;
    let to = mailboxes("to", &body.to.list())?;
    if to.is_empty() {
        return Err(ApiError::invalid("to", "to needs at least one recipient"));
    }
    let cc = mailboxes(
        "cc",
        &body.cc.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    let bcc = mailboxes(
        "bcc",
        &body.bcc.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    let reply_to = body
        .reply_to
        .as_deref()
        .map(|r| mailbox("reply_to", r))
        .transpose()?;
    let total = to.len() + cc.len() + bcc.len();
    if total > MAX_RECIPIENTS {
        return Err(ApiError::invalid(
            "to",
            format!(
                "an email can have at most {MAX_RECIPIENTS} recipients in to, cc and bcc; it has {total}"
            ),
        ));
    }
    if !body.transactional && total > 1 {
        return Err(ApiError::invalid(
            "to",
            "a marketing email goes to one recipient, so that each gets an unsubscribe link of their own: \
             send one request per recipient, or set transactional: true",
        ));
    }
    if subject.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "subject",
            "subject contains a line break or another control character",
        ));
    }
    if subject.trim().is_empty() || subject.len() > 998 {
        return Err(ApiError::invalid(
            "subject",
            "subject must be 1 to 998 bytes",
        ));
    }
    if body.text.is_none() && html.is_none() {
        return Err(ApiError::invalid("text", "give text, html or a template"));
    }
    if body.tags.len() > 10 {
        return Err(ApiError::invalid("tags", "at most 10 tags"));
    }
    for (i, tag) in body.tags.iter().enumerate() {
        if tag.is_empty()
            || tag.len() > 100
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ApiError::invalid(
                &format!("tags[{i}]"),
                "a tag is 1 to 100 letters, digits, '-', '_' or '.'",
            ));
        }
    }
    let mut addresses: Vec<String> = to
        .iter()
        .chain(&cc)
        .chain(&bcc)
        .map(|m| m.address.to_lowercase())
        .collect();
    addresses.dedup();
    Ok(Composed {
        request: EmailRequest {
            email_id: String::new(),
            from,
            to,
            cc,
            bcc,
            reply_to,
            subject,
            text: body.text.clone(),
            html,
            attachments: Vec::new(),
            headers: Vec::new(),
            tags: body.tags.clone(),
            provider_tracking: body.tracking.by == TrackedBy::Provider
                && (body.tracking.opens || body.tracking.clicks),
            idempotency_key: String::new(),
        },
        kind: if body.transactional {
            "transactional"
        } else {
            "marketing"
        },
        addresses,
        size_bytes: 0,
    })
}

/// The client attachment URLs are fetched with (no redirects to other schemes, a timeout).
fn fetcher() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    })
}

/// Decodes or fetches the attachments, each within [`MAX_ATTACHMENT_BYTES`].
pub async fn attachments(specs: &[AttachmentSpec]) -> ApiResult<Vec<Attachment>> {
    let http = fetcher();
    if specs.len() > MAX_ATTACHMENTS {
        return Err(ApiError::invalid(
            "attachments",
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    let mut out = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let field = |name: &str| format!("attachments[{i}].{name}");
        if spec.filename.trim().is_empty()
            || spec.filename.len() > 255
            || spec
                .filename
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            return Err(ApiError::invalid(
                &field("filename"),
                "a file name is 1 to 255 characters without control characters or slashes",
            ));
        }
        let content_type = spec
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        let type_ok = content_type.split_once('/').is_some_and(|(a, b)| {
            let token = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
            };
            token(a) && token(b)
        });
        if !type_ok {
            return Err(ApiError::invalid(
                &field("content_type"),
                format!("{content_type:?} is not a MIME type such as application/pdf"),
            ));
        }
        let content = match (&spec.content, &spec.url) {
            (Some(b64), None) => {
                if b64.len() / 4 * 3 > MAX_ATTACHMENT_BYTES + 3 {
                    return Err(too_large(&field("content")));
                }
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|e| {
                        ApiError::invalid(&field("content"), format!("not valid base64 ({e})"))
                    })?
            }
            (None, Some(url)) => fetch(http, &field("url"), url).await?,
            _ => {
                return Err(ApiError::invalid(
                    &field("content"),
                    "give either content (base64) or url",
                ));
            }
        };
        if content.len() > MAX_ATTACHMENT_BYTES {
            return Err(too_large(&field("content")));
        }
        out.push(Attachment {
            filename: spec.filename.clone(),
            content_type,
            content,
        });
    }
    Ok(out)
}

fn too_large(field: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "attachment_too_large",
        format!(
            "{field}: an attachment can be at most {} MiB",
            MAX_ATTACHMENT_BYTES >> 20
        ),
    )
    .with_details(serde_json::json!({ "field": field, "limit_bytes": MAX_ATTACHMENT_BYTES }))
}

/// Fetches an attachment URL, reading no more than the limit.
async fn fetch(http: &reqwest::Client, field: &str, url: &str) -> ApiResult<Vec<u8>> {
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::invalid(field, format!("{field}: not an http(s) URL")))?;
    let failed = |why: String| ApiError::invalid(field, format!("{field}: {url} {why}"));
    let mut response = http
        .get(parsed)
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| failed(format!("could not be fetched ({e})")))?;
    if !response.status().is_success() {
        return Err(failed(format!("answered {}", response.status())));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ATTACHMENT_BYTES as u64)
    {
        return Err(too_large(field));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failed(format!("could not be read ({e})")))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(too_large(field));
        }
    }
    Ok(bytes)
}

/// Where unsubscribe and tracking links point, and the key that signs them.
pub struct LinkSettings<'a> {
    /// This server's public URL.
    pub public_url: &'a str,
    /// The signing key.
    pub key: &'a [u8; 32],
}

/// Adds the RFC 8058 unsubscribe headers (marketing email) and Switchyard's own tracking,
/// now that the email has its id; and works out the size as sent.
pub fn finish(c: &mut Composed, email_id: &str, tracking: TrackingSpec, links: &LinkSettings<'_>) {
    let req = &mut c.request;
    req.email_id = email_id.to_string();
    let unsubscribe_url = (c.kind == "marketing").then(|| {
        let token = links::sign(
            links.key,
            &Link::Unsubscribe {
                email_id: email_id.to_string(),
                address: c.addresses.first().cloned().unwrap_or_default(),
            },
        );
        let domain = req
            .from
            .address
            .rsplit_once('@')
            .map_or("", |(_, d)| d)
            .to_string();
        let url = format!("{}/u/{token}", links.public_url);
        req.headers.push((
            "List-Unsubscribe".into(),
            format!("<mailto:unsubscribe@{domain}?subject=unsubscribe%20{token}>, <{url}>"),
        ));
        req.headers.push((
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into(),
        ));
        url
    });
    if tracking.by == TrackedBy::Switchyard
        && let Some(html) = req.html.take()
    {
        let mut html = html;
        if tracking.clicks {
            html = tracking::rewrite_links(
                &html,
                |url| unsubscribe_url.as_deref() == Some(url),
                |url| {
                    let token = links::sign(
                        links.key,
                        &Link::Click {
                            email_id: email_id.to_string(),
                            url: url.to_string(),
                        },
                    );
                    format!("{}/t/c/{token}", links.public_url)
                },
            );
        }
        if tracking.opens {
            let token = links::sign(
                links.key,
                &Link::Open {
                    email_id: email_id.to_string(),
                },
            );
            html = tracking::add_pixel(&html, &format!("{}/t/o/{token}", links.public_url));
        }
        req.html = Some(html);
    }
    c.size_bytes = size_as_sent(req);
}

/// The size of the MIME message: bodies as quoted-printable or base64 (at most 4/3 of
/// their bytes), attachments in base64 with line breaks, and the headers.
fn size_as_sent(req: &EmailRequest) -> u64 {
    let base64 = |n: usize| (n.div_ceil(3) * 4 + n.div_ceil(57) * 2) as u64;
    let bodies = req.text.as_ref().map_or(0, |t| base64(t.len()))
        + req.html.as_ref().map_or(0, |h| base64(h.len()));
    let files: u64 = req
        .attachments
        .iter()
        .map(|a| base64(a.content.len()) + 200 + a.filename.len() as u64)
        .sum();
    let headers: u64 = req
        .headers
        .iter()
        .map(|(k, v)| (k.len() + v.len() + 4) as u64)
        .sum::<u64>()
        + req
            .recipients()
            .map(|m| m.formatted().len() as u64 + 2)
            .sum::<u64>()
        + req.subject.len() as u64 * 2
        + 600;
    bodies + files + headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: Value) -> SendEmail {
        serde_json::from_value(json).expect("parses")
    }

    fn field(e: &ApiError) -> &str {
        e.details["field"].as_str().unwrap_or_default()
    }

    #[test]
    fn each_bad_field_is_named() {
        let base = serde_json::json!({"from": "Shop <news@shop.example>", "to": "ada@example.com", "subject": "Hi", "text": "x"});
        let with = |key: &str, value: Value| {
            let mut b = base.clone();
            b[key] = value;
            body(b)
        };
        let cases = [
            (with("to", "bad@@x".into()), "to[0]"),
            (
                with("from", "news@shop.example\r\nBcc: x@y.z".into()),
                "from",
            ),
            (
                with("subject", "Hi\r\nBcc: victim@example.com".into()),
                "subject",
            ),
            (
                with("cc", serde_json::json!(["ok@example.com", "nope"])),
                "cc[1]",
            ),
            (with("reply_to", "a\nb@example.com".into()), "reply_to"),
            (
                with("tags", serde_json::json!(["ok", "no spaces"])),
                "tags[1]",
            ),
        ];
        for (b, expected) in cases {
            let subject = b.subject.clone();
            let e = check(&b, b.html.clone(), subject).expect_err(expected);
            assert_eq!(field(&e), expected, "{}", e.message);
        }
    }

    #[test]
    fn unsubscribe_headers_and_tracking_are_added_to_marketing_email() {
        let b = body(serde_json::json!({
            "from": "news@shop.example", "to": "Ada@Example.com", "subject": "Sale",
            "html": "<p><a href=\"https://shop.example/sale\">Sale</a></p></body>",
            "tracking": {"opens": true, "clicks": true}
        }));
        let mut c = check(&b, b.html.clone(), b.subject.clone()).expect("valid");
        assert_eq!(c.addresses, ["ada@example.com"]);
        let key = [3u8; 32];
        let settings = LinkSettings {
            public_url: "https://sy.example",
            key: &key,
        };
        finish(&mut c, "em_1", b.tracking, &settings);
        let headers = &c.request.headers;
        assert_eq!(headers[0].0, "List-Unsubscribe");
        assert!(
            headers[0]
                .1
                .starts_with("<mailto:unsubscribe@shop.example?subject=unsubscribe%20")
        );
        assert!(headers[0].1.contains(", <https://sy.example/u/"));
        assert_eq!(
            headers[1],
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into()
            )
        );
        let html = c.request.html.as_deref().unwrap_or_default();
        assert!(html.contains("href=\"https://sy.example/t/c/"), "{html}");
        assert!(
            html.contains("<img src=\"https://sy.example/t/o/"),
            "{html}"
        );
        assert!(c.size_bytes > 600);

        let mut t = body(
            serde_json::json!({"from": "a@shop.example", "to": ["b@example.com", "c@example.com"], "subject": "Receipt", "text": "x", "transactional": true}),
        );
        t.tracking = TrackingSpec::default();
        let mut c = check(&t, None, t.subject.clone()).expect("valid");
        finish(&mut c, "em_2", t.tracking, &settings);
        assert!(
            c.request.headers.is_empty(),
            "transactional: no unsubscribe"
        );
    }

    #[test]
    fn marketing_email_goes_to_one_recipient() {
        let b = body(
            serde_json::json!({"from": "a@shop.example", "to": ["b@example.com", "c@example.com"], "subject": "S", "text": "x"}),
        );
        let e = check(&b, None, "S".into()).expect_err("two recipients");
        assert_eq!(field(&e), "to");
        assert!(e.message.contains("transactional"), "{}", e.message);
    }
}
