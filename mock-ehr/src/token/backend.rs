//! `grant_type=client_credentials` for SMART Backend Services: only clients that
//! authenticated with `private_key_jwt`; tokens live at most 300 s and come without a
//! refresh token.

use serde_json::{Map, Value};

use crate::audit::AuditEvent;
use crate::config::ClientAuthMethod;
use crate::directory::Client;
use crate::error::{AppError, OAuthError};
use crate::form::Params;
use crate::issue;
use crate::scopes;
use crate::state::AppState;

pub(super) fn exchange(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<Map<String, Value>, AppError> {
    let now = state.now();
    if client.auth != ClientAuthMethod::PrivateKeyJwt {
        state.audit(
            AuditEvent::new("token", "unauthorized_client")
                .client(&client.id)
                .detail("client_credentials without private_key_jwt"),
        );
        return Err(AppError::oauth(
            OAuthError::UnauthorizedClient,
            "client_credentials is only for private_key_jwt clients",
        ));
    }
    let requested = params
        .get("scope")
        .ok_or_else(|| AppError::oauth(OAuthError::InvalidScope, "scope is missing"))?;
    if !scopes::is_well_formed(requested) {
        return Err(AppError::oauth(
            OAuthError::InvalidScope,
            "scope is malformed",
        ));
    }
    let granted = scopes::grant(requested, &client.scope);
    if granted.scopes.is_empty() {
        state.audit(
            AuditEvent::new("token", "invalid_scope")
                .client(&client.id)
                .detail(format!("requested: {requested}")),
        );
        return Err(AppError::oauth(
            OAuthError::InvalidScope,
            "none of the requested scopes may be granted",
        ));
    }
    let scope = granted.to_scope_string();
    let mut store = state.store();
    let (body, jti) = issue::backend(state, &mut store, &client.id, &scope)?;
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("token", "success")
            .client(&client.id)
            .token(jti)
            .detail(format!("client_credentials; scope: {scope}")),
    );
    Ok(body)
}
