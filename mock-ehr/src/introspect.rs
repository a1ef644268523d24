//! Token introspection (RFC 7662) with SMART's introspection profile.
//!
//! The caller authenticates as a confidential client (`client_secret_basic` or
//! `private_key_jwt`; a public client's bare `client_id` is refused) or
//! with `Authorization: Bearer` and an active access token. An active access token
//! reports `active`, `scope`, `client_id`, `exp`, `iat`, `token_type`, the launch
//! context (`patient`, `encounter`, `fhirContext`), `fhirUser`, and `iss`/`sub` when
//! an id_token was issued with it. An active refresh token reports `active`, `scope`,
//! `client_id`, `exp`, `token_type: "refresh_token"`. Anything expired, revoked,
//! unknown, or of a grant whose consent was withdrawn gets exactly
//! `{"active":false}`.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router, middleware};
use serde_json::{Map, Value, json};

use crate::app::paths;
use crate::audit::AuditEvent;
use crate::client_auth;
use crate::config::ClientAuthMethod;
use crate::cors;
use crate::error::{AppError, OAuthError, no_store};
use crate::faults;
use crate::form::OAuthForm;
use crate::state::AppState;

/// The router of this area.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(paths::INTROSPECT, post(introspect))
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), "introspect"),
            faults::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cors::registered,
        ))
}

async fn introspect(State(state): State<AppState>, form: Result<OAuthForm, AppError>) -> Response {
    match handle(&state, form).await {
        Ok(body) => {
            let mut response = Json(body).into_response();
            no_store(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, form: Result<OAuthForm, AppError>) -> Result<Value, AppError> {
    let OAuthForm { headers, params } = form?;
    let caller = match bearer(&headers) {
        Some(token) => {
            if active_access(state, token).is_none() {
                return Err(AppError::oauth(
                    OAuthError::InvalidToken,
                    "the bearer token is not active",
                ));
            }
            "bearer".to_string()
        }
        None => {
            let urls = state.urls();
            let audiences = [
                urls.at(paths::TOKEN),
                urls.at(paths::INTROSPECT),
                urls.issuer().to_string(),
            ];
            let client = client_auth::authenticate(state, &headers, &params, &audiences)
                .await?
                .client;
            if client.auth == ClientAuthMethod::None {
                // A client_id alone proves nothing: introspection needs a real credential.
                return Err(AppError::invalid_client(
                    "public clients may not introspect; authenticate or use a Bearer token",
                ));
            }
            client.id
        }
    };
    let token = params.require("token")?;
    let body = match active_access(state, token) {
        Some(body) => body,
        None => active_refresh(state, token).unwrap_or_else(|| json!({ "active": false })),
    };
    let outcome = if body.get("active") == Some(&Value::Bool(true)) {
        "active"
    } else {
        "inactive"
    };
    state.audit(
        AuditEvent::new("introspect", "success")
            .client(caller)
            .token(
                body.get("jti")
                    .and_then(Value::as_str)
                    .unwrap_or("-")
                    .to_string(),
            )
            .detail(outcome),
    );
    Ok(body)
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The introspection answer for an active access token: verified by the core, then
/// checked against the store (not revoked, its grant alive).
pub(crate) fn active_access(state: &AppState, token: &str) -> Option<Value> {
    let urls = state.urls();
    let verified = state
        .keys()
        .verify_access(token, urls.issuer(), &urls.fhir, state.now())
        .ok()?;
    let claims = verified.claims;
    let jti = claims.jti()?;
    let store = state.store();
    let record = store.access.get(jti)?;
    if record.revoked {
        return None;
    }
    let grant = match &record.grant {
        Some(id) => Some(store.grants.get(id).filter(|g| g.revoked.is_none())?),
        None => None,
    };
    let mut body = Map::new();
    body.insert("active".into(), true.into());
    for name in [
        "scope",
        "client_id",
        "exp",
        "iat",
        "jti",
        "patient",
        "encounter",
        "fhirUser",
    ] {
        if let Some(v) = claims.get(name) {
            body.insert(name.into(), v.clone());
        }
    }
    body.insert("token_type".into(), "Bearer".into());
    if let Some(g) = grant {
        if !g.context.fhir_context.is_empty() {
            body.insert(
                "fhirContext".into(),
                Value::Array(g.context.fhir_context.clone()),
            );
        }
        if g.id_token_issued {
            body.insert("iss".into(), urls.issuer().into());
            if let Some(u) = &g.user {
                body.insert("sub".into(), u.clone().into());
            }
        }
    }
    Some(Value::Object(body))
}

fn active_refresh(state: &AppState, token: &str) -> Option<Value> {
    let now = state.now();
    let store = state.store();
    let record = store.refresh.get(token)?;
    let grant = store.grants.get(&record.grant)?;
    if !record.current || now >= record.expires || grant.revoked.is_some() {
        return None;
    }
    Some(json!({
        "active": true,
        "scope": grant.scope,
        "client_id": grant.client_id,
        "exp": record.expires,
        "token_type": "refresh_token",
    }))
}
