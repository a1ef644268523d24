//! The FHIR R4 HTTP API at `{base}/fhir`: the resource-server half of the mock EHR.
//!
//! Every request goes through the core's guard first ([`smartgate_core::guard`]: the
//! access token, its DPoP binding and proof, the SMART scopes for the interaction),
//! and the data layer ([`crate::fhir`]) only ever sees what the guard's
//! [`Grant`](smartgate_core::scope::Grant) allows, translated into a
//! [`fhir::Access`](crate::fhir::Access). Nothing here decides on its own whether a
//! token or a scope is good.
//!
//! | request | interaction |
//! | --- | --- |
//! | `GET [type]?...`, `POST [type]/_search` (form body) | search (`s`) |
//! | `GET [type]/[id]` | read (`r`), `If-None-Match` gives 304 |
//! | `GET [type]/[id]/_history/[vid]` | vread (`r`) |
//! | `GET [type]/[id]/_history` | history (`r`) |
//! | `POST [type]` (`If-None-Exist`) | create (`c`) |
//! | `PUT [type]/[id]` (`If-Match`) | update (`u`), may create |
//! | `PATCH [type]/[id]` (JSON Patch, `If-Match`) | patch (`u`) |
//! | `DELETE [type]/[id]` | delete (`d`) |
//! | `GET $export`, `GET Patient/$export`, `GET Group/[id]/$export` | Bulk Data kick-off ([`bulk`]) |
//! | `GET AuditEvent/[id]`, `GET AuditEvent?...` | the audit trail, read-only ([`audit_events`]) |
//!
//! # What a token sees
//! - `patient/` scopes: the patient compartment of the token's `patient` (R4
//!   CompartmentDefinition/patient, as [`crate::fhir::patients_of`] reads it), ANDed
//!   with the scope's query if it has one. `Group` is never granted through a
//!   `patient/` scope: R4 puts a Group in the compartment of each of its members, so
//!   `Group/all-patients` would show every patient to every patient app.
//! - `user/` scopes: what the user may see. A practitioner user sees every patient
//!   (the mock has no care-team model); a patient user (`jane.doe`, `Patient/pat-001`)
//!   sees only their own compartment, whatever the scope says, and no `Group`.
//! - `system/` scopes: everything, within the scope's query.
//! - Several scopes on one type are ORed (the guard's grant alternatives).
//!
//! # 403 or 404
//! - **403** (`insufficient_scope`, `WWW-Authenticate`, OperationOutcome `forbidden`)
//!   when the token's scopes do not allow the interaction on the resource type at all.
//!   This is decided from the token and the URL alone, before any data is looked at,
//!   so it tells the caller nothing about the data. A write whose *new* content would
//!   fall outside what the token may write (creating an Observation for another
//!   patient) is also 403 (`forbidden`): the content is the caller's own.
//! - **404** (`not-found`, the very same answer as for an id that never existed) when
//!   the scopes allow the interaction on the type but the stored resource lies outside
//!   them: another patient's Observation, a vital sign under a laboratory-only scope.
//!   Answering 403 there would confirm that the id exists, and ids can say a lot
//!   (`Condition/hiv-...`); so reads, vreads, histories, updates, patches and deletes
//!   of a resource the token cannot see all answer 404 (and a deleted one 404, not
//!   410).
//!
//! # Errors
//! Every error is an `OperationOutcome` (`application/fhir+json`) with the right
//! status; [`respond`] lists them.

mod admin;
mod audit_events;
mod auth;
pub(crate) mod bulk;
pub(crate) mod capability;
mod cors;
mod interactions;
mod patch;
mod respond;
mod route;
mod stats;

use std::sync::{Mutex, RwLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::audit::AuditEvent;
use crate::fhir;
use crate::form::MAX_BODY;
use crate::state::AppState;

pub(crate) use admin::router as admin_router;
pub use auth::GuardCaching;
pub(crate) use stats::Stats;

/// Status polls of a bulk export that answer 202 before the manifest, by default.
pub const DEFAULT_EXPORT_POLLS: u32 = 2;

/// Settings of the FHIR API fixed at startup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FhirSettings {
    /// Status polls answered 202 before a bulk export completes (0: at once).
    pub(crate) export_polls: u32,
    /// What the guard caches between requests.
    pub(crate) caching: GuardCaching,
}

/// The FHIR side of the server's state.
pub(crate) struct FhirState {
    /// The resources.
    store: RwLock<fhir::Store>,
    /// What `/_admin/reset` restores: the loaded or built-in data.
    initial: fhir::Store,
    /// The resource types this server serves (the CapabilityStatement's list).
    served: Vec<String>,
    pub(crate) settings: FhirSettings,
    guards: auth::Guards,
    jobs: Mutex<bulk::Jobs>,
    pub(crate) stats: Stats,
}

impl std::fmt::Debug for FhirState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FhirState")
            .field("served", &self.served)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl FhirState {
    /// The state over `data`, which is also what a reset restores.
    pub(crate) fn new(data: fhir::Store, settings: FhirSettings) -> Self {
        let served = capability::served_types(&data);
        Self {
            store: RwLock::new(data.clone()),
            initial: data,
            served,
            settings,
            guards: auth::Guards::new(settings.caching),
            jobs: Mutex::new(bulk::Jobs::default()),
            stats: Stats::default(),
        }
    }

    /// The store, for reading.
    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, fhir::Store> {
        self.store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store, for writing. Every write of the store is whole or nothing, so a
    /// poisoned lock is taken over.
    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, fhir::Store> {
        self.store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The jobs of bulk exports.
    pub(crate) fn jobs(&self) -> std::sync::MutexGuard<'_, bulk::Jobs> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The served resource types, sorted.
    pub(crate) fn served(&self) -> &[String] {
        &self.served
    }

    /// Whether `resource_type` is served.
    pub(crate) fn serves(&self, resource_type: &str) -> bool {
        self.served
            .binary_search_by(|t| t.as_str().cmp(resource_type))
            .is_ok()
    }

    /// Back to the loaded (or built-in) data; bulk export jobs and cached tokens are
    /// forgotten.
    pub(crate) fn reset(&self) {
        *self.write() = self.initial.clone();
        *self.jobs() = bulk::Jobs::default();
        self.guards.forget_tokens();
    }
}

/// The router of `{base}/fhir/...` (`metadata` and `.well-known` excepted: they are
/// discovery's, and static routes win over this catch-all).
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/fhir", any(entry))
        .route("/fhir/", any(entry))
        .route("/fhir/{*path}", any(entry))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            respond::fault_layer,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), cors::layer))
}

/// What the audit trail records of one request.
#[derive(Debug, Default)]
pub(crate) struct AuditInfo {
    client_id: Option<String>,
    user: Option<String>,
    patient: Option<String>,
    jti: Option<String>,
}

async fn entry(State(state): State<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let needs_body = matches!(parts.method, Method::POST | Method::PUT | Method::PATCH);
    let body = if needs_body {
        match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => {
                let err = respond::ApiError::too_large();
                let summary = format!("{} {}", parts.method, parts.uri.path());
                return finish(
                    &state,
                    started,
                    None,
                    &summary,
                    &AuditInfo::default(),
                    err.into_response(),
                );
            }
        }
    } else {
        drop(body);
        axum::body::Bytes::new()
    };
    let request = interactions::Incoming {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: &body,
    };
    let mut audit = AuditInfo::default();
    let mut timing = stats::Timing::start(started);
    let response = interactions::handle(&state, &request, &mut audit, &mut timing);
    let summary = request.summary();
    finish(&state, started, Some(timing), &summary, &audit, response)
}

/// Audits the request, counts it, and hands the response back.
fn finish(
    state: &AppState,
    started: Instant,
    timing: Option<stats::Timing>,
    summary: &str,
    audit: &AuditInfo,
    response: Response,
) -> Response {
    let status = response.status();
    let outcome = respond::outcome_of(&response);
    let mut event = AuditEvent::new("fhir", outcome)
        .user(audit.user.as_deref())
        .patient(audit.patient.as_deref())
        .detail(format!("{summary} -> {}", status.as_u16()));
    if let Some(c) = &audit.client_id {
        event = event.client(c);
    }
    if let Some(j) = &audit.jti {
        event = event.token(j);
    }
    state.audit(event);
    state.fhir.stats.record(started, timing.as_ref(), status);
    response
}
