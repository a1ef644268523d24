//! The launcher: a form for an EHR launch (as a provider or as a patient) or a
//! standalone launch, with a simulated error. On submit it validates every field
//! (explaining each refusal next to the field, status 400), creates the launch with
//! [`launch::create`] (the code behind `POST /_admin/launch`), arms the chosen fault as
//! `POST /_admin/faults` would, and shows the app's launch URL, a link that opens it,
//! and the same launch as a `curl` through `/_admin`.

use axum::extract::{Extension, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{Csrf, FieldErrors, Nav, checked_form, html, options, query, query_value};
use crate::error::AppError;
use crate::faults::{Fault, FaultRule};
use crate::form::{OAuthForm, Params};
use crate::launch::{self, LaunchRequest};
use crate::pages::escape;
use crate::state::AppState;

/// The launch types.
const TYPES: [(&str, &str); 3] = [
    (
        "provider",
        "EHR launch, as a provider (a practitioner opens the app in a patient's chart)",
    ),
    (
        "patient",
        "EHR launch, as a patient (a patient opens the app from the portal)",
    ),
    (
        "standalone",
        "Standalone launch (the app starts on its own; the user signs in and picks a patient)",
    ),
];

/// The simulated errors: a fault armed for the next call of an endpoint.
const FAULTS: [(&str, &str); 7] = [
    ("", "None"),
    (
        "authorize_access_denied",
        "Authorization answers access_denied (redirected to the app)",
    ),
    (
        "token_invalid_grant",
        "Token endpoint answers invalid_grant",
    ),
    (
        "token_temporarily_unavailable",
        "Token endpoint answers temporarily_unavailable (503)",
    ),
    ("token_status_500", "Token endpoint answers HTTP 500"),
    (
        "token_rate_limit",
        "Token endpoint answers 429 with Retry-After: 30",
    ),
    (
        "fhir_status_500",
        "The next FHIR API request answers HTTP 500",
    ),
];

fn fault_rule(key: &str) -> Option<FaultRule> {
    let (endpoint, fault) = match key {
        "authorize_access_denied" => (
            "authorize",
            Fault::OauthError {
                error: "access_denied".into(),
            },
        ),
        "token_invalid_grant" => (
            "token",
            Fault::OauthError {
                error: "invalid_grant".into(),
            },
        ),
        "token_temporarily_unavailable" => (
            "token",
            Fault::OauthError {
                error: "temporarily_unavailable".into(),
            },
        ),
        "token_status_500" => ("token", Fault::Status { status: 500 }),
        "token_rate_limit" => ("token", Fault::RateLimit { retry_after: 30 }),
        "fhir_status_500" => ("fhir", Fault::Status { status: 500 }),
        _ => return None,
    };
    Some(FaultRule {
        endpoint: endpoint.into(),
        remaining: 1,
        fault,
    })
}

/// The form's values, as sent (trimmed).
#[derive(Debug, Default)]
struct LaunchForm {
    launch_type: String,
    patient: String,
    user: String,
    encounter: String,
    launch_url: String,
    scope: String,
    fault: String,
}

impl LaunchForm {
    fn from_params(p: &Params) -> Self {
        let get = |k: &str| p.get(k).unwrap_or_default().trim().to_string();
        Self {
            launch_type: get("launch_type"),
            patient: get("patient"),
            user: get("user"),
            encounter: get("encounter"),
            launch_url: get("launch_url"),
            scope: get("scope"),
            fault: get("fault"),
        }
    }

    /// The initial values: the default user and patient, the first registered launch
    /// URL; `patient` and `launch_url` may come from the query string.
    fn initial(state: &AppState, p: &Params) -> Self {
        let store = state.store();
        let mut launch_urls: Vec<&String> = store
            .directory
            .clients
            .values()
            .flat_map(|c| &c.launch_uris)
            .collect();
        launch_urls.sort();
        Self {
            launch_type: "provider".into(),
            patient: p
                .get("patient")
                .unwrap_or(&store.directory.default_patient)
                .to_string(),
            user: store.directory.default_user.clone(),
            launch_url: p
                .get("launch_url")
                .map(String::from)
                .or_else(|| launch_urls.first().map(|u| u.to_string()))
                .unwrap_or_default(),
            ..Self::default()
        }
    }
}

/// What a successful submit made.
struct Launched {
    url: String,
    curl: Option<String>,
    fault_curl: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    Extension(csrf): Extension<Csrf>,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = match query(&super::root(&state), raw, Nav::Launcher) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let form = LaunchForm::initial(&state, &params);
    render(
        &state,
        &csrf,
        StatusCode::OK,
        &form,
        &FieldErrors::default(),
        None,
    )
}

pub(super) async fn submit(
    State(state): State<AppState>,
    Extension(csrf): Extension<Csrf>,
    form: Result<OAuthForm, AppError>,
) -> Response {
    let params = match checked_form(&super::root(&state), &csrf, form, Nav::Launcher) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let form = LaunchForm::from_params(&params);
    match launch_from(&state, &form) {
        Ok(done) => render(
            &state,
            &csrf,
            StatusCode::OK,
            &form,
            &FieldErrors::default(),
            Some(&done),
        ),
        Err(errors) => render(&state, &csrf, StatusCode::BAD_REQUEST, &form, &errors, None),
    }
}

/// Validates the form, creates the launch and arms the fault.
fn launch_from(state: &AppState, form: &LaunchForm) -> Result<Launched, FieldErrors> {
    let mut errors = FieldErrors::default();
    let ehr_launch = match form.launch_type.as_str() {
        "provider" | "patient" => true,
        "standalone" => false,
        other => {
            errors.add(
                "launch_type",
                format!("unknown launch type {other:?}: choose provider, patient or standalone"),
            );
            false
        }
    };
    if form.launch_url.is_empty() {
        errors.add("launch_url", "the app's launch URL is required");
    } else if let Err(e) = crate::directory::check_absolute_url(&form.launch_url) {
        errors.add("launch_url", format!("malformed URL: {e}"));
    }
    let rule = if form.fault.is_empty() {
        None
    } else {
        match fault_rule(&form.fault) {
            Some(r) => Some(r),
            None => {
                errors.add("fault", format!("unknown simulated error {:?}", form.fault));
                None
            }
        }
    };
    let mut patient = (!form.patient.is_empty()).then(|| form.patient.clone());
    let mut user = None;
    if ehr_launch {
        if !form.scope.is_empty()
            && let Err(e) = crate::scopes::parse_allowed(&form.scope)
        {
            errors.add(
                "scope",
                format!("{e}: write SMART scopes separated by spaces"),
            );
        }
        let store = state.store();
        let dir = &store.directory;
        if let Some(p) = &patient
            && !dir.has_patient(p)
        {
            errors.add(
                "patient",
                format!("unknown patient {p:?}: choose one of the data's patients"),
            );
        }
        match dir.user(&form.user) {
            None => errors.add(
                "user",
                format!(
                    "unknown user {:?}: choose one of the EHR's users",
                    form.user
                ),
            ),
            Some(u) if form.launch_type == "patient" => match u.patient_id() {
                None => errors.add(
                    "user",
                    format!(
                        "a patient launch is made by a patient user, and {} is {}: choose a \
                         user whose record is a Patient",
                        u.username, u.fhir_user
                    ),
                ),
                Some(own) => match &patient {
                    Some(p) if p != own => errors.add(
                        "patient",
                        format!(
                            "in a patient launch the patient is the user's own record: {} is \
                             Patient/{own}, not {p}",
                            u.username
                        ),
                    ),
                    _ => {
                        patient = Some(own.to_string());
                        user = Some(u.username.clone());
                    }
                },
            },
            Some(u) => match u.patient_id() {
                Some(_) => errors.add(
                    "user",
                    format!(
                        "a provider launch is made by a practitioner, and {} is {}: choose a \
                         practitioner",
                        u.username, u.fhir_user
                    ),
                ),
                None => user = Some(u.username.clone()),
            },
        }
        drop(store);
        if !form.encounter.is_empty()
            && let Some(e) = check_encounter(state, &form.encounter, patient.as_deref())
        {
            errors.add("encounter", e);
        }
    } else if !form.scope.is_empty() {
        errors.add(
            "scope",
            "a standalone launch has no launch context to carry allowed scopes: leave this \
             empty (the client's registered scopes apply)",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let iss = state.urls().fhir.clone();
    let sep = if form.launch_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let (url, curl) = if ehr_launch {
        let req = LaunchRequest {
            patient: patient.clone(),
            encounter: (!form.encounter.is_empty()).then(|| form.encounter.clone()),
            user: user.clone(),
            scope: (!form.scope.is_empty()).then(|| form.scope.clone()),
            ..LaunchRequest::default()
        };
        let mut body = Map::new();
        for (k, v) in [
            ("patient", &req.patient),
            ("encounter", &req.encounter),
            ("user", &req.user),
            ("scope", &req.scope),
        ] {
            if let Some(v) = v {
                body.insert(k.into(), Value::from(v.as_str()));
            }
        }
        let id = launch::create(state, req).map_err(|e| {
            let mut errors = FieldErrors::default();
            errors.add("launch", e);
            errors
        })?;
        let url = format!(
            "{}{sep}iss={}&launch={}",
            form.launch_url,
            query_value(&iss),
            query_value(&id)
        );
        let curl = format!(
            "curl -s -X POST {} -H 'content-type: application/json' \\\n  -d {}\n\
             # -> {{\"launch\": \"...\", \"iss\": \"{iss}\"}}: open {}{sep}iss=ISS&launch=LAUNCH",
            shell_quote(&state.urls().at("/_admin/launch")),
            shell_quote(&Value::Object(body).to_string()),
            form.launch_url,
        );
        (url, Some(curl))
    } else {
        (
            format!("{}{sep}iss={}", form.launch_url, query_value(&iss)),
            None,
        )
    };
    let fault_curl = match rule {
        Some(rule) => {
            let body = json!({ "endpoint": rule.endpoint, "count": 1, "fault": rule.fault });
            if let Err(e) = rule.validate() {
                let mut errors = FieldErrors::default();
                errors.add("fault", e);
                return Err(errors);
            }
            state.store().faults.push(rule);
            Some(format!(
                "curl -s -X POST {} -H 'content-type: application/json' \\\n  -d {}",
                shell_quote(&state.urls().at("/_admin/faults")),
                shell_quote(&body.to_string())
            ))
        }
        None => None,
    };
    Ok(Launched {
        url,
        curl,
        fault_curl,
    })
}

/// Why `encounter` does not fit, if it does not: it must be an Encounter of the data,
/// of the launch's patient.
fn check_encounter(state: &AppState, encounter: &str, patient: Option<&str>) -> Option<String> {
    if !crate::fhir::valid_id(encounter) {
        return Some(format!("{encounter:?} is not a FHIR id"));
    }
    let data = state.fhir.read();
    let Ok(version) = data.read("Encounter", encounter) else {
        return Some(format!("there is no Encounter/{encounter} in the data"));
    };
    let subject = version
        .resource
        .as_ref()
        .and_then(|r| r.pointer("/subject/reference"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match patient {
        None => Some("an encounter needs the patient it belongs to".into()),
        Some(p) if subject != format!("Patient/{p}") => Some(format!(
            "Encounter/{encounter} belongs to {}, not to Patient/{p}",
            if subject.is_empty() {
                "no patient"
            } else {
                subject
            }
        )),
        Some(_) => None,
    }
}

/// `'text'` for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn render(
    state: &AppState,
    csrf: &Csrf,
    status: StatusCode,
    form: &LaunchForm,
    errors: &FieldErrors,
    done: Option<&Launched>,
) -> Response {
    let root = super::root(state);
    let (patients, users, encounters, launch_urls) = choices(state);
    let types: String = TYPES
        .iter()
        .map(|(v, label)| {
            format!(
                "<label><input type=\"radio\" name=\"launch_type\" value=\"{v}\"{}> {}</label>",
                if form.launch_type == *v {
                    " checked"
                } else {
                    ""
                },
                escape(label)
            )
        })
        .collect();
    let patient_options = options(
        std::iter::once(("", "(none)".to_string())).chain(
            patients
                .iter()
                .map(|(id, name)| (id.as_str(), format!("{id}: {name}"))),
        ),
        &form.patient,
    );
    let user_options = options(
        users.iter().map(|(u, label)| (u.as_str(), label.clone())),
        &form.user,
    );
    let encounter_list: String = encounters
        .iter()
        .map(|(id, label)| {
            format!(
                "<option value=\"{}\">{}</option>",
                escape(id),
                escape(label)
            )
        })
        .collect();
    let url_list: String = launch_urls
        .iter()
        .map(|u| format!("<option value=\"{}\"></option>", escape(u)))
        .collect();
    let fault_options = options(
        FAULTS.iter().map(|(k, label)| (*k, (*label).to_string())),
        &form.fault,
    );
    let result = done.map(result_html).unwrap_or_default();
    let body = format!(
        "{result}{summary}\
         <form method=\"post\" action=\"{root}/launch\">{csrf}\
         <fieldset><legend>Launch type</legend>{types}{e_type}</fieldset>\
         <label>Patient <select name=\"patient\">{patient_options}</select> {e_patient}</label>\
         <label>User (practitioner, or the patient's own user for a patient launch) \
         <select name=\"user\">{user_options}</select> {e_user}</label>\
         <label>Encounter (optional) <input name=\"encounter\" list=\"encounters\" value=\"{encounter}\" \
         placeholder=\"enc-001-1\"> {e_encounter}</label><datalist id=\"encounters\">{encounter_list}</datalist>\
         <label>App launch URL <input name=\"launch_url\" list=\"launch-urls\" value=\"{launch_url}\" \
         placeholder=\"http://localhost:3000/launch\"> {e_launch_url}</label><datalist id=\"launch-urls\">{url_list}</datalist>\
         <label>Scopes to allow (optional) <input name=\"scope\" value=\"{scope}\" \
         placeholder=\"launch openid fhirUser patient/*.rs\"> {e_scope}</label>\
         <p class=\"hint\">Empty: what the client registered. Otherwise the most the app may be granted \
         in this launch: a scope it asks for is granted only if these cover it in full. EHR launches only.</p>\
         <label>Simulated error <select name=\"fault\">{fault_options}</select> {e_fault}</label>\
         <p class=\"hint\">Armed for the next call of that endpoint, whoever makes it \
         (like <code>POST /_admin/faults</code>).</p>{e_launch}\
         <button type=\"submit\">Create the launch</button></form>\
         <p class=\"hint\">Standalone launches use only the launch URL: the user signs in and picks a \
         patient on the EHR's own pages (or, with <code>--auto-approve</code>, gets the defaults).</p>",
        summary = errors.summary(),
        csrf = csrf.field(),
        e_type = errors.show("launch_type"),
        e_patient = errors.show("patient"),
        e_user = errors.show("user"),
        encounter = escape(&form.encounter),
        e_encounter = errors.show("encounter"),
        launch_url = escape(&form.launch_url),
        e_launch_url = errors.show("launch_url"),
        scope = escape(&form.scope),
        e_scope = errors.show("scope"),
        e_fault = errors.show("fault"),
        e_launch = errors.show("launch"),
    );
    html(status, super::page(&root, "Launcher", Nav::Launcher, &body))
}

fn result_html(done: &Launched) -> String {
    let curl = done
        .curl
        .as_ref()
        .map(|c| {
            format!(
                "<p>The same launch through the test controls:</p><pre id=\"launch-curl\">{}</pre>",
                escape(c)
            )
        })
        .unwrap_or_default();
    let fault = done
        .fault_curl
        .as_ref()
        .map(|c| {
            format!(
                "<p>Simulated error armed, as by:</p><pre id=\"fault-curl\">{}</pre>",
                escape(c)
            )
        })
        .unwrap_or_default();
    format!(
        "<section class=\"notice\" id=\"launched\"><h2>Ready to launch</h2>\
         <p>Launch URL: <code id=\"launch-url\">{url}</code></p>\
         <p><a class=\"button\" id=\"launch-app\" href=\"{url}\">Launch the app</a></p>{curl}{fault}</section>",
        url = escape(&done.url),
    )
}

type Choices = (
    Vec<(String, String)>,
    Vec<(String, String)>,
    Vec<(String, String)>,
    Vec<String>,
);

/// Patients (id, name), users (username, label), encounters (id, label) and the
/// registered launch URLs.
fn choices(state: &AppState) -> Choices {
    let names = super::patients::names(state);
    let store = state.store();
    let patients = store
        .directory
        .patients
        .iter()
        .map(|id| {
            let name = names.get(id).cloned().unwrap_or_default();
            (id.clone(), name)
        })
        .collect();
    let users = store
        .directory
        .users
        .iter()
        .map(|u| {
            (
                u.username.clone(),
                format!("{} ({}, {})", u.username, u.name, u.fhir_user),
            )
        })
        .collect();
    let mut launch_urls: Vec<String> = store
        .directory
        .clients
        .values()
        .flat_map(|c| c.launch_uris.iter().cloned())
        .collect();
    drop(store);
    launch_urls.sort();
    launch_urls.dedup();
    let data = state.fhir.read();
    let encounters = data
        .current("Encounter")
        .filter_map(|e| {
            let id = e.get("id")?.as_str()?;
            let subject = e.pointer("/subject/reference").and_then(Value::as_str)?;
            let start = e
                .pointer("/period/start")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Some((id.to_string(), format!("{subject} {start}")))
        })
        .collect();
    (patients, users, encounters, launch_urls)
}
