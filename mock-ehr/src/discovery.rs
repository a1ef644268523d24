//! Discovery documents and public keys:
//! - `{fhir}/.well-known/smart-configuration` ([SMART App Launch 2.x, Conformance]);
//! - `{base}/.well-known/openid-configuration` ([OpenID Connect Discovery 1.0]);
//! - `{base}/jwks.json`: current and previous signing keys;
//! - `{fhir}/metadata`: a CapabilityStatement with the SMART security extension;
//! - `{base}/smart-style.json`: the style document `smart_style_url` points at.
//!
//! Every capability listed here is implemented; nothing else is listed (DPoP, for
//! one, is absent until the server supports it).
//!
//! [SMART App Launch 2.x, Conformance]: https://hl7.org/fhir/smart-app-launch/conformance.html
//! [OpenID Connect Discovery 1.0]: https://openid.net/specs/openid-connect-discovery-1_0.html

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde_json::{Value, json};

use crate::app::paths;
use crate::cors;
use crate::faults;
use crate::state::AppState;

/// Client authentication algorithms accepted for `private_key_jwt`.
pub(crate) const ASSERTION_ALGS: [&str; 4] = ["RS384", "ES384", "RS256", "ES256"];

/// SMART capabilities this server implements.
pub(crate) const CAPABILITIES: [&str; 18] = [
    "launch-ehr",
    "launch-standalone",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-passthrough-banner",
    "context-passthrough-style",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
];

/// The router of this area.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let jwks =
        Router::new()
            .route(paths::JWKS, get(jwks))
            .route_layer(middleware::from_fn_with_state(
                (state.clone(), "jwks"),
                faults::layer,
            ));
    Router::new()
        .route(paths::SMART_CONFIGURATION, get(smart_configuration))
        .route(paths::OPENID_CONFIGURATION, get(openid_configuration))
        .route(paths::METADATA, get(metadata))
        .route(paths::STYLE, get(style))
        .merge(jwks)
        .layer(middleware::from_fn(cors::open))
}

fn scopes_supported() -> Vec<&'static str> {
    vec![
        "openid",
        "fhirUser",
        "profile",
        "launch",
        "launch/patient",
        "launch/encounter",
        "offline_access",
        "online_access",
        "patient/*.read",
        "patient/*.rs",
        "user/*.read",
        "user/*.rs",
        "system/*.read",
        "system/*.rs",
    ]
}

fn auth_methods() -> Vec<&'static str> {
    vec!["private_key_jwt", "client_secret_basic", "none"]
}

/// The SMART configuration document.
pub(crate) fn smart_configuration_json(state: &AppState) -> Value {
    let urls = state.urls();
    json!({
        "issuer": urls.issuer(),
        "jwks_uri": urls.at(paths::JWKS),
        "authorization_endpoint": urls.at(paths::AUTHORIZE),
        "token_endpoint": urls.at(paths::TOKEN),
        "introspection_endpoint": urls.at(paths::INTROSPECT),
        "revocation_endpoint": urls.at(paths::REVOKE),
        "pushed_authorization_request_endpoint": urls.at(paths::PAR),
        "require_pushed_authorization_requests": false,
        "registration_endpoint": urls.at(paths::REGISTER),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": auth_methods(),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "scopes_supported": scopes_supported(),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": CAPABILITIES,
        "authorization_response_iss_parameter_supported": true,
    })
}

async fn smart_configuration(State(state): State<AppState>) -> Json<Value> {
    Json(smart_configuration_json(&state))
}

async fn openid_configuration(State(state): State<AppState>) -> Json<Value> {
    let urls = state.urls();
    Json(json!({
        "issuer": urls.issuer(),
        "jwks_uri": urls.at(paths::JWKS),
        "authorization_endpoint": urls.at(paths::AUTHORIZE),
        "token_endpoint": urls.at(paths::TOKEN),
        "introspection_endpoint": urls.at(paths::INTROSPECT),
        "revocation_endpoint": urls.at(paths::REVOKE),
        "pushed_authorization_request_endpoint": urls.at(paths::PAR),
        "registration_endpoint": urls.at(paths::REGISTER),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods(),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "scopes_supported": ["openid", "fhirUser", "profile", "offline_access"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser", "name"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(State(state): State<AppState>) -> Response {
    Json(state.keys().jwks().to_json()).into_response()
}

/// The CapabilityStatement's `rest.security` with the SMART `oauth-uris` extension.
pub(crate) fn security_json(state: &AppState) -> Value {
    let urls = state.urls();
    let uri = |name: &str, path: &str| json!({ "url": name, "valueUri": urls.at(path) });
    json!({
        "extension": [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [
                uri("authorize", paths::AUTHORIZE),
                uri("token", paths::TOKEN),
                uri("introspect", paths::INTROSPECT),
                uri("revoke", paths::REVOKE),
                uri("register", paths::REGISTER),
            ],
        }],
        "service": [{
            "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                "code": "SMART-on-FHIR",
            }],
            "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)",
        }],
    })
}

/// `{fhir}/metadata`. It lists no resources: the FHIR data layer adds its own when it
/// lands, so the statement claims nothing this server does not serve.
async fn metadata(State(state): State<AppState>) -> Response {
    let body = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2025-01-01",
        "kind": "instance",
        "software": { "name": "smartgate mock-ehr", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "smartgate mock EHR", "url": state.urls().fhir },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": security_json(&state),
            "resource": [],
        }],
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/fhir+json"),
    );
    response
}

/// A SMART style document (App Launch 2.x, "Styling").
async fn style() -> Json<Value> {
    Json(json!({
        "color_background": "#edeae3",
        "color_error": "#9e2d2d",
        "color_highlight": "#69b5ce",
        "color_modal_backdrop": "",
        "color_success": "#498e49",
        "color_text": "#303030",
        "dim_border_radius": "6px",
        "dim_font_size": "13px",
        "dim_spacing_size": "20px",
        "font_family_body": "Georgia, Times, 'Times New Roman', serif",
        "font_family_heading": "'HelveticaNeue-Light', Helvetica, Arial, 'Lucida Grande', sans-serif",
    }))
}
