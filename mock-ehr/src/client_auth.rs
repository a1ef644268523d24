//! Client authentication at the token, introspection, revocation and PAR endpoints.
//!
//! - `client_secret_basic` (RFC 6749 section 2.3.1): HTTP Basic, id and secret
//!   form-urlencoded, the secret compared in constant time.
//! - `private_key_jwt` (RFC 7523, SMART Backend Services): the assertion is checked by
//!   the core (the steps of `jwt::verify`, on the JWS parsed once, with the `ring`
//!   provider): RS384, ES384, RS256 or ES256; `iss` the client id; `aud` the endpoint;
//!   `exp` present. Around it: `sub` equal to `iss`, `exp` at most
//!   [`MAX_ASSERTION_LIFETIME`] ahead, `kid` present and exactly one registered key
//!   matching `kid` and key type, a `jku` header only if it equals the registered
//!   `jwks_uri`, and a `jti` never seen before (until its `exp`, in the core's bounded
//!   replay cache).
//! - public clients: `client_id` alone.
//!
//! Using two methods at once is refused (RFC 6749 section 2.3). Every failure is
//! `invalid_client` and is recorded in the audit trail with the count of consecutive
//! failures for that client id.

use axum::http::{HeaderMap, header};
use base64ct::{Base64, Encoding};
use smartgate_core::dpop::ReplayCache as _;
use smartgate_core::jwk::JwkSet;
use smartgate_core::jws::{Algorithm, Jws};
use smartgate_core::jwt::{Claims, Validation};
use smartgate_core::provider::ring::Ring;
use subtle::ConstantTimeEq;

use crate::audit::AuditEvent;
use crate::config::ClientAuthMethod;
use crate::directory::{Client, ClientKeys};
use crate::error::AppError;
use crate::form::Params;
use crate::http_client;
use crate::state::AppState;

/// The `client_assertion_type` of JWT client assertions (RFC 7523 section 2.2).
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How far ahead an assertion's `exp` may be (SMART Backend Services: 5 minutes).
pub(crate) const MAX_ASSERTION_LIFETIME: i64 = 300;
/// Algorithms accepted for client assertions.
pub(crate) const ASSERTION_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::Rs384,
    Algorithm::Es384,
    Algorithm::Rs256,
    Algorithm::Es256,
];

/// An authenticated (or identified public) client.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    pub(crate) client: Client,
}

/// Authenticates the caller. `audiences` are the `aud` values accepted in a client
/// assertion.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    audiences: &[String],
) -> Result<Authenticated, AppError> {
    match authenticate_inner(state, headers, params, audiences).await {
        Ok(client) => {
            state.store().auth_failures.remove(&client.id);
            Ok(Authenticated { client })
        }
        Err(e) => {
            let who = claimed_client_id(headers, params).unwrap_or_else(|| "(unknown)".into());
            let description = match &e {
                AppError::OAuth { description, .. } => description.clone(),
                _ => "client authentication failed".into(),
            };
            let now = state.now();
            let mut store = state.store();
            let count = store.auth_failures.entry(who.clone()).or_insert(0);
            *count += 1;
            let detail = format!("{description} (consecutive failures: {count})");
            AppState::audit_locked(
                &mut store,
                now,
                AuditEvent::new("client_auth", "invalid_client")
                    .client(who)
                    .detail(detail),
            );
            Err(e)
        }
    }
}

/// The client id a request claims, before any check (for rate limits and audit).
pub(crate) fn claimed_client_id(headers: &HeaderMap, params: &Params) -> Option<String> {
    if let Some((id, _)) = basic_credentials(headers).ok().flatten() {
        return Some(id);
    }
    if let Some(id) = params.get("client_id") {
        return Some(id.to_string());
    }
    let assertion = params.get("client_assertion")?;
    let jws = Jws::parse(assertion).ok()?;
    Claims::from_json(jws.payload())
        .ok()?
        .iss()
        .map(String::from)
}

async fn authenticate_inner(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    audiences: &[String],
) -> Result<Client, AppError> {
    let basic = basic_credentials(headers).map_err(AppError::invalid_client)?;
    let assertion = params.get("client_assertion");
    let assertion_type = params.get("client_assertion_type");
    if params.get("client_secret").is_some() {
        return Err(AppError::invalid_client(
            "client_secret_post is not supported; use HTTP Basic",
        ));
    }
    match (basic, assertion.or(assertion_type)) {
        (Some(_), Some(_)) => Err(AppError::invalid_request(
            "more than one client authentication method in one request",
        )),
        (Some((id, secret)), None) => {
            if params.get("client_id").is_some_and(|c| c != id) {
                return Err(AppError::invalid_client(
                    "client_id does not match the Basic credentials",
                ));
            }
            let client = lookup(state, &id)?;
            let ok = client.auth == ClientAuthMethod::ClientSecretBasic
                && client
                    .secret
                    .as_deref()
                    .is_some_and(|s| bool::from(s.as_bytes().ct_eq(secret.as_bytes())));
            if ok {
                Ok(client)
            } else {
                Err(AppError::invalid_client("client authentication failed"))
            }
        }
        (None, Some(_)) => {
            if assertion_type != Some(JWT_BEARER) {
                return Err(AppError::invalid_client(
                    "client_assertion_type must be jwt-bearer",
                ));
            }
            let assertion =
                assertion.ok_or_else(|| AppError::invalid_client("client_assertion is missing"))?;
            verify_assertion(state, assertion, params.get("client_id"), audiences).await
        }
        (None, None) => {
            let id = params.get("client_id").ok_or_else(|| {
                AppError::invalid_client("no client authentication and no client_id")
            })?;
            let client = lookup(state, id)?;
            if client.auth == ClientAuthMethod::None {
                Ok(client)
            } else {
                Err(AppError::invalid_client("this client must authenticate"))
            }
        }
    }
}

fn lookup(state: &AppState, id: &str) -> Result<Client, AppError> {
    state
        .store()
        .directory
        .clients
        .get(id)
        .cloned()
        .ok_or_else(|| AppError::invalid_client("unknown client"))
}

/// `Authorization: Basic` credentials, form-urldecoded; `Ok(None)` without the header.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, &'static str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("more than one Authorization header");
    }
    let value = value
        .to_str()
        .map_err(|_| "Authorization header is not ASCII")?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err("malformed Authorization header");
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded =
        Base64::decode_vec(encoded.trim()).map_err(|_| "Basic credentials are not base64")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "Basic credentials are not UTF-8")?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or("Basic credentials lack ':'")?;
    let unescape = |s: &str| -> Result<String, &'static str> {
        let plus_safe = s.replace('+', "%20");
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(format!("v={plus_safe}").as_bytes())
                .into_owned()
                .collect();
        match pairs.as_slice() {
            [(_, v)] if !v.contains('\u{FFFD}') => Ok(v.clone()),
            _ => Err("Basic credentials are not valid form-urlencoding"),
        }
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

async fn verify_assertion(
    state: &AppState,
    assertion: &str,
    claimed: Option<&str>,
    audiences: &[String],
) -> Result<Client, AppError> {
    let bad = |what: &str| AppError::invalid_client(format!("client assertion refused: {what}"));
    let jws = Jws::parse(assertion).map_err(|e| bad(e.code()))?;
    // Unverified, only to find the client; everything is verified below.
    let unverified = Claims::from_json(jws.payload()).map_err(|e| bad(e.code()))?;
    let client_id = unverified
        .iss()
        .ok_or_else(|| bad("iss is missing"))?
        .to_string();
    if claimed.is_some_and(|c| c != client_id) {
        return Err(bad("client_id does not match iss"));
    }
    let client = lookup(state, &client_id)?;
    if client.auth != ClientAuthMethod::PrivateKeyJwt {
        return Err(bad("this client is not registered for private_key_jwt"));
    }
    let header = jws.header();
    if header.kid().is_none() {
        return Err(bad("kid header is missing"));
    }
    if let Some(jku) = header.raw().get("jku") {
        let registered = match &client.keys {
            ClientKeys::Uri(u) => Some(u.as_str()),
            _ => None,
        };
        if jku.as_str().is_none() || jku.as_str() != registered {
            return Err(bad("jku is not the registered JWKS URL"));
        }
    }
    let fetched;
    let keys = match &client.keys {
        ClientKeys::Jwks(set) => set,
        ClientKeys::Uri(uri) => {
            let body = http_client::get_loopback(uri)
                .await
                .map_err(|e| bad(&format!("jwks_uri fetch failed ({e})")))?;
            let text = std::str::from_utf8(&body).map_err(|_| bad("jwks_uri body is not UTF-8"))?;
            fetched = JwkSet::from_json(text).map_err(|e| bad(e.code()))?;
            &fetched
        }
        ClientKeys::None => return Err(bad("no keys registered")),
    };
    let candidates = jws.candidates(keys).map_err(|e| bad(e.code()))?;
    if candidates.len() != 1 {
        return Err(bad("more than one key matches kid and key type"));
    }
    let now = state.now();
    let validation = Validation::new([client_id.as_str()], audiences.iter().map(String::as_str))
        .algorithms(&ASSERTION_ALGORITHMS)
        .require("jti")
        .require("sub");
    // jwt::verify's own steps, on the JWS parsed above (one parse, not two).
    validation
        .check_header(jws.header())
        .map_err(|e| bad(e.code()))?;
    jws.verify(keys, &Ring).map_err(|e| bad(e.code()))?;
    let verified = validation
        .check_claims(jws.payload(), now)
        .map_err(|e| bad(e.code()))?;
    let claims = &verified;
    if claims.sub() != Some(client_id.as_str()) {
        return Err(bad("sub must equal iss (the client id)"));
    }
    let exp = claims.exp().ok_or_else(|| bad("exp is missing"))?;
    if exp.saturating_sub(now) > MAX_ASSERTION_LIFETIME {
        return Err(bad("exp is more than 5 minutes ahead"));
    }
    let jti = claims
        .jti()
        .ok_or_else(|| bad("jti is missing"))?
        .to_string();
    // The core's bounded replay cache: O(1) per check, each jti remembered until exp.
    let key = smartgate_core::dpop::replay_key(&client_id, &jti);
    match state
        .store()
        .assertion_jtis
        .check_and_insert(&key, exp, now)
    {
        Ok(true) => Ok(client),
        Ok(false) => Err(bad("jti was used before")),
        Err(e) => Err(AppError::oauth(
            crate::error::OAuthError::TemporarilyUnavailable,
            format!("too many client assertions to remember ({})", e.code()),
        )),
    }
}
