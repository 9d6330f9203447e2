//! The caller ID of a send whose `from` names a number pool: the pool's numbers ranked by
//! the core's rules for this callee, the best one whose carrier routing accepts reserved
//! under its daily cap (atomically, across instances), and one number on each further
//! routed carrier kept for failover, reserved only if that step is tried.

use crate::dispatch::{PlanStep, UseReservation};
use crate::error::{ApiError, ApiResult};
use crate::state::Shared;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::number::{E164, nanp_region, parse_e164};
use switchyard_core::pool::{
    self, Callee, NumberStatus, PoolNumber, PoolRules, SkipReason, Skipped,
};
use switchyard_core::{Channel, Decision};
use switchyard_store::{NumberPlace, PoolMember, PoolRecord, Store};

/// How long this instance uses what it read of a pool before reading it again: a change made
/// through another instance (a number rested, a member added) is seen within this time.
/// Caps never depend on it: every use is reserved in the database.
const FRESH: Duration = Duration::from_secs(1);

/// A pool's members and one channel's counters as this instance last read them, with the
/// uses it has reserved since.
struct Snapshot {
    read_at: Instant,
    rules: PoolRules,
    members: Vec<PoolMember>,
    /// Each member's time zone (its first, for numbers whose prefix spans several).
    zones: Vec<Option<Tz>>,
    /// Number id → (its latest local day with uses, uses that day, last use in Unix ms).
    usage: Mutex<HashMap<String, (String, u32, i64)>>,
}

/// Pools as recently read, so that choosing a sender reads nothing but reserves its one use
/// (see [`FRESH`]); writes through this instance's API forget it at once.
#[derive(Default)]
pub struct PoolCache {
    records: Mutex<HashMap<(String, String), (Instant, PoolRecord)>>,
    snapshots: Mutex<HashMap<(String, String), Arc<Snapshot>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl PoolCache {
    /// Forgets everything (after a pool, one of its numbers or a rest changes).
    pub fn forget(&self) {
        lock(&self.records).clear();
        lock(&self.snapshots).clear();
    }

    /// The organisation's pool of that name.
    pub async fn record(
        &self,
        store: &Store,
        org: &str,
        name: &str,
    ) -> ApiResult<Option<PoolRecord>> {
        let key = (org.to_string(), name.to_string());
        if let Some((at, r)) = lock(&self.records).get(&key)
            && at.elapsed() < FRESH
        {
            return Ok(Some(r.clone()));
        }
        let found = store.pool_by_name(org, name).await?;
        if let Some(r) = &found {
            lock(&self.records).insert(key, (Instant::now(), r.clone()));
        }
        Ok(found)
    }

    async fn snapshot(
        &self,
        store: &Store,
        record: &PoolRecord,
        channel: &str,
    ) -> ApiResult<Arc<Snapshot>> {
        let pool_id = record.id.as_str();
        let key = (pool_id.to_string(), channel.to_string());
        if let Some(s) = lock(&self.snapshots).get(&key)
            && s.read_at.elapsed() < FRESH
        {
            return Ok(s.clone());
        }
        let members = store.pool_members(pool_id).await?;
        // From the earliest local day any member is on (each counts in its own zone).
        let from_day = (Utc::now() - chrono::Duration::days(1))
            .format("%Y-%m-%d")
            .to_string();
        let mut usage: HashMap<String, (String, u32, i64)> = HashMap::new();
        for u in store.pool_usage(pool_id, channel, &from_day).await? {
            if usage.get(&u.number_id).is_none_or(|(day, ..)| *day < u.day) {
                usage.insert(u.number_id, (u.day, u.count, u.last_used_at));
            }
        }
        let snapshot = Arc::new(Snapshot {
            read_at: Instant::now(),
            rules: serde_json::from_str(&record.rules).map_err(ApiError::internal)?,
            zones: members.iter().map(|m| zone_of(&m.e164)).collect(),
            members,
            usage: Mutex::new(usage),
        });
        lock(&self.snapshots).insert(key, snapshot.clone());
        Ok(snapshot)
    }
}

/// Where a number is, from its digits: country, NANP area code and the state it serves.
pub fn place_of(e164: &E164) -> NumberPlace {
    let country = e164.region().unwrap_or_default().to_string();
    let area_code = (e164.country_code() == 1 && e164.digits().len() == 11)
        .then(|| e164.digits()[1..4].to_string());
    NumberPlace {
        region: area_code
            .as_deref()
            .and_then(nanp_region)
            .map(str::to_owned),
        country,
        area_code,
    }
}

/// A number's time zone (the first, for a prefix that spans several).
fn zone_of(e164: &str) -> Option<Tz> {
    switchyard_core::timezone::zones(e164.trim_start_matches('+'))
        .first()
        .copied()
}

/// The date an instant falls on in a zone (UTC when unknown).
fn date_in(zone: Option<Tz>, at: DateTime<Utc>) -> NaiveDate {
    match zone {
        Some(tz) => at.with_timezone(&tz).date_naive(),
        None => at.date_naive(),
    }
}

/// The date an instant falls on in a number's own time zone (UTC when unknown).
fn local_date(e164_digits: &str, at: DateTime<Utc>) -> NaiveDate {
    date_in(zone_of(e164_digits), at)
}

/// When a number's current local day began (UTC midnight when its zone is unknown).
pub fn local_day_start(e164_digits: &str, now: DateTime<Utc>) -> DateTime<Utc> {
    let zone = zone_of(e164_digits);
    let today = date_in(zone, now);
    match zone {
        Some(tz) => switchyard_core::timezone::day_start(today, tz),
        None => today.and_time(chrono::NaiveTime::MIN).and_utc(),
    }
}

/// A number's local day (`YYYY-MM-DD`) in its own time zone (UTC when unknown): caps are
/// counted per local day.
pub fn local_day(e164_digits: &str, now: DateTime<Utc>) -> String {
    local_date(e164_digits, now).format("%Y-%m-%d").to_string()
}

/// Which local day of its warm-up a number is on (0 on the day it began): the schedule
/// steps up at the number's own midnight, when its counters reset.
fn warmup_day(zone: Option<Tz>, started_ms: i64, today: NaiveDate) -> Option<u32> {
    let started = DateTime::<Utc>::from_timestamp_millis(started_ms)?;
    let days = (today - date_in(zone, started)).num_days();
    u32::try_from(days.max(0)).ok()
}

fn status_of(text: &str) -> NumberStatus {
    match text {
        "warming" => NumberStatus::Warming,
        "resting" => NumberStatus::Resting,
        "released" => NumberStatus::Released,
        _ => NumberStatus::Active,
    }
}

fn carries(m: &PoolMember, channel: Channel) -> bool {
    match channel {
        Channel::Voice => m.voice,
        Channel::Mms => m.mms,
        _ => m.sms,
    }
}

/// How many of the best equally local numbers concurrent sends are spread over.
const SPREAD: usize = 8;

/// Starts the first tier of equally local numbers (not a sticky one) at a random one of its
/// first [`SPREAD`]: sends arriving together would otherwise all reach for the same least
/// recently used number and queue on its counter; the turn order still holds over time.
fn spread(offered: &mut [pool::Offered]) {
    let Some(first) = offered.first().map(|o| o.locality) else {
        return;
    };
    if first == pool::Locality::Sticky {
        return;
    }
    let tier = offered.iter().take_while(|o| o.locality == first).count();
    let reach = tier.min(SPREAD);
    if reach > 1 {
        offered[..tier].rotate_left(rand::random::<u64>() as usize % reach);
    }
}

/// The plan for a send from pool `name`, and the explanation stored with its decision.
pub async fn plan_from_pool(
    state: &Shared,
    org: &str,
    name: &str,
    to: &E164,
    channel: Channel,
    decision: &Decision,
) -> ApiResult<(Vec<PlanStep>, Value)> {
    let record = state
        .pools
        .record(&state.store, org, name)
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "from.pool",
                format!("there is no number pool named {name:?}"),
            )
        })?;
    let routed: Vec<String> = decision
        .primary
        .iter()
        .chain(decision.alternates.iter())
        .map(|c| c.provider.to_string())
        .collect();
    let (plan, explanation) = select(
        &state.store,
        &state.pools,
        &record,
        to,
        channel,
        &routed,
        Utc::now(),
    )
    .await?;
    let usage = &explanation["pool_usage"];
    if let (Some(day), Some(used), Some(capacity)) = (
        usage["day"].as_str(),
        usage["used"].as_i64(),
        usage["capacity"].as_i64(),
    ) && used * 100 >= 70 * capacity
    {
        let scope = format!("pool:{}:{channel}", record.id);
        if state.first_warning(&scope, day, used * 100 >= capacity * 100) {
            crate::provisioner::warn_usage(state, org, &scope, day, used, capacity).await?;
        }
    }
    Ok((plan, explanation))
}

/// Picks and reserves the sender from a pool for a callee, among numbers whose carrier is
/// in `routed` (in routing's order of preference): the plan (the reserved number first,
/// then one number per further carrier for failover) and the explanation.
pub async fn select(
    store: &Store,
    cache: &PoolCache,
    record: &PoolRecord,
    to: &E164,
    channel: Channel,
    routed: &[String],
    now: DateTime<Utc>,
) -> ApiResult<(Vec<PlanStep>, Value)> {
    let channel_name = channel.to_string();
    let snapshot = cache.snapshot(store, record, &channel_name).await?;
    let rules = &snapshot.rules;
    let members = &snapshot.members;
    let now_ms = now.timestamp_millis();
    // Each member's local day, worked out once per zone.
    let mut dates: HashMap<Option<Tz>, (NaiveDate, String)> = HashMap::new();
    let days: Vec<(NaiveDate, String)> = snapshot
        .zones
        .iter()
        .map(|&zone| {
            dates
                .entry(zone)
                .or_insert_with(|| {
                    let date = date_in(zone, now);
                    (date, date.format("%Y-%m-%d").to_string())
                })
                .clone()
        })
        .collect();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut numbers = Vec::new();
    {
        let counters = lock(&snapshot.usage);
        for ((m, (date, day)), &zone) in members.iter().zip(&days).zip(&snapshot.zones) {
            if !carries(m, channel) {
                continue;
            }
            let today = counters.get(&m.id).filter(|(d, ..)| d == day);
            numbers.push(PoolNumber {
                id: m.id.clone(),
                country: m.country.clone(),
                region: m.region.clone(),
                area_code: m.area_code.clone(),
                status: status_of(&m.status),
                rest_until_ms: m.rest_until,
                warmup_day: m
                    .warmup_started_at
                    .and_then(|at| warmup_day(zone, at, *date)),
                used_today: today.map_or(0, |u| u.1),
                last_used_ms: today.map(|u| u.2),
            });
        }
    }
    let place = place_of(to);
    let callee = Callee {
        country: place.country,
        region: place.region,
        area_code: place.area_code,
    };
    let contact = to.to_string();
    let sticky = if rules.sticky && channel != Channel::Voice {
        store.sticky_sender(&record.id, &contact).await?
    } else {
        None
    };
    let mut ranking = pool::rank(&numbers, &callee, rules, sticky.as_deref(), now_ms);
    spread(&mut ranking.offered);
    let by_id: HashMap<&str, (&PoolMember, &String)> = members
        .iter()
        .zip(&days)
        .map(|(m, (_, day))| (m.id.as_str(), (m, day)))
        .collect();
    let member = |id: &str| by_id.get(id).copied();
    let mut plan: Vec<PlanStep> = Vec::new();
    let mut chosen: Option<(String, String)> = None;
    for offer in &ranking.offered {
        let Some((m, day)) = member(&offer.id) else {
            continue;
        };
        if !routed.contains(&m.provider_id) {
            skipped.push(Skipped {
                id: m.id.clone(),
                reason: SkipReason::NotRouted,
            });
            continue;
        }
        // One number per carrier: the next carrier's number is the failover.
        if plan.iter().any(|s| s.provider_id == m.provider_id) {
            continue;
        }

        if chosen.is_none() {
            // The number the API answers with is reserved now.
            let reserved = store
                .reserve_use(&m.id, day, &channel_name, offer.cap)
                .await?;
            lock(&snapshot.usage).insert(
                m.id.clone(),
                (day.clone(), reserved.unwrap_or(offer.cap), now_ms),
            );
            if reserved.is_none() {
                skipped.push(Skipped {
                    id: m.id.clone(),
                    reason: SkipReason::Capped {
                        used: offer.cap,
                        cap: offer.cap,
                    },
                });
                continue;
            }
            chosen = Some((m.id.clone(), m.e164.clone()));
        }
        let reserve = (!plan.is_empty()).then(|| UseReservation {
            number_id: m.id.clone(),
            day: day.clone(),
            channel: channel_name.clone(),
            cap: offer.cap,
        });
        plan.push(PlanStep {
            provider_id: m.provider_id.clone(),
            from: m.e164.clone(),
            reserve,
        });
    }
    skipped.extend(ranking.skipped.iter().cloned());
    let Some((number_id, e164)) = chosen else {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "pool_exhausted",
            format!("no number of pool {:?} can send this now: every one is capped, resting, not local enough, or on a carrier routing left out", record.name),
        )
        .with_details(json!({ "field": "from.pool", "skipped": skipped, "routed_providers": routed })));
    };
    if rules.sticky && channel != Channel::Voice {
        store
            .set_sticky_sender(&record.id, &contact, &number_id)
            .await?;
    }
    let offered = ranking.offered.iter().find(|o| o.id == number_id);
    // The pool's use of this channel today against what its caps allow.
    let capacity: u64 = numbers
        .iter()
        .filter(|n| n.status != NumberStatus::Released)
        .map(|n| u64::from(rules.cap_for(n)))
        .sum();
    let used: u64 = numbers.iter().map(|n| u64::from(n.used_today)).sum::<u64>() + 1;
    let day = member(&number_id)
        .map(|(_, d)| d.clone())
        .unwrap_or_default();
    let explanation = json!({
        "pool_usage": { "day": day, "channel": channel_name, "used": used, "capacity": capacity },
        "pool": record.name, "number_id": number_id, "from": e164,
        "locality": offered.map(|o| o.locality), "used_today": offered.map(|o| o.used + 1), "cap": offered.map(|o| o.cap),
        "failover": plan.iter().skip(1).map(|s| &s.from).collect::<Vec<_>>(),
        "skipped": skipped,
    });
    Ok((plan, explanation))
}

/// The place of a stored number's E.164 text, when it parses.
pub fn place_of_text(e164: &str) -> Option<NumberPlace> {
    parse_e164(e164).ok().map(|n| place_of(&n))
}
