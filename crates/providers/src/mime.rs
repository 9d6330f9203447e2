//! An [`EmailRequest`] as an RFC 5322 message, for the providers that take raw MIME (SMTP
//! relays, Amazon SES). Built with `lettre`'s message builder, which encodes UTF-8 headers
//! (RFC 2047), folds long lines and chooses each part's transfer encoding.

use crate::capability::{EmailRequest, Mailbox};
use crate::error::{ErrorClass, ProviderError};
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{
    Attachment, Body, Mailbox as LettreMailbox, Message, MessageBuilder, MultiPart, SinglePart,
};

/// The message, ready for the wire. The `Bcc` header is left out (blind copies travel only
/// in the envelope); `Message-ID` is `<email_id@sender's domain>`, so a bounce that quotes
/// it can be traced to the email.
pub fn build(provider: &'static str, req: &EmailRequest) -> Result<Message, ProviderError> {
    let invalid = |what: String| ProviderError {
        class: ErrorClass::Permanent,
        ..ProviderError::refused(provider, what)
    };
    let mailbox = |m: &Mailbox, field: &str| -> Result<LettreMailbox, ProviderError> {
        let address = m
            .address
            .parse()
            .map_err(|e| invalid(format!("{field} {:?} is not an address ({e})", m.address)))?;
        Ok(LettreMailbox::new(m.name.clone(), address))
    };
    let mut builder: MessageBuilder = Message::builder()
        .from(mailbox(&req.from, "from")?)
        .subject(req.subject.clone())
        .message_id(Some(message_id(req)));
    for m in &req.to {
        builder = builder.to(mailbox(m, "to")?);
    }
    for m in &req.cc {
        builder = builder.cc(mailbox(m, "cc")?);
    }
    for m in &req.bcc {
        builder = builder.bcc(mailbox(m, "bcc")?);
    }
    if let Some(m) = &req.reply_to {
        builder = builder.reply_to(mailbox(m, "reply_to")?);
    }
    for (name, value) in &req.headers {
        let name = HeaderName::new_from_ascii(name.clone())
            .map_err(|_| invalid(format!("header name {name:?} is not valid")))?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    let body = match (&req.text, &req.html) {
        (Some(text), Some(html)) => Part::Multi(MultiPart::alternative_plain_html(
            text.clone(),
            html.clone(),
        )),
        (None, Some(html)) => Part::Single(SinglePart::html(html.clone())),
        (text, None) => Part::Single(SinglePart::plain(text.clone().unwrap_or_default())),
    };
    let message = if req.attachments.is_empty() {
        match body {
            Part::Multi(m) => builder.multipart(m),
            Part::Single(s) => builder.singlepart(s),
        }
    } else {
        let mut mixed = match body {
            Part::Multi(m) => MultiPart::mixed().multipart(m),
            Part::Single(s) => MultiPart::mixed().singlepart(s),
        };
        for a in &req.attachments {
            let content_type = ContentType::parse(&a.content_type).map_err(|_| {
                invalid(format!(
                    "attachment {:?} has an invalid content type {:?}",
                    a.filename, a.content_type
                ))
            })?;
            // Always base64: binary files may hold NULs and bare CRs that 7bit cannot carry.
            let body = Body::new_with_encoding(a.content.clone(), ContentTransferEncoding::Base64)
                .map_err(|_| invalid(format!("attachment {:?} cannot be encoded", a.filename)))?;
            mixed = mixed.singlepart(Attachment::new(a.filename.clone()).body(body, content_type));
        }
        builder.multipart(mixed)
    };
    message.map_err(|e| invalid(format!("the message cannot be built ({e})")))
}

/// The `Message-ID` of an email: unique per email, on the sender's domain.
pub fn message_id(req: &EmailRequest) -> String {
    let domain = req
        .from
        .address
        .rsplit_once('@')
        .map_or("switchyard.invalid", |(_, d)| d);
    format!("<{}@{domain}>", req.email_id)
}

enum Part {
    Single(SinglePart),
    Multi(MultiPart),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> EmailRequest {
        crate::http::double::full_email()
    }

    #[test]
    fn headers_parts_and_no_bcc() -> Result<(), ProviderError> {
        let message = build("smtp", &request())?;
        let text = String::from_utf8_lossy(&message.formatted()).into_owned();
        assert!(
            text.contains("Message-ID: <em_01HZX3@mg.example.com>"),
            "{text}"
        );
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(text.contains("Content-Type: multipart/mixed"));
        assert!(text.contains("Content-Type: multipart/alternative"));
        assert!(text.contains("Content-Type: application/pdf"));
        assert!(
            !text.contains("audit@example.com"),
            "Bcc must not be a header"
        );
        let envelope = message.envelope();
        assert_eq!(envelope.to().len(), 4);
        Ok(())
    }

    #[test]
    fn a_bad_address_is_permanent() {
        let mut req = request();
        req.to = vec![Mailbox::new("not an address")];
        let err = build("smtp", &req).expect_err("invalid");
        assert_eq!(err.class, ErrorClass::Permanent);
        assert!(err.message.contains("to \"not an address\""), "{err}");
    }
}
