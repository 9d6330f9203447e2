//! Automatic spam resting: when a call placed from a pool ends, its number's answer rate
//! over its latest calls (since its last rest) is compared with the pool's; a number far
//! below its pool is probably labelled "Spam Likely" by carriers, so it rests for the pool's
//! set time and the organisation is told (`number.spam_rested`).

use crate::state::Shared;
use serde_json::{Value, json};
use switchyard_core::pool::PoolRules;
use switchyard_store::{CallRecord, StoreError};

/// Judges the number a pool call ended on; failures are logged, never fail the call.
pub async fn after_call(state: &Shared, call: &CallRecord) {
    if let Err(e) = judge(state, call).await {
        tracing::warn!(call = call.id, error = %e, "spam check failed");
    }
}

async fn judge(state: &Shared, call: &CallRecord) -> Result<(), StoreError> {
    let store = &state.store;
    let decision: Value = serde_json::from_str(&call.decision).unwrap_or(Value::Null);
    let (Some(pool_name), Some(from)) = (decision["sender"]["pool"].as_str(), &call.from) else {
        return Ok(());
    };
    let Some(pool) = store.pool_by_name(&call.org_id, pool_name).await? else {
        return Ok(());
    };
    let Ok(rules) = serde_json::from_str::<PoolRules>(&pool.rules) else {
        return Ok(());
    };
    let rule = rules.spam;
    if !rule.enabled {
        return Ok(());
    }
    let Some(number) = store.number_by_e164(&call.org_id, from).await? else {
        return Ok(());
    };
    let now = switchyard_store::now_ms();
    if number.status == "released" || number.rest_until.is_some_and(|until| until > now) {
        return Ok(());
    }
    // Calls placed before its last rest ended were judged already.
    let since = number.rest_until.unwrap_or(0);
    let mine = store
        .number_answer_tally(&call.org_id, from, since, rule.last_calls)
        .await?;
    let members = store.pool_members(&pool.id).await?.len().max(1) as u32;
    let theirs = store
        .pool_answer_tally(
            &pool.id,
            rule.last_calls.saturating_mul(members).min(10_000),
        )
        .await?;
    if !rule.looks_spammy(mine, theirs) {
        return Ok(());
    }
    let until = now + i64::from(rule.rest_hours) * 3_600_000;
    let rested = store.rest_number(&call.org_id, &number.id, until).await?;
    state.pools.forget();
    if rested {
        tracing::warn!(
            number = number.e164,
            pool = pool.name,
            ?mine,
            ?theirs,
            "number rested: answer rate far below its pool's"
        );
        let data = json!({
            "number_id": number.id, "e164": number.e164, "pool": pool.name, "rest_until": until,
            "number_answers": mine, "pool_answers": theirs, "rule": rule,
        });
        if let Err(e) =
            crate::events_out::emit(state, &call.org_id, "number.spam_rested", data).await
        {
            tracing::warn!(error = ?e.message, "number.spam_rested not queued");
        }
    }
    Ok(())
}
