//! Amazon SNS message signatures, exactly as AWS documents them in "Verifying the
//! signatures of Amazon SNS messages"
//! (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html and
//! https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html):
//!
//! - the string to sign is each signed field's name and value, each followed by a newline,
//!   in a fixed order: `Message`, `MessageId`, `Subject` (when present), `Timestamp`,
//!   `TopicArn`, `Type` for notifications; `Message`, `MessageId`, `SubscribeURL`,
//!   `Timestamp`, `Token`, `TopicArn`, `Type` for subscription and unsubscribe
//!   confirmations;
//! - `Signature` is base64 RSASSA-PKCS1-v1_5 over it: SHA1withRSA for `SignatureVersion`
//!   1, SHA256withRSA for 2;
//! - the public key is in the X.509 certificate at `SigningCertURL`, which is trusted only
//!   over HTTPS from an SNS host (`sns.<region>.amazonaws.com`, or `.amazonaws.com.cn`).
//!
//! Fetching the certificate is I/O, so [`Verifier::prepare`] does it (once per URL, then
//! cached) and [`Verifier::verify`] only reads the cache.

use crate::capability::{WebhookError, WebhookRequest};
use crate::http::{Auth, Body, HttpClient, Request};
use crate::pkcs1::{SHA1_DIGEST_INFO, SHA256_DIGEST_INFO, pkcs1v15};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

/// A message whose `Timestamp` is further than this from now is refused as a replay.
pub const REPLAY_WINDOW_SECS: i64 = 3600;

/// Certificates kept; SNS signs with few, so more means someone is probing.
const CACHE_LIMIT: usize = 32;

/// `rsaEncryption` (RFC 8017, appendix A.1).
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// The JSON document SNS POSTs (notification, subscription or unsubscribe confirmation).
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    /// `Notification`, `SubscriptionConfirmation` or `UnsubscribeConfirmation`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// SNS's id of the message, the same on every redelivery.
    #[serde(rename = "MessageId")]
    pub message_id: String,
    /// The topic it was published to.
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    /// The publisher's subject, when it gave one.
    #[serde(rename = "Subject")]
    pub subject: Option<String>,
    /// The payload (for SES, an event record as JSON text).
    #[serde(rename = "Message")]
    pub message: String,
    /// When SNS sent it (RFC 3339).
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    /// `1` (SHA1withRSA) or `2` (SHA256withRSA).
    #[serde(rename = "SignatureVersion")]
    pub signature_version: Option<String>,
    /// Base64 signature.
    #[serde(rename = "Signature")]
    pub signature: Option<String>,
    /// Where the signing certificate is.
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: Option<String>,
    /// Confirmations: the URL that confirms the subscription.
    #[serde(rename = "SubscribeURL")]
    pub subscribe_url: Option<String>,
    /// Confirmations: the confirmation token.
    #[serde(rename = "Token")]
    pub token: Option<String>,
}

impl Envelope {
    /// Reads a webhook body.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        serde_json::from_slice(body)
            .map_err(|e| WebhookError::Malformed(format!("not an Amazon SNS message ({e})")))
    }

    /// The string SNS signs for this message type.
    fn string_to_sign(&self) -> Result<String, WebhookError> {
        let field = |value: Option<&String>| value.cloned().ok_or(WebhookError::BadSignature);
        let fields: Vec<(&str, String)> = match self.kind.as_str() {
            "Notification" => {
                let mut fields = vec![
                    ("Message", self.message.clone()),
                    ("MessageId", self.message_id.clone()),
                ];
                if let Some(subject) = &self.subject {
                    fields.push(("Subject", subject.clone()));
                }
                fields.extend([
                    ("Timestamp", self.timestamp.clone()),
                    ("TopicArn", self.topic_arn.clone()),
                    ("Type", self.kind.clone()),
                ]);
                fields
            }
            "SubscriptionConfirmation" | "UnsubscribeConfirmation" => vec![
                ("Message", self.message.clone()),
                ("MessageId", self.message_id.clone()),
                ("SubscribeURL", field(self.subscribe_url.as_ref())?),
                ("Timestamp", self.timestamp.clone()),
                ("Token", field(self.token.as_ref())?),
                ("TopicArn", self.topic_arn.clone()),
                ("Type", self.kind.clone()),
            ],
            _ => return Err(WebhookError::BadSignature),
        };
        Ok(fields
            .iter()
            .map(|(name, value)| format!("{name}\n{value}\n"))
            .collect())
    }
}

/// Which hosts may serve signing certificates and confirm subscriptions.
#[derive(Debug, Clone)]
enum Trust {
    /// HTTPS on `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn`.
    Sns,
    /// One local origin (`http://127.0.0.1:port`), for tests that serve the certificate.
    #[cfg(test)]
    Origin(String),
}

impl Trust {
    fn allows(&self, url: &str) -> bool {
        let Ok(url) = url::Url::parse(url) else {
            return false;
        };
        match self {
            Trust::Sns => {
                url.scheme() == "https"
                    && url.port().is_none()
                    && url.username().is_empty()
                    && url.password().is_none()
                    && url.host_str().is_some_and(is_sns_host)
            }
            #[cfg(test)]
            Trust::Origin(origin) => url.origin().ascii_serialization() == *origin,
        }
    }
}

/// `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn`, the region made of
/// letters, digits and dashes.
fn is_sns_host(host: &str) -> bool {
    let Some(rest) = host.strip_prefix("sns.") else {
        return false;
    };
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"));
    region.is_some_and(|r| {
        !r.is_empty()
            && r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    })
}

/// Verifies SNS messages for one provider: the certificate cache, the hosts trusted to
/// serve certificates, and the one topic accepted when it is pinned.
#[derive(Debug)]
pub struct Verifier {
    trust: Trust,
    topic_arn: Option<String>,
    keys: Mutex<HashMap<String, RsaPublicKey>>,
}

impl Verifier {
    /// A verifier trusting AWS's SNS hosts; with `topic_arn`, messages from any other topic
    /// are refused.
    pub fn new(topic_arn: Option<String>) -> Self {
        Verifier {
            trust: Trust::Sns,
            topic_arn,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// A verifier that fetches certificates and confirms subscriptions at one local origin
    /// (a test double), over plain HTTP.
    #[cfg(test)]
    pub fn trusting_origin(origin: &str, topic_arn: Option<String>) -> Self {
        Verifier {
            trust: Trust::Origin(origin.trim_end_matches('/').to_string()),
            ..Self::new(topic_arn)
        }
    }

    /// Puts a certificate in the cache as if it had been fetched from `url`.
    #[cfg(test)]
    pub fn seed(&self, url: &str, pem: &str, now_secs: i64) -> Result<(), WebhookError> {
        self.remember(url, public_key(pem.as_bytes(), now_secs)?);
        Ok(())
    }

    fn cached(&self, url: &str) -> Option<RsaPublicKey> {
        self.keys.lock().ok()?.get(url).cloned()
    }

    fn remember(&self, url: &str, key: RsaPublicKey) {
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= CACHE_LIMIT {
                keys.clear();
            }
            keys.insert(url.to_string(), key);
        }
    }

    /// Fetches (once) the certificate the message names, and confirms a subscription whose
    /// confirmation verifies by visiting its `SubscribeURL`. A body that is not an SNS
    /// message is left for [`Verifier::verify`] to refuse.
    pub async fn prepare(
        &self,
        http: &HttpClient,
        provider: &'static str,
        req: &WebhookRequest<'_>,
    ) -> Result<(), WebhookError> {
        let Ok(envelope) = Envelope::parse(req.body) else {
            return Ok(());
        };
        let Some(cert_url) = envelope.signing_cert_url.as_deref() else {
            return Ok(());
        };
        if !self.trust.allows(cert_url) {
            return Err(WebhookError::BadSignature);
        }
        if self.cached(cert_url).is_none() {
            let pem = get(http, provider, cert_url).await.map_err(|e| {
                WebhookError::NotConfigured(format!(
                    "the SNS signing certificate could not be fetched ({e})"
                ))
            })?;
            self.remember(cert_url, public_key(&pem, req.now_secs)?);
        }
        if envelope.kind == "SubscriptionConfirmation" {
            self.verify(req)?;
            let subscribe = envelope
                .subscribe_url
                .as_deref()
                .filter(|url| self.trust.allows(url))
                .ok_or(WebhookError::BadSignature)?;
            get(http, provider, subscribe).await.map_err(|e| {
                WebhookError::NotConfigured(format!(
                    "the SNS subscription could not be confirmed ({e})"
                ))
            })?;
            tracing::info!(provider, topic = %envelope.topic_arn, "confirmed the SNS subscription");
        }
        Ok(())
    }

    /// Checks a message with the cached certificate only: trusted certificate URL, pinned
    /// topic, timestamp within [`REPLAY_WINDOW_SECS`], then the signature.
    pub fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let envelope =
            Envelope::parse(req.body).map_err(|_| WebhookError::Unsigned("Signature"))?;
        let signature = envelope
            .signature
            .as_deref()
            .ok_or(WebhookError::Unsigned("Signature"))?;
        let cert_url = envelope
            .signing_cert_url
            .as_deref()
            .ok_or(WebhookError::Unsigned("SigningCertURL"))?;
        if !self.trust.allows(cert_url) {
            return Err(WebhookError::BadSignature);
        }
        if self
            .topic_arn
            .as_deref()
            .is_some_and(|pinned| pinned != envelope.topic_arn)
        {
            return Err(WebhookError::BadSignature);
        }
        let sent = chrono::DateTime::parse_from_rfc3339(&envelope.timestamp)
            .map_err(|_| WebhookError::BadSignature)?
            .timestamp();
        if req.now_secs.abs_diff(sent) > REPLAY_WINDOW_SECS.unsigned_abs() {
            return Err(WebhookError::Stale(REPLAY_WINDOW_SECS));
        }
        let key = self.cached(cert_url).ok_or_else(|| {
            WebhookError::NotConfigured(
                "the SNS signing certificate has not been fetched".to_string(),
            )
        })?;
        let signature = STANDARD
            .decode(signature.trim())
            .map_err(|_| WebhookError::BadSignature)?;
        let text = envelope.string_to_sign()?;
        let (scheme, hashed) = match envelope.signature_version.as_deref() {
            Some("1") => (pkcs1v15(SHA1_DIGEST_INFO, 20), Sha1::digest(&text).to_vec()),
            Some("2") => (
                pkcs1v15(SHA256_DIGEST_INFO, 32),
                Sha256::digest(&text).to_vec(),
            ),
            _ => return Err(WebhookError::BadSignature),
        };
        key.verify(scheme, &hashed, &signature)
            .map_err(|_| WebhookError::BadSignature)
    }
}

/// A GET without credentials; the body of a 2xx answer.
async fn get(http: &HttpClient, provider: &'static str, url: &str) -> Result<Vec<u8>, String> {
    let req = Request::new(http::Method::GET, url.to_string(), Auth::None, Body::Empty);
    let resp = http.send(provider, &req).await.map_err(|e| e.to_string())?;
    if resp.status.is_success() {
        Ok(resp.body)
    } else {
        Err(format!("HTTP {}", resp.status.as_u16()))
    }
}

/// The RSA key of a PEM certificate valid at `now_secs`.
fn public_key(pem: &[u8], now_secs: i64) -> Result<RsaPublicKey, WebhookError> {
    let refuse =
        |what: &str| WebhookError::NotConfigured(format!("the SNS signing certificate {what}"));
    let cert = Certificate::from_pem(pem).map_err(|_| refuse("is not a PEM certificate"))?;
    let tbs = cert.tbs_certificate();
    let validity = tbs.validity();
    let now = u64::try_from(now_secs).unwrap_or_default();
    if now < validity.not_before.to_unix_duration().as_secs()
        || now > validity.not_after.to_unix_duration().as_secs()
    {
        return Err(refuse("is not valid now"));
    }
    let spki = tbs.subject_public_key_info();
    if spki.algorithm.oid.to_string() != RSA_ENCRYPTION {
        return Err(refuse("is not an RSA certificate"));
    }
    RsaPublicKey::from_pkcs1_der(spki.subject_public_key.raw_bytes())
        .map_err(|_| refuse("has an unreadable RSA key"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rsa::RsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;

    /// A self-signed RSA certificate and its key, made for the test.
    pub(crate) struct TestSigner {
        pub cert_pem: String,
        key: RsaPrivateKey,
    }

    impl TestSigner {
        pub(crate) fn new() -> Self {
            let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
            let cert = rcgen::CertificateParams::new(vec!["sns.us-east-1.amazonaws.com".into()])
                .expect("params")
                .self_signed(&pair)
                .expect("certificate");
            let key = RsaPrivateKey::from_pkcs8_der(&pair.serialize_der()).expect("PKCS#8");
            TestSigner {
                cert_pem: cert.pem(),
                key,
            }
        }

        /// Fills `SignatureVersion` and `Signature` of an SNS message as SNS would.
        pub(crate) fn sign(&self, message: &mut serde_json::Value, version: &str) {
            message["SignatureVersion"] = version.into();
            let envelope: Envelope = serde_json::from_value(message.clone()).expect("SNS envelope");
            let text = envelope.string_to_sign().expect("string to sign");
            let (scheme, hashed) = if version == "1" {
                (pkcs1v15(SHA1_DIGEST_INFO, 20), Sha1::digest(&text).to_vec())
            } else {
                (
                    pkcs1v15(SHA256_DIGEST_INFO, 32),
                    Sha256::digest(&text).to_vec(),
                )
            };
            let signature = self.key.sign(scheme, &hashed).expect("sign");
            message["Signature"] = STANDARD.encode(signature).into();
        }
    }

    #[test]
    fn the_documented_string_to_sign() {
        // The field order and layout of the documentation's examples: name, newline,
        // value, newline; Subject only when present.
        let mut e: Envelope = serde_json::from_value(serde_json::json!({
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
            "Subject": "My First Message",
            "Message": "Hello world!",
            "Timestamp": "2012-05-02T00:54:06.655Z",
        }))
        .expect("envelope");
        assert_eq!(
            e.string_to_sign().expect("notification"),
            "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
        );
        e.subject = None;
        assert!(!e.string_to_sign().expect("no subject").contains("Subject"));
        e.kind = "SubscriptionConfirmation".into();
        assert_eq!(e.string_to_sign(), Err(WebhookError::BadSignature));
        e.subscribe_url = Some("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=233".into());
        e.token = Some("233".into());
        assert_eq!(
            e.string_to_sign().expect("confirmation"),
            "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=233\nTimestamp\n2012-05-02T00:54:06.655Z\nToken\n233\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nSubscriptionConfirmation\n"
        );
    }

    #[test]
    fn only_sns_hosts_over_https_are_trusted() {
        let sns = Trust::Sns;
        for good in [
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-3242f4e0.pem",
        ] {
            assert!(sns.allows(good), "{good}");
        }
        for bad in [
            "http://sns.us-east-1.amazonaws.com/cert.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
            "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
            "https://sns..amazonaws.com/cert.pem",
            "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
            "https://user@sns.us-east-1.amazonaws.com/cert.pem",
            "https://s3.amazonaws.com/cert.pem",
            "not a url",
        ] {
            assert!(!sns.allows(bad), "{bad}");
        }
    }
}
