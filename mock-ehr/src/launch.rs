//! EHR launch: `POST /_admin/launch` creates a launch context and returns its id;
//! `GET /launch?launch_uri=...&patient=...` does the same and sends the browser to the
//! app's launch URL with `iss` (the FHIR base) and `launch`, as an EHR does when a
//! clinician opens an app. `launch_uri` must be a launch URL some client registered
//! (`launch_uris`), so this is no open redirector.

use axum::extract::rejection::JsonRejection;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::paths;
use crate::audit::AuditEvent;
use crate::authorize::{LAUNCH_TTL, redirect_with};
use crate::error::{AppError, OAuthError};
use crate::form::Params;
use crate::state::{AppState, random_id};
use crate::store::LaunchContext;

/// The body of `POST /_admin/launch`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchRequest {
    /// The patient in context (a built-in or configured patient id).
    pub patient: Option<String>,
    /// The encounter in context (any FHIR id).
    pub encounter: Option<String>,
    /// The EHR user who launches (a username); the default user when absent.
    pub user: Option<String>,
    /// SMART `fhirContext`: objects with `reference`, `canonical` or `identifier`.
    #[serde(rename = "fhirContext", default)]
    pub fhir_context: Vec<Value>,
    /// `need_patient_banner` for the token response.
    pub need_patient_banner: Option<bool>,
    /// `smart_style_url` for the token response.
    pub smart_style_url: Option<String>,
    /// The most the launched app may be granted (SMART scopes, strict syntax): a
    /// scope it asks for is granted only if these cover it in full.
    pub scope: Option<String>,
}

/// The router of the public launch page.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::LAUNCH, get(launch_page))
}

/// The admin part: `POST /_admin/launch`.
pub(crate) fn admin_router() -> Router<AppState> {
    Router::new().route("/_admin/launch", post(admin_launch))
}

/// Validates a launch request and stores it; returns the launch id.
pub(crate) fn create(state: &AppState, req: LaunchRequest) -> Result<String, String> {
    let mut store = state.store();
    if let Some(p) = &req.patient
        && !store.directory.has_patient(p)
    {
        return Err(format!("unknown patient {p:?}"));
    }
    if let Some(u) = &req.user
        && store.directory.user(u).is_none()
    {
        return Err(format!("unknown user {u:?}"));
    }
    if let Some(e) = &req.encounter
        && (e.is_empty()
            || !e
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    {
        return Err("encounter must be a FHIR id".into());
    }
    if !req.fhir_context.iter().all(|c| {
        c.as_object().is_some_and(|o| {
            ["reference", "canonical", "identifier"]
                .iter()
                .any(|k| o.contains_key(*k))
        })
    }) {
        return Err(
            "each fhirContext item must be an object with reference, canonical or identifier"
                .into(),
        );
    }
    if let Some(url) = &req.smart_style_url {
        crate::directory::check_absolute_url(url)?;
    }
    let scope = match &req.scope {
        Some(s) => Some(crate::scopes::parse_allowed(s)?),
        None => None,
    };
    let id = random_id().map_err(|_| "no randomness".to_string())?;
    let user = req
        .user
        .clone()
        .unwrap_or_else(|| store.directory.default_user.clone());
    let context = LaunchContext {
        patient: req.patient,
        encounter: req.encounter,
        fhir_context: req.fhir_context,
        need_patient_banner: req.need_patient_banner,
        smart_style_url: req.smart_style_url,
        user: Some(user.clone()),
        scope,
    };
    let now = state.now();
    let patient = context.patient.clone();
    store
        .launches
        .insert(id.clone(), (context, now + LAUNCH_TTL));
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("launch", "success")
            .user(Some(&user))
            .patient(patient.as_deref())
            .token(id.clone()),
    );
    Ok(id)
}

/// A live launch context.
pub(crate) fn get_live(state: &AppState, id: &str) -> Option<LaunchContext> {
    let now = state.now();
    let store = state.store();
    store
        .launches
        .get(id)
        .filter(|(_, exp)| now < *exp)
        .map(|(c, _)| c.clone())
}

async fn admin_launch(
    State(state): State<AppState>,
    body: Result<Json<LaunchRequest>, JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return AppError::admin(e.body_text()).into_response(),
    };
    match create(&state, req) {
        Ok(id) => Json(json!({ "launch": id, "iss": state.urls().fhir })).into_response(),
        Err(e) => AppError::admin(e).into_response(),
    }
}

async fn launch_page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let page = |d: &str| AppError::page(OAuthError::InvalidRequest, d).into_response();
    let params = match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return page(&e),
    };
    let Some(launch_uri) = params.get("launch_uri") else {
        return page("launch_uri is missing");
    };
    let registered = state
        .store()
        .directory
        .clients
        .values()
        .any(|c| c.launch_uris.iter().any(|u| u == launch_uri));
    if !registered {
        return page("launch_uri is not a registered app launch URL");
    }
    let req = LaunchRequest {
        patient: params.get("patient").map(String::from),
        encounter: params.get("encounter").map(String::from),
        user: params.get("user").map(String::from),
        ..LaunchRequest::default()
    };
    match create(&state, req) {
        Ok(id) => redirect_with(launch_uri, &[("iss", &state.urls().fhir), ("launch", &id)]),
        Err(e) => page(&e),
    }
}
