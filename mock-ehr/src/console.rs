//! The web console under `/_console/`: server-rendered HTML pages for people, served
//! with the `/_admin` test controls (absent with `--no-admin`), linked by a navigation
//! bar. No script and no build step; every value is HTML-escaped
//! ([`pages::escape`]).
//!
//! | route | page |
//! | --- | --- |
//! | `GET /_console/`, `POST /_console/launch` | [launcher]: an EHR launch (as a provider or a patient) or a standalone launch, with a simulated error |
//! | `GET /_console/patients?q=`, `GET /_console/patients/{id}` | [patients]: the data's patients, and one patient's resources |
//! | `GET /_console/fhir/{type}/{id}` | a resource's FHIR JSON, read from the store without a token (admin only) |
//! | `GET /_console/audit?client=&patient=&outcome=` | [audit]: the audit trail, newest first |
//! | `GET, POST /_console/clients`, `POST /_console/clients/delete` | [clients]: list, register, delete |
//!
//! **CSRF.** Every form that changes state (POST) carries a hidden `csrf` field: a
//! random token made when the router is built and the same for the server's life. A
//! POST without it, or with another value, is refused (403) before anything happens.
//! A page of another site cannot read the token (the console sends no CORS headers),
//! so it cannot forge a console POST from a browser. The token protects the console
//! from cross-site forms only: the console, like `/_admin`, has no login, and anyone
//! who can reach it can read the token.

mod audit;
mod clients;
mod launcher;
mod patients;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::form::{OAuthForm, Params};
use crate::pages::{self, escape};
use crate::state::{AppState, random_token};

/// The console's router (merged only when admin is enabled).
pub(crate) fn router() -> Router<AppState> {
    let csrf = Csrf(Arc::new(random_token().ok()));
    Router::new()
        .route(
            "/_console",
            get(|State(state): State<AppState>| async move {
                Redirect::permanent(&format!("{}/", root(&state)))
            }),
        )
        .route("/_console/", get(launcher::page))
        .route("/_console/launch", post(launcher::submit))
        .route("/_console/patients", get(patients::list))
        .route("/_console/patients/{id}", get(patients::show))
        .route("/_console/fhir/{resource_type}/{id}", get(patients::json))
        .route("/_console/audit", get(audit::page))
        .route(
            "/_console/clients",
            get(clients::page).post(clients::register),
        )
        .route("/_console/clients/delete", post(clients::delete))
        .layer(Extension(csrf))
}

/// The CSRF token of this server's console (`None` if no randomness was available:
/// then every POST is refused).
#[derive(Debug, Clone)]
pub(crate) struct Csrf(Arc<Option<String>>);

impl Csrf {
    /// The hidden form field carrying the token.
    fn field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            escape(self.0.as_deref().unwrap_or_default())
        )
    }

    fn accepts(&self, sent: Option<&str>) -> bool {
        match (self.0.as_deref(), sent) {
            (Some(ours), Some(sent)) => bool::from(ours.as_bytes().ct_eq(sent.as_bytes())),
            _ => false,
        }
    }
}

/// The pages of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nav {
    Launcher,
    Patients,
    Audit,
    Clients,
}

/// The pages of the navigation bar, under the console's root ([`root`]).
const NAV: [(Nav, &str, &str); 4] = [
    (Nav::Launcher, "/", "Launcher"),
    (Nav::Patients, "/patients", "Patients"),
    (Nav::Audit, "/audit", "Audit trail"),
    (Nav::Clients, "/clients", "Clients"),
];

/// The console's path on this server: `/_console`, or `/t/{name}/_console` for a
/// tenant. Every link and form action starts with it.
fn root(state: &AppState) -> String {
    state.urls().local("/_console")
}

const STYLE: &str = "body{max-width:72em}\
    nav{display:flex;gap:1.2em;padding:.6em 0;border-bottom:1px solid #ccc;margin-bottom:1em}\
    nav strong{margin-right:1em}nav a[aria-current]{font-weight:bold;color:#222;text-decoration:none}\
    table{border-collapse:collapse;margin:.6em 0;width:100%}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.92em}\
    th{background:#f4f4f4}input[type=text],input:not([type]),select,textarea{min-width:24em;padding:.25em}\
    textarea{width:100%;min-height:4em;font-family:monospace}fieldset{margin:.8em 0;border:1px solid #ccc}\
    .hint{color:#666;font-size:.9em}.error{font-weight:bold}.notice{background:#eef7ee;border:1px solid #9c9;padding:.5em}\
    pre{background:#f2f2f2;padding:.6em;white-space:pre-wrap;word-break:break-all}\
    a.button{display:inline-block;background:#2d5c9e;color:#fff;padding:.5em 1.2em;text-decoration:none;border-radius:3px}\
    form.inline{display:inline}.nowrap{white-space:nowrap}";

/// A console page: the navigation bar, then `body` (markup whose values the caller
/// escaped); `root` as [`root`] gives it.
fn page(root: &str, title: &str, current: Nav, body: &str) -> String {
    let links: String = NAV
        .iter()
        .map(|(nav, href, label)| {
            let here = if *nav == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{root}{href}\"{here}>{label}</a>")
        })
        .collect();
    let nav = format!("<nav><strong>mock EHR console</strong>{links}</nav>");
    pages::document(title, &nav, body, STYLE)
}

/// An HTML response with `status`, never cached.
fn html(status: StatusCode, page: String) -> Response {
    let mut response = (status, Html(page)).into_response();
    crate::error::no_store(&mut response);
    response
}

/// A page that only says what went wrong.
fn error_page(root: &str, status: StatusCode, current: Nav, message: &str) -> Response {
    html(
        status,
        page(
            root,
            "Console error",
            current,
            &format!("<p class=\"error\">{}</p>", escape(message)),
        ),
    )
}

/// A request refused before its page could be made: shown by [`error_page`].
#[derive(Debug)]
struct Refused {
    root: String,
    status: StatusCode,
    current: Nav,
    message: String,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        error_page(&self.root, self.status, self.current, &self.message)
    }
}

/// A POSTed form with the right CSRF token, or the refusal: 400 for a body that is
/// not a form (or repeats a field), 403 for a missing or wrong token.
fn checked_form(
    root: &str,
    csrf: &Csrf,
    form: Result<OAuthForm, AppError>,
    current: Nav,
) -> Result<Params, Refused> {
    let form = form.map_err(|e| {
        let why = match e {
            AppError::OAuth { description, .. } => description,
            _ => "unreadable form".into(),
        };
        Refused {
            root: root.to_string(),
            status: StatusCode::BAD_REQUEST,
            current,
            message: format!("The form could not be read: {why}."),
        }
    })?;
    if !csrf.accepts(form.params.get("csrf")) {
        return Err(Refused {
            root: root.to_string(),
            status: StatusCode::FORBIDDEN,
            current,
            message: "Refused: this form was not sent from the console's own page (its csrf \
                      token is missing or wrong). Reload the console page and submit it again."
                .into(),
        });
    }
    Ok(form.params)
}

/// Form-field error messages, by field name.
#[derive(Debug, Default)]
struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages of `field`, as markup placed next to it.
    fn show(&self, field: &str) -> String {
        self.0
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| {
                format!(
                    "<span class=\"error\" id=\"{field}-error\">{}</span>",
                    escape(m)
                )
            })
            .collect()
    }

    /// A summary above the form.
    fn summary(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let items: String = self
            .0
            .iter()
            .map(|(f, m)| format!("<li><strong>{f}</strong>: {}</li>", escape(m)))
            .collect();
        format!(
            "<div class=\"error\" role=\"alert\"><p>Nothing was done:</p><ul>{items}</ul></div>"
        )
    }
}

/// `<option>`s for `values` (value, label), `selected` chosen.
fn options<'a>(values: impl IntoIterator<Item = (&'a str, String)>, selected: &str) -> String {
    values
        .into_iter()
        .map(|(v, label)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                escape(v),
                if v == selected { " selected" } else { "" },
                escape(&label)
            )
        })
        .collect()
}

/// Percent-encodes a value for a query string.
fn query_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Parses a page's query string (strict, as every endpoint: a repeated parameter is an
/// error).
fn query(root: &str, raw: Option<String>, current: Nav) -> Result<Params, Refused> {
    Params::parse(raw.unwrap_or_default().as_bytes()).map_err(|e| Refused {
        root: root.to_string(),
        status: StatusCode::BAD_REQUEST,
        current,
        message: format!("The query string could not be read: {e}."),
    })
}
