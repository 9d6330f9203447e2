//! Sandbox accounts: credentials, numbers, calls, messages and emails, and the gate every
//! request passes (outage, rate limit, injected errors and timeouts).

use crate::behaviour::{Faults, Profile};
use crate::lock;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use switchyard_core::scoring::mix64;
use switchyard_providers::sendgrid;

/// Which carrier's API an account speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// Twilio REST 2010-04-01, HMAC-SHA1 webhooks.
    Twilio,
    /// Telnyx API v2, Ed25519 webhooks.
    Telnyx,
    /// SignalWire's Compatibility API: Twilio's resources under `/api/laml`, the project id
    /// (a UUID) as the account id, webhooks signed with a separate signing key in
    /// `X-SignalWire-Signature`.
    Signalwire,
    /// Plivo's REST API (`/v1/Account/{auth_id}/…`, JSON bodies), form callbacks signed
    /// with V3 and V2 signatures keyed by the auth token.
    Plivo,
    /// Bandwidth's Voice v2 and Messaging v2 (JSON) and Dashboard (XML) APIs behind OAuth
    /// client credentials, callbacks authenticated with Basic credentials.
    Bandwidth,
    /// Vonage's Voice and Messages APIs (application JWTs) and SMS, Numbers and Account APIs
    /// (key and secret or `sig`); callbacks signed with `sig` (SMS) or an HS256 JWT.
    Vonage,
    /// SendGrid v3 Mail Send, ECDSA P-256 signed event webhooks. Such an account owns no
    /// numbers and places no calls, so the carrier paths never see it.
    Sendgrid,
}

impl Style {
    /// Whether the account speaks Twilio's REST API and form webhooks (Twilio itself and
    /// SignalWire's Compatibility API).
    pub fn twilio_compatible(self) -> bool {
        matches!(self, Style::Twilio | Style::Signalwire)
    }
}

/// A new account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// API style.
    pub style: Style,
    /// Behaviour.
    #[serde(default)]
    pub profile: Profile,
    /// Default destination of inbound traffic and of events without a callback URL.
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// An account's credentials, in the field names of the provider's credentials object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCredentials {
    /// API style.
    pub style: Style,
    /// Twilio-style account SID (SignalWire style: the project id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    /// Bandwidth-style account id (digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Bandwidth-style OAuth client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Bandwidth-style OAuth client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Bandwidth-style voice application id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_application_id: Option<String>,
    /// Bandwidth-style messaging application id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_application_id: Option<String>,
    /// Bandwidth-style sub-account (site) id numbers are ordered for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// Bandwidth-style callback user name (the applications' callback credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_username: Option<String>,
    /// Bandwidth-style callback password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_password: Option<String>,
    /// Vonage-style API secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_secret: Option<String>,
    /// Vonage-style application id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// Vonage-style application private key (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// Vonage-style signature secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_secret: Option<String>,
    /// Vonage-style SMS signature method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_method: Option<String>,
    /// Plivo-style auth id (`MA…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_id: Option<String>,
    /// Twilio-style or Plivo-style auth token, which signs webhooks (SignalWire style: the
    /// API token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<String>,
    /// Telnyx-style or SendGrid-style API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Telnyx-style connection id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Telnyx-style webhook public key (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// SendGrid-style event webhook verification key (ECDSA P-256, base64 DER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_public_key: Option<String>,
    /// The key the sandbox signs webhooks with: the Ed25519 seed (Telnyx style) or the P-256
    /// secret scalar (SendGrid style) in base64, or SignalWire's signing key as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

fn hex(words: &[u64]) -> String {
    words.iter().map(|w| format!("{w:016x}")).collect()
}

/// The RSA key of the sandbox's Vonage-style applications: a key made for the simulator
/// alone, which signs nothing outside it.
pub const VONAGE_APPLICATION_KEY: &str = include_str!("vonage_application_key.pem");

/// A UUID-shaped id from two words.
fn uuid_of(a: u64, b: u64) -> String {
    let h = hex(&[a, b]);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Upper-case letters and digits drawn from `words`, 12 per word (Plivo's id alphabet).
fn alnum(words: &[u64]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    words
        .iter()
        .flat_map(|w| (0..12).map(move |i| ALPHABET[((w >> (i * 5)) % 36) as usize] as char))
        .collect()
}

impl AccountCredentials {
    /// Fresh credentials, derived from the seed and the account's number.
    pub fn generate(style: Style, seed: u64, n: u64) -> Self {
        let w = |i: u64| mix64(seed ^ mix64(n.wrapping_mul(0x9e37_79b9).wrapping_add(i)));
        match style {
            Style::Signalwire => {
                let id = hex(&[w(1), w(2)]);
                AccountCredentials {
                    style,
                    account_sid: Some(format!(
                        "{}-{}-4{}-a{}-{}",
                        &id[..8],
                        &id[8..12],
                        &id[13..16],
                        &id[17..20],
                        &id[20..32]
                    )),
                    auth_token: Some(format!("PT{}", hex(&[w(3), w(4)]))),
                    signing_key: Some(format!("PSK_{}", hex(&[w(5), w(6)]))),
                    ..Self::empty(style)
                }
            }
            Style::Plivo => AccountCredentials {
                style,
                auth_id: Some(format!("MA{}", &alnum(&[w(1), w(2)])[..18])),
                auth_token: Some(alnum(&[w(3), w(4), w(5), w(6)])[..40].to_string()),
                ..Self::empty(style)
            },
            Style::Bandwidth => AccountCredentials {
                style,
                account_id: Some((w(1) % 9_000_000 + 1_000_000).to_string()),
                client_id: Some(hex(&[w(2)])),
                client_secret: Some(hex(&[w(3), w(4)])),
                voice_application_id: Some(uuid_of(w(5), w(6))),
                messaging_application_id: Some(uuid_of(w(7), w(8))),
                site_id: Some((w(9) % 90_000 + 10_000).to_string()),
                callback_username: Some(format!("cb{}", &hex(&[w(10)])[..8])),
                callback_password: Some(hex(&[w(11), w(12)])),
                ..Self::empty(style)
            },
            // Every Vonage-style account shares the sandbox's one application key (see
            // `VONAGE_APPLICATION_KEY`); each has its own application id, which the JWT names.
            Style::Vonage => AccountCredentials {
                style,
                api_key: Some(hex(&[w(1)])[..8].to_string()),
                api_secret: Some(alnum(&[w(2), w(3)])[..16].to_string()),
                application_id: Some(uuid_of(w(4), w(5))),
                private_key: Some(VONAGE_APPLICATION_KEY.to_string()),
                signature_secret: Some(hex(&[w(6), w(7)])),
                signature_method: Some("md5hash".into()),
                ..Self::empty(style)
            },
            Style::Twilio => AccountCredentials {
                style,
                account_sid: Some(format!("AC{}", hex(&[w(1), w(2)]))),
                auth_token: Some(hex(&[w(3), w(4)])),
                ..Self::empty(style)
            },
            Style::Telnyx => {
                let mut seed_bytes = [0u8; 32];
                for (i, chunk) in seed_bytes.chunks_mut(8).enumerate() {
                    chunk.copy_from_slice(&w(10 + i as u64).to_le_bytes());
                }
                let key = SigningKey::from_bytes(&seed_bytes);
                AccountCredentials {
                    style,
                    api_key: Some(format!("KEY{}", hex(&[w(5), w(6)]).to_uppercase())),
                    connection_id: Some(
                        (w(7) % 9_000_000_000_000_000 + 1_000_000_000_000_000).to_string(),
                    ),
                    public_key: Some(STANDARD.encode(key.verifying_key().as_bytes())),
                    signing_key: Some(STANDARD.encode(seed_bytes)),
                    ..Self::empty(style)
                }
            }
            Style::Sendgrid => {
                // A scalar at or above the curve order is refused; the next words give
                // another candidate (one in 2^32 needs it).
                let key = (0..)
                    .find_map(|i: u64| {
                        let bytes: Vec<u8> = (0..4)
                            .flat_map(|j| w(20 + 4 * i + j).to_be_bytes())
                            .collect();
                        p256::ecdsa::SigningKey::from_slice(&bytes).ok()
                    })
                    .unwrap_or_else(|| unreachable!("a valid scalar turns up"));
                AccountCredentials {
                    style,
                    api_key: Some(format!(
                        "SG.{}.{}",
                        &hex(&[w(8), w(12)])[..22],
                        &hex(&[w(9), w(10), w(11)])[..43]
                    )),
                    webhook_public_key: Some(sendgrid::signature::encode_public_key(
                        key.verifying_key(),
                    )),
                    signing_key: Some(STANDARD.encode(key.to_bytes())),
                    ..Self::empty(style)
                }
            }
        }
    }

    /// Credentials of `style` with every field unset.
    fn empty(style: Style) -> Self {
        AccountCredentials {
            style,
            api_secret: None,
            application_id: None,
            private_key: None,
            signature_secret: None,
            signature_method: None,
            account_id: None,
            client_id: None,
            client_secret: None,
            voice_application_id: None,
            messaging_application_id: None,
            site_id: None,
            callback_username: None,
            callback_password: None,
            auth_id: None,
            account_sid: None,
            auth_token: None,
            api_key: None,
            connection_id: None,
            public_key: None,
            webhook_public_key: None,
            signing_key: None,
        }
    }

    /// The id requests are matched by: the SID or the API key.
    pub fn key(&self) -> String {
        match self.style {
            Style::Twilio | Style::Signalwire => self.account_sid.clone().unwrap_or_default(),
            Style::Plivo => self.auth_id.clone().unwrap_or_default(),
            Style::Bandwidth => self.account_id.clone().unwrap_or_default(),
            Style::Telnyx | Style::Sendgrid | Style::Vonage => {
                self.api_key.clone().unwrap_or_default()
            }
        }
    }

    /// The Ed25519 key for Telnyx-style webhooks.
    pub fn signer(&self) -> Option<SigningKey> {
        let bytes = STANDARD.decode(self.signing_key.as_deref()?).ok()?;
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(SigningKey::from_bytes(&arr))
    }

    /// The P-256 key for SendGrid-style event webhooks.
    pub fn ecdsa_signer(&self) -> Option<p256::ecdsa::SigningKey> {
        let bytes = STANDARD.decode(self.signing_key.as_deref()?).ok()?;
        p256::ecdsa::SigningKey::from_slice(&bytes).ok()
    }
}

/// A number an account owns.
#[derive(Debug, Clone, Serialize)]
pub struct OwnedNumber {
    /// Provider id (`PN…` or digits).
    pub id: String,
    /// E.164.
    pub e164: String,
    /// Where inbound messages go (Twilio style).
    pub sms_url: Option<String>,
    /// Where inbound calls go (Twilio style).
    pub voice_url: Option<String>,
}

/// A simulated call.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    /// Provider id.
    pub id: String,
    /// Creation order within the sandbox, keying its drawn outcome.
    pub seq: u64,
    /// Destination.
    pub to: String,
    /// Caller id.
    pub from: String,
    /// Status in Twilio's vocabulary (`queued`, `ringing`, `in-progress`, `completed`…).
    pub status: String,
    /// Talk seconds once ended.
    pub duration: u32,
    /// Where status events go.
    pub callback: Option<String>,
    /// Twilio-style events asked for (`initiated`, `ringing`, `answered`, `completed`).
    pub events: Vec<String>,
    /// Simulated start time.
    pub created_ms: i64,
    /// The dial's `command_id` (Telnyx style): a repeat returns this call.
    pub command_id: Option<String>,
    /// Where the answer event goes and instructions come from (Plivo and Bandwidth style),
    /// when not `callback`.
    pub answer_url: Option<String>,
    /// Basic credentials the call's callbacks carry (Bandwidth style), when the call set
    /// its own rather than the application's.
    pub callback_auth: Option<(String, String)>,
    /// Events sent so far (Twilio's `SequenceNumber`).
    pub sequence: u32,
}

/// A simulated message.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Provider id.
    pub id: String,
    /// Destination.
    pub to: String,
    /// Sender.
    pub from: String,
    /// Text.
    pub body: String,
    /// Media.
    pub media: Vec<String>,
    /// Status in Twilio's vocabulary.
    pub status: String,
    /// Error code when undelivered.
    pub error_code: Option<String>,
    /// Segments.
    pub segments: u32,
    /// Where receipts go.
    pub callback: Option<String>,
    /// Simulated creation time.
    pub created_ms: i64,
}

/// A file attached to an email, as stored (the bytes are not kept).
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentInfo {
    /// File name.
    pub filename: String,
    /// MIME type, when given.
    pub content_type: Option<String>,
    /// Decoded size in bytes.
    pub size: usize,
}

/// An event the sandbox sent about an email.
#[derive(Debug, Clone, Serialize)]
pub struct EmailEventRecord {
    /// SendGrid's event name (`delivered`, `bounce`…), with the bounce type for blocks.
    pub event: String,
    /// The recipient.
    pub email: String,
    /// Its `sg_event_id`.
    pub sg_event_id: String,
    /// Simulated time it happened.
    pub at_ms: i64,
}

/// An email accepted through the SendGrid-style API.
#[derive(Debug, Clone, Serialize)]
pub struct Email {
    /// The `X-Message-Id` it was accepted with.
    pub id: String,
    /// Acceptance order within the sandbox, keying its drawn outcomes.
    pub seq: u64,
    /// Sender address.
    pub from: String,
    /// Recipients, every personalization's.
    pub to: Vec<String>,
    /// Copy recipients.
    pub cc: Vec<String>,
    /// Blind copy recipients.
    pub bcc: Vec<String>,
    /// Reply-to address.
    pub reply_to: Option<String>,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body.
    pub html: Option<String>,
    /// Attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// Extra headers as sent.
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// Custom arguments (the message's, then its personalizations'), echoed in events.
    pub custom_args: serde_json::Map<String, serde_json::Value>,
    /// Categories, echoed in events.
    pub categories: Vec<String>,
    /// Whether the sender asked for open tracking.
    pub open_tracking: bool,
    /// Whether the sender asked for click tracking.
    pub click_tracking: bool,
    /// Simulated acceptance time.
    pub created_ms: i64,
    /// Events sent so far, oldest first.
    pub events: Vec<EmailEventRecord>,
}

impl Email {
    /// Every recipient, `to` then `cc` then `bcc`.
    pub fn recipients(&self) -> Vec<String> {
        self.to
            .iter()
            .chain(&self.cc)
            .chain(&self.bcc)
            .cloned()
            .collect()
    }
}

/// The emails an account accepted, in order, found by id in constant time (a benchmark
/// sends tens of thousands, and every event looks its email up).
#[derive(Debug, Default)]
pub struct EmailBook {
    list: Vec<Email>,
    by_id: HashMap<String, usize>,
}

impl EmailBook {
    /// Adds an accepted email.
    pub fn push(&mut self, email: Email) {
        self.by_id.insert(email.id.clone(), self.list.len());
        self.list.push(email);
    }

    /// The email with this id.
    pub fn get(&self, id: &str) -> Option<&Email> {
        self.by_id.get(id).and_then(|i| self.list.get(*i))
    }

    /// The email with this id, to record its events.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Email> {
        self.by_id.get(id).and_then(|i| self.list.get_mut(*i))
    }

    /// Every email, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, Email> {
        self.list.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.list.len()
    }
}

/// Why the gate turned a request away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Full outage: 503.
    Outage,
    /// Over the request rate: 429.
    RateLimited,
    /// Injected server error: 500.
    Error,
    /// Injected hang.
    Timeout,
}

/// One account.
pub struct Account {
    /// Credentials.
    pub creds: AccountCredentials,
    seed: u64,
    profile: Mutex<Profile>,
    faults: Mutex<(Faults, i64)>,
    webhook_url: Mutex<Option<String>>,
    /// Owned numbers.
    pub numbers: Mutex<Vec<OwnedNumber>>,
    /// Calls by id.
    pub calls: Mutex<HashMap<String, Call>>,
    /// Messages by id.
    pub messages: Mutex<HashMap<String, Message>>,
    /// Emails in the order they were accepted.
    pub emails: Mutex<EmailBook>,
    /// Number orders by id (Bandwidth style): status and the numbers completed.
    pub orders: Mutex<HashMap<String, (String, Vec<String>)>>,
    /// SendGrid-style events waiting for the next batch (SendGrid posts events in batches,
    /// not one request per event), and whether a flush is scheduled.
    pub pending_events: Mutex<(Vec<serde_json::Value>, bool)>,
    requests: AtomicU64,
    window: Mutex<(i64, u32)>,
}

/// Area codes that libphonenumber accepts, for generated US numbers.
const AREA_CODES: &[u32] = &[201, 202, 212, 213, 305, 312, 415, 617, 646, 702, 713, 818];

impl Account {
    /// An account with its initial numbers.
    pub fn new(
        creds: AccountCredentials,
        profile: Profile,
        webhook_url: Option<String>,
        seed: u64,
    ) -> Self {
        let tag = mix64(
            seed ^ creds
                .key()
                .bytes()
                .fold(0u64, |h, b| mix64(h ^ u64::from(b))),
        );
        let area = AREA_CODES[(tag % AREA_CODES.len() as u64) as usize];
        let block = 100 + (tag >> 8) % 8 * 100;
        // An email account has no numbers.
        let owned = match creds.style {
            Style::Sendgrid => 0,
            Style::Twilio
            | Style::Signalwire
            | Style::Telnyx
            | Style::Plivo
            | Style::Bandwidth
            | Style::Vonage => profile.owned_numbers,
        };
        let numbers = (0..u64::from(owned))
            .map(|i| {
                let e164 = format!("+1{area}555{:04}", block + i % 100);
                OwnedNumber {
                    id: number_id(creds.style, tag, i, &e164),
                    e164,
                    sms_url: None,
                    voice_url: None,
                }
            })
            .collect();
        Account {
            creds,
            seed: tag,
            profile: Mutex::new(profile),
            faults: Mutex::new((Faults::default(), 0)),
            webhook_url: Mutex::new(webhook_url),
            numbers: Mutex::new(numbers),
            calls: Mutex::new(HashMap::new()),
            messages: Mutex::new(HashMap::new()),
            emails: Mutex::new(EmailBook::default()),
            orders: Mutex::new(HashMap::new()),
            pending_events: Mutex::new((Vec::new(), false)),
            requests: AtomicU64::new(0),
            window: Mutex::new((0, 0)),
        }
    }

    /// Takes a new profile and webhook URL.
    pub fn update(&self, profile: Profile, webhook_url: Option<String>) {
        *lock(&self.profile) = profile;
        if webhook_url.is_some() {
            *lock(&self.webhook_url) = webhook_url;
        }
    }

    /// The behaviour now.
    pub fn profile(&self) -> Profile {
        lock(&self.profile).clone()
    }

    /// The default webhook URL.
    pub fn webhook_url(&self) -> Option<String> {
        lock(&self.webhook_url).clone()
    }

    /// Replaces the faults; an outage starts now.
    pub fn set_faults(&self, faults: Faults, now_ms: i64) {
        let until = now_ms + (faults.outage_secs as i64) * 1000;
        *lock(&self.faults) = (faults, until);
    }

    /// The faults now.
    pub fn faults(&self) -> Faults {
        lock(&self.faults).0.clone()
    }

    /// A uniform draw in [0, 1) fixed by the seed, the object and the purpose.
    pub fn draw(&self, object: u64, purpose: u64) -> f64 {
        (mix64(self.seed ^ mix64(object.wrapping_mul(31).wrapping_add(purpose))) >> 11) as f64
            / (1u64 << 53) as f64
    }

    /// Whether a request may proceed (`now_ms` simulated, `real_sec` real seconds).
    pub fn admit(&self, now_ms: i64, real_sec: i64) -> Result<(), Refusal> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let (faults, outage_until) = lock(&self.faults).clone();
        if now_ms < outage_until {
            return Err(Refusal::Outage);
        }
        let limit = lock(&self.profile).requests_per_second;
        if limit > 0 {
            let mut w = lock(&self.window);
            if w.0 != real_sec {
                *w = (real_sec, 0);
            }
            w.1 += 1;
            if w.1 > limit {
                return Err(Refusal::RateLimited);
            }
        }
        let u = self.draw(u64::MAX - n, 7);
        if u < faults.error_rate {
            return Err(Refusal::Error);
        }
        if u < faults.error_rate + faults.timeout_rate {
            return Err(Refusal::Timeout);
        }
        Ok(())
    }

    /// The number with this E.164, if owned.
    pub fn owned(&self, e164: &str) -> Option<OwnedNumber> {
        lock(&self.numbers).iter().find(|n| n.e164 == e164).cloned()
    }
}

/// Provider-style id of the `i`-th number, `e164`.
pub fn number_id(style: Style, tag: u64, i: u64, e164: &str) -> String {
    match style {
        // Plivo and Vonage name a number by its digits, Bandwidth by its ten NANP digits.
        Style::Plivo | Style::Vonage => e164.trim_start_matches('+').to_string(),
        Style::Bandwidth => e164.trim_start_matches("+1").to_string(),
        Style::Twilio | Style::Signalwire => {
            format!("PN{}", hex(&[mix64(tag ^ i), mix64(tag ^ i ^ 1)]))
        }
        Style::Telnyx | Style::Sendgrid => {
            (mix64(tag ^ i) % 9_000_000_000_000_000_000 + 1_000_000_000_000_000_000).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_deterministic_and_well_formed() {
        let a = AccountCredentials::generate(Style::Twilio, 7, 0);
        assert_eq!(a, AccountCredentials::generate(Style::Twilio, 7, 0));
        assert_ne!(a, AccountCredentials::generate(Style::Twilio, 7, 1));
        let sid = a.account_sid.clone().expect("sid");
        assert!(sid.starts_with("AC") && sid.len() == 34);
        let t = AccountCredentials::generate(Style::Telnyx, 7, 2);
        let signer = t.signer().expect("signer");
        assert_eq!(
            STANDARD.encode(signer.verifying_key().as_bytes()),
            t.public_key.clone().expect("public key")
        );
        let s = AccountCredentials::generate(Style::Sendgrid, 7, 3);
        assert_eq!(s, AccountCredentials::generate(Style::Sendgrid, 7, 3));
        let key = s.api_key.clone().expect("api key");
        assert!(key.starts_with("SG.") && key.len() == 69, "{key}");
        let signer = s.ecdsa_signer().expect("P-256 signer");
        assert_eq!(
            sendgrid::signature::encode_public_key(signer.verifying_key()),
            s.webhook_public_key.clone().expect("public key")
        );
        let account = Account::new(s, Profile::default(), None, 7);
        assert!(
            lock(&account.numbers).is_empty(),
            "an email account has no numbers"
        );
    }

    #[test]
    fn generated_numbers_are_valid_e164() {
        for n in 0..20 {
            let creds = AccountCredentials::generate(Style::Twilio, 3, n);
            let account = Account::new(creds, Profile::default(), None, 3);
            for number in lock(&account.numbers).iter() {
                assert!(
                    switchyard_core::number::parse_e164(&number.e164).is_ok(),
                    "{}",
                    number.e164
                );
            }
        }
    }

    #[test]
    fn gate_enforces_outage_rate_limit_and_errors() {
        let creds = AccountCredentials::generate(Style::Twilio, 1, 0);
        let profile = Profile {
            requests_per_second: 2,
            ..Profile::default()
        };
        let a = Account::new(creds, profile, None, 1);
        assert_eq!(a.admit(0, 10), Ok(()));
        assert_eq!(a.admit(0, 10), Ok(()));
        assert_eq!(a.admit(0, 10), Err(Refusal::RateLimited));
        assert_eq!(a.admit(0, 11), Ok(()));
        a.set_faults(
            Faults {
                outage_secs: 60,
                ..Faults::default()
            },
            1_000,
        );
        assert_eq!(a.admit(30_000, 12), Err(Refusal::Outage));
        assert_eq!(a.admit(61_001, 13), Ok(()));
        a.set_faults(
            Faults {
                error_rate: 1.0,
                ..Faults::default()
            },
            0,
        );
        assert_eq!(a.admit(0, 14), Err(Refusal::Error));
    }
}
