//! Who is asking, and what they may see: the core's [`Guard`] over the server's
//! current JWKS, the token's record at the authorization server (revoked? whose
//! grant? which user?), and the translation of the guard's
//! [`Grant`](smartgate_core::scope::Grant)s into a [`fhir::Access`].
//!
//! One guard serves every request until the key ring changes (rotation or reset):
//! then a new one is built from the new JWKS, which still holds the previous keys, so
//! tokens signed before a rotation keep verifying. One [`MemoryReplayCache`] remembers
//! DPoP proof `jti`s for all of them.
//!
//! # Caching ([`GuardCaching`])
//! - `none`: the published JWKS document is parsed and a guard built for every
//!   request (what a resource server without a key cache does; for benchmarks).
//! - `keys`: one guard per key ring ([`Guard::check`] per request).
//! - `tokens` (the default): as `keys`, and an access token whose signature verified
//!   is remembered (by the SHA-256 of its signing input, with its signature bytes)
//!   until it expires, so the next request with the same token skips that one
//!   signature check ([`Guard::begin`] / [`Pending::finish`]). Everything else still
//!   runs on every request: the token's claims (`exp`, `iss`, `aud`, `typ`), its
//!   binding, the DPoP proof (signature, `htm`, `htu`, `iat`, `ath`, `jti` replay),
//!   the scopes, and the revocation lookup. The cache is emptied whenever the keys
//!   change, and holds at most [`TOKEN_CACHE_CAPACITY`] tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use smartgate_core::dpop::{DpopValidation, MemoryReplayCache, ReplayCache, access_token_hash};
use smartgate_core::guard::{Authorized, Checked, DpopMode, Guard, Rejection, Request};
use smartgate_core::jwk::JwkSet;
use smartgate_core::jwt::Validation;
use smartgate_core::provider::ring::Ring;
use smartgate_core::scope::{self, Context, Interaction, ResourceType};

use crate::fhir::{self, Access, Filter};
use crate::fhir_api::respond::ApiError;
use crate::fhir_api::{AuditInfo, stats};
use crate::keys::{ACCESS_TOKEN_TYP, KeyRing};
use crate::state::AppState;

/// Most verified tokens remembered at once.
pub(crate) const TOKEN_CACHE_CAPACITY: usize = 10_000;

/// Live DPoP proofs the replay cache can hold: at the 60-second proof window, about
/// 16,000 requests per second (about 100 MB when full).
pub(crate) const REPLAY_CAPACITY: usize = 1_000_000;

/// What the FHIR API's guard keeps between requests (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GuardCaching {
    /// Parse the JWKS and build a guard for every request.
    None,
    /// One guard per key ring.
    Keys,
    /// One guard per key ring, and verified tokens until they expire.
    #[default]
    Tokens,
}

impl GuardCaching {
    /// Parses `none`, `keys` or `tokens`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Self::None),
            "keys" => Some(Self::Keys),
            "tokens" => Some(Self::Tokens),
            _ => None,
        }
    }

    /// The name [`GuardCaching::parse`] reads.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Keys => "keys",
            Self::Tokens => "tokens",
        }
    }
}

/// A token whose signature verified.
#[derive(Debug)]
struct Verified {
    signature: Vec<u8>,
    /// Which of the guard's candidate keys verified it.
    index: usize,
    exp: i64,
}

/// The guard, its replay cache and its token cache.
pub(crate) struct Guards {
    caching: GuardCaching,
    current: RwLock<Option<(Arc<KeyRing>, Arc<Guard>)>>,
    tokens: Mutex<HashMap<String, Verified>>,
    replay: MemoryReplayCache,
}

impl Guards {
    pub(crate) fn new(caching: GuardCaching) -> Self {
        Self {
            caching,
            current: RwLock::new(None),
            tokens: Mutex::new(HashMap::new()),
            replay: MemoryReplayCache::with_capacity(REPLAY_CAPACITY),
        }
    }

    /// Forgets every verified token.
    pub(crate) fn forget_tokens(&self) {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// The guard for the server's current keys.
    fn guard(&self, state: &AppState) -> Result<Arc<Guard>, ApiError> {
        let ring = state.keys();
        if self.caching == GuardCaching::None {
            let keys = JwkSet::from_value(&ring.jwks().to_json())
                .map_err(|e| ApiError::internal(format!("JWKS: {}", e.code())))?;
            return Ok(Arc::new(build(state, keys)));
        }
        {
            let current = self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((r, g)) = current.as_ref()
                && Arc::ptr_eq(r, &ring)
            {
                return Ok(g.clone());
            }
        }
        let guard = Arc::new(build(state, ring.jwks().clone()));
        let mut current = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *current = Some((ring, guard.clone()));
        // The keys changed: a remembered token may have been verified by a key that
        // is gone.
        self.forget_tokens();
        Ok(guard)
    }

    /// The whole guard check, with the token cache when it is on.
    fn check(
        &self,
        guard: &Guard,
        request: &Request<'_>,
        now: i64,
        timing: &mut stats::Timing,
    ) -> Result<Authorized, Rejection> {
        if self.caching != GuardCaching::Tokens {
            return guard.check(request, &Ring, &self.replay);
        }
        let pending = guard.begin(request)?;
        let checks = pending.token_checks();
        let key = checks
            .first()
            .and_then(|c| core::str::from_utf8(c.message).ok())
            .map(access_token_hash);
        let signature = checks.first().map(|c| c.signature.to_vec());
        let remembered = match (&key, &signature) {
            (Some(k), Some(sig)) => self
                .tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(k)
                .filter(|v| v.signature == *sig && v.exp > now)
                .map(|v| v.index),
            _ => None,
        };
        timing.token_cache(remembered.is_some());
        let token = match remembered {
            Some(index) => Ok(index),
            None => first_verified(&checks),
        };
        let proof = pending.proof_check().map(|c| c.verify(&Ring));
        drop(checks);
        let verified_index = token.as_ref().ok().copied();
        let authorized = match pending.finish(token, proof)? {
            Checked::Authorized(a) => a,
            Checked::Replay(r) => {
                let first_use = self.replay.check_and_insert(r.key(), r.expires_at(), now);
                r.complete(first_use)?
            }
        };
        if remembered.is_none()
            && let (Some(key), Some(signature), Some(index), Some(exp)) =
                (key, signature, verified_index, authorized.claims.exp())
        {
            let mut tokens = self
                .tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if tokens.len() >= TOKEN_CACHE_CAPACITY {
                tokens.retain(|_, v| v.exp > now);
            }
            if tokens.len() < TOKEN_CACHE_CAPACITY {
                tokens.insert(
                    key,
                    Verified {
                        signature,
                        index,
                        exp,
                    },
                );
            }
        }
        Ok(authorized)
    }
}

/// The first of the token's signature checks that verifies, as [`Guard::check`] tries
/// them.
fn first_verified(
    checks: &[smartgate_core::dpop::SignatureCheck<'_>],
) -> Result<usize, smartgate_core::Error> {
    let mut last = smartgate_core::Error::Jws(smartgate_core::jws::JwsError::SignatureInvalid);
    for (i, check) in checks.iter().enumerate() {
        match check.verify(&Ring) {
            Ok(()) => return Ok(i),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A guard over `keys`: issuer the base URL, audience the FHIR base, the access token
/// algorithm and `typ` `at+jwt`, `jti` and `client_id` required, DPoP allowed.
fn build(state: &AppState, keys: JwkSet) -> Guard {
    let urls = state.urls();
    let validation = Validation::new([urls.issuer()], [urls.fhir.as_str()])
        .algorithms(&[state.settings.access_alg])
        .typ(ACCESS_TOKEN_TYP)
        .require("jti")
        .require("client_id");
    Guard::new(keys, validation).dpop(DpopMode::Allowed)
}

/// Whom the token speaks for, from its record at the authorization server.
#[derive(Debug, Clone, Default)]
pub(crate) struct Viewer {
    /// The user of the grant, if any.
    pub(crate) user: Option<String>,
    /// The patient a patient user is: their compartment is all they may see.
    pub(crate) patient_user: Option<String>,
    /// Issued by `client_credentials` (SMART Backend Services).
    pub(crate) backend: bool,
}

/// An authenticated caller.
pub(crate) struct Caller {
    pub(crate) authorized: Authorized,
    guard: Arc<Guard>,
    pub(crate) viewer: Viewer,
}

/// The parts of a request the guard needs.
pub(crate) struct Credentials<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) authorization: Option<String>,
    pub(crate) dpop: Option<String>,
}

/// Runs the guard (with `fhir` as the interaction to check, if any), then looks the
/// token up at the authorization server. Fills `audit` with what is known.
pub(crate) fn authenticate(
    state: &AppState,
    credentials: &Credentials<'_>,
    fhir: Option<scope::Request<'_>>,
    audit: &mut AuditInfo,
    timing: &mut stats::Timing,
) -> Result<Caller, ApiError> {
    let guards = &state.fhir.guards;
    let guard = guards.guard(state)?;
    let now = state.now();
    let mut request = Request::new(credentials.method, credentials.url, now);
    if let Some(a) = &credentials.authorization {
        request = request.authorization(a);
    }
    if let Some(d) = &credentials.dpop {
        request = request.dpop(d);
    }
    if let Some(f) = fhir {
        request = request.fhir(f);
    }
    let checked = guards.check(&guard, &request, now, timing);
    let authorized = match checked {
        Ok(a) => a,
        Err(rejection) => return Err(ApiError::rejected(&rejection)),
    };
    audit.client_id.clone_from(&authorized.client_id);
    audit.patient.clone_from(&authorized.patient);
    audit.jti = authorized.claims.jti().map(String::from);
    let viewer =
        viewer(state, &authorized).map_err(|why| ApiError::invalid_token(&authorized, why))?;
    audit.user.clone_from(&viewer.user);
    Ok(Caller {
        authorized,
        guard,
        viewer,
    })
}

/// The token's record: issued here, not revoked, its grant alive; the user behind it.
fn viewer(state: &AppState, authorized: &Authorized) -> Result<Viewer, &'static str> {
    let jti = authorized
        .claims
        .jti()
        .ok_or("the access token has no jti")?;
    let mut store = state.store();
    if !store.access.contains_key(jti)
        && authorized
            .claims
            .get("minted")
            .and_then(serde_json::Value::as_str)
            == Some(crate::mint::OFFLINE)
    {
        crate::mint::adopt(&mut store, authorized, jti, state.now())?;
    }
    let record = store
        .access
        .get(jti)
        .ok_or("the access token is not known here (issued before a reset?)")?;
    if record.revoked {
        return Err("the access token was revoked");
    }
    if authorized.client_id.as_deref() != Some(record.client_id.as_str()) {
        return Err("the access token's client_id is not the one it was issued to");
    }
    let Some(grant_id) = &record.grant else {
        return Ok(Viewer {
            backend: true,
            ..Viewer::default()
        });
    };
    let grant = store
        .grants
        .get(grant_id)
        .filter(|g| g.revoked.is_none())
        .ok_or("the grant of the access token has ended")?;
    let patient_user = grant
        .user
        .as_deref()
        .and_then(|u| store.directory.user(u))
        .and_then(|u| u.patient_id())
        .map(String::from);
    Ok(Viewer {
        user: grant.user.clone(),
        patient_user,
        backend: false,
    })
}

impl Caller {
    /// The client the token was issued to.
    pub(crate) fn client_id(&self) -> &str {
        self.authorized.client_id.as_deref().unwrap_or_default()
    }

    /// The 403 for this caller, naming `scope` when given.
    pub(crate) fn insufficient_scope(&self, scope: Option<&str>) -> ApiError {
        ApiError::rejected(&self.guard.insufficient_scope(&self.authorized, scope))
    }

    /// Adds to `access` what the token allows for `interaction` on `resource_type`
    /// (in `context` only, when given).
    ///
    /// The guard's grant gives the alternatives; each becomes one
    /// [`Access::allow`] call: a `patient/` scope's compartment becomes
    /// [`Filter::PatientCompartment`] of the token's `patient`, a scope's query
    /// [`Filter::Param`]s. Then the server's own rules: no `Group` through `patient/`
    /// scopes, and a patient user only ever sees their own compartment (and no
    /// `Group`).
    ///
    /// # Errors
    /// The guard's 403 `insufficient_scope` when nothing is left; 403 `forbidden` when a
    /// scope's query cannot be enforced on the type (refused, never ignored).
    pub(crate) fn allow(
        &self,
        access: &mut Access,
        resource_type: &str,
        interaction: Interaction,
        context: Option<Context>,
    ) -> Result<(), ApiError> {
        let rt = ResourceType::parse(resource_type)
            .map_err(|_| ApiError::from(fhir::FhirError::UnknownType(resource_type.into())))?;
        let mut request = scope::Request::new(rt, interaction);
        if let Some(c) = context {
            request = request.in_context(c);
        }
        let grant = self
            .guard
            .authorize(&self.authorized, &request)
            .map_err(|r| ApiError::rejected(&r))?;
        let mut alternatives: Vec<Vec<Filter>> = if grant.is_unrestricted() {
            vec![Vec::new()]
        } else {
            grant
                .constraints()
                .iter()
                .filter_map(|c| {
                    let mut filters = Vec::new();
                    if c.patient_compartment().is_some() {
                        if resource_type == "Group" {
                            return None;
                        }
                        // Without a patient in context the alternative cannot hold.
                        let patient = self.authorized.patient.as_ref()?;
                        filters.push(Filter::PatientCompartment(patient.clone()));
                    }
                    for (name, value) in c.query() {
                        filters.push(Filter::Param {
                            name: (*name).to_string(),
                            value: (*value).to_string(),
                        });
                    }
                    Some(filters)
                })
                .collect()
        };
        if let Some(own) = &self.viewer.patient_user {
            if resource_type == "Group" {
                alternatives.clear();
            } else if scope::compartment::contains(rt) {
                let filter = Filter::PatientCompartment(own.clone());
                for filters in &mut alternatives {
                    if !filters.contains(&filter) {
                        filters.push(filter.clone());
                    }
                }
            }
        }
        if alternatives.is_empty() {
            return Err(self.insufficient_scope(None));
        }
        for filters in &alternatives {
            access.allow(resource_type, filters)?;
        }
        Ok(())
    }

    /// The [`Access`] of this caller to the audit trail's `AuditEvent`s
    /// ([`super::audit_events`]): the token's `user/` and `system/` grants on the type
    /// (a scope's query becomes a filter), never its `patient/` ones; a patient user's
    /// own events only.
    ///
    /// # Errors
    /// 403 `insufficient_scope` when only `patient/` scopes would allow it; 403
    /// `forbidden` when a scope's query cannot be enforced.
    pub(crate) fn audit_access(&self, interaction: Interaction) -> Result<Access, ApiError> {
        const TYPE: &str = super::audit_events::TYPE;
        let rt = ResourceType::parse(TYPE)
            .map_err(|_| ApiError::from(fhir::FhirError::UnknownType(TYPE.into())))?;
        let grant = self
            .guard
            .authorize(&self.authorized, &scope::Request::new(rt, interaction))
            .map_err(|r| ApiError::rejected(&r))?;
        let mut alternatives: Vec<Vec<Filter>> = if grant.is_unrestricted() {
            vec![Vec::new()]
        } else {
            grant
                .constraints()
                .iter()
                .filter(|c| c.patient_compartment().is_none())
                .map(|c| {
                    c.query()
                        .iter()
                        .map(|(name, value)| Filter::Param {
                            name: (*name).to_string(),
                            value: (*value).to_string(),
                        })
                        .collect()
                })
                .collect()
        };
        if let Some(own) = &self.viewer.patient_user {
            for filters in &mut alternatives {
                filters.push(Filter::Param {
                    name: "patient".into(),
                    value: own.clone(),
                });
            }
        }
        if alternatives.is_empty() {
            return Err(self.insufficient_scope(Some("user/AuditEvent.rs")));
        }
        let mut access = Access::none();
        for filters in &alternatives {
            access.allow(TYPE, filters)?;
        }
        Ok(access)
    }

    /// An [`Access`] for `interaction` on `resource_type` alone.
    ///
    /// # Errors
    /// As [`Caller::allow`].
    pub(crate) fn access(
        &self,
        resource_type: &str,
        interaction: Interaction,
    ) -> Result<Access, ApiError> {
        let mut access = Access::none();
        self.allow(&mut access, resource_type, interaction, None)?;
        Ok(access)
    }
}

/// The `WWW-Authenticate` value of an `invalid_token` refusal decided after the guard
/// (a revoked or forgotten token), in the guard's format: both challenges, the error
/// in the one of the scheme used.
pub(crate) fn invalid_token_challenge(dpop_scheme: bool, description: &str) -> String {
    let algs: Vec<&str> = DpopValidation::default()
        .allowed_algorithms()
        .iter()
        .map(|a| a.name())
        .collect();
    let error = format!("error=\"invalid_token\", error_description=\"{description}\"");
    let algs = format!("algs=\"{}\"", algs.join(" "));
    if dpop_scheme {
        format!("Bearer, DPoP {error}, {algs}")
    } else {
        format!("Bearer {error}, DPoP {algs}")
    }
}
