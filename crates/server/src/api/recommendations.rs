//! Recommendations at `/v1/recommendations`, computed from the organisation's last days of
//! traffic (the usage rollups) and pool warnings, each with the figures behind it and the one
//! call that applies it (`POST /v1/recommendations/apply`).

use super::analytics::{Group, Range, sums};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::middleware::Auth;
use crate::provider_settings::ProviderSettings;
use crate::provisioner::{self, Wanted};
use crate::spend;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Query, State};
use chrono::{DateTime, Timelike, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchyard_core::advice::{Advice, Lane, Thresholds, numbers_to_add, recommend, usual_hour};
use switchyard_core::analytics::{HOUR_MS, hour_of};
use switchyard_store::{Dimension, Role};

/// Days read when none are asked for.
const DEFAULT_DAYS: u32 = 7;
/// Days a pool must have capped out in the period before numbers are recommended.
const CAPPED_DAYS: usize = 2;
/// Most numbers one apply call buys.
const MAX_BUY: u32 = 50;

/// Recommendations query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AdviceParams {
    /// Days of traffic to read, ending now (1–90, default 7).
    days: Option<String>,
}

/// A recommendation to apply, as listed under `apply.body`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Move `share` of `from`'s weight to `to` (weighted routing).
    ShiftTraffic {
        /// Provider losing traffic.
        from: String,
        /// Provider gaining it.
        to: String,
        /// Share of `from`'s weight to move (0–1, decimal text).
        #[schema(value_type = String)]
        share: Decimal,
    },
    /// Halve a provider's weight.
    LowerWeight {
        /// The provider.
        provider: String,
    },
    /// Buy numbers into a pool.
    AddNumbers {
        /// Pool name.
        pool: String,
        /// How many (1–50).
        count: u32,
        /// ISO country of the numbers (default US).
        #[serde(default)]
        country: Option<String>,
    },
}

fn names(providers: &[switchyard_store::ProviderRecord]) -> BTreeMap<String, String> {
    providers
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect()
}

fn pct(ratio: Decimal) -> String {
    format!(
        "{}%",
        (ratio * Decimal::ONE_HUNDRED).round_dp(1).normalize()
    )
}

fn shown(advice: &Advice, names: &BTreeMap<String, String>) -> Value {
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let (summary, apply) = match advice {
        Advice::ShiftTraffic {
            country,
            channel,
            currency,
            from,
            to,
            share,
            from_success,
            to_success,
            saving_per_day,
            ..
        } => (
            format!(
                "shift {} of {country} {channel} traffic from {} to {}: saves {saving_per_day} \
                 {currency} a day at equal quality ({} vs {})",
                pct(*share),
                name(from),
                name(to),
                pct(*from_success),
                pct(*to_success)
            ),
            json!({"action": "shift_traffic", "from": from, "to": to, "share": share.to_string()}),
        ),
        Advice::LowSuccess {
            provider,
            country,
            channel,
            success,
            floor,
            ..
        } => (
            format!(
                "{}'s success ratio to {country} ({channel}) is {}, under {}: lower its weight",
                name(provider),
                pct(*success),
                pct(*floor)
            ),
            json!({"action": "lower_weight", "provider": provider}),
        ),
    };
    json!({
        "summary": summary,
        "evidence": advice,
        "apply": { "method": "POST", "path": "/v1/recommendations/apply", "body": apply },
    })
}

/// Pools that capped out on several days of the range, with how many numbers they need.
async fn capped_pools(state: &Shared, org: &str, range: &Range) -> ApiResult<Vec<Value>> {
    let mut out = Vec::new();
    for pool in state.store.pool_records(org).await? {
        let capped: Vec<(String, u32)> = state
            .store
            .usage_warnings(org, &format!("pool:{}", pool.id))
            .await?
            .into_iter()
            .filter(|w| w.threshold >= 100 && w.created_at >= range.from_ms)
            .filter_map(|w| {
                let at = DateTime::<Utc>::from_timestamp_millis(w.created_at)?;
                Some((w.window, at.with_timezone(&range.tz).hour()))
            })
            .collect();
        if capped.len() < CAPPED_DAYS {
            continue;
        }
        let members = state
            .store
            .pool_members(&pool.id)
            .await?
            .iter()
            .filter(|m| m.status != "released")
            .count();
        let hours: Vec<u32> = capped.iter().map(|c| c.1).collect();
        let (Some(usual), add) = (usual_hour(&hours), numbers_to_add(members, &hours)) else {
            continue;
        };
        out.push(json!({
            "summary": format!(
                "number pool {} is capped out at {usual:02}:00 on {} of the last days: add {add} numbers",
                pool.name, capped.len()
            ),
            "evidence": {
                "kind": "pool_capped", "pool": pool.name, "members": members,
                "capped_days": capped.iter().map(|c| &c.0).collect::<Vec<_>>(),
                "usual_hour": usual, "numbers_to_add": add,
            },
            "apply": { "method": "POST", "path": "/v1/recommendations/apply",
                "body": {"action": "add_numbers", "pool": pool.name, "count": add} },
        }));
    }
    Ok(out)
}

/// What the organisation's last days of traffic say to change, largest saving first.
#[utoipa::path(get, path = "/v1/recommendations", tag = "analytics", params(AdviceParams),
    responses((status = 200, description = "Recommendations"), (status = 422, description = "Invalid parameter")))]
pub async fn list(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(p): Query<AdviceParams>,
) -> ApiResult<axum::Json<Value>> {
    let days = match p.days.as_deref() {
        None => DEFAULT_DAYS,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=90).contains(d))
            .ok_or_else(|| {
                ApiError::invalid(
                    "days",
                    format!("days must be a whole number from 1 to 90, not {text:?}"),
                )
            })?,
    };
    let org = auth.org();
    let to_ms = hour_of(Utc::now().timestamp_millis()) + HOUR_MS;
    let range = Range {
        from_ms: to_ms - i64::from(days) * 24 * HOUR_MS,
        to_ms,
        tz: spend::zone_of(&state, org).await?,
    };
    let groups = [
        Group::Column(Dimension::Provider),
        Group::Column(Dimension::Country),
        Group::Column(Dimension::Channel),
    ];
    let lanes: Vec<Lane> = sums(&state, org, &range, &groups, None)
        .await?
        .into_iter()
        .filter_map(|((labels, currency), counters)| {
            let [provider_id, country, channel]: [String; 3] = labels.try_into().ok()?;
            (channel != "numbers").then_some(Lane {
                provider_id,
                country,
                channel,
                currency,
                counters,
            })
        })
        .collect();
    let names = names(&state.store.all_providers(org).await?);
    let mut data: Vec<Value> = recommend(&lanes, days, &Thresholds::default())
        .iter()
        .map(|a| shown(a, &names))
        .collect();
    data.extend(capped_pools(&state, org, &range).await?);
    Ok(axum::Json(json!({ "days": days, "data": data })))
}

/// Integer weights for the given real ones: tenths, reduced by their common divisor.
fn whole_weights(real: &BTreeMap<String, Decimal>) -> BTreeMap<String, u32> {
    let tenths: BTreeMap<String, u32> = real
        .iter()
        .map(|(id, w)| {
            let t = (w * Decimal::TEN).round().to_u32().unwrap_or(0);
            (id.clone(), t)
        })
        .collect();
    let divisor = tenths
        .values()
        .copied()
        .filter(|t| *t > 0)
        .fold(0, gcd)
        .max(1);
    tenths
        .into_iter()
        .map(|(id, t)| (id, t / divisor))
        .collect()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Rewrites the organisation's provider weights so that `change` applies.
async fn reweigh(
    state: &Shared,
    org: &str,
    change: impl Fn(&mut BTreeMap<String, Decimal>) -> ApiResult<()>,
) -> ApiResult<Value> {
    let providers = state.store.all_providers(org).await?;
    let settings: BTreeMap<String, ProviderSettings> = providers
        .iter()
        .map(|p| {
            let s: ProviderSettings = serde_json::from_str(&p.settings).unwrap_or_default();
            (p.id.clone(), s)
        })
        .collect();
    let mut real: BTreeMap<String, Decimal> = settings
        .iter()
        .map(|(id, s)| (id.clone(), Decimal::from(s.weight)))
        .collect();
    change(&mut real)?;
    let weights = whole_weights(&real);
    for p in &providers {
        let (Some(old), Some(new)) = (settings.get(&p.id), weights.get(&p.id)) else {
            continue;
        };
        if old.weight == *new {
            continue;
        }
        let mut s = old.clone();
        s.weight = *new;
        let mut updated = p.clone();
        updated.settings = serde_json::to_string(&s).map_err(ApiError::internal)?;
        state.store.update_provider(&updated).await?;
    }
    super::providers::routing_changed(state, org).await?;
    Ok(json!({ "weights": weights }))
}

fn known(real: &BTreeMap<String, Decimal>, field: &str, id: &str) -> ApiResult<()> {
    if real.contains_key(id) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("there is no provider {id:?}"),
        ))
    }
}

/// Applies a recommendation: moves weight between providers (used by the `weighted`
/// strategy), or buys numbers into a pool.
#[utoipa::path(post, path = "/v1/recommendations/apply", tag = "analytics", request_body = Action,
    responses((status = 200, description = "Applied: what changed"), (status = 422, description = "Invalid field"), (status = 502, description = "A provider failed while buying")))]
pub async fn apply(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Json(action): Json<Action>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(Role::Admin)?;
    let org = auth.org();
    match action {
        Action::ShiftTraffic { from, to, share } => {
            if share <= Decimal::ZERO || share > Decimal::ONE {
                return Err(ApiError::invalid(
                    "share",
                    "share must be over 0 and at most 1",
                ));
            }
            let done = reweigh(&state, org, |w| {
                known(w, "from", &from)?;
                known(w, "to", &to)?;
                let moved = w[&from] * share;
                *w.entry(from.clone()).or_default() -= moved;
                *w.entry(to.clone()).or_default() += moved;
                Ok(())
            })
            .await?;
            Ok(axum::Json(done))
        }
        Action::LowerWeight { provider } => {
            let done = reweigh(&state, org, |w| {
                known(w, "provider", &provider)?;
                *w.entry(provider.clone()).or_default() /= Decimal::TWO;
                Ok(())
            })
            .await?;
            Ok(axum::Json(done))
        }
        Action::AddNumbers {
            pool,
            count,
            country,
        } => {
            if !(1..=MAX_BUY).contains(&count) {
                return Err(ApiError::invalid(
                    "count",
                    format!("count must be 1 to {MAX_BUY}"),
                ));
            }
            if state.store.pool_by_name(org, &pool).await?.is_none() {
                return Err(ApiError::invalid(
                    "pool",
                    format!("there is no pool named {pool:?}"),
                ));
            }
            let provider = provisioner::own_buyers(&state, org, &[])
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    ApiError::invalid("pool", "no provider of the organisation manages numbers")
                })?;
            let d = Wanted::default();
            let wanted = Wanted {
                country: country.unwrap_or(d.country),
                ..d
            };
            wanted.validate("country")?;
            let mut bought = Vec::new();
            for _ in 0..count {
                let number = provisioner::buy(&state, &provider, &wanted, false).await?;
                provisioner::join_pool(&state, org, &pool, &number.id).await?;
                bought.push(number.e164);
            }
            Ok(axum::Json(json!({ "pool": pool, "bought": bought })))
        }
    }
}
