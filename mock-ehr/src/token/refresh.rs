//! `grant_type=refresh_token` (RFC 6749 section 6) with rotation on every use: the
//! presented token stops working and a new one is returned. Presenting a rotated
//! token again is treated as theft and revokes the whole grant (OAuth 2.0 Security
//! BCP, section 4.14.2). A `scope` parameter may only shrink the grant.

use serde_json::{Map, Value};

use crate::audit::AuditEvent;
use crate::directory::Client;
use crate::error::{AppError, OAuthError};
use crate::form::Params;
use crate::issue::{self, Mint};
use crate::scopes;
use crate::state::AppState;

pub(super) fn exchange(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<Map<String, Value>, AppError> {
    let token = params.require("refresh_token")?;
    let now = state.now();
    let mut store = state.store();
    let Some(record) = store.refresh.get(token).cloned() else {
        AppState::audit_locked(
            &mut store,
            now,
            AuditEvent::new("refresh", "invalid_grant")
                .client(&client.id)
                .detail("unknown refresh token"),
        );
        return Err(AppError::invalid_grant("unknown refresh token"));
    };
    let Some(grant) = store.grants.get(&record.grant).cloned() else {
        return Err(AppError::invalid_grant("unknown refresh token"));
    };
    let fail = |store: &mut crate::store::Store, detail: &str| {
        AppState::audit_locked(
            store,
            now,
            AuditEvent::new("refresh", "invalid_grant")
                .client(&client.id)
                .user(grant.user.as_deref())
                .token(grant.id.clone())
                .detail(detail),
        );
    };
    if grant.client_id != client.id {
        fail(&mut store, "refresh token of another client");
        return Err(AppError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if !record.current {
        store.revoke_grant(&grant.id, "refresh token reused");
        fail(&mut store, "rotated refresh token reused: grant revoked");
        return Err(AppError::invalid_grant(
            "the refresh token was already used; the grant is revoked",
        ));
    }
    if let Some(why) = grant.revoked {
        fail(&mut store, why);
        return Err(AppError::invalid_grant(format!(
            "the grant has ended ({why})"
        )));
    }
    if now >= record.expires {
        fail(&mut store, "refresh token expired");
        return Err(AppError::invalid_grant("the refresh token has expired"));
    }
    let scope = match params.get("scope") {
        None => grant.scope.clone(),
        Some(s) if scopes::is_well_formed(s) && scopes::is_subset(s, &grant.scope) => s.to_string(),
        Some(_) => {
            return Err(AppError::oauth(
                OAuthError::InvalidScope,
                "a refresh may only narrow the granted scopes",
            ));
        }
    };
    if let Some(r) = store.refresh.get_mut(token) {
        r.current = false;
    }
    let mint = Mint {
        scope: scope.clone(),
        refresh: true,
        id_token: None,
        auth_time: grant.created,
    };
    let body = issue::for_grant(state, &mut store, &grant, &mint)?;
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("refresh", "success")
            .client(&client.id)
            .user(grant.user.as_deref())
            .patient(grant.context.patient.as_deref())
            .token(grant.id.clone())
            .detail(format!(
                "rotated refresh token {}; scope: {scope}",
                record.id
            )),
    );
    Ok(body)
}
