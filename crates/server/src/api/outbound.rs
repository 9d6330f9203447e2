//! What sending a message and placing a call share before anything is stored: the
//! recipient checks (consent lists, quiet hours) and the routing plan.

use crate::dispatch::{Outbound, PlanStep};
use crate::error::{ApiError, ApiResult};
use crate::state::Shared;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveTime;
use serde::Deserialize;
use serde_json::json;
use switchyard_core::number::E164;
use switchyard_core::rating::Usage;
use switchyard_core::timezone::{self, Contact, QuietHours};
use switchyard_core::{Capability, Channel, Decision, RouteRequest, Strategy};
use switchyard_store::{Created, KeyClaim, Outbox, PhoneNumber, now_ms};

/// Routing options a send may carry.
#[derive(Debug, Default)]
pub struct RouteOptions {
    /// Provider id to use if eligible.
    pub provider: Option<String>,
    /// Routing strategy (default: the organisation's).
    pub strategy: Option<Strategy>,
    /// Highest acceptable price per unit (segment or minute).
    pub max_rate: Option<rust_decimal::Decimal>,
    /// Capabilities the provider must have besides the channel's.
    pub capabilities: Vec<Capability>,
    /// The sender, when the caller chose one: its provider is then the only one tried.
    pub from: Option<String>,
    /// A number pool to take the sender from.
    pub pool: Option<String>,
    /// The campaign the send belongs to (its `metadata.campaign`), whose budgets it counts
    /// against.
    pub campaign: Option<String>,
}

/// The campaign a send names in its metadata (`"campaign": "spring-sale"`).
pub fn campaign_of(metadata: &serde_json::Value) -> Option<String> {
    metadata
        .get("campaign")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// A send's `from`: one of the organisation's numbers, or `{"pool": "name"}` to take one
/// from a number pool at send time.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FromSpec {
    /// An E.164 number the organisation owns.
    Number(String),
    /// A number pool.
    Pool {
        /// The pool's name.
        pool: String,
    },
}

/// The sender number and pool a `from` names.
pub fn sender_of(from: &Option<FromSpec>) -> ApiResult<(Option<String>, Option<String>)> {
    Ok(match from {
        Some(FromSpec::Number(raw)) => (Some(super::e164_field("from", raw)?.to_string()), None),
        Some(FromSpec::Pool { pool }) if pool.trim().is_empty() => {
            return Err(ApiError::invalid("from.pool", "from.pool must name a pool"));
        }
        Some(FromSpec::Pool { pool }) => (None, Some(pool.clone())),
        None => (None, None),
    })
}

/// A local-time window in which the recipient must not be contacted, e.g. 21:00–08:00.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursSpec {
    /// `HH:MM`, local to the recipient.
    start: String,
    /// `HH:MM`, local to the recipient.
    end: String,
}

fn clock(field: &str, text: &str) -> ApiResult<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| ApiError::invalid(field, format!("{field} must be HH:MM, not {text:?}")))
}

impl QuietHoursSpec {
    fn window(&self) -> ApiResult<QuietHours> {
        Ok(QuietHours {
            start: clock("quiet_hours.start", &self.start)?,
            end: clock("quiet_hours.end", &self.end)?,
        })
    }
}

/// Refuses a recipient on the organisation's opt-out or do-not-contact lists for the
/// channel, or one inside the given quiet hours in any time zone its number may be in (a
/// number whose zone is unknown is refused too: the caller asked for the check).
pub async fn check_recipient(
    state: &Shared,
    org: &str,
    channel: &str,
    to: &E164,
    quiet: Option<&QuietHoursSpec>,
) -> ApiResult<()> {
    let to_text = to.to_string();
    if let Some(block) = state.store.contact_block(org, channel, &to_text).await? {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "recipient_blocked",
            format!("{to_text} may not be contacted on {channel}"),
        )
        .with_details(json!({ "field": "to", "block": block })));
    }
    let Some(quiet) = quiet else {
        return Ok(());
    };
    let window = quiet.window()?;
    let now = chrono::Utc::now();
    let refuse = |message: String, detail: serde_json::Value| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "quiet_hours", message)
            .with_details(json!({ "field": "to", "quiet_hours": detail }))
    };
    match timezone::check(to.digits(), now, &window) {
        Contact::Allowed => Ok(()),
        Contact::Quiet { zone, local_time } => {
            let next = timezone::next_allowed(to.digits(), now, &window).map(|t| t.to_rfc3339());
            Err(refuse(
                format!(
                    "it is {local_time} in {zone}, inside the quiet hours {}–{}",
                    quiet.start, quiet.end
                ),
                json!({ "zone": zone, "local_time": local_time, "next_allowed": next }),
            ))
        }
        Contact::UnknownZone => Err(refuse(
            format!("the time zone of {to_text} is unknown, so quiet hours cannot be checked"),
            json!({ "zone": null }),
        )),
    }
}

/// A routing decision and the plan drawn from it.
pub struct Routed {
    /// One step per routed provider that has a usable sender number.
    pub plan: Vec<PlanStep>,
    /// The decision, as the routing API explains it.
    pub decision: Decision,
    /// With a pool: which number was chosen, why, and which were skipped and why.
    pub sender: Option<serde_json::Value>,
    /// What the send's budgets admitted of its expected cost.
    pub budgets: Vec<crate::spend::Admission>,
}

impl Routed {
    /// The decision as stored with the send: the routing decision, with the pool's choice
    /// under `sender` when there was one.
    pub fn decision_json(&self) -> ApiResult<String> {
        let mut v = serde_json::to_value(&self.decision).map_err(ApiError::internal)?;
        if let Some(sender) = &self.sender {
            v["sender"] = sender.clone();
        }
        if !self.budgets.is_empty() {
            v["budgets"] = serde_json::to_value(&self.budgets).map_err(ApiError::internal)?;
        }
        serde_json::to_string(&v).map_err(ApiError::internal)
    }

    /// Gives back what routing this send reserved, when it will not go out (a replay of
    /// an earlier request): its budget admissions and its pool number's use.
    pub async fn give_back(&self, state: &Shared) {
        crate::spend::give_back(state, &self.budgets).await;
        let Some(sender) = &self.sender else { return };
        let (Some(number), Some(day), Some(channel)) = (
            sender["number_id"].as_str(),
            sender["pool_usage"]["day"].as_str(),
            sender["pool_usage"]["channel"].as_str(),
        ) else {
            return;
        };
        state.pools.forget();
        if let Err(e) = state.store.return_use(number, day, channel).await {
            tracing::warn!(number, error = %e, "pool use not returned");
        }
    }

    /// The response to a send: the stored record, with the chosen sender as `from` before
    /// a provider has taken it.
    pub fn shown(&self, mut view: serde_json::Value) -> serde_json::Value {
        if view["from"].is_null()
            && let Some(first) = self.plan.first()
        {
            view["from"] = json!(first.from);
        }
        view
    }
}

/// Routes a send and pairs each routed provider with a sender number of its that `usable`
/// accepts (`from`, if given, must be that number); 422 `no_route` when none is left.
pub async fn plan(
    state: &Shared,
    org: &str,
    to: &E164,
    channel: Channel,
    usage: Usage,
    options: &RouteOptions,
    usable: impl Fn(&PhoneNumber) -> bool,
) -> ApiResult<Routed> {
    let routing = state
        .routing
        .for_org(org)
        .await
        .map_err(ApiError::internal)?;
    let mut req = RouteRequest::new(to.digits(), channel, now_ms());
    req.country_code = Some(to.country_code());
    req.strategy = options.strategy;
    req.max_rate = options.max_rate;
    req.provider_override = options.provider.as_deref();
    req.usage = usage;
    req.required = options.capabilities.iter().copied().collect();
    req.seed = switchyard_core::scoring::mix64(now_ms() as u64 ^ to.digits().len() as u64);
    let decision = routing.router.decide(&req);
    if let Some(pool) = &options.pool {
        let (mut plan, sender) =
            crate::sender::plan_from_pool(state, org, pool, to, channel, &decision).await?;
        let budgets = crate::spend::admit(
            state,
            org,
            options.campaign.as_deref(),
            &decision,
            &mut plan,
        )
        .await?;
        return Ok(Routed {
            plan,
            decision,
            sender: Some(sender),
            budgets,
        });
    }

    let from = options.from.as_deref();
    let mut plan = Vec::new();
    for candidate in decision.primary.iter().chain(decision.alternates.iter()) {
        let numbers = state
            .store
            .provider_numbers(org, candidate.provider.as_str())
            .await?;
        let mut senders = numbers.iter().filter(|n| n.status == "active" && usable(n));
        let sender = match from {
            Some(f) => senders.find(|n| n.e164 == f),
            None => senders.next(),
        };
        if let Some(n) = sender {
            plan.push(PlanStep {
                provider_id: candidate.provider.to_string(),
                from: n.e164.clone(),
                reserve: None,
            });
        }
    }
    if plan.is_empty() {
        let why = match (&decision.refusal, from) {
            (Some(r), _) => r.to_string(),
            (None, Some(f)) => format!("no routed provider owns the sender {f}"),
            (None, None) => "no routed provider has a number that can carry this channel (sync or import numbers)".into(),
        };
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "no_route", why)
                .with_details(json!({ "field": "to", "decision": decision })),
        );
    }
    let budgets = crate::spend::admit(
        state,
        org,
        options.campaign.as_deref(),
        &decision,
        &mut plan,
    )
    .await?;
    Ok(Routed {
        plan,
        decision,
        sender: None,
        budgets,
    })
}

/// The caller's metadata as stored: a JSON object (absent means empty), compact, so that
/// listings can filter on it.
pub fn metadata_text(metadata: &serde_json::Value) -> ApiResult<String> {
    match metadata {
        serde_json::Value::Null => Ok("{}".into()),
        serde_json::Value::Object(_) => serde_json::to_string(metadata).map_err(ApiError::internal),
        _ => Err(ApiError::invalid(
            "metadata",
            "metadata must be a JSON object",
        )),
    }
}

/// The reports a provider sent about one of its messages or calls, oldest first.
pub async fn provider_events(
    state: &Shared,
    provider_id: &str,
    reference: &str,
) -> ApiResult<serde_json::Value> {
    let events: Vec<serde_json::Value> = state
        .store
        .events_about(provider_id, reference)
        .await?
        .iter()
        .filter_map(|detail| serde_json::from_str(detail).ok())
        .collect();
    Ok(serde_json::Value::Array(events))
}

fn same_request(request_hash: Option<&str>, claim: &KeyClaim) -> ApiResult<()> {
    if request_hash == Some(claim.request_hash.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        ))
    }
}

/// The id of the entry an earlier request with the same Idempotency-Key created; 422 when
/// that key came with another request.
pub async fn earlier(
    state: &Shared,
    outbox: Outbox,
    org: &str,
    claim: Option<&KeyClaim>,
) -> ApiResult<Option<String>> {
    let Some(claim) = claim else {
        return Ok(None);
    };
    match state
        .store
        .find_by_idempotency_key(outbox, org, &claim.key)
        .await?
    {
        Some((id, hash)) => {
            same_request(hash.as_deref(), claim)?;
            Ok(Some(id))
        }
        None => Ok(None),
    }
}

/// Dispatches a newly stored entry; returns the entry and whether it is a replay (a
/// concurrent request with the same key stored it first).
pub fn launch<T: Outbound + Clone>(
    state: &Shared,
    created: Created<T>,
    claim: Option<&KeyClaim>,
) -> ApiResult<(T, bool)> {
    match (created, claim) {
        (Created::New(record), _) => {
            tokio::spawn(crate::dispatch::dispatch(state.clone(), record.clone()));
            Ok((record, false))
        }
        (
            Created::Existing {
                record,
                request_hash,
            },
            Some(claim),
        ) => {
            same_request(request_hash.as_deref(), claim)?;
            Ok((record, true))
        }
        (Created::Existing { record, .. }, None) => Ok((record, true)),
    }
}

/// `202 Accepted` with the entry; a replay (an earlier request with the same
/// Idempotency-Key created it) says so in `Idempotent-Replayed`.
pub fn accepted(view: serde_json::Value, replayed: bool) -> Response {
    let mut response = (StatusCode::ACCEPTED, axum::Json(view)).into_response();
    if replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    response
}

/// Where a message's or call's detail is found.
pub struct Detail<'a> {
    /// Its outbox.
    pub outbox: Outbox,
    /// Its id.
    pub id: &'a str,
    /// The provider that took it and its id there, once taken.
    pub taken: Option<(&'a String, &'a String)>,
    /// JSON plan.
    pub plan: &'a str,
    /// JSON routing decision.
    pub decision: &'a str,
}

/// A message or call as listings show it: the record with its metadata parsed.
pub fn shown(record: serde_json::Value, metadata: &str) -> serde_json::Value {
    let mut v = record;
    v["metadata"] = serde_json::from_str(metadata).unwrap_or(serde_json::Value::Null);
    v
}

/// Adds what `GET /v1/…/{id}` shows besides the record: the attempts, the provider's
/// reports, the plan and the routing decision.
pub async fn add_detail(state: &Shared, v: &mut serde_json::Value, d: Detail<'_>) -> ApiResult<()> {
    v["attempts"] = json!(state.store.attempts(d.outbox, d.id).await?);
    v["costs"] = json!(state.store.cost_components(d.outbox, d.id).await?);
    if let Some((provider, reference)) = d.taken {
        v["events"] = provider_events(state, provider, reference).await?;
    }
    v["plan"] = serde_json::from_str(d.plan).unwrap_or(serde_json::Value::Null);
    v["decision"] = serde_json::from_str(d.decision).unwrap_or(serde_json::Value::Null);
    Ok(())
}

/// A page of a listing as `{data, next_cursor}`, each item shown by `show`.
pub fn page<T>(
    page: switchyard_store::Page<T>,
    show: impl Fn(&T) -> serde_json::Value,
) -> axum::Json<serde_json::Value> {
    let data: Vec<serde_json::Value> = page.items.iter().map(show).collect();
    axum::Json(json!({ "data": data, "next_cursor": page.next_cursor }))
}
