//! Token introspection (RFC 7662) with SMART's introspection profile.
//!
//! The caller authenticates as a confidential client (`client_secret_basic` or
//! `private_key_jwt`; a public client's bare `client_id` is refused) or with an
//! active access token of this server: `Authorization: Bearer`, or `Authorization:
//! DPoP` with a `DPoP` proof for a DPoP-bound one. The token credential is checked by
//! the core's resource-server [`Guard`] (a DPoP-bound token sent as `Bearer` is
//! refused, RFC 9449 section 7.2), whose refusals carry their `WWW-Authenticate`.
//!
//! An active access token reports `active`, `scope`, `client_id`, `exp`, `iat`,
//! `token_type` (`DPoP` or `Bearer`), `cnf` for a DPoP-bound token (RFC 9449 section
//! 6.2), the launch context (`patient`, `encounter`, `fhirContext`), `fhirUser`, and
//! `iss`/`sub` when an id_token was issued with it. An active refresh token reports
//! `active`, `scope`, `client_id`, `exp`, `token_type: "refresh_token"`, and `cnf` when
//! it is bound to a public client's DPoP key. Anything expired, revoked, unknown, or of
//! a grant whose consent was withdrawn gets exactly `{"active":false}`.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router, middleware};
use serde_json::{Map, Value, json};
use smartgate_core::dpop;
use smartgate_core::guard::{DpopMode, Guard, Request as GuardRequest};
use smartgate_core::provider::ring::Ring;

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
    let caller = match token_credentials(&headers) {
        Some(authorization) => token_caller(state, &headers, &authorization)?,
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

/// Every value of a header, joined with `", "` as RFC 9110 section 5.3 allows (the
/// guard then refuses two credentials or two proofs); `None` without the header, or
/// with a value that is not ASCII.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Option<Vec<&str>> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().ok())
        .collect();
    values.filter(|v| !v.is_empty()).map(|v| v.join(", "))
}

/// The `Authorization` value when it holds a token credential (`Bearer` or `DPoP`,
/// any case); `None` for `Basic` or no header (client authentication then).
fn token_credentials(headers: &HeaderMap) -> Option<String> {
    let value = joined(headers, header::AUTHORIZATION.as_str())?;
    let scheme = value.split(' ').next().unwrap_or_default();
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop")).then_some(value)
}

/// Authenticates a caller by its access token: the core's guard checks the token, its
/// scheme and, for `DPoP`, the proof (`htm` POST, `htu` this endpoint, `ath`, the server
/// nonce, the shared replay cache); then the store must hold it as active.
fn token_caller(
    state: &AppState,
    headers: &HeaderMap,
    authorization: &str,
) -> Result<String, AppError> {
    let urls = state.urls();
    let keys = state.keys();
    let mut guard = Guard::new(
        keys.jwks().clone(),
        keys.access_validation(urls.issuer(), &urls.fhir),
    )
    .dpop(DpopMode::Allowed)
    .dpop_validation(state.dpop.validation().clone());
    if let Some(policy) = state.dpop.nonce_policy() {
        guard = guard.nonce(policy.clone());
    }
    let url = urls.at(paths::INTROSPECT);
    let proof = joined(headers, crate::dpop::DPOP);
    let mut request = GuardRequest::new("POST", &url, state.now()).authorization(authorization);
    if let Some(p) = &proof {
        request = request.dpop(p);
    }
    let authorized = guard
        .check(&request, &Ring, state.dpop.replay())
        .map_err(AppError::Guard)?;
    let active = authorized
        .claims
        .jti()
        .is_some_and(|jti| is_live(&state.store(), jti));
    if !active {
        return Err(AppError::oauth(
            OAuthError::InvalidToken,
            "the access token is not active",
        ));
    }
    Ok(authorized
        .client_id
        .unwrap_or_else(|| "access token".to_string()))
}

/// Whether the access token `jti` is recorded, not revoked, and its grant alive.
fn is_live(store: &crate::store::Store, jti: &str) -> bool {
    store.access.get(jti).is_some_and(|record| {
        !record.revoked
            && record
                .grant
                .as_ref()
                .is_none_or(|id| store.grants.get(id).is_some_and(|g| g.revoked.is_none()))
    })
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
    if !is_live(&store, jti) {
        return None;
    }
    let grant = store
        .access
        .get(jti)
        .and_then(|r| r.grant.as_ref())
        .and_then(|id| store.grants.get(id));
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
        "cnf",
    ] {
        if let Some(v) = claims.get(name) {
            body.insert(name.into(), v.clone());
        }
    }
    let token_type = match dpop::bound_jkt(&claims) {
        Ok(Some(_)) => "DPoP",
        _ => "Bearer",
    };
    body.insert("token_type".into(), token_type.into());
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
    let mut body = json!({
        "active": true,
        "scope": grant.scope.to_string(),
        "client_id": grant.client_id,
        "exp": record.expires,
        "token_type": "refresh_token",
    });
    if let (Some(jkt), Some(obj)) = (&grant.jkt, body.as_object_mut()) {
        obj.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    Some(body)
}
