//! The router: every area's router merged in one place.

use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use crate::form::MAX_BODY;
use crate::state::AppState;

/// Paths of the endpoints, relative to the base URL.
pub mod paths {
    /// Authorization endpoint (GET and POST).
    pub const AUTHORIZE: &str = "/authorize";
    /// Token endpoint.
    pub const TOKEN: &str = "/token";
    /// Introspection endpoint (RFC 7662).
    pub const INTROSPECT: &str = "/introspect";
    /// Revocation endpoint (RFC 7009).
    pub const REVOKE: &str = "/revoke";
    /// Pushed authorization requests (RFC 9126).
    pub const PAR: &str = "/par";
    /// Dynamic client registration (RFC 7591).
    pub const REGISTER: &str = "/register";
    /// The server's JWK Set.
    pub const JWKS: &str = "/jwks.json";
    /// The EHR's launch page.
    pub const LAUNCH: &str = "/launch";
    /// The SMART style document.
    pub const STYLE: &str = "/smart-style.json";
    /// SMART discovery, under the FHIR base.
    pub const SMART_CONFIGURATION: &str = "/fhir/.well-known/smart-configuration";
    /// OpenID Connect discovery.
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    /// The FHIR CapabilityStatement.
    pub const METADATA: &str = "/fhir/metadata";
}

/// The whole server as a router over `state` (tests drive it with
/// `tower::ServiceExt::oneshot`).
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .merge(crate::discovery::router(&state))
        .merge(crate::authorize::router())
        .merge(crate::interactive::router())
        .merge(crate::token::router(&state))
        .merge(crate::introspect::router(&state))
        .merge(crate::revoke::router(&state))
        .merge(crate::par::router(&state))
        .merge(crate::register::router(&state))
        .merge(crate::launch::router())
        .merge(crate::fhir_api::router(&state));
    if state.settings.admin_enabled {
        router = router
            .merge(crate::admin::router())
            .merge(crate::fhir_api::admin_router())
            .merge(crate::console::router());
    }
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn not_found() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        Json(json!({ "error": "not_found" })),
    )
        .into_response()
}
