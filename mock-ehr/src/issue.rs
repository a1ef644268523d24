//! Minting tokens: JWT access tokens (RFC 9068 shape plus SMART claims), RS256
//! id_tokens, opaque refresh tokens, and the token response with the launch context.
//! Signing goes through [`crate::keys::KeyRing`] (the core's `sign_jwt`).

use serde_json::{Map, Value, json};

use crate::error::AppError;
use crate::scopes;
use crate::state::{AppState, random_id, random_token};
use crate::store::{AccessRecord, Grant, RefreshRecord, Store};

/// What to mint for a grant.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mint {
    /// The scope of this access token (a grant's scope, or a narrower one on refresh).
    pub(crate) scope: String,
    /// Issue a refresh token (only with `offline_access` or `online_access`).
    pub(crate) refresh: bool,
    /// Issue an id_token with this nonce (`Some(None)`: no nonce).
    pub(crate) id_token: Option<Option<String>>,
    /// `auth_time` of the id_token.
    pub(crate) auth_time: i64,
}

/// The access token lifetime of user-facing grants.
fn access_lifetime(state: &AppState) -> i64 {
    i64::try_from(state.settings.config.tokens.access_token_secs).unwrap_or(3600)
}

/// Mints tokens for `grant` (whose record must already be in `store`) and returns the
/// token response body. Records the access token and refresh token.
pub(crate) fn for_grant(
    state: &AppState,
    store: &mut Store,
    grant: &Grant,
    mint: &Mint,
) -> Result<Map<String, Value>, AppError> {
    let now = state.now();
    let urls = state.urls();
    let lifetime = access_lifetime(state);
    let jti = random_id()?;
    let user = grant
        .user
        .as_deref()
        .and_then(|u| store.directory.user(u))
        .cloned();
    let fhir_user = user
        .as_ref()
        .map(|u| format!("{}/{}", urls.fhir, u.fhir_user));
    let mut claims = Map::new();
    claims.insert("iss".into(), urls.issuer().into());
    claims.insert(
        "sub".into(),
        grant
            .user
            .clone()
            .unwrap_or_else(|| grant.client_id.clone())
            .into(),
    );
    claims.insert("aud".into(), urls.fhir.clone().into());
    claims.insert("exp".into(), (now + lifetime).into());
    claims.insert("iat".into(), now.into());
    claims.insert("jti".into(), jti.clone().into());
    claims.insert("client_id".into(), grant.client_id.clone().into());
    claims.insert("scope".into(), mint.scope.clone().into());
    if let Some(p) = &grant.context.patient {
        claims.insert("patient".into(), p.clone().into());
    }
    if let Some(e) = &grant.context.encounter {
        claims.insert("encounter".into(), e.clone().into());
    }
    if let Some(f) = &fhir_user
        && scopes::has(&mint.scope, "fhirUser")
    {
        claims.insert("fhirUser".into(), f.clone().into());
    }
    let keys = state.keys();
    let access_token = keys.sign_access(&claims)?;
    store.access.insert(
        jti,
        AccessRecord {
            grant: Some(grant.id.clone()),
            client_id: grant.client_id.clone(),
            revoked: false,
        },
    );
    let mut body = Map::new();
    body.insert("access_token".into(), access_token.into());
    body.insert("token_type".into(), "Bearer".into());
    body.insert("expires_in".into(), lifetime.into());
    body.insert("scope".into(), mint.scope.clone().into());
    if mint.refresh {
        let token = random_token()?;
        let secs = i64::try_from(state.settings.config.tokens.refresh_token_secs).unwrap_or(86_400);
        store.refresh.insert(
            token.clone(),
            RefreshRecord {
                id: random_id()?,
                grant: grant.id.clone(),
                expires: now + secs,
                current: true,
            },
        );
        body.insert("refresh_token".into(), token.into());
    }
    if let (Some(nonce), Some(user)) = (&mint.id_token, &user) {
        let mut id = Map::new();
        id.insert("iss".into(), urls.issuer().into());
        id.insert("sub".into(), user.username.clone().into());
        id.insert("aud".into(), grant.client_id.clone().into());
        id.insert("exp".into(), (now + lifetime).into());
        id.insert("iat".into(), now.into());
        id.insert("auth_time".into(), mint.auth_time.into());
        if let Some(n) = nonce {
            id.insert("nonce".into(), n.clone().into());
        }
        if let Some(f) = &fhir_user
            && scopes::has(&grant.scope, "fhirUser")
        {
            id.insert("fhirUser".into(), f.clone().into());
        }
        if scopes::has(&grant.scope, "profile") {
            id.insert("name".into(), user.name.clone().into());
        }
        body.insert("id_token".into(), keys.sign_id(&id)?.into());
    }
    context_params(&mut body, grant, urls);
    Ok(body)
}

/// The SMART launch context parameters of a token response.
fn context_params(body: &mut Map<String, Value>, grant: &Grant, urls: &crate::state::Urls) {
    let ctx = &grant.context;
    if let Some(p) = &ctx.patient {
        body.insert("patient".into(), p.clone().into());
    }
    if let Some(e) = &ctx.encounter {
        body.insert("encounter".into(), e.clone().into());
    }
    if !ctx.fhir_context.is_empty() {
        body.insert("fhirContext".into(), Value::Array(ctx.fhir_context.clone()));
    }
    if ctx.patient.is_some() || ctx.need_patient_banner.is_some() {
        body.insert(
            "need_patient_banner".into(),
            json!(ctx.need_patient_banner.unwrap_or(true)),
        );
        let style = ctx
            .smart_style_url
            .clone()
            .unwrap_or_else(|| urls.at(crate::app::paths::STYLE));
        body.insert("smart_style_url".into(), style.into());
    }
}

/// Mints a SMART Backend Services access token (no refresh token, at most 300 s).
pub(crate) fn backend(
    state: &AppState,
    store: &mut Store,
    client_id: &str,
    scope: &str,
) -> Result<(Map<String, Value>, String), AppError> {
    let now = state.now();
    let urls = state.urls();
    let lifetime = i64::try_from(state.settings.config.tokens.backend_access_token_secs)
        .unwrap_or(300)
        .clamp(1, 300);
    let jti = random_id()?;
    let mut claims = Map::new();
    claims.insert("iss".into(), urls.issuer().into());
    claims.insert("sub".into(), client_id.into());
    claims.insert("aud".into(), urls.fhir.clone().into());
    claims.insert("exp".into(), (now + lifetime).into());
    claims.insert("iat".into(), now.into());
    claims.insert("jti".into(), jti.clone().into());
    claims.insert("client_id".into(), client_id.into());
    claims.insert("scope".into(), scope.into());
    let access_token = state.keys().sign_access(&claims)?;
    store.access.insert(
        jti.clone(),
        AccessRecord {
            grant: None,
            client_id: client_id.into(),
            revoked: false,
        },
    );
    let mut body = Map::new();
    body.insert("access_token".into(), access_token.into());
    body.insert("token_type".into(), "Bearer".into());
    body.insert("expires_in".into(), lifetime.into());
    body.insert("scope".into(), scope.into());
    Ok((body, jti))
}
