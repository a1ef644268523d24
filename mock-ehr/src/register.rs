//! Dynamic client registration (RFC 7591), open (no initial access token): public
//! (`none`), `client_secret_basic` and `private_key_jwt` clients.
//!
//! The client's allowed scopes are the requested `scope` kept to what the built-in
//! demo clients may have ([`builtin::DEMO_APP_SCOPES`], [`builtin::DEMO_BACKEND_SCOPES`]);
//! without `scope`, the demo app's set (clients with redirect URIs) or the backend set.
//! Metadata the server does not know is ignored (RFC 7591 section 2). Refusals are
//! `invalid_redirect_uri` or `invalid_client_metadata` (section 3.2.2). Registered
//! clients live until `/_admin/reset`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router, middleware};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::paths;
use crate::audit::AuditEvent;
use crate::builtin;
use crate::config::{ClientAuthMethod, ClientConfig};
use crate::directory::Client;
use crate::error::{AppError, OAuthError, no_store};
use crate::faults;
use crate::scopes;
use crate::state::{AppState, random_id, random_token};

/// The registration request members this server understands.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Metadata {
    #[serde(default)]
    pub(crate) redirect_uris: Vec<String>,
    #[serde(default)]
    pub(crate) token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub(crate) grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) response_types: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) client_name: Option<String>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
    #[serde(default)]
    pub(crate) jwks: Option<Value>,
    #[serde(default)]
    pub(crate) jwks_uri: Option<String>,
    /// RFC 9449 section 5.2.
    #[serde(default)]
    pub(crate) dpop_bound_access_tokens: Option<bool>,
}

/// What the web console may set beyond RFC 7591's metadata.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    /// A chosen `client_id` (else a random one).
    pub(crate) client_id: Option<String>,
    /// The app's EHR launch URLs.
    pub(crate) launch_uris: Vec<String>,
}

/// The part of a registration a refusal is about (the console shows the message next
/// to that field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    ClientId,
    AuthMethod,
    RedirectUris,
    LaunchUris,
    Scope,
    Jwks,
    Other,
}

/// A refused registration.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) field: Field,
    pub(crate) error: OAuthError,
    pub(crate) description: String,
}

impl Refusal {
    fn metadata(field: Field, description: impl Into<String>) -> Self {
        Self {
            field,
            error: OAuthError::InvalidClientMetadata,
            description: description.into(),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::oauth(r.error, r.description)
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        tracing::error!(error = ?e, "registration failed");
        Self {
            field: Field::Other,
            error: e.oauth_code().unwrap_or(OAuthError::ServerError),
            description: "internal error".into(),
        }
    }
}

/// The router of this area.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(paths::REGISTER, post(register))
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), "register"),
            faults::layer,
        ))
}

fn metadata_error(description: impl Into<String>) -> AppError {
    AppError::oauth(OAuthError::InvalidClientMetadata, description)
}

async fn register(
    State(state): State<AppState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    match handle(&state, body) {
        Ok(body) => {
            let mut response = (StatusCode::CREATED, Json(body)).into_response();
            no_store(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

fn handle(
    state: &AppState,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Value, AppError> {
    let body = body.map_err(|_| metadata_error("the body is unreadable or too large"))?;
    let meta: Metadata = serde_json::from_slice(&body)
        .map_err(|e| metadata_error(format!("not a JSON object of client metadata: {e}")))?;
    Ok(register_client(state, meta, Extra::default())?)
}

/// Validates a registration and adds the client: the rules of dynamic registration,
/// shared with the web console. Answers the RFC 7591 registration response.
///
/// # Errors
/// `invalid_redirect_uri` or `invalid_client_metadata`, naming the part refused.
pub(crate) fn register_client(
    state: &AppState,
    meta: Metadata,
    extra: Extra,
) -> Result<Value, Refusal> {
    // RFC 7591 section 2: the default method is client_secret_basic.
    let auth = match meta.token_endpoint_auth_method.as_deref() {
        None | Some("client_secret_basic") => ClientAuthMethod::ClientSecretBasic,
        Some("none") => ClientAuthMethod::None,
        Some("private_key_jwt") => ClientAuthMethod::PrivateKeyJwt,
        Some(other) => {
            return Err(Refusal::metadata(
                Field::AuthMethod,
                format!("token_endpoint_auth_method {other:?} is not supported"),
            ));
        }
    };
    for uri in &meta.redirect_uris {
        crate::directory::check_absolute_url(uri).map_err(|e| Refusal {
            field: Field::RedirectUris,
            error: OAuthError::InvalidRedirectUri,
            description: e,
        })?;
    }
    for uri in &extra.launch_uris {
        crate::directory::check_absolute_url(uri)
            .map_err(|e| Refusal::metadata(Field::LaunchUris, e))?;
    }
    if let Some(jwks) = &meta.jwks {
        if auth != ClientAuthMethod::PrivateKeyJwt {
            return Err(Refusal::metadata(
                Field::Jwks,
                "jwks only for private_key_jwt clients",
            ));
        }
        smartgate_core::jwk::JwkSet::from_value(jwks)
            .map_err(|e| Refusal::metadata(Field::Jwks, format!("jwks refused ({})", e.code())))?;
    }
    let grant_types = meta.grant_types.clone().unwrap_or_else(|| {
        if meta.redirect_uris.is_empty() {
            vec!["client_credentials".into()]
        } else {
            vec!["authorization_code".into()]
        }
    });
    if grant_types.iter().any(|g| g == "authorization_code") && meta.redirect_uris.is_empty() {
        return Err(Refusal {
            field: Field::RedirectUris,
            error: OAuthError::InvalidRedirectUri,
            description: "authorization_code needs redirect_uris".into(),
        });
    }
    for g in &grant_types {
        let ok = match g.as_str() {
            "authorization_code" | "refresh_token" => !meta.redirect_uris.is_empty(),
            "client_credentials" => auth == ClientAuthMethod::PrivateKeyJwt,
            _ => false,
        };
        if !ok {
            return Err(Refusal::metadata(
                Field::Other,
                format!("grant type {g:?} does not fit this client"),
            ));
        }
    }
    if let Some(rt) = &meta.response_types
        && rt.iter().any(|t| t != "code")
    {
        return Err(Refusal::metadata(
            Field::Other,
            "only response_types [\"code\"] is supported",
        ));
    }
    let policy = scopes::parse_allowed(&format!(
        "{} {}",
        builtin::DEMO_APP_SCOPES,
        builtin::DEMO_BACKEND_SCOPES
    ))
    .map_err(AppError::internal)?;
    let scope = match &meta.scope {
        Some(s) => scopes::grant(s, &policy)
            .map_err(|e| Refusal::metadata(Field::Scope, format!("scope refused ({})", e.code())))?
            .to_scope_string(),
        None if meta.redirect_uris.is_empty() => builtin::DEMO_BACKEND_SCOPES.into(),
        None => builtin::DEMO_APP_SCOPES.into(),
    };
    if scope.is_empty() {
        return Err(Refusal::metadata(
            Field::Scope,
            "none of the requested scopes may be registered",
        ));
    }
    let client_id = match extra.client_id {
        Some(id) => id,
        None => random_id()?,
    };
    let secret = match auth {
        ClientAuthMethod::ClientSecretBasic => Some(random_token()?),
        _ => None,
    };
    let config = ClientConfig {
        client_id: client_id.clone(),
        name: meta.client_name.clone(),
        auth,
        client_secret: secret.clone(),
        jwks: meta.jwks.clone(),
        jwks_uri: meta.jwks_uri.clone(),
        redirect_uris: meta.redirect_uris.clone(),
        launch_uris: extra.launch_uris,
        scope: scope.clone(),
        dpop_bound_access_tokens: meta.dpop_bound_access_tokens.unwrap_or(false),
        ..ClientConfig::default()
    };
    let client = Client::from_config(&config).map_err(|e| {
        let field = if e.starts_with("client_id") {
            Field::ClientId
        } else {
            Field::Other
        };
        Refusal::metadata(field, e)
    })?;
    let now = state.now();
    let mut store = state.store();
    if store.directory.clients.contains_key(&client_id) {
        return Err(Refusal::metadata(
            Field::ClientId,
            format!("client_id {client_id:?} is already registered"),
        ));
    }
    store.directory.clients.insert(client_id.clone(), client);
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("register", "success").client(&client_id),
    );
    let mut body = json!({
        "client_id": client_id,
        "client_id_issued_at": now,
        "token_endpoint_auth_method": auth.as_str(),
        "grant_types": grant_types,
        "response_types": ["code"],
        "redirect_uris": meta.redirect_uris,
        "scope": scope,
        "dpop_bound_access_tokens": meta.dpop_bound_access_tokens.unwrap_or(false),
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(s) = secret {
            obj.insert("client_secret".into(), s.into());
            obj.insert("client_secret_expires_at".into(), 0.into());
        }
        if let Some(n) = meta.client_name {
            obj.insert("client_name".into(), n.into());
        }
        if let Some(j) = meta.jwks {
            obj.insert("jwks".into(), j);
        }
        if let Some(u) = meta.jwks_uri {
            obj.insert("jwks_uri".into(), u.into());
        }
    }
    Ok(body)
}
