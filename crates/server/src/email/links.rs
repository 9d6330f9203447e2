//! Signed links in emails: one-click unsubscribe, the open pixel and click redirects. A
//! token carries what it is about and an HMAC-SHA256 tag (128 bits) under a key derived
//! from the master key, so links cannot be guessed or altered (a click link can only
//! redirect to the URL that was signed: no open redirect) and any instance can check them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What a link does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Unsubscribes `address` from the organisation's marketing email.
    Unsubscribe {
        /// The email it came in.
        email_id: String,
        /// The recipient.
        address: String,
    },
    /// Records that the email was opened.
    Open {
        /// The email.
        email_id: String,
    },
    /// Records a click and redirects to `url`.
    Click {
        /// The email.
        email_id: String,
        /// Where the link goes.
        url: String,
    },
}

impl Link {
    /// The email the link is in.
    pub fn email_id(&self) -> &str {
        match self {
            Link::Unsubscribe { email_id, .. }
            | Link::Open { email_id }
            | Link::Click { email_id, .. } => email_id,
        }
    }

    fn payload(&self) -> String {
        match self {
            Link::Unsubscribe { email_id, address } => format!("u\n{email_id}\n{address}"),
            Link::Open { email_id } => format!("o\n{email_id}"),
            Link::Click { email_id, url } => format!("c\n{email_id}\n{url}"),
        }
    }

    fn from_payload(text: &str) -> Option<Link> {
        let mut parts = text.splitn(3, '\n');
        let kind = parts.next()?;
        let email_id = parts.next()?.to_string();
        match (kind, parts.next()) {
            ("u", Some(address)) => Some(Link::Unsubscribe {
                email_id,
                address: address.to_string(),
            }),
            ("o", None) => Some(Link::Open { email_id }),
            ("c", Some(url)) => Some(Link::Click {
                email_id,
                url: url.to_string(),
            }),
            _ => None,
        }
    }
}

const TAG_LEN: usize = 16;

fn tag(key: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(payload);
    mac.finalize().into_bytes()[..TAG_LEN].to_vec()
}

/// The token of a link (URL-safe).
pub fn sign(key: &[u8; 32], link: &Link) -> String {
    let payload = link.payload();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(tag(key, payload.as_bytes()))
    )
}

/// The link a token stands for, if its tag is right.
pub fn verify(key: &[u8; 32], token: &str) -> Option<Link> {
    let (payload, given) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let given = URL_SAFE_NO_PAD.decode(given).ok()?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(&payload);
    mac.verify_truncated_left(&given).ok()?;
    if given.len() != TAG_LEN {
        return None;
    }
    Link::from_payload(std::str::from_utf8(&payload).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn tokens_round_trip_and_resist_tampering() {
        let links = [
            Link::Unsubscribe {
                email_id: "em1".into(),
                address: "ada@example.com".into(),
            },
            Link::Open {
                email_id: "em1".into(),
            },
            Link::Click {
                email_id: "em1".into(),
                url: "https://shop.example/sale?a=1&b=2".into(),
            },
        ];
        for link in &links {
            let token = sign(&KEY, link);
            assert!(
                token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            );
            assert_eq!(verify(&KEY, &token).as_ref(), Some(link));
            assert_eq!(verify(&[8; 32], &token), None, "another key");
            let (payload, tag) = token.split_once('.').expect("two parts");
            let forged = Link::Click {
                email_id: "em1".into(),
                url: "https://evil.example/".into(),
            };
            let swapped = format!(
                "{}.{tag}",
                URL_SAFE_NO_PAD.encode(forged.payload().as_bytes())
            );
            assert_eq!(verify(&KEY, &swapped), None, "payload swapped");
            assert_eq!(
                verify(&KEY, &format!("{payload}.{}", &tag[..tag.len() - 2])),
                None
            );
            assert_eq!(verify(&KEY, payload), None, "no tag");
        }
        assert_eq!(verify(&KEY, "garbage"), None);
    }
}
