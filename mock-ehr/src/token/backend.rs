//! `grant_type=client_credentials` for SMART Backend Services: only clients that
//! authenticated with `private_key_jwt`; tokens live at most 300 s and come without a
//! refresh token.

use serde_json::{Map, Value};
use smartgate_core::dpop::VerifiedProof;

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
    proof: Option<&VerifiedProof>,
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
    let granted = scopes::grant(requested, &client.scope).map_err(|e| {
        AppError::oauth(
            OAuthError::InvalidScope,
            format!("scope refused ({})", e.code()),
        )
    })?;
    if granted.is_empty() {
        let note = granted.audit_note().unwrap_or_default();
        state.audit(
            AuditEvent::new("token", "invalid_scope")
                .client(&client.id)
                .detail(format!("requested: {requested}; {note}")),
        );
        return Err(AppError::oauth(
            OAuthError::InvalidScope,
            "none of the requested scopes may be granted",
        ));
    }
    let scope = granted.to_scope_string();
    let mut detail = format!("client_credentials; scope: {scope}");
    if let Some(note) = granted.audit_note() {
        detail = format!("{detail}; {note}");
    }
    let mut store = state.store();
    let jkt = proof.map(VerifiedProof::jkt);
    let (body, jti) = issue::backend(state, &mut store, &client.id, &scope, jkt)?;
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("token", "success")
            .client(&client.id)
            .token(jti)
            .detail(detail),
    );
    Ok(body)
}
