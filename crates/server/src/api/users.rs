//! `/v1/users`: people who sign in to the dashboard with a password.

use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::passwords::{self, PasswordError};
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_store::{NewUser, Role, UserPatch};

/// A sign-in address, trimmed and lower-cased, or a 422 naming `email`.
pub fn checked_email(raw: &str) -> ApiResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid(
            "email",
            format!("email: {raw:?} is not an email address"),
        ))
    }
}

/// The Argon2id hash of a new password, or a 422 naming `password`.
pub async fn hashed(password: String) -> ApiResult<String> {
    passwords::hash_off_thread(password)
        .await
        .map_err(|e| match e {
            PasswordError::Hash(cause) => ApiError::internal(cause),
            other => ApiError::invalid("password", format!("password: {other}")),
        })
}

/// A user to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Sign-in address.
    email: String,
    /// Display name.
    #[serde(default)]
    name: String,
    /// owner, admin, operator or viewer.
    #[schema(value_type = String)]
    role: Role,
    /// At least 10 characters.
    password: String,
}

fn within_own_role(auth: &Auth, role: Role) -> ApiResult<()> {
    if role > auth.role {
        return Err(ApiError::forbidden(format!(
            "a {} cannot give the {role} role",
            auth.role
        )));
    }
    Ok(())
}

/// Creates a user who can sign in to the dashboard.
#[utoipa::path(post, path = "/v1/users", tag = "access", request_body = CreateUser,
    responses((status = 201, description = "The user"), (status = 422, description = "Invalid field")))]
pub async fn create(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(body): Json<CreateUser>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Admin)?;
    within_own_role(&auth, body.role)?;
    let email = checked_email(&body.email)?;
    let hash = hashed(body.password).await?;
    let user = state
        .store
        .create_user(NewUser {
            org_id: auth.org(),
            email: &email,
            name: body.name.trim(),
            role: body.role,
            password_hash: &hash,
        })
        .await?
        .ok_or_else(|| ApiError::invalid("email", "email: this address already has an account"))?;
    Ok((StatusCode::CREATED, axum::Json(json!(user))))
}

/// Lists the organisation's users.
#[utoipa::path(get, path = "/v1/users", tag = "access", responses((status = 200, description = "Users")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    Ok(axum::Json(
        json!({ "data": state.store.users(auth.org()).await? }),
    ))
}

/// Changes to a user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// New display name.
    name: Option<String>,
    /// New role.
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
    /// New password (ends the user's sessions).
    password: Option<String>,
    /// Disable (ends the user's sessions) or enable.
    disabled: Option<bool>,
}

/// Renames, changes the role or password of, disables or enables a user. Admins change
/// anyone up to their own role; anyone may change their own name and password.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "access", request_body = UpdateUser,
    responses((status = 200, description = "The user"), (status = 404, description = "No such user")))]
pub async fn update(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Json(body): Json<UpdateUser>,
) -> ApiResult<axum::Json<Value>> {
    let own = auth.user_id.as_deref() == Some(id.as_str());
    if !own || body.role.is_some() || body.disabled.is_some() {
        auth.require(Role::Admin)?;
    }
    let current = state
        .store
        .user(auth.org(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    within_own_role(&auth, current.role)?;
    if let Some(role) = body.role {
        within_own_role(&auth, role)?;
    }
    let password_hash = match body.password {
        Some(p) => Some(hashed(p).await?),
        None => None,
    };
    let patch = UserPatch {
        name: body.name.map(|n| n.trim().to_string()),
        role: body.role,
        password_hash,
        disabled: body.disabled,
    };
    state.store.update_user(auth.org(), &id, &patch).await?;
    state.forget_keys();
    let user = state
        .store
        .user(auth.org(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(axum::Json(json!(user)))
}

#[cfg(test)]
mod tests {
    use super::checked_email;

    #[test]
    fn addresses_are_normalised_or_refused() {
        assert_eq!(
            checked_email(" Ada@Example.COM ").ok().as_deref(),
            Some("ada@example.com")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@.com",
        ] {
            assert!(checked_email(bad).is_err(), "{bad:?}");
        }
    }
}
