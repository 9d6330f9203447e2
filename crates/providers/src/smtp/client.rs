use crate::capability::{
    Connection, ConnectionInfo, Email, EmailRequest, SentEmail, WebhookError, WebhookRequest,
    Webhooks,
};
use crate::error::{ConfigError, Delivery, ErrorClass, ProviderError};
use crate::events::ProviderEvent;
use async_trait::async_trait;
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{Error as SmtpError, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::OnceLock;
use std::time::Duration;

const PROVIDER: &str = "smtp";

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only for a relay on the same host or network.
    None,
}

/// What the adapter is built from.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub host: String,
    pub port: Option<u16>,
    pub tls: TlsMode,
    pub login: Option<(String, String)>,
    pub ca_certificate: Option<String>,
    pub pool_size: u32,
}

/// An SMTP relay reached through a pool of connections (each reused for many messages, so
/// the TLS handshake and AUTH are paid once per connection, not once per email).
pub struct Smtp {
    builder: AsyncSmtpTransportBuilder,
    /// Built on first use: the pool starts a background task, which needs the runtime.
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    host: String,
}

impl Smtp {
    pub(super) fn new(s: Settings) -> Result<Self, ConfigError> {
        let tls = match s.tls {
            TlsMode::None => Tls::None,
            mode => {
                let mut params = TlsParameters::builder(s.host.clone());
                if let Some(pem) = &s.ca_certificate {
                    let cert = Certificate::from_pem(pem.as_bytes()).map_err(|e| {
                        ConfigError(format!(
                            "credentials.ca_certificate is not a PEM certificate ({e})"
                        ))
                    })?;
                    params = params.add_root_certificate(cert);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| ConfigError(format!("TLS settings rejected ({e})")))?;
                if mode == TlsMode::Implicit {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let default_port = match s.tls {
            TlsMode::StartTls => 587,
            TlsMode::Implicit => 465,
            TlsMode::None => 25,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port.unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)))
            .pool_config(PoolConfig::new().max_size(s.pool_size));
        if let Some((user, password)) = s.login {
            builder = builder
                .credentials(Credentials::new(user, password))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Smtp {
            builder,
            transport: OnceLock::new(),
            host: s.host,
        })
    }

    fn transport(&self) -> &AsyncSmtpTransport<Tokio1Executor> {
        self.transport.get_or_init(|| self.builder.clone().build())
    }
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("host", &self.host).finish()
    }
}

#[async_trait]
impl Email for Smtp {
    async fn send_email(&self, req: &EmailRequest) -> Result<SentEmail, ProviderError> {
        let message = crate::mime::build(PROVIDER, req)?;
        self.transport().send(message).await.map_err(classify)?;
        let id = crate::mime::message_id(req);
        Ok(SentEmail {
            message_id: id.trim_matches(|c| c == '<' || c == '>').to_string(),
        })
    }
}

/// A relay's answer as the engine needs it. 4xx replies (greylisting, rate limits) and
/// failed connections were refused before the message was taken: retry elsewhere. A 5xx
/// naming the mailbox (5.1.x) is the recipient's fault; other 5xx (authentication, policy,
/// size) are this relay's refusal, as are TLS and AUTH mismatches. A connection lost
/// mid-conversation may have delivered.
fn classify(e: SmtpError) -> ProviderError {
    let code = e.status().map(|c| c.to_string());
    let (class, delivery) = if e.is_transient() {
        (ErrorClass::Retryable, Delivery::NotAccepted)
    } else if e.is_permanent() {
        let mailbox = e.to_string().contains("5.1.") || code.as_deref() == Some("550");
        let class = if mailbox {
            ErrorClass::Permanent
        } else {
            ErrorClass::ProviderRefused
        };
        (class, Delivery::NotAccepted)
    } else if e.is_client() || e.is_tls() {
        // No common AUTH mechanism, a TLS handshake refused: this relay's configuration.
        (ErrorClass::ProviderRefused, Delivery::NotAccepted)
    } else if e.is_timeout() || e.is_response() {
        (ErrorClass::Retryable, Delivery::MaybeAccepted)
    } else {
        // Connection refused, DNS, a pool that could not connect: nothing was sent.
        (ErrorClass::Retryable, Delivery::NotAccepted)
    };
    ProviderError {
        provider: PROVIDER,
        class,
        delivery,
        status: None,
        code,
        message: e.to_string(),
        retry_after: None,
    }
}

#[async_trait]
impl Connection for Smtp {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        match self.transport().test_connection().await {
            Ok(true) => Ok(ConnectionInfo {
                account: self.host.clone(),
                detail: "connected, TLS and AUTH accepted".into(),
            }),
            Ok(false) => Err(ProviderError::refused(
                PROVIDER,
                "the relay did not answer NOOP",
            )),
            Err(e) => Err(classify(e)),
        }
    }
}

impl Webhooks for Smtp {
    fn verify(&self, _req: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        Err(WebhookError::NotConfigured(
            "SMTP relays do not send webhooks".into(),
        ))
    }

    fn parse(&self, _req: &WebhookRequest<'_>) -> Result<Vec<ProviderEvent>, WebhookError> {
        Ok(Vec::new())
    }
}
