//! The authorization endpoint (RFC 6749 section 4.1.1, SMART App Launch 2.x), GET and
//! POST.
//!
//! Order of checks:
//! 1. `client_id` names a client and `redirect_uri` is one of its registered URIs,
//!    compared exactly. On failure: an HTML error page, never a redirect (no open
//!    redirector). A repeated `client_id` or `redirect_uri` fails here too.
//! 2. Forced faults and the per-client rate limit.
//! 3. Everything else; failures redirect to the client with `error`,
//!    `error_description`, `state` (when sent) and `iss` (RFC 9207): repeated
//!    parameters, `response_type=code`, `state` required, PKCE `S256` required (`plain`
//!    refused), `aud` equal to the FHIR base, `scope` narrowed to the client's allowed
//!    scopes, `launch` a live launch id, `dpop_jkt` (RFC 9449 section 10) a JWK SHA-256
//!    thumbprint: the code is then bound to that DPoP key.
//!
//! Then, with `--auto-approve`, a code at once; otherwise the login, patient picker and
//! consent pages of [`crate::interactive`].

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use smartgate_core::base64url;
use smartgate_core::pkce::Method;
use smartgate_core::scope::Scope;

use crate::app::paths;
use crate::audit::AuditEvent;
use crate::error::{AppError, OAuthError};
use crate::faults::{self, Fault};
use crate::form::{self, Params};
use crate::ratelimit;
use crate::scopes::{self, Granted};
use crate::state::{AppState, random_token};
use crate::store::{Approval, CodeRecord, Consent, LaunchContext};

/// How long an authorization code lives, in seconds.
pub(crate) const CODE_TTL: i64 = 60;
/// How long a launch id from `POST /_admin/launch` stays usable, in seconds.
pub(crate) const LAUNCH_TTL: i64 = 3600;
/// The longest query string accepted, in bytes.
pub(crate) const MAX_QUERY: usize = 8 * 1024;

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub(crate) struct ValidRequest {
    pub(crate) client_id: String,
    pub(crate) client_name: String,
    pub(crate) redirect_uri: String,
    pub(crate) state: String,
    pub(crate) code_challenge: String,
    pub(crate) granted: Granted,
    pub(crate) nonce: Option<String>,
    /// RFC 9449 section 10: the DPoP key the code is bound to.
    pub(crate) dpop_jkt: Option<String>,
    /// The launch context of an EHR launch.
    pub(crate) launch: Option<LaunchContext>,
    pub(crate) login_hint: Option<String>,
}

impl ValidRequest {
    /// Whether the app asked for a patient to be picked (standalone `launch/patient`).
    pub(crate) fn needs_patient_pick(&self) -> bool {
        self.launch.is_none() && self.granted.has(&Scope::LaunchPatient)
    }
}

/// Where errors go once the client and redirect URI are known.
#[derive(Debug, Clone)]
pub(crate) struct ErrorTarget {
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) issuer: String,
}

impl ErrorTarget {
    /// The redirect carrying an error (RFC 6749 section 4.1.2.1, RFC 9207).
    pub(crate) fn redirect(&self, error: OAuthError, description: &str) -> Response {
        let mut pairs = vec![("error", error.code()), ("error_description", description)];
        if let Some(s) = &self.state {
            pairs.push(("state", s));
        }
        pairs.push(("iss", &self.issuer));
        redirect_with(&self.redirect_uri, &pairs)
    }
}

/// `uri` with `pairs` appended to its query.
pub(crate) fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    let mut response = Redirect::to(&format!("{uri}{sep}{}", query.finish())).into_response();
    crate::error::no_store(&mut response);
    response
}

/// The router of this area.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::AUTHORIZE, get(authorize_get).post(authorize_post))
}

async fn authorize_get(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY {
        return AppError::page(OAuthError::InvalidRequest, "the query string is too long")
            .into_response();
    }
    authorize(state, query.as_bytes()).await
}

async fn authorize_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    if !form::is_form(&headers) {
        return AppError::page(
            OAuthError::InvalidRequest,
            "POST to the authorization endpoint must be application/x-www-form-urlencoded",
        )
        .into_response();
    }
    match form::read_body(req, &()).await {
        Ok(body) => authorize(state, &body).await,
        Err(_) => AppError::page(OAuthError::InvalidRequest, "the request body is too large")
            .into_response(),
    }
}

/// Parses leniently: the first value of each parameter, and the name of a repeated one.
fn parse_lenient(input: &[u8]) -> Result<(Params, Option<String>), String> {
    let mut map = BTreeMap::new();
    let mut repeated = None;
    for (k, v) in form_urlencoded::parse(input) {
        if k.contains('\u{FFFD}') || v.contains('\u{FFFD}') {
            return Err("a parameter is not UTF-8".into());
        }
        if map.len() >= form::MAX_PARAMS {
            return Err("too many parameters".into());
        }
        if map.contains_key(k.as_ref()) {
            repeated.get_or_insert_with(|| k.to_string());
        } else {
            map.insert(k.into_owned(), v.into_owned());
        }
    }
    Ok((Params::from_map(map), repeated))
}

async fn authorize(state: AppState, input: &[u8]) -> Response {
    match authorize_inner(&state, input).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn authorize_inner(state: &AppState, input: &[u8]) -> Result<Response, AppError> {
    let (mut params, mut repeated) =
        parse_lenient(input).map_err(|e| AppError::page(OAuthError::InvalidRequest, e))?;
    let client_id = params
        .get("client_id")
        .ok_or_else(|| AppError::page(OAuthError::InvalidRequest, "client_id is missing"))?
        .to_string();
    // A pushed request replaces the parameters (RFC 9126 section 4).
    if let Some(request_uri) = params.get("request_uri") {
        params = crate::par::take(state, request_uri, &client_id)?;
        repeated = None;
    }
    let (client_name, redirect_uri) = match check_client(state, &params, repeated.as_deref()) {
        Ok(found) => found,
        Err(e) => {
            let outcome = e.oauth_code().map_or("refused", |c| c.code());
            state.audit(
                AuditEvent::new("authorize", outcome)
                    .client(&client_id)
                    .detail("refused with an error page (client or redirect_uri)"),
            );
            return Err(e);
        }
    };
    let target = ErrorTarget {
        redirect_uri: redirect_uri.clone(),
        state: params.get("state").map(String::from),
        issuer: state.urls().issuer().to_string(),
    };
    if let Some(fault) = faults::take(state, "authorize") {
        match fault {
            Fault::OauthError { error } => {
                let error = OAuthError::from_code(&error).unwrap_or(OAuthError::ServerError);
                return Ok(target.redirect(error, "forced by a test fault"));
            }
            other => {
                if let Some(response) = faults::respond(other).await {
                    return Ok(response);
                }
            }
        }
    }
    if let Err(retry_after) = ratelimit::check(state, "authorize", &client_id) {
        return Err(AppError::RateLimited { retry_after });
    }
    let request = match validate(
        state,
        &params,
        repeated.as_deref(),
        client_id.clone(),
        client_name,
        redirect_uri,
    ) {
        Ok(r) => r,
        Err((error, description)) => {
            state.audit(
                AuditEvent::new("authorize", error.code())
                    .client(&client_id)
                    .detail(&description),
            );
            return Ok(target.redirect(error, &description));
        }
    };
    if state.settings.auto_approve {
        auto_approve(state, request, &target)
    } else {
        crate::interactive::start(state, request)
    }
}

/// Step 1: the client and its exact redirect URI, or an error page.
fn check_client(
    state: &AppState,
    params: &Params,
    repeated: Option<&str>,
) -> Result<(String, String), AppError> {
    if matches!(repeated, Some("client_id" | "redirect_uri")) {
        return Err(AppError::page(
            OAuthError::InvalidRequest,
            "client_id or redirect_uri is repeated",
        ));
    }
    let client_id = params.get("client_id").unwrap_or_default();
    let store = state.store();
    let client = store
        .directory
        .clients
        .get(client_id)
        .ok_or_else(|| AppError::page(OAuthError::InvalidClient, "unknown client_id"))?;
    if !client.uses_redirects() {
        return Err(AppError::page(
            OAuthError::UnauthorizedClient,
            "this client has no redirect URIs",
        ));
    }
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| AppError::page(OAuthError::InvalidRequest, "redirect_uri is missing"))?;
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err(AppError::page(
            OAuthError::InvalidRequest,
            "redirect_uri is not registered for this client",
        ));
    }
    Ok((client.name.clone(), redirect_uri.to_string()))
}

type Refusal = (OAuthError, String);

fn refuse(error: OAuthError, description: &str) -> Refusal {
    (error, description.to_string())
}

/// Step 3: every other check.
fn validate(
    state: &AppState,
    params: &Params,
    repeated: Option<&str>,
    client_id: String,
    client_name: String,
    redirect_uri: String,
) -> Result<ValidRequest, Refusal> {
    use OAuthError::{InvalidRequest, InvalidScope, UnsupportedResponseType};
    if let Some(name) = repeated {
        return Err((InvalidRequest, format!("parameter {name} is repeated")));
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(_) => {
            return Err(refuse(
                UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
        None => return Err(refuse(InvalidRequest, "response_type is missing")),
    }
    let oauth_state = params
        .get("state")
        .ok_or_else(|| refuse(InvalidRequest, "state is required"))?;
    match params.get("code_challenge_method").map(Method::parse) {
        Some(Ok(Method::S256)) => {}
        Some(Ok(Method::Plain)) => {
            return Err(refuse(
                InvalidRequest,
                "code_challenge_method plain is refused; use S256",
            ));
        }
        Some(Err(_)) => {
            return Err(refuse(
                InvalidRequest,
                "unknown code_challenge_method; use S256",
            ));
        }
        None => {
            return Err(refuse(
                InvalidRequest,
                "PKCE is required: code_challenge_method=S256",
            ));
        }
    }
    let challenge = params
        .get("code_challenge")
        .ok_or_else(|| refuse(InvalidRequest, "code_challenge is missing"))?;
    if challenge.len() != 43 || base64url::decode(challenge.as_bytes()).is_err() {
        return Err(refuse(
            InvalidRequest,
            "code_challenge is not a base64url SHA-256 digest",
        ));
    }
    match params.get("aud") {
        Some(aud) if aud == state.urls().fhir => {}
        Some(_) => {
            return Err(refuse(
                InvalidRequest,
                "aud is not this server's FHIR base URL",
            ));
        }
        None => return Err(refuse(InvalidRequest, "aud is missing (the FHIR base URL)")),
    }
    let requested = params
        .get("scope")
        .ok_or_else(|| refuse(InvalidScope, "scope is missing"))?;
    let allowed = state
        .store()
        .directory
        .clients
        .get(&client_id)
        .map(|c| c.scope.clone())
        .unwrap_or_default();
    let dpop_jkt = params.get("dpop_jkt");
    if let Some(jkt) = dpop_jkt
        && (jkt.len() != 43 || base64url::decode(jkt.as_bytes()).is_err())
    {
        return Err(refuse(
            InvalidRequest,
            "dpop_jkt is not a base64url JWK SHA-256 thumbprint",
        ));
    }
    let launch = match params.get("launch") {
        Some(id) => Some(
            crate::launch::get_live(state, id)
                .ok_or_else(|| refuse(InvalidRequest, "launch is not a live launch id"))?,
        ),
        None => None,
    };
    let mut granted = scopes::grant(requested, &allowed)
        .map_err(|e| (InvalidScope, format!("scope refused ({})", e.code())))?;
    match (&launch, granted.requested.contains(&Scope::Launch)) {
        (Some(_), false) => {
            return Err(refuse(
                InvalidScope,
                "a launch parameter needs the launch scope",
            ));
        }
        (None, true) => {
            return Err(refuse(
                InvalidRequest,
                "the launch scope needs a launch parameter",
            ));
        }
        _ => {}
    }
    if let Some(cap) = launch.as_ref().and_then(|l| l.scope.as_ref()) {
        // The launch's own limit: only scopes it covers in full.
        granted.retain(|s| {
            smartgate_core::scope::ScopeSet::from_scopes([s.clone()])
                .is_ok_and(|one| scopes::within(&one, cap))
        });
    }
    if launch.is_none() && granted.has(&Scope::LaunchEncounter) {
        // No encounter picker: a standalone launch cannot fulfil launch/encounter.
        granted.retain(|s| *s != Scope::LaunchEncounter);
    }
    if granted.is_empty() {
        return Err(refuse(
            InvalidScope,
            "none of the requested scopes may be granted to this client",
        ));
    }
    Ok(ValidRequest {
        client_id,
        client_name,
        redirect_uri,
        state: oauth_state.to_string(),
        code_challenge: challenge.to_string(),
        granted,
        nonce: params.get("nonce").map(String::from),
        dpop_jkt: dpop_jkt.map(String::from),
        launch,
        login_hint: params.get("login_hint").map(String::from),
    })
}

/// `--auto-approve`: user from `login_hint` or the default, patient from the launch,
/// a Patient `login_hint`, the patient user, or the default patient.
fn auto_approve(
    state: &AppState,
    request: ValidRequest,
    target: &ErrorTarget,
) -> Result<Response, AppError> {
    let fhir = state.urls().fhir.clone();
    let (user, hinted_patient) = {
        let store = state.store();
        let dir = &store.directory;
        let launch_user = request.launch.as_ref().and_then(|l| l.user.clone());
        match (launch_user, request.login_hint.as_deref()) {
            (Some(u), _) => (u, None),
            (None, Some(hint)) => match dir.user_by_hint(hint, &fhir) {
                Some(u) => (u.username.clone(), None),
                None => {
                    let reference = hint.strip_prefix(&format!("{fhir}/")).unwrap_or(hint);
                    match reference.strip_prefix("Patient/") {
                        Some(p) if dir.has_patient(p) => {
                            (dir.default_user.clone(), Some(p.to_string()))
                        }
                        _ => {
                            drop(store);
                            return Ok(target.redirect(
                                OAuthError::AccessDenied,
                                "login_hint names no known user or patient",
                            ));
                        }
                    }
                }
            },
            (None, None) => (dir.default_user.clone(), None),
        }
    };
    let patient = if request.needs_patient_pick() {
        let store = state.store();
        let own = store
            .directory
            .user(&user)
            .and_then(|u| u.patient_id().map(String::from));
        Some(
            own.or(hinted_patient)
                .unwrap_or_else(|| store.directory.default_patient.clone()),
        )
    } else {
        None
    };
    approve(state, request, Some(user), patient, None)
}

/// Records consent, issues a code and redirects to the client. `scope_override`, from
/// the consent page, is the subset of the granted scopes the user left ticked.
pub(crate) fn approve(
    state: &AppState,
    mut request: ValidRequest,
    user: Option<String>,
    picked_patient: Option<String>,
    scope_override: Option<Vec<String>>,
) -> Result<Response, AppError> {
    if let Some(kept) = scope_override {
        request.granted.retain(|s| kept.contains(&s.to_string()));
    }
    let target = ErrorTarget {
        redirect_uri: request.redirect_uri.clone(),
        state: Some(request.state.clone()),
        issuer: state.urls().issuer().to_string(),
    };
    if request.granted.is_empty() {
        state.audit(
            AuditEvent::new("authorize", "access_denied")
                .client(&request.client_id)
                .user(user.as_deref()),
        );
        return Ok(target.redirect(OAuthError::AccessDenied, "the user granted no scope"));
    }
    let mut context = request.launch.clone().unwrap_or_default();
    context.user = None;
    if picked_patient.is_some() {
        context.patient = picked_patient;
        context.need_patient_banner.get_or_insert(true);
    }
    let now = state.now();
    let code = random_token()?;
    let scope = request.granted.to_scope_string();
    let mut detail = format!("scope: {scope}");
    if let Some(note) = request.granted.audit_note() {
        detail = format!("{detail}; {note}");
    }
    let approval = Approval {
        client_id: request.client_id.clone(),
        user: user.clone(),
        scope: request.granted.set.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        dpop_jkt: request.dpop_jkt.clone(),
        context,
        auth_time: now,
    };
    let patient = approval.context.patient.clone();
    {
        let mut store = state.store();
        if let Some(u) = &user {
            store.consents.insert(
                (u.clone(), request.client_id.clone()),
                Consent {
                    user: u.clone(),
                    client_id: request.client_id.clone(),
                    scope: scope.clone(),
                    granted_at: now,
                    withdrawn_at: None,
                },
            );
        }
        store.prune_if_due(now);
        store.codes.insert(
            code.clone(),
            CodeRecord {
                approval,
                expires: now + CODE_TTL,
            },
        );
        AppState::audit_locked(
            &mut store,
            now,
            AuditEvent::new("authorize", "success")
                .client(&request.client_id)
                .user(user.as_deref())
                .patient(patient.as_deref())
                .detail(detail),
        );
    }
    Ok(redirect_with(
        &request.redirect_uri,
        &[
            ("code", &code),
            ("state", &request.state),
            ("iss", state.urls().issuer()),
        ],
    ))
}
