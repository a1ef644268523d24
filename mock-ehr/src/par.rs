//! Pushed Authorization Requests (RFC 9126).
//!
//! `POST /par` takes the authorization request parameters from an authenticated client
//! (public clients identify with `client_id`), checks the `redirect_uri` against the
//! client's registered ones, and answers `201` with a single-use `request_uri` valid for
//! [`PAR_TTL`] seconds. At the authorization endpoint a `request_uri` replaces every
//! other parameter but `client_id`, which must match.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router, middleware};
use serde_json::json;

use crate::app::paths;
use crate::audit::AuditEvent;
use crate::client_auth;
use crate::cors;
use crate::error::{AppError, OAuthError, no_store};
use crate::faults;
use crate::form::{OAuthForm, Params};
use crate::state::{AppState, random_token};
use crate::store::ParRecord;

/// How long a `request_uri` lives, in seconds.
pub(crate) const PAR_TTL: i64 = 60;
/// The prefix of every `request_uri` (RFC 9126 section 2.2).
pub(crate) const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Client-authentication parameters, never stored with the request.
const AUTH_PARAMS: [&str; 3] = ["client_assertion", "client_assertion_type", "client_secret"];

/// The router of this area.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(paths::PAR, post(push))
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), "par"),
            faults::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cors::registered,
        ))
}

async fn push(State(state): State<AppState>, form: Result<OAuthForm, AppError>) -> Response {
    match handle(&state, form).await {
        Ok(body) => {
            let mut response = (StatusCode::CREATED, Json(body)).into_response();
            no_store(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    form: Result<OAuthForm, AppError>,
) -> Result<serde_json::Value, AppError> {
    let OAuthForm { headers, params } = form?;
    let urls = state.urls();
    let audiences = [
        urls.issuer().to_string(),
        urls.at(paths::TOKEN),
        urls.at(paths::PAR),
    ];
    let client = client_auth::authenticate(state, &headers, &params, &audiences)
        .await?
        .client;
    if params.get("request_uri").is_some() {
        return Err(AppError::invalid_request(
            "request_uri is not allowed in a pushed request",
        ));
    }
    let redirect_uri = params.require("redirect_uri")?;
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err(AppError::invalid_request(
            "redirect_uri is not registered for this client",
        ));
    }
    let mut stored: BTreeMap<String, String> = params
        .iter()
        .filter(|(k, _)| !AUTH_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    stored.insert("client_id".into(), client.id.clone());
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token()?);
    let now = state.now();
    let mut store = state.store();
    store.par.retain(|_, r| r.expires > now);
    store.par.insert(
        request_uri.clone(),
        ParRecord {
            client_id: client.id.clone(),
            params: stored,
            expires: now + PAR_TTL,
        },
    );
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("par", "success").client(&client.id),
    );
    Ok(json!({ "request_uri": request_uri, "expires_in": PAR_TTL }))
}

/// Takes (single use) the pushed parameters of `request_uri` for `client_id`.
pub(crate) fn take(
    state: &AppState,
    request_uri: &str,
    client_id: &str,
) -> Result<Params, AppError> {
    let now = state.now();
    let mut store = state.store();
    let bad = |d: &str| AppError::page(OAuthError::InvalidRequestUri, d);
    let record = store
        .par
        .get(request_uri)
        .cloned()
        .ok_or_else(|| bad("unknown or used request_uri"))?;
    if record.client_id != client_id {
        return Err(bad("request_uri was pushed by another client"));
    }
    store.par.remove(request_uri);
    if now >= record.expires {
        return Err(bad("request_uri has expired"));
    }
    Ok(Params::from_map(record.params))
}
