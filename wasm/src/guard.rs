//! `ResourceGuard`: the core's one-call resource-server check, in steps for the host's
//! crypto and an asynchronous replay store.
//!
//! `Guard::begin` borrows the request; a [`GuardStep`] keeps owned copies of the
//! request's fields and enters the core's steps again with them, carrying in the
//! signature outcomes (and the replay store's answer), so every decision stays the
//! core's and none runs twice on the host.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value, json};
use smartgate_core::Error;
use smartgate_core::dpop::{DpopValidation, RotatingNonce};
use smartgate_core::guard::{Authorized, Checked, DpopMode, Guard, Pending, Rejection, Request};
use smartgate_core::jwk::{Jwk, JwkSet};
use smartgate_core::jws::JwsError;
use smartgate_core::jwt::Claims;
use smartgate_core::provider::rustcrypto::RustCrypto;
use wasm_bindgen::prelude::*;

use crate::args::{MAX_SAFE_INTEGER, Options};
use crate::dpop::replay_answer;
use crate::error::{BindError, Result};
use crate::jwt::{CRYPTO_MODES, algorithms, seconds, validation};
use crate::keys::WasmJwkSet;
use crate::sigjob::SigJob;

/// Every member of `new ResourceGuard(options)` (`jwks` and `replayCache` are handled
/// by the glue and arrive here as `null`/absent).
const GUARD_OPTIONS: &[&str] = &[
    "jwks",
    "issuer",
    "audience",
    "algorithms",
    "typ",
    "requiredClaims",
    "maxTokenAge",
    "dpop",
    "dpopAlgorithms",
    "dpopMaxAge",
    "clockTolerance",
    "realm",
    "nonce",
    "replayCache",
    "crypto",
];

/// The core's guard and the key set it verifies with.
#[wasm_bindgen]
pub struct WasmGuard {
    guard: Guard,
    keys: JwkSet,
}

#[wasm_bindgen]
impl WasmGuard {
    /// Builds the guard from the key set and the options' JSON text.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for missing `issuer`/`audience`, unknown options, values
    /// of the wrong type or range.
    #[wasm_bindgen(constructor)]
    pub fn new(keys: &WasmJwkSet, options: &str) -> core::result::Result<WasmGuard, JsValue> {
        Ok(Self::build(keys.set.clone(), options)?)
    }

    /// Step 1 for one request (`certificate`: the TLS client certificate's SHA-256
    /// thumbprint, for RFC 8705 certificate-bound tokens).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a `now` that is not whole seconds.
    pub fn begin(
        &self,
        method: String,
        url: String,
        authorization: Option<String>,
        dpop: Option<String>,
        certificate: Option<String>,
        now: f64,
    ) -> core::result::Result<GuardStep, JsValue> {
        let step = GuardStep {
            method,
            url,
            authorization,
            dpop,
            certificate,
            now: seconds(now)?,
            token: None,
            proof: None,
            proof_jwk: None,
            rejected: None,
        };
        Ok(step.start(self))
    }

    /// The 403 `insufficient_scope` answer for an authorized request, given its claims
    /// (JSON) and `jkt` (for the scheme), with `scope` as the scope needed.
    ///
    /// # Errors
    /// `ERR_JWT_MALFORMED` for claims that are not a JSON object.
    #[wasm_bindgen(js_name = insufficientScope)]
    pub fn insufficient_scope(
        &self,
        claims: &str,
        jkt: Option<String>,
        scope: Option<String>,
    ) -> core::result::Result<String, JsValue> {
        let claims = Claims::from_json(claims.as_bytes()).map_err(BindError::from)?;
        let authorized = Authorized {
            claims,
            subject: None,
            client_id: None,
            patient: None,
            encounter: None,
            fhir_user: None,
            scope: String::new(),
            scopes: smartgate_core::scope::ScopeSet::default(),
            jkt,
        };
        Ok(
            rejection_json(&self.guard.insufficient_scope(&authorized, scope.as_deref()))
                .to_string(),
        )
    }
}

impl WasmGuard {
    pub(crate) fn build(keys: JwkSet, options: &str) -> Result<Self> {
        let o = Options::parse("options", Some(options), GUARD_OPTIONS)?;
        let v = validation(&o, "issuer", "audience")?;
        o.one_of("crypto", CRYPTO_MODES)?;
        let mode = match o.one_of("dpop", &["required", "allowed", "off"])? {
            Some("required") => DpopMode::Required,
            Some("off") => DpopMode::Off,
            _ => DpopMode::Allowed,
        };
        let mut proof = DpopValidation::new();
        if let Some(algs) = dpop_algorithms(&o)? {
            proof = proof.algorithms(&algs);
        }
        if let Some(max_age) = o.seconds("dpopMaxAge", MAX_SAFE_INTEGER)? {
            proof = proof.max_age(max_age);
        }
        let leeway = o.seconds("clockTolerance", MAX_SAFE_INTEGER)?;
        let mut guard = Guard::new(keys.clone(), v)
            .dpop(mode)
            .dpop_validation(proof);
        if let Some(leeway) = leeway {
            guard = guard.leeway(leeway);
        }
        if let Some(realm) = o.string("realm")? {
            guard = guard.realm(realm);
        }
        if let Some(nonce) = o.object("nonce")? {
            guard = guard.nonce(rotating_nonce(nonce)?);
        }
        Ok(Self { guard, keys })
    }
}

/// `dpopAlgorithms`, read as `algorithms` is.
fn dpop_algorithms(o: &Options) -> Result<Option<Vec<smartgate_core::jws::Algorithm>>> {
    let Some(raw) = o.raw("dpopAlgorithms") else {
        return Ok(None);
    };
    let mut m = Map::new();
    m.insert("algorithms".into(), raw.clone());
    let inner = Options::parse(
        "options.dpop",
        Some(&Value::Object(m).to_string()),
        &["algorithms"],
    )?;
    algorithms(&inner)
}

/// `nonce: { secret, period }`: the core's `RotatingNonce` (stateless; every instance
/// with the same secret accepts the same nonces).
fn rotating_nonce(nonce: &Map<String, Value>) -> Result<RotatingNonce> {
    let bad = || {
        BindError::invalid(
            "options.nonce must be { secret: 32 bytes as base64url, period: seconds >= 1 }",
        )
    };
    if nonce.keys().any(|k| k != "secret" && k != "period") {
        return Err(bad());
    }
    let mut secret = [0u8; 32];
    let text = nonce
        .get("secret")
        .and_then(Value::as_str)
        .ok_or_else(bad)?;
    smartgate_core::base64url::decode_exact(text.as_bytes(), &mut secret).map_err(|_| bad())?;
    let period = nonce
        .get("period")
        .and_then(Value::as_u64)
        .ok_or_else(bad)?;
    RotatingNonce::new(secret, period).map_err(|_| bad())
}

/// One request between the guard's steps.
#[wasm_bindgen]
pub struct GuardStep {
    method: String,
    url: String,
    authorization: Option<String>,
    dpop: Option<String>,
    certificate: Option<String>,
    now: i64,
    token: Option<SigJob>,
    proof: Option<SigJob>,
    proof_jwk: Option<String>,
    rejected: Option<String>,
}

impl GuardStep {
    fn request(&self) -> Request<'_> {
        let mut r = Request::new(&self.method, &self.url, self.now);
        if let Some(a) = &self.authorization {
            r = r.authorization(a);
        }
        if let Some(d) = &self.dpop {
            r = r.dpop(d);
        }
        if let Some(c) = &self.certificate {
            r = r.client_certificate_thumbprint(c);
        }
        r
    }

    fn start(mut self, guard: &WasmGuard) -> Self {
        let outcome = match guard.guard.begin(&self.request()) {
            Err(rejection) => Err(rejection_json(&rejection).to_string()),
            Ok(pending) => Ok(jobs(&pending, &guard.keys)),
        };
        match outcome {
            Err(rejected) => self.rejected = Some(rejected),
            Ok((token, proof)) => {
                self.token = Some(token);
                if let Some((job, jwk)) = proof {
                    self.proof = Some(job);
                    self.proof_jwk = Some(jwk);
                }
            }
        }
        self
    }

    /// Steps 1 and 2 again with the host's answers: the core's `Checked`, or its
    /// rejection as JSON.
    fn checked<'g>(
        &self,
        guard: &'g WasmGuard,
        token: i32,
        proof: i32,
    ) -> core::result::Result<Checked<'g>, String> {
        let pending = guard
            .guard
            .begin(&self.request())
            .map_err(|r| rejection_json(&r).to_string())?;
        let token = usize::try_from(token).map_err(|_| Error::from(JwsError::SignatureInvalid));
        let proof = match proof {
            1 => Some(Ok(())),
            0 => Some(Err(JwsError::SignatureInvalid.into())),
            _ => None,
        };
        pending
            .finish(token, proof)
            .map_err(|r| rejection_json(&r).to_string())
    }
}

/// The signature jobs of a pending request: the token's (candidate indexes into the
/// guard's key set) and the proof's, with the proof key's public JWK.
fn jobs(pending: &Pending<'_, '_>, keys: &JwkSet) -> (SigJob, Option<(SigJob, String)>) {
    let checks = pending.token_checks();
    let indexes: Vec<usize> = checks.iter().map(|c| index_of(keys, c.key)).collect();
    let token = match checks.first() {
        Some(c) => SigJob::for_indexes(c.alg, &indexes, c.message, c.signature),
        None => SigJob::for_indexes(smartgate_core::jws::Algorithm::Es256, &[], &[], &[]),
    };
    let proof = pending.proof_check().map(|c| {
        (
            SigJob::for_key(c.alg, c.key, c.message, c.signature),
            Value::Object(c.key.key().to_jwk_members()).to_string(),
        )
    });
    (token, proof)
}

fn index_of(keys: &JwkSet, key: &Jwk) -> usize {
    keys.keys()
        .iter()
        .position(|k| k == key)
        .unwrap_or(usize::MAX)
}

#[wasm_bindgen]
impl GuardStep {
    /// The rejection decided in step 1 (JSON), if any.
    #[wasm_bindgen(getter)]
    pub fn rejected(&self) -> Option<String> {
        self.rejected.clone()
    }

    /// The access token's signature job.
    #[wasm_bindgen(js_name = tokenJob)]
    pub fn token_job(&self) -> Vec<u8> {
        self.token.as_ref().map(SigJob::packed).unwrap_or_default()
    }

    /// The DPoP proof's signature job (empty without a proof).
    #[wasm_bindgen(js_name = proofJob)]
    pub fn proof_job(&self) -> Vec<u8> {
        self.proof.as_ref().map(SigJob::packed).unwrap_or_default()
    }

    /// The proof key's public JWK (JSON), for the host's import.
    #[wasm_bindgen(js_name = proofJwk)]
    pub fn proof_jwk(&self) -> Option<String> {
        self.proof_jwk.clone()
    }

    /// The seconds the check runs at.
    #[wasm_bindgen(getter)]
    pub fn now(&self) -> f64 {
        // Within ±2^53: exact.
        self.now as f64
    }

    /// Verifies the token with the built-in provider: the candidate position, or -1.
    #[wasm_bindgen(js_name = verifyTokenBuiltin)]
    pub fn verify_token_builtin(&self, guard: &WasmGuard) -> i32 {
        let found = self
            .token
            .as_ref()
            .and_then(|job| job.verify_builtin(guard.keys.keys()));
        crate::jwt::position(found)
    }

    /// Verifies the proof with the built-in provider: 1, or 0 (-1 without a proof).
    #[wasm_bindgen(js_name = verifyProofBuiltin)]
    pub fn verify_proof_builtin(&self, guard: &WasmGuard) -> i32 {
        match guard.guard.begin(&self.request()) {
            Ok(pending) => match pending.proof_check() {
                Some(c) => i32::from(c.verify(&RustCrypto).is_ok()),
                None => -1,
            },
            Err(_) => 0,
        }
    }

    /// Step 2 with the host's answers (`token`: the candidate position that verified or
    /// -1; `proof`: 1 verified, 0 not, -1 no proof). JSON: a decision
    /// (`{"ok":true,...}` / `{"ok":false,...}`), or `{"replay":{"key","expiresAt"}}`
    /// when the proof's `jti` must go through the replay store first.
    pub fn finish(&self, guard: &WasmGuard, token: i32, proof: i32) -> String {
        match self.checked(guard, token, proof) {
            Err(rejection) => rejection,
            Ok(Checked::Authorized(a)) => authorized_json(&a).to_string(),
            Ok(Checked::Replay(r)) => {
                json!({ "replay": { "key": r.key(), "expiresAt": r.expires_at() } }).to_string()
            }
        }
    }

    /// Step 3 with the store's answer (`first_use`: 1 first use, 0 seen before, -2 the
    /// store is full, -1 the store failed; both refused, fail closed, with a 503).
    /// JSON: the decision.
    pub fn complete(&self, guard: &WasmGuard, token: i32, proof: i32, first_use: i32) -> String {
        match self.checked(guard, token, proof) {
            Err(rejection) => rejection,
            Ok(Checked::Authorized(a)) => authorized_json(&a).to_string(),
            Ok(Checked::Replay(r)) => match r.complete(replay_answer(first_use)) {
                Ok(a) => authorized_json(&a).to_string(),
                Err(rejection) => rejection_json(&rejection).to_string(),
            },
        }
    }
}

fn authorized_json(a: &Authorized) -> Value {
    let mut m = Map::new();
    m.insert("ok".into(), true.into());
    m.insert("claims".into(), Value::Object(a.claims.raw().clone()));
    let mut opt = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), v.as_str().into());
        }
    };
    opt("subject", &a.subject);
    opt("clientId", &a.client_id);
    opt("patient", &a.patient);
    opt("encounter", &a.encounter);
    opt("fhirUser", &a.fhir_user);
    opt("jkt", &a.jkt);
    m.insert("scope".into(), a.scope.as_str().into());
    Value::Object(m)
}

fn rejection_json(r: &Rejection) -> Value {
    let mut m = Map::new();
    m.insert("ok".into(), false.into());
    m.insert("status".into(), r.status.into());
    m.insert("error".into(), r.error.map_or(Value::Null, Value::from));
    m.insert("errorDescription".into(), r.description.as_str().into());
    m.insert("wwwAuthenticate".into(), r.www_authenticate.as_str().into());
    if let Some(nonce) = &r.dpop_nonce {
        m.insert("dpopNonce".into(), nonce.as_str().into());
    }
    m.insert("code".into(), r.code.into());
    Value::Object(m)
}
