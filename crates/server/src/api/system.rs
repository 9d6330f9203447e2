//! Unauthenticated endpoints: liveness, readiness, metrics, the OpenAPI document and its page.

use crate::state::Shared;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use serde_json::json;

/// The process is up.
pub async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// The database answers.
pub async fn readyz(State(state): State<Shared>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "database unavailable" })),
            )
        }
    }
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<Shared>) -> impl IntoResponse {
    let pool = state.store.pool();
    metrics::gauge!("switchyard_db_pool_connections").set(f64::from(pool.size()));
    metrics::gauge!("switchyard_db_pool_idle").set(pool.num_idle() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// A self-contained page listing the API from `/openapi.json` (no external assets: it works
/// offline).
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
