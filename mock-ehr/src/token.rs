//! The token endpoint (RFC 6749 section 3.2): `authorization_code`, `refresh_token`
//! and `client_credentials`. Responses carry `Cache-Control: no-store` and
//! `Pragma: no-cache` (section 5.1); errors are section 5.2 JSON.

mod backend;
mod code;
mod refresh;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router, middleware};
use serde_json::{Map, Value};

use crate::app::paths;
use crate::client_auth;
use crate::cors;
use crate::error::{AppError, OAuthError, no_store};
use crate::faults;
use crate::form::OAuthForm;
use crate::ratelimit;
use crate::state::AppState;

/// The router of this area.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(paths::TOKEN, post(token))
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), "token"),
            faults::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cors::registered,
        ))
}

async fn token(State(state): State<AppState>, form: Result<OAuthForm, AppError>) -> Response {
    match handle(&state, form).await {
        Ok(body) => {
            let mut response = Json(Value::Object(body)).into_response();
            no_store(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    form: Result<OAuthForm, AppError>,
) -> Result<Map<String, Value>, AppError> {
    let OAuthForm { headers, params } = form?;
    if let Some(client_id) = client_auth::claimed_client_id(&headers, &params)
        && let Err(retry_after) = ratelimit::check(state, "token", &client_id)
    {
        return Err(AppError::RateLimited { retry_after });
    }
    let grant_type = params.require("grant_type")?;
    let audiences = [state.urls().at(paths::TOKEN)];
    match grant_type {
        "authorization_code" | "refresh_token" | "client_credentials" => {}
        _ => {
            return Err(AppError::oauth(
                OAuthError::UnsupportedGrantType,
                "grant_type must be authorization_code, refresh_token or client_credentials",
            ));
        }
    }
    let client = client_auth::authenticate(state, &headers, &params, &audiences)
        .await?
        .client;
    match grant_type {
        "authorization_code" => code::exchange(state, &client, &params),
        "refresh_token" => refresh::exchange(state, &client, &params),
        _ => backend::exchange(state, &client, &params),
    }
}
