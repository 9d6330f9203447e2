//! How requests to Bandwidth authenticate: OAuth 2.0 client credentials (a bearer token from
//! `https://api.bandwidth.com/api/v1/oauth2/token`, cached until shortly before it expires),
//! or the legacy API user's Basic credentials, which Bandwidth retired on 2 December 2026
//! but older contracts may still hold.

use crate::error::ProviderError;
use crate::http::{Auth, Body, HttpClient, Request};
use http::Method;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const NAME: &str = "bandwidth";

/// A token is renewed this long before Bandwidth says it expires.
const EARLY: Duration = Duration::from_secs(60);

/// The account's API credentials.
#[derive(Debug, Clone)]
pub enum ApiCredentials {
    /// OAuth 2.0 client credentials.
    OAuth {
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: String,
        /// Token endpoint.
        token_url: String,
    },
    /// Legacy API user.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
}

/// Hands out the `Authorization` for each request.
#[derive(Debug)]
pub struct Authenticator {
    credentials: ApiCredentials,
    http: HttpClient,
    token: Mutex<Option<(String, Instant)>>,
}

impl Authenticator {
    /// An authenticator with nothing cached.
    pub fn new(credentials: ApiCredentials, http: HttpClient) -> Self {
        Authenticator {
            credentials,
            http,
            token: Mutex::new(None),
        }
    }

    /// Whether a 401 may be cured by a fresh token.
    pub fn renews(&self) -> bool {
        matches!(self.credentials, ApiCredentials::OAuth { .. })
    }

    /// Drops the cached token (after a 401).
    pub fn forget(&self) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The credentials for the next request: Basic, or a bearer token fetched when none is
    /// cached or it is about to expire.
    pub async fn auth(&self) -> Result<Auth, ProviderError> {
        let (client_id, client_secret, token_url) = match &self.credentials {
            ApiCredentials::Basic { username, password } => {
                return Ok(Auth::Basic {
                    user: username.clone(),
                    password: password.clone(),
                });
            }
            ApiCredentials::OAuth {
                client_id,
                client_secret,
                token_url,
            } => (client_id, client_secret, token_url),
        };
        if let Some((token, until)) = self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
            && Instant::now() < until
        {
            return Ok(Auth::Bearer(token));
        }
        let req = Request::new(
            Method::POST,
            token_url.clone(),
            Auth::Basic {
                user: client_id.clone(),
                password: client_secret.clone(),
            },
            Body::Form(vec![("grant_type".into(), "client_credentials".into())]),
        )
        .idempotent();
        let resp = self.http.send(NAME, &req).await?;
        if !resp.status.is_success() {
            let status = resp.status.as_u16();
            return Err(ProviderError::refused(
                NAME,
                format!("the OAuth token request was refused (HTTP {status}): check client_id and client_secret"),
            )
            .with_code("oauth_refused"));
        }
        let v = resp.json(NAME)?;
        let token = v
            .get("access_token")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| ProviderError::malformed(NAME, "token response without access_token"))?
            .to_string();
        let lifetime = Duration::from_secs(
            v.get("expires_in")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(3600),
        );
        let until = Instant::now() + lifetime.saturating_sub(EARLY);
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some((token.clone(), until));
        Ok(Auth::Bearer(token))
    }
}
