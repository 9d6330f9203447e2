//! Layers around every `/v1` request: authentication, idempotency keys on POST, the audit log
//! of mutating requests; and request metrics around everything.

use crate::error::ApiError;
use crate::state::Shared;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::time::Instant;
use switchyard_core::features::FeatureSettings;
use switchyard_store::{
    ApiKey, KeyClaim, NewAuditEntry, Reservation, Role, Session, SessionSubject,
};

/// The authenticated caller, put in the request's extensions: an API key, or a browser
/// signed in to the dashboard (with a password or a key).
#[derive(Debug, Clone)]
pub struct Auth {
    /// The caller's organisation.
    pub org_id: String,
    /// What the caller may do now.
    pub role: Role,
    /// Who acts, for the audit log: the key's id, or `user:` and the user's id.
    pub actor: String,
    /// The key used, directly or to sign in (none for a user).
    pub key_id: Option<String>,
    /// The signed-in user's id, when a user acts.
    pub user_id: Option<String>,
    /// The user's own feature toggles (default for keys).
    pub user_features: Option<FeatureSettings>,
}

impl Auth {
    /// The caller's organisation.
    pub fn org(&self) -> &str {
        &self.org_id
    }

    /// Refuses callers below `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {role} role; the caller has {}",
                self.role
            )))
        }
    }

    fn from_key(key: ApiKey) -> Self {
        Auth {
            org_id: key.org_id,
            role: key.role,
            actor: key.id.clone(),
            key_id: Some(key.id),
            user_id: None,
            user_features: None,
        }
    }

    fn from_session(session: &Session) -> Self {
        let (actor, key_id, user_id) = match &session.subject {
            SessionSubject::User(id) => (format!("user:{id}"), None, Some(id.clone())),
            SessionSubject::Key(id) => (id.clone(), Some(id.clone()), None),
        };
        let user_features = user_id.as_ref().map(|_| {
            serde_json::from_str(&session.user_features).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "a user's feature document is unreadable; using the organisation's");
                FeatureSettings::default()
            })
        });
        Auth {
            org_id: session.org_id.clone(),
            role: session.role,
            actor,
            key_id,
            user_id,
            user_features,
        }
    }
}

fn unauthorized(message: &str) -> Response {
    let mut resp = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}

/// Marks a response to a request that changed nothing (a POST that only computes, such as a
/// routing decision), so it is not written to the audit log.
#[derive(Debug, Clone, Copy)]
pub struct ReadOnly;

/// POST routes whose handlers claim the Idempotency-Key in the same write as the message or
/// call they create, so that a crash can never leave a key claimed without its entry (or an
/// entry without its key).
const ENTRY_ROUTES: [&str; 3] = ["/v1/messages", "/v1/calls", "/v1/emails"];

/// The Idempotency-Key of a request to one of [`ENTRY_ROUTES`], for its handler to claim.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim(pub KeyClaim);

/// What a request presents to prove who sends it, copied out of the headers before any
/// await (the request itself cannot be held across one).
enum Credentials {
    /// `Authorization: Bearer <key>`.
    Key(String),
    /// The dashboard's session cookie, with the `X-CSRF-Token` header if any.
    Session { token: String, csrf: Option<String> },
    /// Neither.
    Missing,
}

impl Credentials {
    fn of(headers: &HeaderMap) -> Self {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(secret) = bearer {
            return Credentials::Key(secret.trim().to_string());
        }
        match crate::dashboard::session::cookie_token(headers) {
            Some(token) => Credentials::Session {
                token,
                csrf: crate::dashboard::session::csrf_header(headers).map(str::to_string),
            },
            None => Credentials::Missing,
        }
    }
}

/// The caller of a request: an API key in `Authorization: Bearer`, or else a dashboard
/// session cookie, whose changes must carry the session's CSRF token in `X-CSRF-Token`.
async fn authenticate(
    state: &Shared,
    credentials: Credentials,
    method: &Method,
) -> Result<Auth, Response> {
    let (token, csrf) = match credentials {
        Credentials::Key(secret) => {
            return match state.resolve_key(&secret).await {
                Ok(Some(k)) => Ok(Auth::from_key(k)),
                Ok(None) => Err(unauthorized("the API key is not valid")),
                Err(e) => Err(ApiError::internal(e).into_response()),
            };
        }
        Credentials::Session { token, csrf } => (token, csrf),
        Credentials::Missing => {
            return Err(unauthorized(
                "send an API key as Authorization: Bearer <key>, or sign in to the dashboard",
            ));
        }
    };
    let session = match state.resolve_session(&token).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(unauthorized("the session has ended; sign in again")),
        Err(e) => return Err(ApiError::internal(e).into_response()),
    };
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !crate::dashboard::session::csrf_is(csrf.as_deref(), &session.csrf_token) {
        return Err(ApiError::forbidden(
            "changes made through a dashboard session need its X-CSRF-Token header",
        )
        .into_response());
    }
    Ok(Auth::from_session(&session))
}

/// Authenticates, enforces feature toggles, applies idempotency keys, and audits mutating
/// requests.
pub async fn v1(State(state): State<Shared>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let auth = match authenticate(&state, Credentials::of(req.headers()), &method).await {
        Ok(auth) => auth,
        Err(resp) => return resp,
    };
    if let Err(e) = crate::features::gate(&state, &auth, &method, &path).await {
        return e.into_response();
    }
    req.extensions_mut().insert(auth.clone());
    let idem_key = (method == Method::POST)
        .then(|| {
            req.headers()
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .flatten();
    let response = match idem_key {
        Some(k) => with_idempotency(&state, &auth, &k, req, next).await,
        None => next.run(req).await,
    };
    let read_only = response.extensions().get::<ReadOnly>().is_some();
    if !read_only && method != Method::GET && method != Method::HEAD && method != Method::OPTIONS {
        let entry = NewAuditEntry {
            org_id: auth.org().to_string(),
            actor: auth.actor.clone(),
            action: format!("{method} {path}"),
            target: path,
            outcome: response.status().as_u16(),
            detail: "{}".into(),
        };
        if let Err(e) = state.store.insert_audit(&[entry]).await {
            tracing::error!(error = %e, "audit log write failed");
        }
    }
    response
}

async fn with_idempotency(
    state: &Shared,
    auth: &Auth,
    key: &str,
    req: Request,
    next: Next,
) -> Response {
    if key.is_empty() || key.len() > 255 {
        return ApiError::invalid(
            "Idempotency-Key",
            "Idempotency-Key must be 1 to 255 characters",
        )
        .into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.settings.max_upload_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            )
            .into_response();
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update(parts.uri.to_string());
    hasher.update(&bytes);
    let fingerprint = hex::encode(hasher.finalize());
    if ENTRY_ROUTES.contains(&parts.uri.path()) {
        let mut req = Request::from_parts(parts, Body::from(bytes));
        req.extensions_mut().insert(IdempotencyClaim(KeyClaim {
            key: key.to_string(),
            request_hash: fingerprint,
        }));
        return next.run(req).await;
    }
    match state
        .store
        .reserve_idempotency(auth.org(), key, &fingerprint)
        .await
    {
        Ok(Reservation::New) => {}
        Ok(Reservation::Replay { status, body }) => {
            let mut resp = Response::new(Body::from(body));
            *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return resp;
        }
        Ok(Reservation::InProgress) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still running",
            )
            .into_response();
        }
        Ok(Reservation::Mismatch) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            )
            .into_response();
        }
        Err(e) => return ApiError::internal(e).into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let stored = if parts.status.is_server_error() {
        state.store.release_idempotency(auth.org(), key).await
    } else {
        let text = String::from_utf8_lossy(&bytes);
        state
            .store
            .complete_idempotency(auth.org(), key, parts.status.as_u16(), &text)
            .await
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "idempotency record failed");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Counts requests and their latency by method, route and status.
pub async fn metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("switchyard_http_requests_total", &labels).increment(1);
    metrics::histogram!("switchyard_http_request_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Logs each request at debug level: method, path (never the query or body), status, time.
pub async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    tracing::debug!(%method, path, status = response.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    response
}
