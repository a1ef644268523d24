//! `grant_type=authorization_code` (RFC 6749 section 4.1.3, RFC 7636 section 4.6).
//!
//! A code is single use, lives [`crate::authorize::CODE_TTL`] seconds, and is bound to
//! the client, the `redirect_uri` and the PKCE challenge (checked by
//! [`smartgate_core::pkce::verify`], S256 only). A second use revokes the grant the
//! first use created (RFC 6749 section 4.1.2).

use serde_json::{Map, Value};
use smartgate_core::pkce::{self, Method, PlainPolicy};

use crate::audit::AuditEvent;
use crate::directory::Client;
use crate::error::AppError;
use crate::form::Params;
use crate::issue::{self, Mint};
use crate::scopes;
use crate::state::{AppState, random_id};
use crate::store::Grant;

pub(super) fn exchange(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<Map<String, Value>, AppError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.require("code_verifier")?;
    let now = state.now();
    let mut store = state.store();
    let failure = |store: &mut crate::store::Store, outcome: &str, detail: &str| {
        AppState::audit_locked(
            store,
            now,
            AuditEvent::new("token", outcome)
                .client(&client.id)
                .detail(detail),
        );
    };
    let Some(record) = store.codes.get(code).cloned() else {
        failure(&mut store, "invalid_grant", "unknown authorization code");
        return Err(AppError::invalid_grant(
            "unknown or expired authorization code",
        ));
    };
    if record.approval.client_id != client.id {
        failure(&mut store, "invalid_grant", "code issued to another client");
        return Err(AppError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if let Some(grant_id) = &record.redeemed {
        store.revoke_grant(grant_id, "authorization code replayed");
        AppState::audit_locked(
            &mut store,
            now,
            AuditEvent::new("token", "invalid_grant")
                .client(&client.id)
                .token(grant_id.clone())
                .detail("authorization code replayed: the grant it created is revoked"),
        );
        return Err(AppError::invalid_grant(
            "the authorization code was already used",
        ));
    }
    if now >= record.expires {
        failure(&mut store, "invalid_grant", "authorization code expired");
        return Err(AppError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if record.approval.redirect_uri != redirect_uri {
        failure(&mut store, "invalid_grant", "redirect_uri mismatch");
        return Err(AppError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if let Err(e) = pkce::verify(
        verifier,
        &record.approval.code_challenge,
        Method::S256,
        PlainPolicy::Refuse,
    ) {
        failure(&mut store, "invalid_grant", e.code());
        return Err(AppError::invalid_grant(format!(
            "PKCE verification failed ({})",
            e.code()
        )));
    }
    let approval = record.approval;
    let grant = Grant {
        id: random_id()?,
        client_id: client.id.clone(),
        user: approval.user.clone(),
        scope: approval.scope.clone(),
        context: approval.context.clone(),
        created: now,
        revoked: None,
        id_token_issued: scopes::has(&approval.scope, "openid") && approval.user.is_some(),
    };
    let mint = Mint {
        scope: grant.scope.clone(),
        refresh: scopes::has(&grant.scope, "offline_access")
            || scopes::has(&grant.scope, "online_access"),
        id_token: grant.id_token_issued.then(|| approval.nonce.clone()),
        auth_time: approval.auth_time,
    };
    let body = issue::for_grant(state, &mut store, &grant, &mint)?;
    if let Some(r) = store.codes.get_mut(code) {
        r.redeemed = Some(grant.id.clone());
    }
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("token", "success")
            .client(&client.id)
            .user(grant.user.as_deref())
            .patient(grant.context.patient.as_deref())
            .token(grant.id.clone())
            .detail(format!("authorization_code; scope: {}", grant.scope)),
    );
    store.grants.insert(grant.id.clone(), grant);
    Ok(body)
}
