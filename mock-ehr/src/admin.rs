//! Test controls under `/_admin` (absent when the server runs with `--no-admin`):
//!
//! | route | body | does |
//! | --- | --- | --- |
//! | `POST /_admin/launch` | `{"patient", "encounter", "user", "fhirContext", "need_patient_banner", "smart_style_url", "scope"}` | creates an EHR launch (`scope`: the most the app may be granted in it); answers `{"launch", "iss"}` |
//! | `POST /_admin/reset` | | back to the built-in state (grants, tokens, consents, launches, faults, audit, clock offset, registered clients, keys, FHIR data as loaded, bulk export jobs) |
//! | `GET /_admin/clock` | | `{"now", "offset"}` |
//! | `POST /_admin/clock` | `{"advance_secs": 3600}` or `{"offset_secs": 0}` | moves the server clock |
//! | `POST /_admin/keys/rotate` | | new signing keys; the previous pair (one rotation back) stays in the JWKS |
//! | `POST /_admin/faults` | `{"endpoint": "token", "count": 2, "fault": {"type": "oauth_error", "error": "temporarily_unavailable"}}` | the next `count` calls fail (types: `oauth_error`, `status` with `status`, `rate_limit` with `retry_after`, `delay` with `ms`); endpoint `fhir` is every FHIR API request |
//! | `GET /_admin/faults`, `DELETE /_admin/faults` | | lists, clears armed faults |
//! | `GET /_admin/audit` | | the audit trail, oldest first, hash-chained (`prev_hash`, `hash`) |
//! | `GET /_admin/audit/verify` | | recomputes the chain: `{"ok": true, "entries": N}` or `{"ok": false, "first_broken_seq": S, "reason": "..."}` |
//! | `GET /_admin/consents` | | recorded consents |
//! | `POST /_admin/consents/withdraw` | `{"user": "dr.smith", "client_id": "demo-app"}` | withdraws consent: the grants end (refresh fails with `invalid_grant`, introspection reports inactive) |

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit::AuditEvent;
use crate::error::AppError;
use crate::faults::FaultRule;
use crate::keys::FreshKeys;
use crate::state::AppState;
use crate::store::Store;

/// The admin router.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_admin/reset", post(reset))
        .route("/_admin/clock", get(clock).post(set_clock))
        .route("/_admin/keys/rotate", post(rotate))
        .route(
            "/_admin/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_admin/audit", get(audit))
        .route("/_admin/audit/verify", get(verify_audit))
        .route("/_admin/consents", get(consents))
        .route("/_admin/consents/withdraw", post(withdraw))
        .merge(crate::launch::admin_router())
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    body.map(|Json(b)| b)
        .map_err(|e| AppError::admin(e.body_text()))
}

async fn reset(State(state): State<AppState>) -> Json<Value> {
    *state.store() = Store::new(state.initial.directory.clone());
    state.set_keys(state.initial.keys.clone());
    state.clock.set_offset(0);
    state.fhir.reset();
    Json(json!({ "reset": true }))
}

async fn clock(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "now": state.now(), "offset": state.clock.offset() }))
}

/// The body of `POST /_admin/clock`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    advance_secs: Option<i64>,
    offset_secs: Option<i64>,
}

async fn set_clock(
    State(state): State<AppState>,
    body: Result<Json<ClockRequest>, JsonRejection>,
) -> Response {
    let req = match json_body(body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match (req.advance_secs, req.offset_secs) {
        (Some(a), None) => state.clock.advance(a),
        (None, Some(o)) => state.clock.set_offset(o),
        _ => {
            return AppError::admin("give exactly one of advance_secs, offset_secs")
                .into_response();
        }
    }
    clock(State(state)).await.into_response()
}

async fn rotate(State(state): State<AppState>) -> Response {
    let alg = state.settings.access_alg;
    let fresh = match tokio::task::spawn_blocking(move || FreshKeys::generate(alg)).await {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => return AppError::internal(e).into_response(),
        Err(e) => return AppError::internal(e.to_string()).into_response(),
    };
    let ring = match state.keys().rotate(fresh) {
        Ok(r) => r,
        Err(e) => return AppError::internal(e).into_response(),
    };
    let kids: Vec<Value> = ring
        .jwks()
        .keys()
        .iter()
        .filter_map(|k| k.kid())
        .map(Value::from)
        .collect();
    state.set_keys(Arc::new(ring));
    state.audit(AuditEvent::new("keys_rotated", "success"));
    Json(json!({ "kids": kids })).into_response()
}

async fn list_faults(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "faults": state.store().faults }))
}

async fn add_fault(
    State(state): State<AppState>,
    body: Result<Json<FaultRule>, JsonRejection>,
) -> Response {
    let rule = match json_body(body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = rule.validate() {
        return AppError::admin(e).into_response();
    }
    state.store().faults.push(rule);
    list_faults(State(state)).await.into_response()
}

async fn clear_faults(State(state): State<AppState>) -> Json<Value> {
    state.store().faults.clear();
    Json(json!({ "faults": [] }))
}

async fn audit(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "events": state.store().audit.events }))
}

async fn verify_audit(State(state): State<AppState>) -> Json<Value> {
    Json(state.verify_audit().to_json())
}

async fn consents(State(state): State<AppState>) -> Json<Value> {
    let store = state.store();
    let list: Vec<_> = store.consents.values().collect();
    Json(json!({ "consents": list }))
}

/// The body of `POST /_admin/consents/withdraw`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawRequest {
    user: String,
    client_id: String,
}

async fn withdraw(
    State(state): State<AppState>,
    body: Result<Json<WithdrawRequest>, JsonRejection>,
) -> Response {
    let req = match json_body(body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let now = state.now();
    let mut store = state.store();
    let key = (req.user.clone(), req.client_id.clone());
    let Some(consent) = store.consents.get_mut(&key) else {
        return AppError::Admin {
            status: axum::http::StatusCode::NOT_FOUND,
            message: "no such consent".into(),
        }
        .into_response();
    };
    consent.withdrawn_at = Some(now);
    let grants: Vec<String> = store
        .grants
        .values()
        .filter(|g| g.client_id == req.client_id && g.user.as_deref() == Some(req.user.as_str()))
        .map(|g| g.id.clone())
        .collect();
    for id in &grants {
        store.revoke_grant(id, "consent withdrawn");
    }
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("consent_withdrawn", "success")
            .client(&req.client_id)
            .user(Some(&req.user))
            .detail(format!("{} grant(s) ended", grants.len())),
    );
    Json(json!({ "withdrawn": true, "grants_ended": grants.len() })).into_response()
}
