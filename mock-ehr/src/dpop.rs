//! DPoP ([RFC 9449]) at the token endpoint. Every check of a proof is made by
//! [`smartgate_core::dpop`]; this module holds the server's policy around it.
//!
//! - A token request may carry one `DPoP` header. The core checks it against `htm`
//!   `POST` and `htu` the token endpoint, with no access token (so no `ath`), the
//!   server nonce when `[dpop] nonce = true`, and one [`MemoryReplayCache`] shared by
//!   every request of the server. Any refusal is `invalid_dpop_proof` (RFC 9449
//!   section 5), except a missing or stale nonce: `use_dpop_nonce` with the nonce to
//!   use in `DPoP-Nonce` (section 8).
//! - The proof is checked before the client authenticates, so that a nonce round trip
//!   does not use up a single-use client assertion or authorization code.
//! - A request without a proof is refused (`invalid_dpop_proof`) when the server
//!   requires DPoP (`[dpop] required = true`) or the client registered
//!   `dpop_bound_access_tokens` (section 5.2).
//! - With a proof, the access token carries `cnf.jkt` and the response
//!   `token_type: "DPoP"`. The refresh token of a public client is bound to the same
//!   key: refreshing needs a proof by that key (section 5), compared by the core's
//!   [`dpop::check_binding`]. Confidential clients' refresh tokens are bound by their
//!   client authentication instead, as the RFC says.
//! - A code requested with `dpop_jkt` (section 10) is exchanged only with a proof by
//!   that key, compared the same way.
//! - With nonces on, every token response carries the current nonce in `DPoP-Nonce`.
//!
//! [RFC 9449]: https://www.rfc-editor.org/rfc/rfc9449

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::json;
use smartgate_core::Error;
use smartgate_core::dpop::{
    self, DpopError, DpopValidation, MemoryReplayCache, NoncePolicy, ProofRequest, RotatingNonce,
    VerifiedProof,
};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::Claims;
use smartgate_core::provider::ring::Ring;

use crate::app::paths;
use crate::config::DpopConfig;
use crate::directory::Client;
use crate::error::{AppError, OAuthError};
use crate::state::AppState;

/// Algorithms accepted in DPoP proofs, and advertised as
/// `dpop_signing_alg_values_supported`: every asymmetric algorithm the core verifies.
pub(crate) const ALGORITHMS: [Algorithm; 7] = Algorithm::ALL;
/// The request header carrying a proof.
pub(crate) const DPOP: &str = "dpop";
/// The response header carrying a server nonce.
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";

/// The server's DPoP policy and its shared replay cache.
#[derive(Debug)]
pub(crate) struct DpopState {
    required: bool,
    nonce: Option<RotatingNonce>,
    validation: DpopValidation,
    replay: MemoryReplayCache,
}

impl DpopState {
    /// The policy of `[dpop]`, with a fresh random nonce secret.
    pub(crate) fn new(config: &DpopConfig) -> Result<Self, String> {
        let nonce = if config.nonce {
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).map_err(|_| "no randomness for the DPoP nonce")?;
            Some(
                RotatingNonce::new(secret, config.nonce_period_secs)
                    .map_err(|e| format!("dpop.nonce_period_secs: {}", e.code()))?,
            )
        } else {
            None
        };
        Ok(Self {
            required: config.required,
            nonce,
            validation: DpopValidation::new().algorithms(&ALGORITHMS),
            replay: MemoryReplayCache::new(),
        })
    }

    /// The nonce clients should use now, when nonces are on.
    pub(crate) fn current_nonce(&self, now: i64) -> Option<String> {
        self.nonce.as_ref().map(|n| n.current(now))
    }

    /// The proof rules (for the introspection caller's guard).
    pub(crate) fn validation(&self) -> &DpopValidation {
        &self.validation
    }

    /// The nonce policy, when nonces are on.
    pub(crate) fn nonce_policy(&self) -> Option<&RotatingNonce> {
        self.nonce.as_ref()
    }

    /// The replay cache every proof goes through.
    pub(crate) fn replay(&self) -> &MemoryReplayCache {
        &self.replay
    }
}

fn invalid(description: impl Into<String>) -> AppError {
    AppError::oauth(OAuthError::InvalidDpopProof, description)
}

/// The refusal of a token request for the core's error `e` about its proof.
fn refusal(e: &Error) -> AppError {
    match e {
        Error::Dpop(d) => match d.nonce() {
            Some(nonce) => AppError::DpopNonce {
                description: format!("{d} ({})", e.code()),
                nonce: nonce.to_string(),
            },
            None if *d == DpopError::ReplayCacheFull => AppError::oauth(
                OAuthError::TemporarilyUnavailable,
                format!("{d} ({})", e.code()),
            ),
            None => invalid(format!("{d} ({})", e.code())),
        },
        Error::InvalidArgument(_) => AppError::internal(format!("DPoP check: {e}")),
        other => invalid(format!("{other} ({})", other.code())),
    }
}

/// The verified proof of a token request, `None` without a `DPoP` header.
///
/// # Errors
/// `invalid_dpop_proof` (two headers, a non-ASCII value, any refusal of the core),
/// `use_dpop_nonce`, or `temporarily_unavailable` when the replay cache is full.
pub(crate) fn token_request_proof(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<VerifiedProof>, AppError> {
    let mut values = headers.get_all(DPOP).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid("more than one DPoP header (ERR_DPOP_MALFORMED)"));
    }
    let proof = value
        .to_str()
        .map_err(|_| invalid("the DPoP header is not ASCII (ERR_DPOP_MALFORMED)"))?;
    let policy = &state.dpop;
    let url = state.urls().at(paths::TOKEN);
    let mut request = ProofRequest::new("POST", &url);
    if let Some(n) = &policy.nonce {
        request = request.nonce(n);
    }
    let now = state.now();
    dpop::verify(
        proof,
        &request,
        &policy.validation,
        &Ring,
        &policy.replay,
        now,
    )
    .map(Some)
    .map_err(|e| refusal(&e))
}

/// Refuses a token request without a proof when the server or the client requires
/// DPoP.
///
/// # Errors
/// `invalid_dpop_proof`.
pub(crate) fn require(
    state: &AppState,
    client: &Client,
    proof: Option<&VerifiedProof>,
) -> Result<(), AppError> {
    match proof {
        Some(_) => Ok(()),
        None if state.dpop.required => Err(invalid(
            "this server requires a DPoP proof on every token request",
        )),
        None if client.dpop_bound => Err(invalid(
            "this client registered dpop_bound_access_tokens: a DPoP proof is required",
        )),
        None => Ok(()),
    }
}

/// Checks that a token request proves possession of the key its refresh token or
/// code is bound to (`bound`, a JWK thumbprint), through the core's binding check.
///
/// # Errors
/// `invalid_dpop_proof` without a proof or with a proof by another key.
pub(crate) fn check_bound(bound: &str, proof: Option<&VerifiedProof>) -> Result<(), AppError> {
    let proof = proof.ok_or_else(|| {
        invalid("this grant is bound to a DPoP key: a DPoP proof by that key is required")
    })?;
    let cnf = json!({ "cnf": { "jkt": bound } }).to_string();
    let claims = Claims::from_json(cnf.as_bytes())?;
    dpop::check_binding(&claims, proof).map_err(|e| {
        invalid(format!(
            "the DPoP proof is not made with the key this grant is bound to ({})",
            e.code()
        ))
    })
}

/// Adds the current nonce to a token response, when nonces are on (RFC 9449 section
/// 8.2).
pub(crate) fn add_nonce(state: &AppState, response: &mut Response) {
    if let Some(value) = state
        .dpop
        .current_nonce(state.now())
        .and_then(|n| HeaderValue::from_str(&n).ok())
    {
        response.headers_mut().insert(DPOP_NONCE, value);
    }
}
