//! Analytics at `/v1/analytics/*`: spend and volume, carrier performance and savings, read
//! from the hourly usage rollups and summed into the buckets asked for in the organisation's
//! time zone.

use crate::error::{ApiError, ApiResult};
use crate::middleware::Auth;
use crate::spend;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use switchyard_core::analytics::{
    Counters, HOUR_MS, Performance, RollupKey, Savings, TimeBucket, bucket_of, hour_of,
};
use switchyard_store::{Dimension, RollupQuery};

/// Longest range one query may cover.
const MAX_RANGE_DAYS: i64 = 400;
/// The channels rollups are kept for.
const CHANNELS: [&str; 6] = ["voice", "sms", "mms", "whatsapp", "email", "numbers"];
/// Range when none is given.
const DEFAULT_RANGE_DAYS: i64 = 30;

/// Parameters of the analytics queries. The range is RFC 3339 instants, or dates in the
/// organisation's time zone (`to` is then the last day included).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AnalyticsParams {
    /// Start: `2026-11-01` or `2026-11-01T00:00:00Z` (default: 30 days before `to`).
    from: Option<String>,
    /// End: `2026-11-30` (included) or an instant (excluded) (default: now).
    to: Option<String>,
    /// Only this channel: `voice`, `sms`, `mms`, `whatsapp`, `email` or `numbers`.
    channel: Option<String>,
    /// Spend: comma-separated `provider`, `channel`, `country`, `campaign`, `hour`, `day`,
    /// `month`, `hour_of_day`.
    group_by: Option<String>,
    /// Carriers: split each provider by `country`, `channel`, `hour_of_day` or `day`.
    by: Option<String>,
    /// Savings: `day`, `month` or `total` (default `day`).
    period: Option<String>,
}

/// A grouping of analytics rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// By one stored dimension.
    Column(Dimension),
    /// By a span of time.
    Time(TimeBucket),
}

impl Group {
    fn parse(field: &str, name: &str) -> ApiResult<Group> {
        Ok(match name.trim() {
            "provider" => Group::Column(Dimension::Provider),
            "country" => Group::Column(Dimension::Country),
            "channel" => Group::Column(Dimension::Channel),
            "campaign" => Group::Column(Dimension::Campaign),
            "hour" => Group::Time(TimeBucket::Hour),
            "day" => Group::Time(TimeBucket::Day),
            "month" => Group::Time(TimeBucket::Month),
            "hour_of_day" => Group::Time(TimeBucket::HourOfDay),
            other => {
                return Err(ApiError::invalid(
                    field,
                    format!(
                        "{field}: {other:?} is not one of provider, country, channel, campaign, \
                         hour, day, month, hour_of_day"
                    ),
                ));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Group::Column(Dimension::Provider) => "provider",
            Group::Column(Dimension::Country) => "country",
            Group::Column(Dimension::Channel) => "channel",
            Group::Column(Dimension::Campaign) => "campaign",
            Group::Column(Dimension::Hour) | Group::Time(TimeBucket::Hour) => "hour",
            Group::Time(TimeBucket::Day) => "day",
            Group::Time(TimeBucket::Month) => "month",
            Group::Time(TimeBucket::HourOfDay) => "hour_of_day",
        }
    }

    fn label(self, key: &RollupKey, tz: Tz) -> String {
        match self {
            Group::Column(Dimension::Provider) => key.provider_id.clone(),
            Group::Column(Dimension::Country) => key.country.clone(),
            Group::Column(Dimension::Channel) => key.channel.clone(),
            Group::Column(Dimension::Campaign) => key.campaign.clone(),
            Group::Column(Dimension::Hour) => bucket_of(key.hour_ms, TimeBucket::Hour, tz),
            Group::Time(bucket) => bucket_of(key.hour_ms, bucket, tz),
        }
    }
}

/// The hours an analytics query covers, and the zone its days are read in.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// First hour (unix ms).
    pub from_ms: i64,
    /// End (unix ms, excluded).
    pub to_ms: i64,
    /// The organisation's time zone.
    pub tz: Tz,
}

fn bound(field: &str, text: &str, tz: Tz, end: bool) -> ApiResult<i64> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp_millis());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(
            field,
            format!("{field} must be a date such as 2026-11-01 or an RFC 3339 instant"),
        )
    })?;
    let date = if end {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    Ok(switchyard_core::timezone::day_start(date, tz).timestamp_millis())
}

/// Reads a range (whole hours: the start rounded down, the end up).
pub async fn range(state: &Shared, org: &str, p: &AnalyticsParams) -> ApiResult<Range> {
    if let Some(channel) = p.channel.as_deref()
        && !CHANNELS.contains(&channel)
    {
        return Err(ApiError::invalid(
            "channel",
            format!("channel: {channel:?} is not one of {}", CHANNELS.join(", ")),
        ));
    }
    let tz = spend::zone_of(state, org).await?;
    let to_ms = match p.to.as_deref() {
        Some(t) => bound("to", t, tz, true)?,
        None => Utc::now().timestamp_millis(),
    };
    let from_ms = match p.from.as_deref() {
        Some(f) => bound("from", f, tz, false)?,
        None => to_ms - DEFAULT_RANGE_DAYS * 24 * HOUR_MS,
    };
    if from_ms >= to_ms {
        return Err(ApiError::invalid("from", "from must be before to"));
    }
    if to_ms - from_ms > MAX_RANGE_DAYS * 24 * HOUR_MS {
        return Err(ApiError::invalid(
            "from",
            format!("a range may cover at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok(Range {
        from_ms: hour_of(from_ms),
        to_ms: hour_of(to_ms + HOUR_MS - 1),
        tz,
    })
}

/// Rows summed by `groups` (and currency), in label order.
pub type Folded = BTreeMap<(Vec<String>, String), Counters>;

/// Reads the rollups of a range and sums them by `groups`.
pub async fn sums(
    state: &Shared,
    org: &str,
    range: &Range,
    groups: &[Group],
    channel: Option<&str>,
) -> ApiResult<Folded> {
    let mut dimensions: Vec<Dimension> = groups
        .iter()
        .map(|g| match g {
            Group::Column(d) => *d,
            Group::Time(_) => Dimension::Hour,
        })
        .collect();
    dimensions.dedup();
    let rows = state
        .store
        .rollup_sums(&RollupQuery {
            org_id: org,
            from_ms: range.from_ms,
            to_ms: range.to_ms,
            group: &dimensions,
            channel,
        })
        .await?;
    let mut folded = Folded::new();
    for (key, counters) in &rows {
        let labels = groups.iter().map(|g| g.label(key, range.tz)).collect();
        folded
            .entry((labels, key.currency.clone()))
            .or_default()
            .add(counters);
    }
    Ok(folded)
}

fn groups_of(field: &str, text: Option<&str>) -> ApiResult<Vec<Group>> {
    text.unwrap_or_default()
        .split(',')
        .filter(|g| !g.trim().is_empty())
        .map(|g| Group::parse(field, g))
        .collect()
}

fn labelled(groups: &[Group], labels: &[String], currency: &str) -> Map<String, Value> {
    let mut row: Map<String, Value> = groups
        .iter()
        .zip(labels)
        .map(|(g, l)| (g.name().to_owned(), Value::String(l.clone())))
        .collect();
    row.insert("currency".into(), currency.into());
    row
}

fn money(c: &Counters) -> Value {
    let s = Savings::of(c);
    json!({
        "sends": c.finals, "attempts": c.attempts,
        "cost": s.cost.to_string(), "baseline": s.baseline.to_string(),
        "saved": s.saved.to_string(), "saved_pct": s.saved_pct,
    })
}

fn merge(mut row: Map<String, Value>, more: Value) -> Value {
    if let Value::Object(m) = more {
        row.extend(m);
    }
    Value::Object(row)
}

/// Totals per currency.
fn totals(folded: &Folded) -> Value {
    let mut by_currency: BTreeMap<&str, Counters> = BTreeMap::new();
    for ((_, currency), c) in folded {
        by_currency.entry(currency).or_default().add(c);
    }
    by_currency
        .iter()
        .map(|(currency, c)| merge(labelled(&[], &[], currency), money(c)))
        .collect()
}

fn header(range: &Range) -> Map<String, Value> {
    let instant = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).map(|d| d.to_rfc3339());
    let mut m = Map::new();
    m.insert("from".into(), json!(instant(range.from_ms)));
    m.insert("to".into(), json!(instant(range.to_ms)));
    m.insert("time_zone".into(), json!(range.tz.name()));
    m
}

/// Spend and volume, grouped as asked, with savings against the baseline.
#[utoipa::path(get, path = "/v1/analytics/spend", tag = "analytics", params(AnalyticsParams),
    responses((status = 200, description = "Spend rows and totals per currency"), (status = 422, description = "Invalid parameter")))]
pub async fn spend(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(p): Query<AnalyticsParams>,
) -> ApiResult<axum::Json<Value>> {
    let groups = groups_of("group_by", p.group_by.as_deref())?;
    money_report(&state, auth.org(), &p, &groups).await
}

/// Spend, baseline and savings rows grouped by `groups`, with totals per currency.
async fn money_report(
    state: &Shared,
    org: &str,
    p: &AnalyticsParams,
    groups: &[Group],
) -> ApiResult<axum::Json<Value>> {
    let range = range(state, org, p).await?;
    let folded = sums(state, org, &range, groups, p.channel.as_deref()).await?;
    let rows: Vec<Value> = folded
        .iter()
        .map(|((labels, currency), c)| merge(labelled(groups, labels, currency), money(c)))
        .collect();
    let mut out = header(&range);
    out.insert("data".into(), rows.into());
    out.insert("totals".into(), totals(&folded));
    Ok(axum::Json(Value::Object(out)))
}

/// Carrier performance per provider (and country, channel, hour of day or day): ASR or
/// delivery ratio, ACD, PDD, failovers and cost per send, with each provider's health now.
#[utoipa::path(get, path = "/v1/analytics/carriers", tag = "analytics", params(AnalyticsParams),
    responses((status = 200, description = "Performance rows"), (status = 422, description = "Invalid parameter")))]
pub async fn carriers(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(p): Query<AnalyticsParams>,
) -> ApiResult<axum::Json<Value>> {
    let mut groups = vec![Group::Column(Dimension::Provider)];
    if let Some(by) = p.by.as_deref() {
        let g = Group::parse("by", by)?;
        if !matches!(
            g,
            Group::Column(Dimension::Country | Dimension::Channel)
                | Group::Time(TimeBucket::HourOfDay | TimeBucket::Day)
        ) {
            return Err(ApiError::invalid(
                "by",
                "by: one of country, channel, hour_of_day, day",
            ));
        }
        groups.push(g);
    }
    let range = range(&state, auth.org(), &p).await?;
    let channel = p.channel.as_deref();
    let folded = sums(&state, auth.org(), &range, &groups, channel).await?;
    let rows: Vec<Value> = folded
        .iter()
        .filter(|((labels, _), _)| labels.first().is_some_and(|p| !p.is_empty()))
        .map(|((labels, currency), c)| {
            let perf = serde_json::to_value(Performance::of(c)).unwrap_or_default();
            merge(labelled(&groups, labels, currency), perf)
        })
        .collect();
    let mut health = Map::new();
    if let Ok(routing) = state.routing.for_org(auth.org()).await {
        let now = Utc::now().timestamp_millis();
        let snapshot = routing.router.current();
        for (labels, _) in folded.keys() {
            let Some(provider) = labels.first() else {
                continue;
            };
            if let Some(cell) = snapshot.live(&provider.as_str().into()) {
                health.insert(provider.clone(), json!(cell.health_view(now)));
            }
        }
    }
    let mut out = header(&range);
    out.insert("data".into(), rows.into());
    out.insert("health".into(), Value::Object(health));
    Ok(axum::Json(Value::Object(out)))
}

/// Savings against the baseline per day or month, in money and percent.
#[utoipa::path(get, path = "/v1/analytics/savings", tag = "analytics", params(AnalyticsParams),
    responses((status = 200, description = "Savings per period and in total"), (status = 422, description = "Invalid parameter")))]
pub async fn savings(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
    Query(p): Query<AnalyticsParams>,
) -> ApiResult<axum::Json<Value>> {
    let groups = match p.period.as_deref().unwrap_or("day") {
        "day" => vec![Group::Time(TimeBucket::Day)],
        "month" => vec![Group::Time(TimeBucket::Month)],
        "total" => Vec::new(),
        _ => {
            return Err(ApiError::invalid(
                "period",
                "period: one of day, month, total",
            ));
        }
    };
    money_report(&state, auth.org(), &p, &groups).await
}
