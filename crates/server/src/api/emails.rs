//! `/v1/emails`: send email through least-cost routing with failover across email
//! providers, and follow it; `/v1/suppressions`: the addresses not to mail.

use super::listing::OutboxQuery;
use super::outbound;
use crate::dispatch::{self, PlanStep};
use crate::email::compose::{self, Composed, LinkSettings, SendEmail, TrackedBy};
use crate::error::{ApiError, ApiResult};
use crate::json::UploadJson;
use crate::middleware::{Auth, IdempotencyClaim};
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::rating::Usage;
use switchyard_core::{Capability, Channel, RouteRequest};
use switchyard_store::{EmailRecord, NewEmail, Outbox, Role, Suppression};

fn shown(e: &EmailRecord) -> Value {
    let mut v = outbound::shown(json!(e), &e.metadata);
    if let Ok(content) = serde_json::from_str::<Value>(&e.content) {
        for key in ["from", "to", "cc", "bcc", "reply_to", "tags", "headers"] {
            v[key] = content[key].clone();
        }
    }
    v
}

/// Sends an email: checks every field, refuses suppressed recipients, renders the
/// template, adds unsubscribe headers and tracking, routes among email providers that can
/// carry it (attachments, tracking, size), stores it with its plan and dispatches it.
/// Answers 202 once stored.
#[utoipa::path(post, path = "/v1/emails", tag = "emails", request_body = SendEmail,
    responses((status = 202, description = "Stored and being sent"), (status = 422, description = "Invalid field, suppressed recipient, attachment too large, missing variable or no route")))]
pub async fn send(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    claim: Option<Extension<IdempotencyClaim>>,
    UploadJson(body): UploadJson<SendEmail>,
) -> ApiResult<Response> {
    auth.require(Role::Operator)?;
    let org = auth.org();
    let claim = claim.map(|Extension(c)| c.0);
    if let Some(id) = outbound::earlier(&state, Outbox::Emails, org, claim.as_ref()).await? {
        let e = state
            .store
            .email(org, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("email"))?;
        return Ok(outbound::accepted(shown(&e), true));
    }
    let (html, subject) = render(&state, org, &body).await?;
    let mut composed = compose::check(&body, html, subject)?;
    refuse_suppressed(&state, org, &composed).await?;
    composed.request.attachments = compose::attachments(&body.attachments).await?;
    let email_id = switchyard_store::new_id();
    let links = LinkSettings {
        public_url: &state.public_url,
        key: state.master_key.link_key(),
    };
    compose::finish(&mut composed, &email_id, body.tracking, &links);
    if composed.size_bytes > compose::MAX_EMAIL_BYTES {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email_too_large",
            format!(
                "the email is {} bytes as sent; the most is {}",
                composed.size_bytes,
                compose::MAX_EMAIL_BYTES
            ),
        )
        .with_details(json!({ "field": "attachments" })));
    }
    let (plan, decision) = route(&state, org, &body, &composed).await?;
    let request = &composed.request;
    let stored = state
        .store
        .insert_email(&NewEmail {
            id: email_id,
            org_id: org.to_string(),
            kind: composed.kind.into(),
            to_address: composed.addresses.first().cloned().unwrap_or_default(),
            subject: request.subject.clone(),
            content: serde_json::to_string(request).map_err(ApiError::internal)?,
            metadata: outbound::metadata_text(&body.metadata)?,
            recipients: u32::try_from(composed.addresses.len()).unwrap_or(u32::MAX),
            attachments: u32::try_from(request.attachments.len()).unwrap_or(u32::MAX),
            size_bytes: composed.size_bytes,
            plan: serde_json::to_string(&plan).map_err(ApiError::internal)?,
            decision: serde_json::to_string(&decision).map_err(ApiError::internal)?,
            lease_ms: dispatch::LEASE_MS,
            idempotency: claim.clone(),
        })
        .await?;
    let (stored, replayed) = outbound::launch(&state, stored, claim.as_ref())?;
    Ok(outbound::accepted(shown(&stored), replayed))
}

/// The HTML body and the subject: as given, or rendered from the template with the
/// variables (a variable the template uses and the caller did not give is a 422).
async fn render(
    state: &Shared,
    org: &str,
    body: &SendEmail,
) -> ApiResult<(Option<String>, String)> {
    let Some(name) = &body.template else {
        return Ok((body.html.clone(), body.subject.clone()));
    };
    if body.html.is_some() {
        return Err(ApiError::invalid("html", "give either html or template"));
    }
    let t = state
        .store
        .template(org, name)
        .await?
        .filter(|t| t.channel == "email")
        .ok_or_else(|| ApiError::invalid("template", format!("no email template {name}")))?;
    let vars = if body.variables.is_null() {
        json!({})
    } else {
        body.variables.clone()
    };
    let html = switchyard_engine::templates::render(&t.body, &vars)
        .map_err(|e| super::templates::template_error("template", &e))?;
    let subject = switchyard_engine::templates::render(&body.subject, &vars)
        .map_err(|e| super::templates::template_error("subject", &e))?;
    Ok((Some(html), subject))
}

/// 422 `suppressed` naming the first recipient on the suppression list and why.
async fn refuse_suppressed(state: &Shared, org: &str, c: &Composed) -> ApiResult<()> {
    let marketing = c.kind == "marketing";
    let found = state
        .store
        .suppressed_among(org, &c.addresses, marketing)
        .await?;
    let Some(s) = found.first() else {
        return Ok(());
    };
    let field = c
        .request
        .to
        .iter()
        .position(|m| m.address.eq_ignore_ascii_case(&s.address))
        .map_or_else(|| "to".to_string(), |i| format!("to[{i}]"));
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "suppressed",
        format!(
            "{} is on the suppression list ({}{})",
            s.address,
            s.reason,
            if s.scope == "marketing" {
                ": marketing email only"
            } else {
                ""
            }
        ),
    )
    .with_details(
        json!({ "field": field, "address": s.address, "reason": s.reason, "scope": s.scope }),
    ))
}

/// Routes among the email providers that can carry this email, each with the sender.
async fn route(
    state: &Shared,
    org: &str,
    body: &SendEmail,
    c: &Composed,
) -> ApiResult<(Vec<PlanStep>, switchyard_core::Decision)> {
    let routing = state
        .routing
        .for_org(org)
        .await
        .map_err(ApiError::internal)?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut req = RouteRequest::new("", Channel::Email, now);
    req.strategy = body.strategy;
    req.max_rate = body.max_rate;
    req.provider_override = body.provider.as_deref();
    req.usage = Usage::Email {
        recipients: u32::try_from(c.addresses.len()).unwrap_or(u32::MAX),
        attachments: u32::try_from(c.request.attachments.len()).unwrap_or(u32::MAX),
    };
    req.size_bytes = Some(c.size_bytes);
    if !c.request.attachments.is_empty() {
        req.required.insert(Capability::EmailAttachments);
    }
    if body.tracking.by == TrackedBy::Provider && (body.tracking.opens || body.tracking.clicks) {
        req.required.insert(Capability::EmailTracking);
    }
    req.seed = switchyard_core::scoring::mix64(now as u64);
    let decision = routing.router.decide(&req);
    let plan: Vec<PlanStep> = decision
        .primary
        .iter()
        .chain(decision.alternates.iter())
        .map(|candidate| PlanStep {
            reserve: None,
            provider_id: candidate.provider.to_string(),
            from: c.request.from.address.clone(),
        })
        .collect();
    if plan.is_empty() {
        let why = decision.refusal.as_ref().map_or_else(
            || "no email provider can carry this email".into(),
            ToString::to_string,
        );
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "no_route", why)
                .with_details(json!({ "field": "to", "decision": decision })),
        );
    }
    Ok((plan, decision))
}

/// The organisation's emails, newest first.
#[utoipa::path(get, path = "/v1/emails", tag = "emails", params(OutboxQuery), responses((status = 200, description = "A page of emails"), (status = 422, description = "A malformed filter")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<OutboxQuery>,
) -> ApiResult<axum::Json<Value>> {
    let page = state
        .store
        .emails_page(auth.org(), &q.filter()?, q.limit())
        .await?;
    Ok(outbound::page(page, shown))
}

/// One email with every attempt, every event (provider reports, opens, clicks,
/// unsubscribes), its plan and routing decision.
#[utoipa::path(get, path = "/v1/emails/{id}", tag = "emails", responses((status = 200, description = "The email"), (status = 404, description = "No such email")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    // Events first: an event is written after the status it moves, so every event read here
    // has its status in the record read next.
    let events = state.store.email_events(&id).await?;
    let e = state
        .store
        .email(auth.org(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("email"))?;
    let mut v = shown(&e);
    v["attempts"] = json!(state.store.attempts(Outbox::Emails, &e.id).await?);
    v["costs"] = json!(state.store.cost_components(Outbox::Emails, &e.id).await?);
    v["events"] = json!(events);
    v["plan"] = serde_json::from_str(&e.plan).unwrap_or(Value::Null);
    v["decision"] = serde_json::from_str(&e.decision).unwrap_or(Value::Null);
    Ok(axum::Json(v))
}

/// A page of the suppression list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SuppressionQuery {
    /// Addresses after this one (the previous page's `next_cursor`).
    #[serde(default)]
    cursor: Option<String>,
    /// Page size (default 100, at most 1,000).
    #[serde(default)]
    limit: Option<usize>,
    /// `json` (default) or `csv` (the whole list, for export).
    #[serde(default)]
    format: Option<String>,
}

/// The addresses not to mail, in address order; `format=csv` exports the whole list.
#[utoipa::path(get, path = "/v1/suppressions", tag = "emails", params(SuppressionQuery), responses((status = 200, description = "A page of the list, or all of it as CSV")))]
pub async fn list_suppressions(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<SuppressionQuery>,
) -> ApiResult<Response> {
    let org = auth.org();
    if q.format.as_deref() == Some("csv") {
        let mut out = String::from("address,reason,scope,email_id,created_at\n");
        let mut after: Option<String> = None;
        loop {
            let page = state
                .store
                .suppressions_page(org, after.as_deref(), 1000)
                .await?;
            for s in &page.items {
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    s.address,
                    s.reason,
                    s.scope,
                    s.email_id.as_deref().unwrap_or(""),
                    s.created_at
                ));
            }
            match page.next_cursor {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response());
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let page = state
        .store
        .suppressions_page(org, q.cursor.as_deref(), limit)
        .await?;
    Ok(outbound::page(page, |s| json!(s)).into_response())
}

/// An address to suppress by hand.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSuppression {
    /// The address.
    address: String,
    /// `all` (default) or `marketing`.
    #[serde(default)]
    scope: Option<String>,
    /// Why, for people reading the list.
    #[serde(default)]
    note: Option<String>,
}

/// Adds an address to the suppression list (reason `manual`).
#[utoipa::path(post, path = "/v1/suppressions", tag = "emails", request_body = NewSuppression, responses((status = 201, description = "Suppressed"), (status = 422, description = "Not an address")))]
pub async fn add_suppression(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    crate::json::Json(body): crate::json::Json<NewSuppression>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    auth.require(Role::Operator)?;
    let mailbox = switchyard_providers::capability::Mailbox::parse(&body.address)
        .map_err(|why| ApiError::invalid("address", format!("address: {why}")))?;
    let scope = body.scope.as_deref().unwrap_or("all");
    if !matches!(scope, "all" | "marketing") {
        return Err(ApiError::invalid("scope", "scope must be all or marketing"));
    }
    let entry = Suppression {
        address: mailbox.address.to_lowercase(),
        reason: "manual".into(),
        scope: scope.into(),
        email_id: None,
        detail: body.note,
        created_at: chrono::Utc::now().timestamp_millis(),
    };
    state.store.suppress(auth.org(), &entry).await?;
    Ok((StatusCode::CREATED, axum::Json(json!(entry))))
}

/// Takes an address off the suppression list (it can be mailed again).
#[utoipa::path(delete, path = "/v1/suppressions/{address}", tag = "emails", responses((status = 204, description = "Removed"), (status = 404, description = "Not on the list")))]
pub async fn remove_suppression(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(address): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Operator)?;
    if state.store.unsuppress(auth.org(), &address).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("suppression"))
    }
}
