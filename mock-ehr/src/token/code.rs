//! `grant_type=authorization_code` (RFC 6749 section 4.1.3, RFC 7636 section 4.6).
//!
//! A code is single use, lives [`crate::authorize::CODE_TTL`] seconds, and is bound to
//! the client, the `redirect_uri` and the PKCE challenge (checked by
//! [`smartgate_core::pkce::verify`], S256 only). A second use revokes the grant the
//! first use created (RFC 6749 section 4.1.2).

use serde_json::{Map, Value};
use smartgate_core::dpop::VerifiedProof;
use smartgate_core::pkce::{self, Method, PlainPolicy};
use smartgate_core::scope::Scope;

use crate::audit::AuditEvent;
use crate::config::ClientAuthMethod;
use crate::directory::Client;
use crate::error::AppError;
use crate::form::Params;
use crate::issue::{self, Mint};
use crate::state::{AppState, random_id};
use crate::store::{Grant, Redeemed};

pub(super) fn exchange(
    state: &AppState,
    client: &Client,
    params: &Params,
    proof: Option<&VerifiedProof>,
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
        if let Some(redeemed) = store.redeemed.get(code).cloned() {
            if redeemed.client_id != client.id {
                failure(&mut store, "invalid_grant", "code issued to another client");
                return Err(AppError::invalid_grant(
                    "the code was issued to another client",
                ));
            }
            store.revoke_grant(&redeemed.grant, "authorization code replayed");
            AppState::audit_locked(
                &mut store,
                now,
                AuditEvent::new("token", "invalid_grant")
                    .client(&client.id)
                    .token(redeemed.grant)
                    .detail("authorization code replayed: the grant it created is revoked"),
            );
            return Err(AppError::invalid_grant(
                "the authorization code was already used",
            ));
        }
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
    if let Some(bound) = &record.approval.dpop_jkt
        && let Err(e) = crate::dpop::check_bound(bound, proof)
    {
        failure(
            &mut store,
            "invalid_dpop_proof",
            "no DPoP proof by the dpop_jkt key",
        );
        return Err(e);
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
    let jkt = proof.map(|p| p.jkt().to_string());
    let grant = Grant {
        id: random_id()?,
        client_id: client.id.clone(),
        user: approval.user.clone(),
        scope: approval.scope.clone(),
        context: approval.context.clone(),
        created: now,
        revoked: None,
        id_token_issued: approval.scope.contains(&Scope::OpenId) && approval.user.is_some(),
        // RFC 9449 section 5: a public client's refresh tokens are bound to its DPoP
        // key; a confidential client's are bound by its authentication.
        jkt: jkt
            .clone()
            .filter(|_| client.auth == ClientAuthMethod::None),
    };
    let mint = Mint {
        scope: grant.scope.clone(),
        refresh: grant.scope.contains(&Scope::OfflineAccess)
            || grant.scope.contains(&Scope::OnlineAccess),
        id_token: grant.id_token_issued.then(|| approval.nonce.clone()),
        auth_time: approval.auth_time,
        jkt,
    };
    let body = issue::for_grant(state, &mut store, &grant, &mint)?;
    // From now on the code is only a marker: a second use revokes this grant, for as
    // long as the access tokens it produced can live.
    store.codes.remove(code);
    let keep = i64::try_from(state.settings.config.tokens.access_token_secs)
        .unwrap_or(3600)
        .max(crate::authorize::CODE_TTL);
    store.redeemed.insert(
        code.to_string(),
        Redeemed {
            grant: grant.id.clone(),
            client_id: client.id.clone(),
            until: now + keep,
        },
    );
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
