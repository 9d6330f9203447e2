//! `/v1/overview`: today's calls, messages and emails by status, read live from the sends
//! themselves, and a server-sent event stream of the same whenever it changes, which the
//! dashboard's overview follows without reloading.

use crate::error::ApiResult;
use crate::middleware::Auth;
use crate::state::Shared;
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::Utc;
use futures_util::Stream;
use serde_json::{Map, Value, json};
use std::convert::Infallible;
use std::time::Duration;
use switchyard_core::analytics::Outcome;
use switchyard_store::{Outbox, StatusCount};

/// How often the stream looks for changes.
const STREAM_EVERY: Duration = Duration::from_secs(1);

fn channel(outbox: Outbox, counts: &[StatusCount]) -> Value {
    let mut by_status = Map::new();
    let (mut total, mut succeeded, mut failed) = (0i64, 0i64, 0i64);
    for c in counts.iter().filter(|c| c.outbox == outbox) {
        total += c.count;
        by_status.insert(c.status.clone(), json!(c.count));
        match outbox.outcome(&c.status, true) {
            Outcome::Succeeded => succeeded += c.count,
            Outcome::Failed => failed += c.count,
            Outcome::Neither => {}
        }
    }
    let decided = succeeded + failed;
    // A ratio for display; the exact counts are beside it.
    #[allow(clippy::cast_precision_loss)]
    let rate = (decided > 0).then(|| succeeded as f64 / decided as f64);
    json!({ "total": total, "succeeded": succeeded, "failed": failed,
            "success_rate": rate, "by_status": by_status })
}

/// Today's activity of the organisation, in its time zone, counted at most once a second
/// however many dashboards follow it.
pub async fn snapshot(state: &Shared, org: &str) -> ApiResult<Value> {
    if let Some(found) = state.recent_activity(org) {
        return Ok(found);
    }
    let figures = count(state, org).await?;
    state.keep_activity(org, figures.clone());
    Ok(figures)
}

async fn count(state: &Shared, org: &str) -> ApiResult<Value> {
    let tz = crate::spend::zone_of(state, org).await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let start = switchyard_core::timezone::day_start(today, tz).timestamp_millis();
    let counts = state.store.activity_since(org, start).await?;
    Ok(json!({
        "day": today.to_string(),
        "time_zone": tz.name(),
        "since": start,
        "calls": channel(Outbox::Calls, &counts),
        "messages": channel(Outbox::Messages, &counts),
        "emails": channel(Outbox::Emails, &counts),
    }))
}

/// Today's calls, messages and emails by status, with success rates (answered calls;
/// delivered messages and emails) over those decided so far.
#[utoipa::path(get, path = "/v1/overview", tag = "analytics", responses((status = 200, description = "Today's activity")))]
pub async fn get(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(snapshot(&state, auth.org()).await?))
}

/// The same as `GET /v1/overview`, as server-sent `activity` events: one at once, then one
/// each time it changes.
#[utoipa::path(get, path = "/v1/overview/stream", tag = "analytics", responses((status = 200, description = "text/event-stream of activity events")))]
pub async fn stream(
    State(state): State<Shared>,
    Extension(auth): Extension<Auth>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let org = auth.org().to_string();
    let events = futures_util::stream::unfold(
        (state, org, None::<String>),
        |(state, org, last)| async move {
            let mut wait = last.is_some();
            let mut stopping = state.stopping.clone();
            loop {
                if wait {
                    tokio::select! {
                        () = tokio::time::sleep(STREAM_EVERY) => {}
                        _ = stopping.wait_for(|stop| *stop) => return None,
                    }
                }
                wait = true;
                match snapshot(&state, &org).await {
                    Ok(v) => {
                        let text = v.to_string();
                        if last.as_deref() != Some(text.as_str()) {
                            let event = Event::default().event("activity").data(text.clone());
                            return Some((Ok(event), (state, org, Some(text))));
                        }
                    }
                    Err(e) => tracing::warn!(error = ?e, "overview stream read failed"),
                }
            }
        },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}
