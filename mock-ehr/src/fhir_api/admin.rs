//! Test controls of the FHIR API (under `/_admin`, absent with `--no-admin`):
//!
//! | route | body | does |
//! | --- | --- | --- |
//! | `GET /_admin/stats` | | FHIR request counters: count, time per request in the guard and in the FHIR work, token cache hits |
//! | `DELETE /_admin/stats` | | zeroes them |
//! | `POST /_admin/tokens` | `{"client_id", "scope", "user"?, "patient"?, "jkt"?, "expires_in"?}` | mints an access token as the token endpoint would (signed, recorded, revocable), DPoP-bound to `jkt` when given: for tests and benchmarks that need a token without running a flow. Refusals ([`crate::mint`]) are 400 with `{"error", "error_description"}` |

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::mint::{self, MintError, MintRequest, Minted};
use crate::state::{AppState, random_id};

/// The admin router of the FHIR API.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_admin/stats", get(stats).delete(reset_stats))
        .route("/_admin/tokens", post(mint))
}

async fn stats(State(state): State<AppState>) -> Json<Value> {
    Json(
        state
            .fhir
            .stats
            .to_json(state.fhir.settings.caching.as_str()),
    )
}

async fn reset_stats(State(state): State<AppState>) -> Json<Value> {
    state.fhir.stats.reset();
    stats(State(state)).await
}

async fn mint(
    State(state): State<AppState>,
    body: Result<Json<MintRequest>, JsonRejection>,
) -> Response {
    let result = body
        .map_err(|e| MintError {
            error: "invalid_request",
            description: e.body_text(),
        })
        .and_then(|Json(req)| mint_token(&state, &req));
    match result {
        Ok(minted) => Json(minted.to_json()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(e.to_json())).into_response(),
    }
}

/// Checks and mints `req` ([`crate::mint::check`]), records the token (and a grant
/// when it has a user or patient), audits it.
fn mint_token(state: &AppState, req: &MintRequest) -> Result<Minted, MintError> {
    let server_error = |d: &str| MintError {
        error: "server_error",
        description: d.into(),
    };
    let now = state.now();
    let mut store = state.store();
    let checked = mint::check(req, &store.directory)?;
    let jti = random_id().map_err(|_| server_error("no randomness"))?;
    let claims = mint::claims(req, &checked, state.urls(), now, &jti, false);
    let access_token = state
        .keys()
        .sign_access(&claims)
        .map_err(|_| server_error("signing failed"))?;
    mint::record(
        &mut store,
        req,
        checked.scopes.clone(),
        &jti,
        now.saturating_add(checked.lifetime),
        now,
        format!("minted by /_admin/tokens; scope: {}", checked.scopes),
    )
    .map_err(|()| server_error("no randomness"))?;
    Ok(Minted {
        access_token,
        claims,
        expires_in: checked.lifetime,
    })
}
