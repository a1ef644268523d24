//! DPoP proofs ([RFC 9449]): checking them on a server, making them on a client, and
//! the `cnf.jkt` binding of access tokens.
//!
//! # Checking a proof
//!
//! Checking is split in steps, as [`crate::jws`] is, so that an asynchronous crypto
//! provider (WebCrypto, in the WASM package) and an asynchronous replay store (Redis,
//! Workers KV) can do their part between them without any check written twice:
//!
//! 1. [`prepare`] decides everything that the bytes decide, cheapest first, so a proof
//!    that would be refused anyway never costs a signature check. It returns an
//!    [`UnverifiedProof`] whose [`UnverifiedProof::signature_check`] names the exact
//!    check to make (algorithm, key, signing input, signature).
//! 2. [`UnverifiedProof::finish`] takes the outcome of that check and returns a
//!    [`ReplayCheck`]: the proof's replay key and the time until which it must be
//!    remembered ([`replay`](self::replay_key)).
//! 3. [`ReplayCheck::complete`] takes the store's answer ("first use?") and returns the
//!    [`VerifiedProof`] (`jkt`, `jti`, `iat`, key); [`ReplayCheck::check`] asks a
//!    synchronous [`ReplayCache`] instead.
//!
//! [`verify`] runs the three steps with a synchronous [`Verifier`] and [`ReplayCache`].
//!
//! The checks and their codes, in order (RFC 9449 section 4.3):
//!
//! | check | code |
//! | --- | --- |
//! | the request URL is an absolute `http(s)` URL (a caller error) | `ERR_INVALID_ARGUMENT` |
//! | one proof: no `,` (two `DPoP` header fields joined) | `ERR_DPOP_MALFORMED` |
//! | a compact JWS, within the size caps, `alg` not `none` or HMAC, no `crit` | `ERR_JWS_*`, `ERR_INPUT_TOO_LARGE` |
//! | header `typ` is `dpop+jwt` (as a media type: ASCII case-insensitive, optional `application/`) | `ERR_DPOP_TYP_MISMATCH` |
//! | `alg` is in [`DpopValidation::algorithms`] | `ERR_JWS_ALG_NOT_ALLOWED` |
//! | header `jwk` is a JSON object | `ERR_DPOP_JWK_MISSING` |
//! | `jwk` is a public key ([`Jwk::from_map`]; any private member refused) | `ERR_JWK_PRIVATE_KEY`, `ERR_JWK_*` |
//! | the key fits `alg`; the signature has the right shape | `ERR_JWS_KEY_ALG_MISMATCH`, `ERR_JWS_SIGNATURE_MALFORMED` |
//! | the payload is a JSON object, registered claims typed | `ERR_DPOP_MALFORMED`, `ERR_DPOP_CLAIM_INVALID` |
//! | `jti` (1 to [`MAX_JTI_LEN`] bytes), `htm`, `htu` strings and `iat` number present; `ath`, `nonce` strings if present | `ERR_DPOP_CLAIM_MISSING`, `ERR_DPOP_CLAIM_INVALID` |
//! | `htm` equals the request method, **case-sensitively** (RFC 9110 section 9.1: methods are case-sensitive; `get` is not `GET`) | `ERR_DPOP_HTM_MISMATCH` |
//! | `htu` is an absolute `http(s)` URL ([`normalize_htu`]) | `ERR_DPOP_HTU_INVALID` |
//! | normalised `htu` equals the normalised request URL (query and fragment ignored) | `ERR_DPOP_HTU_MISMATCH` |
//! | `iat <= now + max_future + leeway` | `ERR_DPOP_IAT_FUTURE` |
//! | `now - iat <= max_age + leeway` | `ERR_DPOP_IAT_STALE` |
//! | with an access token: `ath` present and equal to [`access_token_hash`] | `ERR_DPOP_ATH_MISSING`, `ERR_DPOP_ATH_MISMATCH` |
//! | with a [`NoncePolicy`]: `nonce` present and accepted | `ERR_DPOP_NONCE_MISSING`, `ERR_DPOP_NONCE_INVALID` |
//! | the signature verifies with `jwk` (step 2) | `ERR_JWS_SIGNATURE_INVALID` |
//! | `jti` not seen before for this key (step 3) | `ERR_DPOP_REPLAY`; `ERR_DPOP_REPLAY_CACHE_FULL` or `ERR_DPOP_REPLAY_STORE_UNAVAILABLE` when the store cannot record it (fail closed) |
//!
//! Then, for an access token, [`check_binding`] compares its `cnf.jkt` with the
//! proof's thumbprint (`ERR_DPOP_CNF_INVALID`, `ERR_DPOP_TOKEN_NOT_BOUND`,
//! `ERR_DPOP_JKT_MISMATCH`).
//!
//! # Making a proof
//!
//! [`DpopKey`] (P-256, ES256) makes proofs with a fresh `jti`, `iat`, and optional
//! `ath` and `nonce`.
//!
//! [RFC 9449]: https://www.rfc-editor.org/rfc/rfc9449

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::base64url;
use crate::error::Error;
use crate::jwk::Jwk;
use crate::jws::{self, Algorithm, Jws, JwsError};
use crate::jwt::{Claims, JwtError};
use crate::provider::Verifier;

mod htu;
mod key;
mod nonce;
mod replay;

pub use htu::{MAX_URL_LEN, normalize_htu};
pub use key::{DpopKey, ProofParams, proof_signing_input};
pub use nonce::{NoncePolicy, RotatingNonce};
#[cfg(feature = "std")]
pub use replay::{DEFAULT_REPLAY_CAPACITY, MemoryReplayCache};
pub use replay::{ReplayCache, replay_key};

/// The `typ` of a DPoP proof.
pub const DPOP_TYP: &str = "dpop+jwt";
/// The longest `jti` accepted, in bytes (bounds what a replay store is asked to hash).
pub const MAX_JTI_LEN: usize = 256;
/// Default maximum age of a proof (`now - iat`), in seconds.
pub const DEFAULT_MAX_AGE: u64 = 60;
/// Default tolerance for a proof from the future (`iat - now`), in seconds.
pub const DEFAULT_MAX_FUTURE: u64 = 5;

/// Why a DPoP proof or key binding was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpopError {
    /// Not a single proof (two header fields joined by `,`), or a payload that is not a
    /// JSON object. The text says which.
    Malformed(&'static str),
    /// The header `typ` is not `dpop+jwt`.
    TypMismatch,
    /// The header has no `jwk` object.
    JwkMissing,
    /// A required claim is absent (its name is given).
    ClaimMissing(&'static str),
    /// A claim has the wrong type or size (its name is given).
    ClaimInvalid(&'static str),
    /// `htm` is not the request method.
    HtmMismatch,
    /// `htu` is not an absolute `http(s)` URL.
    HtuInvalid,
    /// `htu` does not name the request URL.
    HtuMismatch,
    /// `iat` is further in the future than allowed.
    IatFuture,
    /// `iat` is older than the maximum age.
    IatStale,
    /// An access token was presented and the proof has no `ath`.
    AthMissing,
    /// `ath` is not the hash of the presented access token.
    AthMismatch,
    /// The server requires a nonce and the proof has none; holds the nonce to send.
    NonceMissing(String),
    /// The proof's nonce is not one the server accepts; holds the nonce to send.
    NonceInvalid(String),
    /// The `jti` was seen before for this key.
    Replay,
    /// The replay cache is full of live entries; the proof is refused (fail closed).
    ReplayCacheFull,
    /// The replay store failed to answer (a shared store that is down, timed out or
    /// answered something else than yes or no); the proof is refused (fail closed).
    /// The error a [`ReplayCache`] implementation returns when it cannot answer.
    ReplayStoreUnavailable,
    /// The access token's `cnf` claim is not an object, or a member of it (`jkt`,
    /// `x5t#S256`) not a string.
    CnfInvalid,
    /// The access token has no `cnf.jkt`: it is not DPoP-bound.
    TokenNotBound,
    /// The proof's key is not the one the access token is bound to.
    JktMismatch,
}

impl DpopError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "ERR_DPOP_MALFORMED",
            Self::TypMismatch => "ERR_DPOP_TYP_MISMATCH",
            Self::JwkMissing => "ERR_DPOP_JWK_MISSING",
            Self::ClaimMissing(_) => "ERR_DPOP_CLAIM_MISSING",
            Self::ClaimInvalid(_) => "ERR_DPOP_CLAIM_INVALID",
            Self::HtmMismatch => "ERR_DPOP_HTM_MISMATCH",
            Self::HtuInvalid => "ERR_DPOP_HTU_INVALID",
            Self::HtuMismatch => "ERR_DPOP_HTU_MISMATCH",
            Self::IatFuture => "ERR_DPOP_IAT_FUTURE",
            Self::IatStale => "ERR_DPOP_IAT_STALE",
            Self::AthMissing => "ERR_DPOP_ATH_MISSING",
            Self::AthMismatch => "ERR_DPOP_ATH_MISMATCH",
            Self::NonceMissing(_) => "ERR_DPOP_NONCE_MISSING",
            Self::NonceInvalid(_) => "ERR_DPOP_NONCE_INVALID",
            Self::Replay => "ERR_DPOP_REPLAY",
            Self::ReplayCacheFull => "ERR_DPOP_REPLAY_CACHE_FULL",
            Self::ReplayStoreUnavailable => "ERR_DPOP_REPLAY_STORE_UNAVAILABLE",
            Self::CnfInvalid => "ERR_DPOP_CNF_INVALID",
            Self::TokenNotBound => "ERR_DPOP_TOKEN_NOT_BOUND",
            Self::JktMismatch => "ERR_DPOP_JKT_MISMATCH",
        }
    }

    /// Whether the server, not the proof, is at fault: the replay store could not
    /// record the proof ([`DpopError::ReplayCacheFull`],
    /// [`DpopError::ReplayStoreUnavailable`]). The proof is refused all the same (fail
    /// closed), but a response should say "try again later" (the guard answers 503),
    /// not "your proof is invalid".
    pub fn is_server_error(&self) -> bool {
        matches!(self, Self::ReplayCacheFull | Self::ReplayStoreUnavailable)
    }

    /// The OAuth error for a response: `use_dpop_nonce` for the nonce errors,
    /// `invalid_token` for the binding errors (RFC 9449 section 7.1, figure 16),
    /// `invalid_dpop_proof` for everything else (including the server errors of
    /// [`DpopError::is_server_error`], for a response that must name one).
    pub fn oauth_error(&self) -> &'static str {
        match self {
            Self::NonceMissing(_) | Self::NonceInvalid(_) => "use_dpop_nonce",
            Self::CnfInvalid | Self::TokenNotBound | Self::JktMismatch => "invalid_token",
            _ => "invalid_dpop_proof",
        }
    }

    /// The nonce to send in a `DPoP-Nonce` header, for the nonce errors.
    pub fn nonce(&self) -> Option<&str> {
        match self {
            Self::NonceMissing(n) | Self::NonceInvalid(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for DpopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed DPoP proof: {what}"),
            Self::TypMismatch => f.write_str("DPoP proof typ is not dpop+jwt"),
            Self::JwkMissing => f.write_str("DPoP proof header has no jwk object"),
            Self::ClaimMissing(name) => write!(f, "DPoP proof claim {name} is missing"),
            Self::ClaimInvalid(name) => {
                write!(f, "DPoP proof claim {name} has the wrong type or size")
            }
            Self::HtmMismatch => f.write_str("DPoP proof htm does not match the request method"),
            Self::HtuInvalid => f.write_str("DPoP proof htu is not an absolute http(s) URL"),
            Self::HtuMismatch => f.write_str("DPoP proof htu does not match the request URL"),
            Self::IatFuture => f.write_str("DPoP proof iat is in the future"),
            Self::IatStale => f.write_str("DPoP proof iat is too old"),
            Self::AthMissing => f.write_str("DPoP proof has no ath for the access token"),
            Self::AthMismatch => f.write_str("DPoP proof ath does not match the access token"),
            Self::NonceMissing(_) => f.write_str("server requires nonce in DPoP proof"),
            Self::NonceInvalid(_) => f.write_str("DPoP proof nonce is not current"),
            Self::Replay => f.write_str("DPoP proof jti was already used"),
            Self::ReplayCacheFull => {
                f.write_str("DPoP replay cache is full; proof refused until entries expire")
            }
            Self::ReplayStoreUnavailable => {
                f.write_str("DPoP replay store did not answer; proof refused")
            }
            Self::CnfInvalid => f.write_str("access token cnf claim is malformed"),
            Self::TokenNotBound => f.write_str("access token is not DPoP-bound (no cnf.jkt)"),
            Self::JktMismatch => f.write_str("Invalid DPoP key binding"),
        }
    }
}

impl core::error::Error for DpopError {}

/// What a DPoP proof must satisfy beyond RFC 9449's fixed rules. Defaults: every
/// [`Algorithm`] (all asymmetric), [`DEFAULT_MAX_AGE`], [`DEFAULT_MAX_FUTURE`], no
/// leeway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopValidation {
    algorithms: Vec<Algorithm>,
    max_age: u64,
    max_future: u64,
    leeway: u64,
}

impl Default for DpopValidation {
    fn default() -> Self {
        Self {
            algorithms: Algorithm::ALL.to_vec(),
            max_age: DEFAULT_MAX_AGE,
            max_future: DEFAULT_MAX_FUTURE,
            leeway: 0,
        }
    }
}

impl DpopValidation {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only these algorithms verify (checked before the key is used). Also the `algs`
    /// a guard advertises in its `DPoP` challenge.
    #[must_use]
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// Oldest accepted proof: `now - iat <= seconds + leeway`.
    #[must_use]
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = seconds;
        self
    }

    /// Furthest-future accepted proof: `iat - now <= seconds + leeway`.
    #[must_use]
    pub fn max_future(mut self, seconds: u64) -> Self {
        self.max_future = seconds;
        self
    }

    /// Seconds of clock skew added to both limits.
    #[must_use]
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The allowed algorithms.
    pub fn allowed_algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// How long after `iat` a proof can still be accepted: `max_age + leeway`.
    pub fn replay_window(&self) -> i64 {
        secs(self.max_age).saturating_add(secs(self.leeway))
    }
}

fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}

/// The request a proof must match.
#[derive(Clone, Copy)]
pub struct ProofRequest<'a> {
    method: &'a str,
    url: &'a str,
    access_token: Option<&'a str>,
    nonce: Option<&'a dyn NoncePolicy>,
}

impl fmt::Debug for ProofRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("access_token", &self.access_token.map(|_| ".."))
            .field("nonce", &self.nonce.map(|_| ".."))
            .finish()
    }
}

impl<'a> ProofRequest<'a> {
    /// A request with this method (as received: case matters) and absolute URL.
    pub fn new(method: &'a str, url: &'a str) -> Self {
        Self {
            method,
            url,
            access_token: None,
            nonce: None,
        }
    }

    /// The access token presented with the request: `ath` becomes required.
    #[must_use]
    pub fn access_token(mut self, token: &'a str) -> Self {
        self.access_token = Some(token);
        self
    }

    /// The server requires a nonce accepted by `policy`.
    #[must_use]
    pub fn nonce(mut self, policy: &'a dyn NoncePolicy) -> Self {
        self.nonce = Some(policy);
        self
    }
}

/// One signature to check: `signature` over `message` with `key` and `alg`. The key
/// fits the algorithm and the signature has the right shape (both already checked).
#[derive(Debug, Clone, Copy)]
pub struct SignatureCheck<'a> {
    /// The algorithm.
    pub alg: Algorithm,
    /// The public key.
    pub key: &'a Jwk,
    /// The JWS signing input.
    pub message: &'a [u8],
    /// The decoded signature (`r || s` for ECDSA).
    pub signature: &'a [u8],
}

impl SignatureCheck<'_> {
    /// Runs the check with a synchronous provider, through
    /// [`jws::verify_signature`].
    ///
    /// # Errors
    /// `ERR_JWS_KEY_ALG_MISMATCH`, `ERR_JWS_SIGNATURE_MALFORMED`,
    /// `ERR_JWS_SIGNATURE_INVALID`, or the provider's `ERR_JWS_ALG_UNSUPPORTED`.
    pub fn verify<V: Verifier + ?Sized>(&self, verifier: &V) -> Result<(), Error> {
        jws::verify_signature(self.alg, self.key, self.message, self.signature, verifier)
    }
}

/// `BASE64URL(SHA-256(ASCII(token)))`: the `ath` of a proof for `token`.
pub fn access_token_hash(token: &str) -> String {
    base64url::encode(&Sha256::digest(token.as_bytes()))
}

/// A proof that passed step 1 ([`prepare`]); its signature is not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedProof<'p> {
    jws: Jws<'p>,
    jwk: Jwk,
    jti: String,
    iat: i64,
    nonce: Option<String>,
    claims: Claims,
    expires_at: i64,
}

/// Step 1: every check that the bytes decide (the table in the [module docs](self)),
/// without the signature and the replay store.
///
/// # Errors
/// The codes of the module docs' table, up to and including the nonce row.
pub fn prepare<'p>(
    proof: &'p str,
    request: &ProofRequest<'_>,
    validation: &DpopValidation,
    now: i64,
) -> Result<UnverifiedProof<'p>, Error> {
    let request_url = htu::normalize(request.url).ok_or(Error::InvalidArgument(
        "request URL is not an absolute http(s) URL",
    ))?;
    if proof.contains(',') {
        return Err(DpopError::Malformed("more than one DPoP header field").into());
    }
    let jws = Jws::parse(proof)?;
    let header = jws.header();
    if !header.typ_is(DPOP_TYP) {
        return Err(DpopError::TypMismatch.into());
    }
    let alg = header.alg();
    if !validation.algorithms.contains(&alg) {
        return Err(JwsError::AlgNotAllowed.into());
    }
    let jwk = match header.raw().get("jwk") {
        Some(Value::Object(m)) => Jwk::from_map(m)?,
        _ => return Err(DpopError::JwkMissing.into()),
    };
    if !jwk.allows(alg) {
        return Err(JwsError::KeyAlgMismatch.into());
    }
    jws::check_signature_shape(alg, jwk.key(), jws.signature())?;

    let claims = Claims::from_json(jws.payload()).map_err(|e| match e {
        Error::Jwt(JwtError::ClaimInvalid(name)) => DpopError::ClaimInvalid(name),
        _ => DpopError::Malformed("payload is not a JSON object"),
    })?;
    let jti = claims.jti().ok_or(DpopError::ClaimMissing("jti"))?;
    if jti.is_empty() || jti.len() > MAX_JTI_LEN {
        return Err(DpopError::ClaimInvalid("jti").into());
    }
    let htm = string_claim(&claims, "htm")?.ok_or(DpopError::ClaimMissing("htm"))?;
    let htu = string_claim(&claims, "htu")?.ok_or(DpopError::ClaimMissing("htu"))?;
    let iat = claims.iat().ok_or(DpopError::ClaimMissing("iat"))?;
    let ath = string_claim(&claims, "ath")?;
    let nonce = string_claim(&claims, "nonce")?;

    if htm != request.method {
        return Err(DpopError::HtmMismatch.into());
    }
    if htu::normalize(htu).ok_or(DpopError::HtuInvalid)? != request_url {
        return Err(DpopError::HtuMismatch.into());
    }
    let leeway = secs(validation.leeway);
    if iat
        > now
            .saturating_add(secs(validation.max_future))
            .saturating_add(leeway)
    {
        return Err(DpopError::IatFuture.into());
    }
    if now.saturating_sub(iat) > validation.replay_window() {
        return Err(DpopError::IatStale.into());
    }
    if let Some(token) = request.access_token {
        let ath = ath.ok_or(DpopError::AthMissing)?;
        let expected = access_token_hash(token);
        if !bool::from(ath.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(DpopError::AthMismatch.into());
        }
    }
    if let Some(policy) = request.nonce {
        match nonce {
            None => return Err(DpopError::NonceMissing(policy.current(now)).into()),
            Some(n) if !policy.accepts(n, now) => {
                return Err(DpopError::NonceInvalid(policy.current(now)).into());
            }
            Some(_) => {}
        }
    }
    Ok(UnverifiedProof {
        jti: jti.into(),
        nonce: nonce.map(String::from),
        expires_at: iat.saturating_add(validation.replay_window()),
        iat,
        jws,
        jwk,
        claims,
    })
}

fn string_claim<'c>(claims: &'c Claims, name: &'static str) -> Result<Option<&'c str>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DpopError::ClaimInvalid(name).into()),
    }
}

impl<'p> UnverifiedProof<'p> {
    /// The signature check to make with the proof's own key.
    pub fn signature_check(&self) -> SignatureCheck<'_> {
        SignatureCheck {
            alg: self.jws.header().alg(),
            key: &self.jwk,
            message: self.jws.signing_input(),
            signature: self.jws.signature(),
        }
    }

    /// Step 2: takes the outcome of [`UnverifiedProof::signature_check`] (`Ok(())` only
    /// if the signature verified; an asynchronous provider that answers `false` passes
    /// `Err(JwsError::SignatureInvalid.into())`).
    ///
    /// # Errors
    /// The error passed in.
    pub fn finish(self, signature: Result<(), Error>) -> Result<ReplayCheck, Error> {
        signature?;
        let jkt = self.jwk.thumbprint();
        Ok(ReplayCheck {
            key: replay_key(&jkt, &self.jti),
            expires_at: self.expires_at,
            proof: VerifiedProof {
                jkt,
                jti: self.jti,
                iat: self.iat,
                alg: self.jws.header().alg(),
                jwk: self.jwk,
                nonce: self.nonce,
                claims: self.claims,
            },
        })
    }
}

/// A proof whose signature verified, waiting for the replay check (step 3).
#[derive(Debug, Clone)]
pub struct ReplayCheck {
    key: String,
    expires_at: i64,
    proof: VerifiedProof,
}

impl ReplayCheck {
    /// The replay key: `BASE64URL(SHA-256(jkt ":" jti))` ([`replay_key`]).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Until when (seconds since the epoch, inclusive) the key must be remembered:
    /// `iat + max_age + leeway`, after which the proof is refused as stale anyway.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The verified proof (usable only through [`ReplayCheck::complete`] or
    /// [`ReplayCheck::check`] as a result, but readable before).
    pub fn proof(&self) -> &VerifiedProof {
        &self.proof
    }

    /// Step 3 with the answer of a replay store's check-and-insert of
    /// ([`key`](Self::key), [`expires_at`](Self::expires_at)): `Ok(true)` for a first
    /// use.
    ///
    /// # Errors
    /// `ERR_DPOP_REPLAY` for `Ok(false)`; the store's error otherwise.
    pub fn complete(self, first_use: Result<bool, Error>) -> Result<VerifiedProof, Error> {
        if first_use? {
            Ok(self.proof)
        } else {
            Err(DpopError::Replay.into())
        }
    }

    /// Step 3 with a synchronous [`ReplayCache`].
    ///
    /// # Errors
    /// `ERR_DPOP_REPLAY`, `ERR_DPOP_REPLAY_CACHE_FULL`,
    /// `ERR_DPOP_REPLAY_STORE_UNAVAILABLE` or the cache's error.
    pub fn check(self, cache: &dyn ReplayCache, now: i64) -> Result<VerifiedProof, Error> {
        let first_use = cache.check_and_insert(&self.key, self.expires_at, now);
        self.complete(first_use)
    }
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedProof {
    jkt: String,
    jti: String,
    iat: i64,
    alg: Algorithm,
    jwk: Jwk,
    nonce: Option<String>,
    claims: Claims,
}

impl VerifiedProof {
    /// The RFC 7638 thumbprint of the proof's key (what `cnf.jkt` must equal).
    pub fn jkt(&self) -> &str {
        &self.jkt
    }
    /// `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// `iat`.
    pub fn iat(&self) -> i64 {
        self.iat
    }
    /// The signature algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
    /// The proof's public key.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }
    /// `nonce`, if the proof had one.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
    /// Every claim of the proof.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }
}

/// Checks a proof completely with a synchronous provider and replay cache: [`prepare`],
/// the signature, then the replay check.
///
/// # Errors
/// Every code of the table in the [module docs](self).
pub fn verify<V: Verifier + ?Sized>(
    proof: &str,
    request: &ProofRequest<'_>,
    validation: &DpopValidation,
    verifier: &V,
    replay: &dyn ReplayCache,
    now: i64,
) -> Result<VerifiedProof, Error> {
    let unverified = prepare(proof, request, validation, now)?;
    let signature = unverified.signature_check().verify(verifier);
    unverified.finish(signature)?.check(replay, now)
}

/// The `cnf.jkt` of verified access-token claims (RFC 9449 section 6.1), or `None`
/// when the token is not DPoP-bound.
///
/// # Errors
/// `ERR_DPOP_CNF_INVALID` when `cnf` is not an object or `jkt` not a string.
pub fn bound_jkt(claims: &Claims) -> Result<Option<&str>, Error> {
    match claims.get("cnf") {
        None => Ok(None),
        Some(Value::Object(cnf)) => match cnf.get("jkt") {
            None => Ok(None),
            Some(Value::String(jkt)) => Ok(Some(jkt)),
            Some(_) => Err(DpopError::CnfInvalid.into()),
        },
        Some(_) => Err(DpopError::CnfInvalid.into()),
    }
}

/// Checks that an access token (its verified claims) is bound to the proof's key:
/// `cnf.jkt` present and equal to the proof's thumbprint (RFC 9449 section 7.1).
///
/// # Errors
/// `ERR_DPOP_CNF_INVALID`, `ERR_DPOP_TOKEN_NOT_BOUND`, `ERR_DPOP_JKT_MISMATCH`.
pub fn check_binding(claims: &Claims, proof: &VerifiedProof) -> Result<(), Error> {
    let jkt = bound_jkt(claims)?.ok_or(DpopError::TokenNotBound)?;
    if bool::from(jkt.as_bytes().ct_eq(proof.jkt.as_bytes())) {
        Ok(())
    } else {
        Err(DpopError::JktMismatch.into())
    }
}
