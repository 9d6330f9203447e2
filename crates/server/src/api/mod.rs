//! The HTTP API: routes, their OpenAPI document, and the layers around them.

pub mod analytics;
pub mod budgets;
pub mod calls;
pub mod consent;
pub mod email_links;
pub mod emails;
pub mod events;
pub mod features;
pub mod keys;
pub mod listing;
pub mod messages;
pub mod number_detail;
pub mod numbers;
pub mod outbound;
pub mod overview;
pub mod pools;
pub mod providers;
pub mod provisioning;
pub mod rates;
pub mod recommendations;
pub mod roi;
pub mod routing;
pub mod sandbox;
pub mod system;
pub mod templates;
pub mod users;
pub mod webhooks;

use crate::middleware;
use crate::state::Shared;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchyard", description = "Multi-carrier least-cost routing for calls, messages and email."),
    components(schemas(crate::provider_settings::ProviderSettings)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// A phone number from the request, or a 422 naming `field` and why it is not one.
pub fn e164_field(
    field: &str,
    raw: &str,
) -> crate::error::ApiResult<switchyard_core::number::E164> {
    switchyard_core::number::parse_e164(raw)
        .map_err(|e| crate::error::ApiError::invalid(field, format!("{field}: {e}")))
}

/// The `/v1` routes and their OpenAPI description.
fn v1() -> OpenApiRouter<Shared> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(providers::list_types))
        .routes(routes!(providers::create, providers::list))
        .routes(routes!(
            providers::get,
            providers::update,
            providers::delete
        ))
        .routes(routes!(providers::test))
        .routes(routes!(numbers::available))
        .routes(routes!(numbers::import))
        .routes(routes!(numbers::sync))
        .routes(routes!(numbers::list))
        .routes(routes!(numbers::lookup))
        .routes(routes!(webhooks::list))
        .routes(routes!(sandbox::inbound))
        .routes(routes!(sandbox::faults))
        .routes(routes!(templates::create, templates::list))
        .routes(routes!(
            templates::get,
            templates::update,
            templates::delete
        ))
        .routes(routes!(templates::preview))
        .routes(routes!(consent::list_opt_outs, consent::add_opt_out))
        .routes(routes!(consent::remove_opt_out))
        .routes(routes!(consent::import_dnc, consent::export_dnc))
        .routes(routes!(consent::remove_dnc))
        .routes(routes!(consent::get_texts, consent::set_texts))
        .routes(routes!(events::create, events::list))
        .routes(routes!(events::delete))
        .routes(routes!(events::ping))
        .routes(routes!(events::deliveries))
        .routes(routes!(messages::send, messages::list))
        .routes(routes!(messages::get))
        .routes(routes!(emails::send, emails::list))
        .routes(routes!(emails::get))
        .routes(routes!(emails::list_suppressions, emails::add_suppression))
        .routes(routes!(emails::remove_suppression))
        .routes(routes!(pools::create, pools::list))
        .routes(routes!(pools::get, pools::update, pools::delete))
        .routes(routes!(pools::flag_spam))
        .routes(routes!(number_detail::get, number_detail::update))
        .routes(routes!(provisioning::buy))
        .routes(routes!(provisioning::release))
        .routes(routes!(provisioning::chain, provisioning::set_chain))
        .routes(routes!(provisioning::provision))
        .routes(routes!(provisioning::list))
        .routes(routes!(provisioning::get))
        .routes(routes!(budgets::create, budgets::list))
        .routes(routes!(budgets::get, budgets::update, budgets::delete))
        .routes(routes!(budgets::set_time_zone))
        .routes(routes!(analytics::spend))
        .routes(routes!(analytics::carriers))
        .routes(routes!(analytics::savings))
        .routes(routes!(roi::roi))
        .routes(routes!(recommendations::list))
        .routes(routes!(recommendations::apply))
        .routes(routes!(calls::place, calls::list))
        .routes(routes!(calls::get))
        .routes(routes!(calls::hangup))
        .routes(routes!(rates::upload, rates::versions))
        .routes(routes!(rates::deck, rates::delete_deck))
        .routes(routes!(rates::lookup))
        .routes(routes!(routing::decide))
        .routes(routes!(routing::lowest_cost))
        .routes(routes!(routing::decisions))
        .routes(routes!(routing::policy, routing::set_policy))
        .routes(routes!(keys::create, keys::list))
        .routes(routes!(keys::revoke))
        .routes(routes!(keys::org))
        .routes(routes!(keys::audit))
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::update))
        .routes(routes!(features::get, features::set))
        .routes(routes!(features::apply_preset))
        .routes(routes!(features::save_preset, features::delete_preset))
        .routes(routes!(features::set_for_user))
        .routes(routes!(overview::get))
        .routes(routes!(overview::stream))
}

/// Routes outside API-key authentication: provider webhooks prove themselves with the
/// provider's signature instead.
fn unauthenticated() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(webhooks::receive))
}

/// The OpenAPI 3.1 document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = v1().split_for_parts().1;
    doc.merge(unauthenticated().split_for_parts().1);
    doc
}

/// The whole application.
pub fn app(state: Shared) -> axum::Router {
    let (v1, mut doc) = v1().split_for_parts();
    let (hooks, hooks_doc) = unauthenticated().split_for_parts();
    doc.merge(hooks_doc);
    let hooks = hooks.layer(DefaultBodyLimit::max(state.settings.max_json_bytes));
    // JSON bodies are limited by the JSON extractor; this is the ceiling for deck uploads.
    let upload_limit = state.settings.max_upload_bytes;
    let v1 = v1
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::v1,
        ))
        .layer(DefaultBodyLimit::max(upload_limit));
    let doc = std::sync::Arc::new(doc);
    let app = axum::Router::new()
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
        .route("/docs", get(system::docs))
        .route(
            "/u/{token}",
            get(email_links::unsubscribe_page).post(email_links::unsubscribe),
        )
        .route("/t/o/{token}", get(email_links::open))
        .route("/t/c/{token}", get(email_links::click))
        .merge(v1)
        .merge(hooks)
        .merge(crate::dashboard::routes());
    let app = match &state.sandbox {
        Some(sandbox) => app.nest_service("/sandbox", sandbox.carrier_router()),
        None => app,
    };
    app.fallback(|| async { crate::error::ApiError::not_found("route") })
        .layer(axum::middleware::from_fn(middleware::access_log))
        .route_layer(axum::middleware::from_fn(middleware::metrics))
        .with_state(state)
}
