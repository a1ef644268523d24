//! Token revocation (RFC 7009). The caller authenticates as a client (public clients
//! send `client_id`). Revoking a refresh token ends its whole grant; revoking an access
//! token ends that token. Unknown, expired and already revoked tokens get 200, as
//! RFC 7009 section 2.2 requires; a token issued to another client is refused with
//! `unauthorized_client` (section 2.1).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Router, middleware};

use crate::app::paths;
use crate::audit::AuditEvent;
use crate::client_auth;
use crate::cors;
use crate::error::{AppError, OAuthError, no_store};
use crate::faults;
use crate::form::OAuthForm;
use crate::state::AppState;

/// The router of this area.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(paths::REVOKE, post(revoke))
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), "revoke"),
            faults::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cors::registered,
        ))
}

async fn revoke(State(state): State<AppState>, form: Result<OAuthForm, AppError>) -> Response {
    match handle(&state, form).await {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, form: Result<OAuthForm, AppError>) -> Result<(), AppError> {
    let OAuthForm { headers, params } = form?;
    let urls = state.urls();
    let audiences = [
        urls.at(paths::TOKEN),
        urls.at(paths::REVOKE),
        urls.issuer().to_string(),
    ];
    let client = client_auth::authenticate(state, &headers, &params, &audiences)
        .await?
        .client;
    let token = params.require("token")?;
    let now = state.now();
    let refused = || {
        AppError::oauth(
            OAuthError::UnauthorizedClient,
            "the token was issued to another client",
        )
    };
    // An access token: its signature and claims are verified by the core first.
    let access_jti = state
        .keys()
        .verify_access(token, urls.issuer(), &urls.fhir, now)
        .ok()
        .and_then(|v| v.claims.jti().map(String::from));
    let mut store = state.store();
    if let Some(jti) = access_jti
        && let Some(record) = store.access.get_mut(&jti)
    {
        if record.client_id != client.id {
            return Err(refused());
        }
        record.revoked = true;
        AppState::audit_locked(
            &mut store,
            now,
            AuditEvent::new("revoke", "success")
                .client(&client.id)
                .token(jti)
                .detail("access token"),
        );
        return Ok(());
    }
    if let Some(record) = store.refresh.get(token).cloned() {
        let owner = store.grants.get(&record.grant).map(|g| g.client_id.clone());
        if owner.as_deref() != Some(client.id.as_str()) {
            return Err(refused());
        }
        store.revoke_grant(&record.grant, "refresh token revoked");
        AppState::audit_locked(
            &mut store,
            now,
            AuditEvent::new("revoke", "success")
                .client(&client.id)
                .token(record.grant.clone())
                .detail("refresh token: grant ended"),
        );
        return Ok(());
    }
    AppState::audit_locked(
        &mut store,
        now,
        AuditEvent::new("revoke", "success")
            .client(&client.id)
            .detail("unknown token"),
    );
    Ok(())
}
