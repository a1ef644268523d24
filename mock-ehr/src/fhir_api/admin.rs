//! Test controls of the FHIR API (under `/_admin`, absent with `--no-admin`):
//!
//! | route | body | does |
//! | --- | --- | --- |
//! | `GET /_admin/stats` | | FHIR request counters: count, time per request in the guard and in the FHIR work, token cache hits |
//! | `DELETE /_admin/stats` | | zeroes them |
//! | `POST /_admin/tokens` | `{"client_id", "scope", "user"?, "patient"?, "jkt"?, "expires_in"?}` | mints an access token as the token endpoint would (signed, recorded, revocable), DPoP-bound to `jkt` when given: for tests and benchmarks that need a token without running a flow |

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::audit::AuditEvent;
use crate::error::AppError;
use crate::state::{AppState, random_id};
use crate::store::{AccessRecord, Grant, LaunchContext};

/// The longest lifetime `POST /_admin/tokens` gives a token, in seconds.
pub(crate) const MAX_MINTED_SECS: i64 = 86_400;

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

/// The body of `POST /_admin/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    client_id: String,
    scope: String,
    user: Option<String>,
    patient: Option<String>,
    jkt: Option<String>,
    expires_in: Option<i64>,
}

async fn mint(
    State(state): State<AppState>,
    body: Result<Json<MintRequest>, JsonRejection>,
) -> Response {
    match mint_token(&state, body) {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn mint_token(
    state: &AppState,
    body: Result<Json<MintRequest>, JsonRejection>,
) -> Result<Value, AppError> {
    let Json(req) = body.map_err(|e| AppError::admin(e.body_text()))?;
    let lifetime = req.expires_in.unwrap_or(3600);
    if !(1..=MAX_MINTED_SECS).contains(&lifetime) {
        return Err(AppError::admin(format!(
            "expires_in must be 1 to {MAX_MINTED_SECS}"
        )));
    }
    // Minted tokens carry only scopes the authorization server would understand.
    let scopes = smartgate_core::scope::ScopeSet::parse(&req.scope)
        .map_err(|e| AppError::admin(format!("scope is malformed: {e} ({})", e.code())))?;
    if req
        .jkt
        .as_deref()
        .is_some_and(|j| j.len() != 43 || smartgate_core::base64url::decode(j.as_bytes()).is_err())
    {
        return Err(AppError::admin(
            "jkt must be a base64url SHA-256 JWK thumbprint",
        ));
    }
    let now = state.now();
    let urls = state.urls();
    let mut store = state.store();
    if !store.directory.clients.contains_key(&req.client_id) {
        return Err(AppError::admin(format!(
            "unknown client {:?}",
            req.client_id
        )));
    }
    let fhir_user = match &req.user {
        Some(u) => Some(
            store
                .directory
                .user(u)
                .ok_or_else(|| AppError::admin(format!("unknown user {u:?}")))?
                .fhir_user
                .clone(),
        ),
        None => None,
    };
    if let Some(p) = &req.patient
        && !store.directory.has_patient(p)
    {
        return Err(AppError::admin(format!("unknown patient {p:?}")));
    }
    let jti = random_id()?;
    let grant_id = if req.user.is_some() || req.patient.is_some() {
        let id = random_id()?;
        store.grants.insert(
            id.clone(),
            Grant {
                id: id.clone(),
                client_id: req.client_id.clone(),
                user: req.user.clone(),
                scope: scopes.clone(),
                context: LaunchContext {
                    patient: req.patient.clone(),
                    ..LaunchContext::default()
                },
                created: now,
                revoked: None,
                id_token_issued: false,
                jkt: req.jkt.clone(),
            },
        );
        Some(id)
    } else {
        None
    };
    let mut claims = Map::new();
    claims.insert("iss".into(), urls.issuer().into());
    claims.insert(
        "sub".into(),
        req.user
            .clone()
            .unwrap_or_else(|| req.client_id.clone())
            .into(),
    );
    claims.insert("aud".into(), urls.fhir.clone().into());
    claims.insert("exp".into(), (now + lifetime).into());
    claims.insert("iat".into(), now.into());
    claims.insert("jti".into(), jti.clone().into());
    claims.insert("client_id".into(), req.client_id.clone().into());
    claims.insert("scope".into(), req.scope.clone().into());
    if let Some(p) = &req.patient {
        claims.insert("patient".into(), p.clone().into());
    }
    if let Some(f) = &fhir_user
        && scopes.contains(&smartgate_core::scope::Scope::FhirUser)
    {
        claims.insert("fhirUser".into(), format!("{}/{f}", urls.fhir).into());
    }
    if let Some(jkt) = &req.jkt {
        claims.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    let token = state.keys().sign_access(&claims)?;
    store.access.insert(
        jti.clone(),
        AccessRecord {
            grant: grant_id,
            client_id: req.client_id.clone(),
            revoked: false,
            expires: now + lifetime,
        },
    );
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("token", "success")
            .client(&req.client_id)
            .user(req.user.as_deref())
            .patient(req.patient.as_deref())
            .token(jti)
            .detail(format!("minted by /_admin/tokens; scope: {}", req.scope)),
    );
    let mut body = json!({
        "access_token": token,
        "token_type": if req.jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": lifetime,
        "scope": req.scope,
    });
    if let (Some(p), Some(obj)) = (&req.patient, body.as_object_mut()) {
        obj.insert("patient".into(), p.clone().into());
    }
    Ok(body)
}
