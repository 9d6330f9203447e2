//! Signing in to the dashboard: with a user's password or an API key, into a session whose
//! token lives in an HttpOnly, SameSite=Strict cookie (Secure when served over HTTPS), and
//! whose CSRF token the page sends back in `X-CSRF-Token` with every change.

use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::passwords;
use crate::state::Shared;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;
use switchyard_store::{NewUser, Role, Session, SessionSubject, now_ms};

/// The session cookie's name.
pub const COOKIE: &str = "sy_session";

/// How long a session lasts from sign-in.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;

/// The session token in the request's cookies.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// The `X-CSRF-Token` header, if the request has one.
pub fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-csrf-token").and_then(|v| v.to_str().ok())
}

/// Whether `given` is the session's CSRF token (compared in constant time).
pub fn csrf_is(given: Option<&str>, expected: &str) -> bool {
    given.is_some_and(|g| constant_eq(g, expected))
}

/// Whether the request carries the session's CSRF token.
pub fn csrf_matches(headers: &HeaderMap, expected: &str) -> bool {
    csrf_is(csrf_header(headers), expected)
}

/// String equality whose time does not depend on where the strings differ.
fn constant_eq(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether the browser reached us over HTTPS: the public URL says so, or the proxy in front
/// does. Over plain HTTP a Secure cookie would not be kept, so it is set only then.
fn over_https(state: &Shared, headers: &HeaderMap) -> bool {
    state.public_url.starts_with("https://")
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

fn cookie(state: &Shared, headers: &HeaderMap, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if over_https(state, headers) {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Refuses a sign-in posted from another site (login CSRF): a browser always sends
/// `Origin` on a POST, and it must name the host the request went to.
fn same_origin(headers: &HeaderMap) -> ApiResult<()> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    if origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(ApiError::forbidden("sign-in from another site is refused"))
    }
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Opens a session and answers with its cookie and what the page needs.
async fn open(
    state: &Shared,
    headers: &HeaderMap,
    org_id: &str,
    subject: SessionSubject,
) -> ApiResult<Response> {
    let token = random_token();
    let csrf = random_token();
    state
        .store
        .open_session(org_id, &subject, &token, &csrf, now_ms() + SESSION_MS)
        .await?;
    let session = state
        .store
        .session(&token)
        .await?
        .ok_or_else(|| ApiError::internal("a session just opened cannot be read"))?;
    let mut resp = axum::Json(view(state, &session).await?).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        cookie(state, headers, &token, SESSION_MS / 1000),
    );
    Ok(resp)
}

async fn view(state: &Shared, s: &Session) -> ApiResult<serde_json::Value> {
    let org = state.store.org(&s.org_id).await?;
    let (user_id, key_id) = match &s.subject {
        SessionSubject::User(id) => (Some(id.clone()), None),
        SessionSubject::Key(id) => (None, Some(id.clone())),
    };
    Ok(json!({
        "signed_in": true,
        "org": org,
        "role": s.role,
        "label": s.label,
        "user_id": user_id,
        "key_id": key_id,
        "csrf_token": s.csrf_token,
        "expires_at": s.expires_at,
    }))
}

/// A sign-in: an email address and password, or an API key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    api_key: Option<String>,
}

fn wrong() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "the email address and password, or the API key, are not right",
    )
}

/// `POST /ui/login`.
pub async fn login(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<SignIn>,
) -> ApiResult<Response> {
    same_origin(&headers)?;
    match (body.api_key, body.email, body.password) {
        (Some(secret), None, None) => {
            let key = state.resolve_key(secret.trim()).await?.ok_or_else(wrong)?;
            open(&state, &headers, &key.org_id, SessionSubject::Key(key.id)).await
        }
        (None, Some(email), Some(password)) => {
            let address = email.trim().to_lowercase();
            if let Err(wait) = state.sign_in_throttle.check(&address) {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_sign_ins",
                    format!(
                        "too many wrong passwords for this address; try again in {} minutes",
                        wait.as_secs().div_ceil(60)
                    ),
                ));
            }
            let found = state.store.user_for_sign_in(&email).await?;
            let Some((user, hash)) = found else {
                // Spend the same time as a real check, so timing does not reveal accounts.
                let _ = passwords::verify_off_thread(password, DUMMY_HASH.clone()).await;
                state.sign_in_throttle.failed(&address);
                return Err(wrong());
            };
            if !passwords::verify_off_thread(password, hash).await {
                state.sign_in_throttle.failed(&address);
                return Err(wrong());
            }
            state.sign_in_throttle.succeeded(&address);
            open(
                &state,
                &headers,
                &user.org_id,
                SessionSubject::User(user.id),
            )
            .await
        }
        _ => Err(ApiError::invalid(
            "api_key",
            "send either email and password, or api_key",
        )),
    }
}

/// A hash of a random password, checked against when an address has no account.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| passwords::hash(&random_token()).unwrap_or_default());

/// `POST /ui/logout`: ends the session (needs its CSRF token) and clears the cookie.
pub async fn logout(State(state): State<Shared>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = cookie_token(&headers) {
        let session = state.resolve_session(&token).await?;
        if let Some(s) = session {
            if !csrf_matches(&headers, &s.csrf_token) {
                return Err(ApiError::forbidden(
                    "sign-out needs the X-CSRF-Token header",
                ));
            }
            state.store.end_session(&token).await?;
            state.forget_keys();
        }
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, cookie(&state, &headers, "", 0));
    Ok(resp)
}

/// `GET /ui/session`: who is signed in, or whether the first-run set-up is open.
pub async fn current(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<serde_json::Value>> {
    if let Some(token) = cookie_token(&headers)
        && let Some(s) = state.resolve_session(&token).await?
    {
        return Ok(axum::Json(view(&state, &s).await?));
    }
    let setup_open = setup_token(&state).is_some() && state.store.user_count().await? == 0;
    Ok(axum::Json(
        json!({ "signed_in": false, "setup_open": setup_open }),
    ))
}

fn setup_token(state: &Shared) -> Option<String> {
    state
        .setup_token
        .lock()
        .ok()
        .and_then(|t| t.as_ref().cloned())
}

/// The first account: an organisation and its owner.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    token: String,
    organisation: String,
    email: String,
    #[serde(default)]
    name: String,
    password: String,
}

/// `POST /ui/setup`: creates the first organisation and its owner, with the one-time token
/// `serve` printed; closed as soon as any user exists.
pub async fn setup(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Setup>,
) -> ApiResult<Response> {
    same_origin(&headers)?;
    let matches = setup_token(&state).is_some_and(|t| constant_eq(&t, body.token.trim()));
    if !matches || state.store.user_count().await? > 0 {
        return Err(ApiError::forbidden(
            "the set-up link is not valid or has been used; sign in instead",
        ));
    }
    let organisation = body.organisation.trim();
    if organisation.is_empty() {
        return Err(ApiError::invalid(
            "organisation",
            "organisation: give it a name",
        ));
    }
    let email = crate::api::users::checked_email(&body.email)?;
    let hash = crate::api::users::hashed(body.password).await?;
    let org = state.store.create_org(organisation).await?;
    let user = state
        .store
        .create_user(NewUser {
            org_id: &org.id,
            email: &email,
            name: body.name.trim(),
            role: Role::Owner,
            password_hash: &hash,
        })
        .await?
        .ok_or_else(|| ApiError::invalid("email", "email: this address already has an account"))?;
    if let Ok(mut t) = state.setup_token.lock() {
        *t = None;
    }
    open(&state, &headers, &org.id, SessionSubject::User(user.id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sy_session=abc; b=2"),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("abc"));
        h.insert(header::COOKIE, HeaderValue::from_static("sy_session="));
        assert_eq!(cookie_token(&h), None);
    }

    #[test]
    fn csrf_needs_the_exact_token() {
        let mut h = HeaderMap::new();
        assert!(!csrf_matches(&h, "abc"));
        h.insert("x-csrf-token", HeaderValue::from_static("abd"));
        assert!(!csrf_matches(&h, "abc"));
        h.insert("x-csrf-token", HeaderValue::from_static("abc"));
        assert!(csrf_matches(&h, "abc"));
        assert!(!csrf_matches(&h, "abcd"));
    }

    #[test]
    fn sign_in_from_another_site_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(same_origin(&h).is_err());
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        assert!(DUMMY_HASH.starts_with("$argon2id$"), "{}", *DUMMY_HASH);
        assert!(!passwords::verify("anything at all", &DUMMY_HASH));
    }
}
