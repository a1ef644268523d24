//! The client registry: every client with its redirect and launch URLs, scopes and
//! key set; a registration form that goes through the rules of dynamic registration
//! ([`register::register_client`], shared with `POST /register`), with a chosen or
//! generated `client_id` and launch URLs; and deletion (a POST with a confirmation
//! box). Clients added or deleted here stay so until `/_admin/reset`.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{Csrf, FieldErrors, Nav, checked_form, html, options};
use crate::audit::AuditEvent;
use crate::config::ClientAuthMethod;
use crate::directory::{Client, ClientKeys};
use crate::error::AppError;
use crate::form::{OAuthForm, Params};
use crate::pages::escape;
use crate::register::{self, Extra, Field, Metadata};
use crate::state::AppState;

const AUTH_METHODS: [(&str, &str); 3] = [
    ("none", "none: a public app (PKCE only)"),
    (
        "client_secret_basic",
        "client_secret_basic: a confidential app with a secret (generated)",
    ),
    (
        "private_key_jwt",
        "private_key_jwt: a confidential app or service with a JWK Set",
    ),
];

/// The registration form's values, as sent.
#[derive(Debug, Default)]
struct RegisterForm {
    client_id: String,
    client_name: String,
    auth: String,
    redirect_uris: String,
    launch_uris: String,
    jwks: String,
    scope: String,
}

impl RegisterForm {
    fn from_params(p: &Params) -> Self {
        let get = |k: &str| p.get(k).unwrap_or_default().trim().to_string();
        Self {
            client_id: get("client_id"),
            client_name: get("client_name"),
            auth: get("auth"),
            redirect_uris: get("redirect_uris"),
            launch_uris: get("launch_uris"),
            jwks: get("jwks"),
            scope: get("scope"),
        }
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::ClientId => "client_id",
        Field::AuthMethod => "auth",
        Field::RedirectUris => "redirect_uris",
        Field::LaunchUris => "launch_uris",
        Field::Scope => "scope",
        Field::Jwks => "jwks",
        Field::Other => "register",
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    Extension(csrf): Extension<Csrf>,
) -> Response {
    let form = RegisterForm {
        auth: "none".into(),
        ..RegisterForm::default()
    };
    render(
        &state,
        &csrf,
        StatusCode::OK,
        "",
        &form,
        &FieldErrors::default(),
    )
}

pub(super) async fn register(
    State(state): State<AppState>,
    Extension(csrf): Extension<Csrf>,
    form: Result<OAuthForm, AppError>,
) -> Response {
    let params = match checked_form(&super::root(&state), &csrf, form, Nav::Clients) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let form = RegisterForm::from_params(&params);
    let mut errors = FieldErrors::default();
    let jwks = if form.jwks.is_empty() {
        None
    } else {
        match serde_json::from_str::<Value>(&form.jwks) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.add("jwks", format!("not JSON: {e}"));
                None
            }
        }
    };
    if form.auth.is_empty() {
        errors.add("auth", "choose an authentication method");
    }
    if !errors.is_empty() {
        return render(&state, &csrf, StatusCode::BAD_REQUEST, "", &form, &errors);
    }
    let meta = Metadata {
        redirect_uris: lines(&form.redirect_uris),
        token_endpoint_auth_method: Some(form.auth.clone()),
        client_name: (!form.client_name.is_empty()).then(|| form.client_name.clone()),
        scope: (!form.scope.is_empty()).then(|| form.scope.clone()),
        jwks,
        // A user-facing app: without redirect URIs it is refused for lacking them
        // (dynamic registration would make it a backend client instead).
        grant_types: (form.auth != "private_key_jwt").then(|| vec!["authorization_code".into()]),
        ..Metadata::default()
    };
    let extra = Extra {
        client_id: (!form.client_id.is_empty()).then(|| form.client_id.clone()),
        launch_uris: lines(&form.launch_uris),
    };
    match register::register_client(&state, meta, extra) {
        Ok(registered) => {
            let id = registered
                .get("client_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let secret = registered
                .get("client_secret")
                .and_then(Value::as_str)
                .map(|s| {
                    format!(
                        " Its client_secret (shown once): <code id=\"client-secret\">{}</code>",
                        escape(s)
                    )
                })
                .unwrap_or_default();
            let notice = format!(
                "<p class=\"notice\" id=\"registered\">Registered client <code>{}</code> with scopes \
                 <code>{}</code>.{secret}</p>",
                escape(id),
                escape(
                    registered
                        .get("scope")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                ),
            );
            let blank = RegisterForm {
                auth: "none".into(),
                ..RegisterForm::default()
            };
            render(
                &state,
                &csrf,
                StatusCode::CREATED,
                &notice,
                &blank,
                &FieldErrors::default(),
            )
        }
        Err(refusal) => {
            let mut errors = FieldErrors::default();
            errors.add(
                field_name(refusal.field),
                format!("{} ({})", refusal.description, refusal.error.code()),
            );
            render(&state, &csrf, StatusCode::BAD_REQUEST, "", &form, &errors)
        }
    }
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(csrf): Extension<Csrf>,
    form: Result<OAuthForm, AppError>,
) -> Response {
    let params = match checked_form(&super::root(&state), &csrf, form, Nav::Clients) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let blank = RegisterForm {
        auth: "none".into(),
        ..RegisterForm::default()
    };
    let id = params.get("client_id").unwrap_or_default().to_string();
    let refuse = |status, message: String| {
        let notice = format!(
            "<p class=\"error\" role=\"alert\" id=\"delete-error\">{}</p>",
            escape(&message)
        );
        render(
            &state,
            &csrf,
            status,
            &notice,
            &blank,
            &FieldErrors::default(),
        )
    };
    if params.get("confirm") != Some("yes") {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("Client {id:?} was not deleted: tick \"Really delete\" to confirm."),
        );
    }
    let removed = {
        let now = state.now();
        let mut store = state.store();
        let removed = store.directory.clients.remove(&id).is_some();
        if removed {
            AppState::audit_locked(
                &mut store,
                now,
                AuditEvent::new("client_deleted", "success")
                    .client(&id)
                    .detail("deleted in the web console"),
            );
        }
        removed
    };
    if !removed {
        return refuse(StatusCode::NOT_FOUND, format!("There is no client {id:?}."));
    }
    let notice = format!(
        "<p class=\"notice\" id=\"deleted\">Deleted client <code>{}</code> (its tokens stop \
         working at the next check of the client; <code>/_admin/reset</code> brings built-in \
         clients back).</p>",
        escape(&id)
    );
    render(
        &state,
        &csrf,
        StatusCode::OK,
        &notice,
        &blank,
        &FieldErrors::default(),
    )
}

fn list_items(items: &[String]) -> String {
    items
        .iter()
        .map(|u| format!("<code>{}</code>", escape(u)))
        .collect::<Vec<_>>()
        .join("<br>")
}

fn row(root: &str, c: &Client, csrf: &Csrf) -> String {
    let kind = match c.auth {
        ClientAuthMethod::None => "public",
        _ => "confidential",
    };
    let keys = match &c.keys {
        ClientKeys::None => String::new(),
        ClientKeys::Jwks(set) => set
            .keys()
            .iter()
            .map(|k| format!("<code>{}</code>", escape(k.kid().unwrap_or("(no kid)"))))
            .collect::<Vec<_>>()
            .join("<br>"),
        ClientKeys::Uri(uri) => format!("jwks_uri <code>{}</code>", escape(uri)),
    };
    format!(
        "<tr><td><code>{id}</code><br>{name}</td><td>{kind}</td><td>{auth}{dpop}</td><td>{redirects}</td>\
         <td>{launches}</td><td>{scope}</td><td>{keys}</td><td>\
         <form class=\"inline\" method=\"post\" action=\"{root}/clients/delete\">{csrf}\
         <input type=\"hidden\" name=\"client_id\" value=\"{id}\">\
         <label><input type=\"checkbox\" name=\"confirm\" value=\"yes\"> Really delete</label>\
         <button type=\"submit\">Delete</button></form></td></tr>",
        id = escape(&c.id),
        name = escape(&c.name),
        auth = escape(c.auth.as_str()),
        dpop = if c.dpop_bound { "<br>DPoP-bound" } else { "" },
        redirects = list_items(&c.redirect_uris),
        launches = list_items(&c.launch_uris),
        scope = escape(&c.scope.to_string()),
        csrf = csrf.field(),
    )
}

fn render(
    state: &AppState,
    csrf: &Csrf,
    status: StatusCode,
    notice: &str,
    form: &RegisterForm,
    errors: &FieldErrors,
) -> Response {
    let root = super::root(state);
    let rows: String = {
        let store = state.store();
        let mut clients: Vec<&Client> = store.directory.clients.values().collect();
        clients.sort_by(|a, b| a.id.cmp(&b.id));
        clients.iter().map(|c| row(&root, c, csrf)).collect()
    };
    let auth_options = options(
        AUTH_METHODS.iter().map(|(v, l)| (*v, (*l).to_string())),
        &form.auth,
    );
    let body = format!(
        "{notice}<table id=\"clients\"><thead><tr><th>client_id</th><th>Type</th><th>Auth method</th>\
         <th>Redirect URIs</th><th>Launch URIs</th><th>Scopes</th><th>JWKS key ids</th><th></th></tr></thead>\
         <tbody>{rows}</tbody></table>\
         <h2>Register a client</h2><p class=\"hint\">The rules of dynamic registration \
         (<code>POST /register</code>, RFC 7591) apply: scopes are kept to what the demo clients may \
         have.</p>{summary}\
         <form method=\"post\" action=\"{root}/clients\">{csrf}\
         <label>client_id (empty: generated) <input name=\"client_id\" value=\"{client_id}\"> {e_client_id}</label>\
         <label>Name <input name=\"client_name\" value=\"{client_name}\"></label>\
         <label>Authentication <select name=\"auth\">{auth_options}</select> {e_auth}</label>\
         <label>Redirect URIs, one per line (absolute http(s) URLs) {e_redirect_uris}\
         <textarea name=\"redirect_uris\">{redirect_uris}</textarea></label>\
         <label>Launch URIs, one per line (for EHR launches) {e_launch_uris}\
         <textarea name=\"launch_uris\">{launch_uris}</textarea></label>\
         <label>JWK Set (JSON, private_key_jwt only) {e_jwks}\
         <textarea name=\"jwks\" placeholder=\"{{&quot;keys&quot;: [...]}}\">{jwks}</textarea></label>\
         <label>Scopes (empty: the demo app's) <input name=\"scope\" value=\"{scope}\" \
         placeholder=\"launch openid fhirUser patient/*.rs\"> {e_scope}</label>{e_register}\
         <button type=\"submit\">Register</button></form>",
        summary = errors.summary(),
        csrf = csrf.field(),
        client_id = escape(&form.client_id),
        e_client_id = errors.show("client_id"),
        client_name = escape(&form.client_name),
        e_auth = errors.show("auth"),
        redirect_uris = escape(&form.redirect_uris),
        e_redirect_uris = errors.show("redirect_uris"),
        launch_uris = escape(&form.launch_uris),
        e_launch_uris = errors.show("launch_uris"),
        jwks = escape(&form.jwks),
        e_jwks = errors.show("jwks"),
        scope = escape(&form.scope),
        e_scope = errors.show("scope"),
        e_register = errors.show("register"),
    );
    html(status, super::page(&root, "Clients", Nav::Clients, &body))
}
