//! Getting a number to an assistant, campaign or tenant without a person: the
//! organisation's fallback chain (a free number of its own pool, then one bought through
//! its own provider accounts, then one bought through the platform's account within the
//! organisation's free tier), every step logged and kept with the provisioning; when all
//! fail, the provisioning is marked as needing manual assignment. Buying and releasing a
//! single number live here too, since the chain buys the same way.

use crate::adapters::{self, provider_error};
use crate::error::{ApiError, ApiResult};
use crate::state::Shared;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchyard_providers::capability::{NumberKind, NumberQuery};
use switchyard_store::{
    Assignment, NewProvider, NumberAtProvider, NumberFacts, OrgDocument, PhoneNumber,
    ProviderRecord, UsageWarning,
};

/// A step of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// A free number of the organisation's pre-bought pool.
    Pool,
    /// Buy through the organisation's own provider accounts.
    OrgProvider,
    /// Buy through the platform's account, within the free tier.
    Platform,
}

/// The kind of number to find or buy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Wanted {
    /// ISO 3166 alpha-2 country.
    pub country: String,
    /// `local`, `toll_free` or `mobile`.
    pub kind: NumberKind,
    /// Area code, when it matters.
    pub area_code: Option<String>,
    /// Must take calls.
    pub voice: bool,
    /// Must take SMS.
    pub sms: bool,
    /// Must take MMS.
    pub mms: bool,
}

impl Default for Wanted {
    fn default() -> Self {
        Wanted {
            country: "US".into(),
            kind: NumberKind::Local,
            area_code: None,
            voice: true,
            sms: true,
            mms: false,
        }
    }
}

impl Wanted {
    /// Checks the criteria; the error names the field under `prefix`.
    pub fn validate(&self, prefix: &str) -> ApiResult<()> {
        if self.country.len() != 2 || !self.country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(ApiError::invalid(
                &format!("{prefix}country"),
                "country must be an ISO 3166 two-letter code in capitals, such as US",
            ));
        }
        if let Some(area) = &self.area_code
            && (area.is_empty() || area.len() > 5 || !area.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(ApiError::invalid(
                &format!("{prefix}area_code"),
                "area_code must be 1 to 5 digits",
            ));
        }
        Ok(())
    }

    fn query(&self) -> NumberQuery {
        NumberQuery {
            country: self.country.clone(),
            kind: self.kind,
            area_code: self.area_code.clone(),
            voice: self.voice,
            sms: self.sms,
            mms: self.mms,
            limit: Some(5),
        }
    }
}

/// An organisation's chain (its `provisioning` document). The platform organisation's own
/// document also sets `free_tier`: how many numbers each organisation may hold through the
/// platform's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Chain {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The pool whose unassigned numbers the `pool` step hands out.
    pub pool: Option<String>,
    /// Provider ids the buying steps try, in order (all that manage numbers when empty).
    pub providers: Vec<String>,
    /// What to buy when the request does not say.
    pub wanted: Wanted,
    /// A pool that bought numbers join, so they are at hand for the next request.
    pub join_pool: Option<String>,
    /// (Platform organisation only.) Numbers each organisation may hold through the
    /// platform's account.
    pub free_tier: u32,
}

impl Default for Chain {
    fn default() -> Self {
        Chain {
            steps: vec![Step::Pool, Step::OrgProvider, Step::Platform],
            pool: None,
            providers: Vec::new(),
            wanted: Wanted::default(),
            join_pool: None,
            free_tier: 0,
        }
    }
}

/// The organisation's chain, defaults filled in.
pub async fn chain_of(state: &Shared, org: &str) -> ApiResult<Chain> {
    let text = state
        .store
        .org_document(org, OrgDocument::Provisioning)
        .await?
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(Chain::default());
    }
    serde_json::from_str(&text).map_err(ApiError::internal)
}

/// What one step did, kept with the provisioning.
#[derive(Debug, Clone, Serialize)]
pub struct StepLog {
    /// Which step.
    pub step: Step,
    /// The provider it tried, for buying steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// `assigned`, `empty` (nothing to take), `failed` or `skipped`.
    pub outcome: &'static str,
    /// Why, for a person.
    pub detail: String,
    /// Unix ms.
    pub at: i64,
}

fn log(step: Step, provider_id: Option<&str>, outcome: &'static str, detail: String) -> StepLog {
    tracing::info!(
        ?step,
        provider = provider_id,
        outcome,
        detail,
        "provisioning step"
    );
    StepLog {
        step,
        provider_id: provider_id.map(str::to_owned),
        outcome,
        detail,
        at: chrono::Utc::now().timestamp_millis(),
    }
}

/// The platform provider a provider of the organisation links to, if it is such a link.
fn platform_source(p: &ProviderRecord) -> Option<String> {
    serde_json::from_str::<Value>(&p.settings)
        .ok()?
        .get("platform_provider_id")?
        .as_str()
        .map(str::to_owned)
}

/// The providers a buying step tries: those listed (in order), else every provider that
/// manages numbers; never the platform link for the organisation's own step.
pub async fn own_buyers(
    state: &Shared,
    org: &str,
    listed: &[String],
) -> ApiResult<Vec<ProviderRecord>> {
    let all = state.store.all_providers(org).await?;
    let usable = |p: &ProviderRecord| {
        platform_source(p).is_none()
            && adapters::adapter_for(state, p)
                .ok()
                .is_some_and(|a| a.numbers.is_some())
    };
    Ok(if listed.is_empty() {
        all.into_iter().filter(usable).collect()
    } else {
        listed
            .iter()
            .filter_map(|id| all.iter().find(|p| &p.id == id).cloned())
            .filter(usable)
            .collect()
    })
}

/// Buys a number matching `wanted` through `provider` and records it in the provider's
/// organisation, placed, with what it is; a provider failure or an empty offer is an error.
pub async fn buy(
    state: &Shared,
    provider: &ProviderRecord,
    wanted: &Wanted,
    from_platform: bool,
) -> ApiResult<PhoneNumber> {
    let numbers = adapters::adapter_for(state, provider)?
        .numbers
        .ok_or_else(|| {
            ApiError::invalid(
                "provider",
                format!("{} providers do not manage phone numbers", provider.kind),
            )
        })?;
    let offer = numbers
        .search_available(&wanted.query())
        .await
        .map_err(provider_error)?;
    let first = offer.first().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "no_numbers_on_offer",
            format!(
                "provider {} offers no {:?} number in {}{}",
                provider.name,
                wanted.kind,
                wanted.country,
                wanted
                    .area_code
                    .as_deref()
                    .map(|a| format!(" with area code {a}"))
                    .unwrap_or_default()
            ),
        )
    })?;
    let owned = numbers.buy(&first.e164).await.map_err(provider_error)?;
    let (stored, _) = state
        .store
        .upsert_number(
            &provider.org_id,
            &provider.id,
            &NumberAtProvider {
                e164: owned.e164.clone(),
                provider_number_id: owned.provider_number_id.clone(),
                voice: owned.voice,
                sms: owned.sms,
                mms: owned.mms,
            },
        )
        .await?;
    if let Some(place) = crate::sender::place_of_text(&stored.e164) {
        state.store.set_number_place(&stored.id, &place).await?;
    }
    let kind = serde_json::to_value(wanted.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "local".into());
    state
        .store
        .set_number_facts(
            &stored.id,
            &NumberFacts {
                kind,
                from_platform,
                ..NumberFacts::default()
            },
        )
        .await?;
    tracing::info!(
        provider = provider.id,
        number = stored.e164,
        from_platform,
        "number bought"
    );
    Ok(state
        .store
        .number(&provider.org_id, &stored.id)
        .await?
        .unwrap_or(stored))
}

/// Gives a number back to its provider and marks it released (out of every pool).
pub async fn release(state: &Shared, org: &str, number: &PhoneNumber) -> ApiResult<()> {
    let provider = state
        .store
        .provider(org, &number.provider_id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let numbers = adapters::adapter_for(state, &provider)?
        .numbers
        .ok_or_else(|| {
            ApiError::invalid(
                "id",
                format!("{} providers do not manage phone numbers", provider.kind),
            )
        })?;
    numbers
        .release(&number.provider_number_id)
        .await
        .map_err(provider_error)?;
    state.store.release_number(org, &number.id).await?;
    state.pools.forget();
    tracing::info!(
        provider = provider.id,
        number = number.e164,
        "number released"
    );
    Ok(())
}

/// The organisation's link to a platform provider: a provider of the organisation that
/// uses the platform account's credentials, created on first use, so numbers bought
/// through it send and take webhooks like any other of the organisation's.
async fn link_to_platform(
    state: &Shared,
    org: &str,
    platform: &ProviderRecord,
) -> ApiResult<ProviderRecord> {
    let existing = state.store.all_providers(org).await?;
    if let Some(p) = existing
        .into_iter()
        .find(|p| platform_source(p).as_deref() == Some(platform.id.as_str()))
    {
        return Ok(p);
    }
    let mut settings: Value = serde_json::from_str(&platform.settings).unwrap_or(json!({}));
    settings["platform_provider_id"] = json!(platform.id);
    Ok(state
        .store
        .insert_provider(NewProvider {
            org_id: org.to_string(),
            kind: platform.kind.clone(),
            name: format!("platform-{}", platform.name),
            credentials: platform.credentials.clone(),
            settings: settings.to_string(),
        })
        .await?)
}

/// Records a usage warning at each threshold (70 %, 100 %) `used` has reached, once per
/// scope and window, and tells the organisation (`usage.warning`) of each new one.
pub async fn warn_usage(
    state: &Shared,
    org: &str,
    scope: &str,
    window: &str,
    used: i64,
    capacity: i64,
) -> ApiResult<()> {
    for threshold in [70_i64, 100] {
        if capacity <= 0 || used * 100 < threshold * capacity {
            continue;
        }
        let warning = UsageWarning {
            scope: scope.to_string(),
            window: window.to_string(),
            threshold,
            used,
            capacity,
            created_at: chrono::Utc::now().timestamp_millis(),
        };
        let data = json!(warning);
        crate::events_out::warn_once(state, org, &warning, "usage.warning", data).await?;
    }
    Ok(())
}

/// What a provisioning ended with.
pub struct Outcome {
    /// The number assigned, if any.
    pub number: Option<PhoneNumber>,
    /// Every step tried.
    pub steps: Vec<StepLog>,
}

/// Runs the organisation's chain for `subject`: the first step that yields a number
/// assigns it; each step's outcome is logged.
pub async fn run_chain(
    state: &Shared,
    org: &str,
    subject: &Assignment,
    chain: &Chain,
    wanted: &Wanted,
) -> ApiResult<Outcome> {
    let mut steps = Vec::new();
    for &step in &chain.steps {
        let found = match step {
            Step::Pool => from_pool(state, org, subject, chain, &mut steps).await?,
            Step::OrgProvider => {
                let buyers = own_buyers(state, org, &chain.providers).await?;
                buy_from(state, step, &buyers, wanted, false, &mut steps).await
            }
            Step::Platform => from_platform(state, org, wanted, &mut steps).await?,
        };
        let Some(number) = found else { continue };
        if step != Step::Pool {
            state
                .store
                .assign_number(org, &number.id, Some(subject), false)
                .await?;
            if let Some(pool) = &chain.join_pool {
                join_pool(state, org, pool, &number.id).await?;
            }
        }
        let number = state.store.number(org, &number.id).await?.unwrap_or(number);
        return Ok(Outcome {
            number: Some(number),
            steps,
        });
    }
    Ok(Outcome {
        number: None,
        steps,
    })
}

async fn from_pool(
    state: &Shared,
    org: &str,
    subject: &Assignment,
    chain: &Chain,
    steps: &mut Vec<StepLog>,
) -> ApiResult<Option<PhoneNumber>> {
    let Some(name) = &chain.pool else {
        steps.push(log(Step::Pool, None, "skipped", "no pool is set".into()));
        return Ok(None);
    };
    let Some(pool) = state.store.pool_by_name(org, name).await? else {
        steps.push(log(
            Step::Pool,
            None,
            "failed",
            format!("there is no pool named {name:?}"),
        ));
        return Ok(None);
    };
    match state
        .store
        .claim_pool_number(org, &pool.id, subject)
        .await?
    {
        Some(n) => {
            steps.push(log(
                Step::Pool,
                Some(&n.provider_id),
                "assigned",
                format!("{} from pool {name}", n.e164),
            ));
            Ok(Some(n))
        }
        None => {
            steps.push(log(
                Step::Pool,
                None,
                "empty",
                format!("pool {name} has no unassigned number in service"),
            ));
            Ok(None)
        }
    }
}

async fn buy_from(
    state: &Shared,
    step: Step,
    providers: &[ProviderRecord],
    wanted: &Wanted,
    from_platform: bool,
    steps: &mut Vec<StepLog>,
) -> Option<PhoneNumber> {
    if providers.is_empty() {
        steps.push(log(
            step,
            None,
            "skipped",
            "no provider that manages numbers".into(),
        ));
    }
    for p in providers {
        match buy(state, p, wanted, from_platform).await {
            Ok(n) => {
                steps.push(log(
                    step,
                    Some(&p.id),
                    "assigned",
                    format!("bought {} from {}", n.e164, p.name),
                ));
                return Some(n);
            }
            Err(e) => steps.push(log(
                step,
                Some(&p.id),
                "failed",
                format!("{}: {}", e.code, e.message),
            )),
        }
    }
    None
}

async fn from_platform(
    state: &Shared,
    org: &str,
    wanted: &Wanted,
    steps: &mut Vec<StepLog>,
) -> ApiResult<Option<PhoneNumber>> {
    let Some(platform_org) = state.settings.platform_org.clone() else {
        steps.push(log(
            Step::Platform,
            None,
            "skipped",
            "this server has no platform account (--platform-org)".into(),
        ));
        return Ok(None);
    };
    let platform_chain = chain_of(state, &platform_org).await?;
    let held = state.store.platform_numbers_held(org).await?;
    let tier = i64::from(platform_chain.free_tier);
    if held >= tier {
        steps.push(log(
            Step::Platform,
            None,
            "failed",
            format!("the free tier of {tier} platform numbers is used up ({held} held)"),
        ));
        warn_usage(state, org, "free_tier", "all", held, tier).await?;
        return Ok(None);
    }
    let platform_providers = own_buyers(state, &platform_org, &platform_chain.providers).await?;
    let mut links = Vec::with_capacity(platform_providers.len());
    for p in &platform_providers {
        links.push(link_to_platform(state, org, p).await?);
    }
    let found = buy_from(state, Step::Platform, &links, wanted, true, steps).await;
    if found.is_some() {
        warn_usage(state, org, "free_tier", "all", held + 1, tier).await?;
    }
    Ok(found)
}

/// Adds a number to a pool by name (a missing pool is logged, not an error: the number is
/// bought already).
pub async fn join_pool(state: &Shared, org: &str, pool: &str, number_id: &str) -> ApiResult<()> {
    let Some(record) = state.store.pool_by_name(org, pool).await? else {
        tracing::warn!(
            org,
            pool,
            "join_pool names no pool; the bought number joins none"
        );
        return Ok(());
    };
    let mut ids: Vec<String> = state
        .store
        .pool_members(&record.id)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    ids.push(number_id.to_string());
    state.store.set_pool_numbers(org, &record.id, &ids).await?;
    state.pools.forget();
    Ok(())
}
