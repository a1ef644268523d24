//! The pages a person goes through when the server is not in `--auto-approve` mode:
//! login, then (standalone `launch/patient`) a patient picker, then consent, where the
//! user may untick scopes. Each step is a form carrying a random session id; a session
//! lives [`SESSION_TTL`] seconds and ends with the consent decision.

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;

use crate::audit::AuditEvent;
use crate::authorize::{self, ErrorTarget, ValidRequest};
use crate::error::{AppError, OAuthError};
use crate::form::OAuthForm;
use crate::pages;
use crate::state::{AppState, random_token};
use crate::store::Pending;

/// How long a person has to complete the pages, in seconds.
pub(crate) const SESSION_TTL: i64 = 600;

/// The router of this area.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/authorize/login", post(login))
        .route("/authorize/patient", post(pick_patient))
        .route("/authorize/consent", post(consent))
}

/// Starts the pages for a validated request: the login page.
pub(crate) fn start(state: &AppState, request: ValidRequest) -> Result<Response, AppError> {
    let session = random_token()?;
    let hint = request.login_hint.clone().unwrap_or_default();
    let page = pages::login(
        &state.urls().local("/authorize/login"),
        &session,
        &request.client_name,
        &hint,
        None,
    );
    let now = state.now();
    let mut store = state.store();
    store.pending.retain(|_, p| p.expires > now);
    store.pending.insert(
        session,
        Pending {
            request,
            user: None,
            patient: None,
            expires: now + SESSION_TTL,
        },
    );
    Ok(html(page))
}

fn html(page: String) -> Response {
    let mut response = Html(page).into_response();
    crate::error::no_store(&mut response);
    response
}

fn session_page_error() -> AppError {
    AppError::page(
        OAuthError::InvalidRequest,
        "this sign-in session is unknown or has expired; start again from the app",
    )
}

/// The pending session named by the form, if alive.
fn pending(state: &AppState, form: &OAuthForm) -> Result<(String, Pending), AppError> {
    let session = form
        .params
        .get("session")
        .ok_or_else(session_page_error)?
        .to_string();
    let now = state.now();
    let store = state.store();
    let p = store
        .pending
        .get(&session)
        .filter(|p| p.expires > now)
        .cloned()
        .ok_or_else(session_page_error)?;
    Ok((session, p))
}

fn page_form(form: Result<OAuthForm, AppError>) -> Result<OAuthForm, AppError> {
    form.map_err(|_| AppError::page(OAuthError::InvalidRequest, "malformed form"))
}

async fn login(State(state): State<AppState>, form: Result<OAuthForm, AppError>) -> Response {
    let result = (|| -> Result<Response, AppError> {
        let form = page_form(form)?;
        let (session, mut p) = pending(&state, &form)?;
        let username = form.params.get("username").unwrap_or_default();
        let password = form.params.get("password").unwrap_or_default();
        let user = state.store().directory.user(username).cloned();
        let Some(user) = user.filter(|u| u.password == password) else {
            state.audit(
                AuditEvent::new("login", "access_denied")
                    .client(&p.request.client_id)
                    .detail(format!("failed login for {username:?}")),
            );
            return Ok(html(pages::login(
                &state.urls().local("/authorize/login"),
                &session,
                &p.request.client_name,
                username,
                Some("Unknown user or wrong password."),
            )));
        };
        p.user = Some(user.username.clone());
        if p.request.needs_patient_pick() {
            p.patient = user.patient_id().map(String::from);
        }
        let page = next_page(&state, &session, &p);
        state.store().pending.insert(session, p);
        Ok(page)
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The picker when a patient is still needed, else the consent page.
fn next_page(state: &AppState, session: &str, p: &Pending) -> Response {
    if p.request.needs_patient_pick() && p.patient.is_none() {
        let patients = state.store().directory.patients.clone();
        return html(pages::patient_picker(
            &state.urls().local("/authorize/patient"),
            session,
            &patients,
        ));
    }
    let patient = p
        .patient
        .clone()
        .or_else(|| p.request.launch.as_ref().and_then(|l| l.patient.clone()));
    html(pages::consent(
        &state.urls().local("/authorize/consent"),
        session,
        &p.request.client_name,
        patient.as_deref(),
        &p.request.granted.set,
    ))
}

async fn pick_patient(
    State(state): State<AppState>,
    form: Result<OAuthForm, AppError>,
) -> Response {
    let result = (|| -> Result<Response, AppError> {
        let form = page_form(form)?;
        let (session, mut p) = pending(&state, &form)?;
        if p.user.is_none() || !p.request.needs_patient_pick() {
            return Err(session_page_error());
        }
        let patient = form.params.get("patient").unwrap_or_default().to_string();
        if !state.store().directory.has_patient(&patient) {
            let patients = state.store().directory.patients.clone();
            return Ok(html(pages::patient_picker(
                &state.urls().local("/authorize/patient"),
                &session,
                &patients,
            )));
        }
        p.patient = Some(patient);
        let page = next_page(&state, &session, &p);
        state.store().pending.insert(session, p);
        Ok(page)
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn consent(State(state): State<AppState>, form: Result<OAuthForm, AppError>) -> Response {
    let result = (|| -> Result<Response, AppError> {
        let form = page_form(form)?;
        let (session, p) = pending(&state, &form)?;
        if p.user.is_none() || (p.request.needs_patient_pick() && p.patient.is_none()) {
            return Err(session_page_error());
        }
        state.store().pending.remove(&session);
        let target = ErrorTarget {
            redirect_uri: p.request.redirect_uri.clone(),
            state: Some(p.request.state.clone()),
            issuer: state.urls().issuer().to_string(),
        };
        if form.params.get("decision") != Some("allow") {
            state.audit(
                AuditEvent::new("authorize", "access_denied")
                    .client(&p.request.client_id)
                    .user(p.user.as_deref())
                    .detail("the user denied consent"),
            );
            return Ok(target.redirect(OAuthError::AccessDenied, "the user denied access"));
        }
        let kept: Vec<String> = form
            .params
            .iter()
            .filter(|(k, _)| k.starts_with("scope_"))
            .map(|(_, v)| v.clone())
            .collect();
        authorize::approve(&state, p.request, p.user, p.patient, Some(kept))
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}
