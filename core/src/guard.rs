//! The resource-server check in one call: `Authorization` and `DPoP` headers, method,
//! URL and `now` in; an [`Authorized`] request or a [`Rejection`] ready to send out
//! (status, OAuth error, `WWW-Authenticate` per [RFC 6750 section 3] and [RFC 9449
//! section 7.1], `DPoP-Nonce`).
//!
//! Access tokens must be JWTs signed by a key of the configured [`JwkSet`] and pass
//! the configured [`Validation`] (issuer, audience, algorithms, leeway); opaque tokens
//! (which need introspection) are refused as `invalid_token`.
//!
//! # Decisions
//!
//! | request | status | OAuth error | code |
//! | --- | --- | --- | --- |
//! | no `Authorization` (or only whitespace) | 401 | none (RFC 6750 section 3.1) | `ERR_GUARD_NO_CREDENTIALS` |
//! | a scheme this guard does not take: not `Bearer`/`DPoP`, `DPoP` when [`DpopMode::Off`], `Bearer` when [`DpopMode::Required`] | 401 | none (RFC 6750 section 3.1: "an unsupported authentication method") | `ERR_GUARD_SCHEME_UNSUPPORTED` |
//! | a `,` in `Authorization` (two credentials, or two header fields joined) | 400 | `invalid_request` | `ERR_GUARD_MULTIPLE_CREDENTIALS` |
//! | no token, a token with spaces, a token outside `token68`, non-ASCII bytes | 400 | `invalid_request` | `ERR_GUARD_AUTHORIZATION_MALFORMED` |
//! | lower-case or mixed-case scheme (`bearer`, `dpop`) | — | accepted: schemes are case-insensitive (RFC 9110 section 11.1) | |
//! | the token is not a valid JWT for this guard | 401 | `invalid_token` | `ERR_JWS_*`, `ERR_JWT_*`, `ERR_INPUT_TOO_LARGE` |
//! | `DPoP` scheme without a `DPoP` header | 401 | `invalid_dpop_proof` | `ERR_GUARD_DPOP_PROOF_MISSING` |
//! | the proof is refused ([`crate::dpop`]) | 401 | `invalid_dpop_proof` | `ERR_DPOP_*`, `ERR_JWS_*`, `ERR_JWK_*` |
//! | the replay store cannot record the proof: full of live entries, or failed to answer ([`ReplayCache`]); refused (fail closed), the server's fault | 503 | none; `WWW-Authenticate` holds the challenges without `error` | `ERR_DPOP_REPLAY_CACHE_FULL`, `ERR_DPOP_REPLAY_STORE_UNAVAILABLE` |
//! | a nonce policy is set and the proof's nonce is missing or not accepted | 401 | `use_dpop_nonce`, with `DPoP-Nonce` | `ERR_DPOP_NONCE_MISSING`, `ERR_DPOP_NONCE_INVALID` |
//! | `DPoP` scheme, token without `cnf.jkt` | 401 | `invalid_token` | `ERR_DPOP_TOKEN_NOT_BOUND` |
//! | `DPoP` scheme, `cnf.jkt` is not the proof key's thumbprint | 401 | `invalid_token` | `ERR_DPOP_JKT_MISMATCH` |
//! | `Bearer` scheme, token with `cnf.jkt` (RFC 9449 section 7.2), in every mode | 401 | `invalid_token` | `ERR_GUARD_DPOP_TOKEN_AS_BEARER` |
//! | token with `cnf["x5t#S256"]` (RFC 8705) and no client-certificate thumbprint, or another one | 401 | `invalid_token` | `ERR_GUARD_CERT_THUMBPRINT_MISSING`, `ERR_GUARD_CERT_THUMBPRINT_MISMATCH` |
//! | `cnf` malformed, or with a confirmation method this guard cannot check | 401 | `invalid_token` | `ERR_DPOP_CNF_INVALID`, `ERR_GUARD_CNF_UNSUPPORTED` |
//! | the request URL given by the caller is not an absolute `http(s)` URL | 400 | `invalid_request` | `ERR_INVALID_ARGUMENT` |
//! | with [`Request::fhir`]: the token's SMART scopes do not grant the interaction, or grant it only through `patient/` scopes and the token names no `patient` ([`Guard::authorize`]) | 403 | `insufficient_scope`, `scope="..."` naming a scope that would | `ERR_GUARD_INSUFFICIENT_SCOPE` |
//!
//! With the `Bearer` scheme a `DPoP` header is ignored: the token is a bearer token
//! (and refused if it is DPoP-bound).
//!
//! # `WWW-Authenticate`
//!
//! [`DpopMode::Off`] answers with a `Bearer` challenge, [`DpopMode::Required`] with a
//! `DPoP` one, [`DpopMode::Allowed`] with both (`Bearer, DPoP algs="..."`, RFC 9449
//! figure 17). The error goes in the challenge of the scheme the client used (RFC 9449
//! section 7.2; figure 18), in both when that is ambiguous (several credentials; figure
//! 19), in neither when there were no usable credentials. A `DPoP` challenge always
//! carries `algs` (the proof algorithms). Parameters come in the order `realm`,
//! `error`, `error_description`, `scope`, `algs`. Descriptions are fixed texts of this
//! crate, sanitised to the RFC 6750 character set anyway.
//!
//! # Steps (for an asynchronous provider and replay store)
//!
//! 1. [`Guard::begin`] parses the headers and the token, picks the candidate keys, and
//!    runs step 1 of [`crate::dpop`] on the proof. [`Pending::token_checks`] (any one
//!    must verify, tried in order) and [`Pending::proof_check`] name the signatures.
//! 2. [`Pending::finish`] takes their outcomes, checks the token's claims and its
//!    bindings, and returns [`Checked`]: either the [`Authorized`] request, or (when a
//!    proof was checked) a [`ReplayPending`] with the replay key and expiry.
//! 3. [`ReplayPending::complete`] takes the store's check-and-insert answer.
//!
//! [`Guard::check`] runs the three with a synchronous [`Verifier`] and
//! [`ReplayCache`].
//!
//! [RFC 6750 section 3]: https://www.rfc-editor.org/rfc/rfc6750#section-3
//! [RFC 9449 section 7.1]: https://www.rfc-editor.org/rfc/rfc9449#section-7.1

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::dpop::{
    self, DpopError, DpopValidation, NoncePolicy, ProofRequest, ReplayCache, ReplayCheck,
    SignatureCheck, UnverifiedProof,
};
use crate::error::Error;
use crate::jwk::{Jwk, JwkSet};
use crate::jws::{self, Jws, JwsError};
use crate::jwt::Validation;
use crate::provider::Verifier;
use crate::scope;

mod authorization;
mod challenge;
mod cnf;
mod outcome;
mod request;
mod scopes;

use authorization::Scheme;
use challenge::{Challenge, sanitize};
use cnf::{Confirmation, same_certificate};
pub use outcome::{Authorized, Rejection};
pub use request::Request;

/// Why the guard refused a request's credentials (see the [module docs](self)).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardError {
    /// No `Authorization` header.
    NoCredentials,
    /// An authentication scheme this guard does not take.
    SchemeUnsupported,
    /// More than one credential in `Authorization`.
    MultipleCredentials,
    /// The `Authorization` value is malformed (the text says how).
    AuthorizationMalformed(&'static str),
    /// `DPoP` scheme without a `DPoP` proof header.
    DpopProofMissing,
    /// A DPoP-bound token presented with the `Bearer` scheme.
    DpopTokenAsBearer,
    /// The token's `cnf` holds a confirmation method this guard cannot check.
    CnfUnsupported,
    /// A certificate-bound token without a client-certificate thumbprint.
    CertificateThumbprintMissing,
    /// A certificate-bound token with another client certificate.
    CertificateThumbprintMismatch,
    /// The token does not grant the scope the request needs.
    InsufficientScope,
}

impl GuardError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCredentials => "ERR_GUARD_NO_CREDENTIALS",
            Self::SchemeUnsupported => "ERR_GUARD_SCHEME_UNSUPPORTED",
            Self::MultipleCredentials => "ERR_GUARD_MULTIPLE_CREDENTIALS",
            Self::AuthorizationMalformed(_) => "ERR_GUARD_AUTHORIZATION_MALFORMED",
            Self::DpopProofMissing => "ERR_GUARD_DPOP_PROOF_MISSING",
            Self::DpopTokenAsBearer => "ERR_GUARD_DPOP_TOKEN_AS_BEARER",
            Self::CnfUnsupported => "ERR_GUARD_CNF_UNSUPPORTED",
            Self::CertificateThumbprintMissing => "ERR_GUARD_CERT_THUMBPRINT_MISSING",
            Self::CertificateThumbprintMismatch => "ERR_GUARD_CERT_THUMBPRINT_MISMATCH",
            Self::InsufficientScope => "ERR_GUARD_INSUFFICIENT_SCOPE",
        }
    }
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCredentials => f.write_str("no access token in the request"),
            Self::SchemeUnsupported => {
                f.write_str("authentication scheme is not accepted by this resource")
            }
            // RFC 9449 figure 19.
            Self::MultipleCredentials => {
                f.write_str("Multiple methods used to include access token")
            }
            Self::AuthorizationMalformed(what) => f.write_str(what),
            Self::DpopProofMissing => f.write_str("DPoP scheme used without a DPoP proof header"),
            Self::DpopTokenAsBearer => {
                f.write_str("DPoP-bound access token presented with the Bearer scheme")
            }
            Self::CnfUnsupported => {
                f.write_str("access token cnf holds a confirmation method that is not supported")
            }
            Self::CertificateThumbprintMissing => {
                f.write_str("certificate-bound access token presented without a client certificate")
            }
            Self::CertificateThumbprintMismatch => f.write_str(
                "certificate-bound access token presented with another client certificate",
            ),
            Self::InsufficientScope => {
                f.write_str("access token does not grant the scope this request needs")
            }
        }
    }
}

impl core::error::Error for GuardError {}

/// Whether the guard takes DPoP-bound tokens ([RFC 9449]).
///
/// [RFC 9449]: https://www.rfc-editor.org/rfc/rfc9449
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// Only the `DPoP` scheme, with a proof, for DPoP-bound tokens.
    Required,
    /// Both: `DPoP` with a proof for DPoP-bound tokens, `Bearer` for unbound ones.
    /// A DPoP-bound token sent as `Bearer` is still refused (RFC 9449 section 7.2).
    #[default]
    Allowed,
    /// Only `Bearer`, for unbound tokens.
    Off,
}

/// The guard's configuration. Build once, share (it is `Send + Sync`), call
/// [`Guard::check`] (or the steps) per request.
pub struct Guard {
    keys: JwkSet,
    validation: Validation,
    mode: DpopMode,
    proof: DpopValidation,
    algs: String,
    nonce: Option<Box<dyn NoncePolicy + Send + Sync>>,
    realm: Option<String>,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("keys", &self.keys)
            .field("validation", &self.validation)
            .field("mode", &self.mode)
            .field("proof", &self.proof)
            .field("nonce", &self.nonce.is_some())
            .field("realm", &self.realm)
            .finish()
    }
}

impl Guard {
    /// A guard for tokens signed by `keys` that pass `validation` (issuers, audiences,
    /// algorithms, leeway). Defaults: [`DpopMode::Allowed`], [`DpopValidation`]'s
    /// defaults, no nonce, no realm.
    pub fn new(keys: JwkSet, validation: Validation) -> Self {
        let proof = DpopValidation::default();
        Self {
            keys,
            validation,
            mode: DpopMode::default(),
            algs: algs(&proof),
            proof,
            nonce: None,
            realm: None,
        }
    }

    /// Sets the DPoP mode.
    #[must_use]
    pub fn dpop(mut self, mode: DpopMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the proof rules (algorithms, which are also the challenge's `algs`; `iat`
    /// window; leeway).
    #[must_use]
    pub fn dpop_validation(mut self, proof: DpopValidation) -> Self {
        self.algs = algs(&proof);
        self.proof = proof;
        self
    }

    /// Sets the same clock-skew leeway for the token and the proof.
    #[must_use]
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.validation = self.validation.leeway(seconds);
        self.proof = self.proof.leeway(seconds);
        self
    }

    /// Requires a server nonce in every proof (RFC 9449 section 9).
    #[must_use]
    pub fn nonce(mut self, policy: impl NoncePolicy + Send + Sync + 'static) -> Self {
        self.nonce = Some(Box::new(policy));
        self
    }

    /// Adds `realm="..."` to every challenge (sanitised).
    #[must_use]
    pub fn realm(mut self, realm: &str) -> Self {
        self.realm = Some(sanitize(realm));
        self
    }

    /// The DPoP mode.
    pub fn mode(&self) -> DpopMode {
        self.mode
    }

    /// Step 1 (see the [module docs](self)).
    ///
    /// # Errors
    /// A [`Rejection`] for every refusal decided without signatures.
    pub fn begin<'g, 'r>(&'g self, request: &Request<'r>) -> Result<Pending<'g, 'r>, Rejection> {
        let (scheme, token) = match authorization::parse(request.authorization) {
            Ok(found) => found,
            Err(e) => {
                // No usable credentials: no error anywhere (RFC 6750 section 3.1). A
                // malformed or ambiguous header: the error in every challenge (RFC 9449
                // section 7.2, figure 19).
                let target = match e {
                    GuardError::NoCredentials | GuardError::SchemeUnsupported => Target::None,
                    _ => Target::Both,
                };
                return Err(self.reject(e.into(), target));
            }
        };
        let accepted = match scheme {
            Scheme::Bearer => self.mode != DpopMode::Required,
            Scheme::Dpop => self.mode != DpopMode::Off,
        };
        if !accepted {
            return Err(self.reject(GuardError::SchemeUnsupported.into(), Target::None));
        }
        let target = Target::One(scheme);
        let token_error = |e: Error| self.reject(e, target);

        let jws = Jws::parse(token).map_err(token_error)?;
        self.validation
            .check_header(jws.header())
            .map_err(token_error)?;
        let mut last = Error::Jws(JwsError::SignatureMalformed);
        let candidates: Vec<&'g Jwk> = jws
            .candidates(&self.keys)
            .map_err(token_error)?
            .into_iter()
            .filter(|k| {
                match jws::check_signature_shape(jws.header().alg(), k.key(), jws.signature()) {
                    Ok(()) => true,
                    Err(e) => {
                        last = e;
                        false
                    }
                }
            })
            .collect();
        if candidates.is_empty() {
            return Err(token_error(last));
        }

        let proof = match scheme {
            Scheme::Bearer => None,
            Scheme::Dpop => {
                let proof = request
                    .dpop
                    .ok_or_else(|| self.reject(GuardError::DpopProofMissing.into(), target))?;
                let mut check = ProofRequest::new(request.method, request.url).access_token(token);
                if let Some(policy) = &self.nonce {
                    check = check.nonce(policy.as_ref());
                }
                Some(
                    dpop::prepare(proof, &check, &self.proof, request.now)
                        .map_err(|e| self.reject(e, Target::Proof))?,
                )
            }
        };
        Ok(Pending {
            guard: self,
            scheme,
            jws,
            candidates,
            proof,
            now: request.now,
            certificate: request.client_certificate_thumbprint,
            fhir: request.fhir,
        })
    }

    /// The whole check with a synchronous provider and replay cache.
    ///
    /// # Errors
    /// A [`Rejection`] for every refusal of the [module docs](self).
    pub fn check<V: Verifier + ?Sized>(
        &self,
        request: &Request<'_>,
        verifier: &V,
        replay: &dyn ReplayCache,
    ) -> Result<Authorized, Rejection> {
        let pending = self.begin(request)?;
        let (token, proof) = {
            let token = first_verified(&pending.token_checks(), verifier);
            let proof = pending.proof_check().map(|c| c.verify(verifier));
            (token, proof)
        };
        match pending.finish(token, proof)? {
            Checked::Authorized(a) => Ok(a),
            Checked::Replay(r) => {
                let first_use = replay.check_and_insert(r.key(), r.expires_at(), request.now);
                r.complete(first_use)
            }
        }
    }

    fn reject(&self, error: Error, target: Target) -> Rejection {
        let (status, oauth) = match &error {
            Error::Guard(GuardError::NoCredentials | GuardError::SchemeUnsupported) => (401, None),
            Error::Guard(
                GuardError::MultipleCredentials | GuardError::AuthorizationMalformed(_),
            )
            | Error::InvalidArgument(_) => (400, Some("invalid_request")),
            Error::Guard(GuardError::DpopProofMissing) => (401, Some("invalid_dpop_proof")),
            // The replay store could not record the proof: refused (fail closed), but
            // the server is at fault, not the client's credentials.
            Error::Dpop(e) if e.is_server_error() => (503, None),
            Error::Dpop(e) => (401, Some(e.oauth_error())),
            // A proof's JOSE-level errors are proof errors; everything else is the token.
            Error::Jws(_) | Error::Jwk(_) | Error::Base64(_) | Error::TooLarge(_)
                if target == Target::Proof =>
            {
                (401, Some("invalid_dpop_proof"))
            }
            _ => (401, Some("invalid_token")),
        };
        let target = match target {
            Target::Proof => Target::One(Scheme::Dpop),
            t => t,
        };
        let description = sanitize(&match &error {
            // RFC 9449 figure 24.
            Error::Dpop(DpopError::NonceMissing(_)) => {
                String::from("Resource server requires nonce in DPoP proof")
            }
            e => alloc::format!("{e}"),
        });
        let dpop_nonce = match &error {
            Error::Dpop(e) => e.nonce().map(String::from),
            _ => None,
        };
        Rejection {
            status,
            error: oauth,
            www_authenticate: self.challenges(
                if oauth.is_some() {
                    target
                } else {
                    Target::None
                },
                oauth,
                &description,
                None,
            ),
            description,
            dpop_nonce,
            code: error.code(),
        }
    }

    fn challenges(
        &self,
        target: Target,
        error: Option<&str>,
        description: &str,
        scope: Option<&str>,
    ) -> String {
        let realm = self.realm.as_deref();
        let carries = |scheme: Scheme| match target {
            Target::Both => true,
            Target::One(s) => s == scheme,
            Target::None | Target::Proof => false,
        };
        let with_error = |c: Challenge, scheme: Scheme| {
            if carries(scheme) {
                c.opt("error", error)
                    .opt("error_description", error.map(|_| description))
                    .opt("scope", scope)
            } else {
                c
            }
        };
        let mut out = String::new();
        if self.mode != DpopMode::Required {
            let c = with_error(Challenge::new("Bearer").opt("realm", realm), Scheme::Bearer);
            out.push_str(&c.finish());
        }
        if self.mode != DpopMode::Off {
            if !out.is_empty() {
                out.push_str(", ");
            }
            let c = with_error(Challenge::new("DPoP").opt("realm", realm), Scheme::Dpop)
                .param("algs", &self.algs);
            out.push_str(&c.finish());
        }
        out
    }
}

fn algs(proof: &DpopValidation) -> String {
    let names: Vec<&str> = proof
        .allowed_algorithms()
        .iter()
        .map(|a| a.name())
        .collect();
    names.join(" ")
}

/// The first check that verifies (its index), or the last error; as [`Jws::verify`].
fn first_verified<V: Verifier + ?Sized>(
    checks: &[SignatureCheck<'_>],
    verifier: &V,
) -> Result<usize, Error> {
    let mut last = Error::Jws(JwsError::SignatureInvalid);
    for (i, check) in checks.iter().enumerate() {
        match check.verify(verifier) {
            Ok(()) => return Ok(i),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Which challenge carries the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    None,
    One(Scheme),
    Both,
    /// The proof failed: the `DPoP` challenge, and JOSE errors mean `invalid_dpop_proof`.
    Proof,
}

/// A request whose headers and token parsed (step 1); signatures not yet checked.
#[derive(Debug)]
pub struct Pending<'g, 'r> {
    guard: &'g Guard,
    scheme: Scheme,
    jws: Jws<'r>,
    candidates: Vec<&'g Jwk>,
    proof: Option<UnverifiedProof<'r>>,
    now: i64,
    certificate: Option<&'r str>,
    fhir: Option<scope::Request<'r>>,
}

impl<'g, 'r> Pending<'g, 'r> {
    /// The access token's signature checks, one per candidate key, in order: the
    /// token verifies if any one does. Never empty.
    pub fn token_checks(&self) -> Vec<SignatureCheck<'_>> {
        self.candidates
            .iter()
            .map(|key| SignatureCheck {
                alg: self.jws.header().alg(),
                key,
                message: self.jws.signing_input(),
                signature: self.jws.signature(),
            })
            .collect()
    }

    /// The proof's signature check, when the `DPoP` scheme is used.
    pub fn proof_check(&self) -> Option<SignatureCheck<'_>> {
        self.proof.as_ref().map(UnverifiedProof::signature_check)
    }

    /// Step 2: `token` is the index (into [`Pending::token_checks`]) of the check that
    /// verified, or the error of the last one; `proof` is the outcome of
    /// [`Pending::proof_check`] (`None` when there was none to make; a proof left
    /// unchecked counts as a bad signature).
    ///
    /// # Errors
    /// A [`Rejection`] for a bad signature, the token's claims, and its bindings.
    pub fn finish(
        self,
        token: Result<usize, Error>,
        proof: Option<Result<(), Error>>,
    ) -> Result<Checked<'g>, Rejection> {
        let guard = self.guard;
        let target = Target::One(self.scheme);
        let token_error = |e: Error| guard.reject(e, target);
        let index = token.map_err(token_error)?;
        if self.candidates.get(index).is_none() {
            return Err(token_error(JwsError::SignatureInvalid.into()));
        }
        let claims = guard
            .validation
            .check_claims(self.jws.payload(), self.now)
            .map_err(token_error)?;
        let cnf = Confirmation::of(&claims).map_err(token_error)?;
        if let Some(x5t) = cnf.x5t_s256 {
            let Some(certificate) = self.certificate else {
                return Err(token_error(GuardError::CertificateThumbprintMissing.into()));
            };
            if !same_certificate(certificate, x5t) {
                return Err(token_error(
                    GuardError::CertificateThumbprintMismatch.into(),
                ));
            }
        }
        let bound = cnf.jkt.is_some();
        let mut authorized = Authorized::from_claims(claims).map_err(token_error)?;
        // Scopes are judged last, once the token and its proof are known good: a bad
        // proof is a 401, whatever the token's scopes.
        let scope_check = |a: &Authorized| match &self.fhir {
            Some(fhir) => guard.authorize(a, fhir).map(|_| ()),
            None => Ok(()),
        };
        match (self.scheme, self.proof) {
            (Scheme::Bearer, _) => {
                if bound {
                    return Err(token_error(GuardError::DpopTokenAsBearer.into()));
                }
                scope_check(&authorized)?;
                Ok(Checked::Authorized(authorized))
            }
            (Scheme::Dpop, None) => Err(token_error(GuardError::DpopProofMissing.into())),
            (Scheme::Dpop, Some(unverified)) => {
                if !bound {
                    return Err(token_error(DpopError::TokenNotBound.into()));
                }
                let signature = proof.unwrap_or(Err(JwsError::SignatureInvalid.into()));
                let replay = unverified
                    .finish(signature)
                    .map_err(|e| guard.reject(e, Target::Proof))?;
                dpop::check_binding(&authorized.claims, replay_proof(&replay))
                    .map_err(token_error)?;
                authorized.jkt = Some(replay_proof(&replay).jkt().into());
                scope_check(&authorized)?;
                Ok(Checked::Replay(ReplayPending {
                    guard,
                    check: replay,
                    authorized,
                }))
            }
        }
    }
}

fn replay_proof(check: &ReplayCheck) -> &dpop::VerifiedProof {
    check.proof()
}

/// The outcome of step 2.
// Made and consumed once per request: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Checked<'g> {
    /// No proof to remember: the request is authorized.
    Authorized(Authorized),
    /// A proof was checked: its `jti` must pass the replay check first.
    Replay(ReplayPending<'g>),
}

/// An authorized request waiting for the proof's replay check (step 3).
#[derive(Debug)]
pub struct ReplayPending<'g> {
    guard: &'g Guard,
    check: ReplayCheck,
    authorized: Authorized,
}

impl ReplayPending<'_> {
    /// The replay key to check-and-insert.
    pub fn key(&self) -> &str {
        self.check.key()
    }

    /// Until when the key must be remembered (inclusive).
    pub fn expires_at(&self) -> i64 {
        self.check.expires_at()
    }

    /// Step 3 with the store's answer: `Ok(true)` for a first use.
    ///
    /// # Errors
    /// A [`Rejection`]: 401 `invalid_dpop_proof` for `Ok(false)` (`ERR_DPOP_REPLAY`);
    /// for the store's error, 503 with no OAuth error for
    /// `ERR_DPOP_REPLAY_CACHE_FULL` and `ERR_DPOP_REPLAY_STORE_UNAVAILABLE`, the
    /// [module docs](self)' answer for any other.
    pub fn complete(self, first_use: Result<bool, Error>) -> Result<Authorized, Rejection> {
        match self.check.complete(first_use) {
            Ok(_) => Ok(self.authorized),
            Err(e) => Err(self.guard.reject(e, Target::Proof)),
        }
    }
}
