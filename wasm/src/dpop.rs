//! DPoP (RFC 9449): `verifyDpopProof` in steps, the in-process nonce check, and the
//! proofs a `DpopKey` makes.
//!
//! The core's steps ([`smartgate_core::dpop::prepare`], `finish`, `complete`) borrow the
//! proof text; a [`DpopStep`] keeps owned copies of the proof and the request and
//! enters the steps again with them, carrying the outcome of the signature check (and
//! of the replay store) in, so the host's crypto and an asynchronous `checkAndInsert`
//! run between calls and no check is made twice or skipped.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value, json};
use smartgate_core::dpop::{
    self, DpopError, DpopKey, DpopValidation, NoncePolicy, ProofRequest, UnverifiedProof,
    VerifiedProof,
};
use smartgate_core::jws::{Algorithm, JwsError};
use smartgate_core::{Error, base64url};
use wasm_bindgen::prelude::*;

use crate::args::{MAX_SAFE_INTEGER, Options};
use crate::error::{BindError, Result};
use crate::jwt::{CRYPTO_MODES, algorithms, seconds};
use crate::sigjob::SigJob;

/// Every member `verifyDpopProof`'s check object may have (`replayCache` is the
/// glue's and never reaches Rust).
const PROOF_OPTIONS: &[&str] = &[
    "method",
    "url",
    "accessToken",
    "nonce",
    "maxAge",
    "clockTolerance",
    "algorithms",
    "now",
    "crypto",
    "replayCache",
];

/// The one nonce a caller expects (`check.nonce`): accepted exactly, and the one to
/// hand out.
pub(crate) struct ExpectedNonce(pub(crate) String);

impl NoncePolicy for ExpectedNonce {
    fn accepts(&self, nonce: &str, _now: i64) -> bool {
        nonce == self.0
    }
    fn current(&self, _now: i64) -> String {
        self.0.clone()
    }
}

/// The store's answer (from the glue's `askReplay`): first use.
pub(crate) const REPLAY_FIRST_USE: i32 = 1;
/// The store's answer: seen before (a replay).
pub(crate) const REPLAY_SEEN: i32 = 0;
/// The store is full of live entries (a `MemoryReplayCache`, or any store that threw a
/// `SmartgateError` with code `ERR_DPOP_REPLAY_CACHE_FULL`).
pub(crate) const REPLAY_FULL: i32 = -2;

/// What the store said about a replay key: first use, seen before, full, or no usable
/// answer (anything else: it threw, its promise rejected, or it answered something
/// other than a boolean). The last two refuse the proof (fail closed).
pub(crate) fn replay_answer(first_use: i32) -> core::result::Result<bool, Error> {
    match first_use {
        REPLAY_FIRST_USE => Ok(true),
        REPLAY_SEEN => Ok(false),
        REPLAY_FULL => Err(DpopError::ReplayCacheFull.into()),
        _ => Err(DpopError::ReplayStoreUnavailable.into()),
    }
}

/// The proof and the request it must match, owned, so the core's steps can be entered
/// again after the host answered.
struct OwnedProof {
    proof: String,
    method: String,
    url: String,
    access_token: Option<String>,
    nonce: Option<ExpectedNonce>,
    validation: DpopValidation,
    now: i64,
}

impl OwnedProof {
    fn prepare(&self) -> Result<UnverifiedProof<'_>> {
        let mut request = ProofRequest::new(&self.method, &self.url);
        if let Some(token) = &self.access_token {
            request = request.access_token(token);
        }
        if let Some(nonce) = &self.nonce {
            request = request.nonce(nonce);
        }
        Ok(dpop::prepare(
            &self.proof,
            &request,
            &self.validation,
            self.now,
        )?)
    }
}

/// A DPoP proof between its checks.
#[wasm_bindgen]
pub struct DpopStep {
    owned: OwnedProof,
    job: SigJob,
    jwk_json: String,
}

/// Step 1 of `verifyDpopProof`: every check the bytes decide.
///
/// # Errors
/// The codes of `smartgate_core::dpop` up to the nonce; `ERR_INVALID_ARGUMENT` for the
/// check object.
#[wasm_bindgen(js_name = dpopBegin)]
pub fn dpop_begin(
    proof: &str,
    check: Option<String>,
    now: f64,
) -> core::result::Result<DpopStep, JsValue> {
    Ok(DpopStep::begin(proof, check.as_deref(), now)?)
}

impl DpopStep {
    pub(crate) fn begin(proof: &str, check: Option<&str>, now: f64) -> Result<Self> {
        let o = Options::parse("check", check, PROOF_OPTIONS)?;
        o.one_of("crypto", CRYPTO_MODES)?;
        let mut validation = DpopValidation::new();
        if let Some(algs) = algorithms(&o)? {
            validation = validation.algorithms(&algs);
        }
        if let Some(max_age) = o.seconds("maxAge", MAX_SAFE_INTEGER)? {
            validation = validation.max_age(max_age);
        }
        if let Some(leeway) = o.seconds("clockTolerance", MAX_SAFE_INTEGER)? {
            validation = validation.leeway(leeway);
        }
        let owned = OwnedProof {
            proof: proof.into(),
            method: o.required_string("method")?.into(),
            url: o.required_string("url")?.into(),
            access_token: o.string("accessToken")?.map(String::from),
            nonce: o.string("nonce")?.map(|n| ExpectedNonce(n.into())),
            validation,
            now: match o.time("now")? {
                Some(t) => t,
                None => seconds(now)?,
            },
        };
        let (job, jwk_json) = {
            let unverified = owned.prepare()?;
            let check = unverified.signature_check();
            (
                SigJob::for_key(check.alg, check.key, check.message, check.signature),
                Value::Object(check.key.key().to_jwk_members()).to_string(),
            )
        };
        Ok(Self {
            owned,
            job,
            jwk_json,
        })
    }

    /// Steps 1 and 2 again, with the host's signature answer.
    fn verified(&self, signature_ok: bool) -> Result<dpop::ReplayCheck> {
        let signature = if signature_ok {
            Ok(())
        } else {
            Err(JwsError::SignatureInvalid.into())
        };
        Ok(self.owned.prepare()?.finish(signature)?)
    }
}

#[wasm_bindgen]
impl DpopStep {
    /// The signature job (one candidate: the proof's own key).
    pub fn packed(&self) -> Vec<u8> {
        self.job.packed()
    }

    /// The proof key's public members as JSON, for the host's key import.
    #[wasm_bindgen(js_name = hostJwk)]
    pub fn host_jwk(&self) -> String {
        self.jwk_json.clone()
    }

    /// The seconds the check runs at (`check.now`, or the clock the glue passed).
    #[wasm_bindgen(getter)]
    pub fn now(&self) -> f64 {
        // Within ±2^53 (checked when parsed): exact.
        self.owned.now as f64
    }

    /// Verifies with the built-in provider.
    #[wasm_bindgen(js_name = verifyBuiltin)]
    pub fn verify_builtin(&self) -> bool {
        self.owned.prepare().is_ok_and(|u| {
            u.signature_check()
                .verify(&smartgate_core::provider::rustcrypto::RustCrypto)
                .is_ok()
        })
    }

    /// Step 2: the replay key and until when to keep it, as JSON
    /// `{"key","expiresAt"}`, once the signature verified.
    ///
    /// # Errors
    /// `ERR_JWS_SIGNATURE_INVALID` when `signature_ok` is false.
    pub fn replay(&self, signature_ok: bool) -> core::result::Result<String, JsValue> {
        let check = self.verified(signature_ok)?;
        Ok(json!({ "key": check.key(), "expiresAt": check.expires_at() }).to_string())
    }

    /// Step 3 with the store's answer (`first_use`: 1 first use, 0 seen before, -2 the
    /// store is full, -1 the store failed): the result as JSON
    /// `{jkt, jti, iat, alg, jwk, nonce?}`.
    ///
    /// # Errors
    /// `ERR_JWS_SIGNATURE_INVALID`, `ERR_DPOP_REPLAY`, `ERR_DPOP_REPLAY_CACHE_FULL`,
    /// `ERR_DPOP_REPLAY_STORE_UNAVAILABLE`.
    pub fn complete(
        &self,
        signature_ok: bool,
        first_use: i32,
    ) -> core::result::Result<String, JsValue> {
        let proof = self
            .verified(signature_ok)?
            .complete(replay_answer(first_use))
            .map_err(BindError::from)?;
        Ok(proof_json(&proof).to_string())
    }
}

fn proof_json(proof: &VerifiedProof) -> Value {
    let mut m = Map::new();
    m.insert("jkt".into(), proof.jkt().into());
    m.insert("jti".into(), proof.jti().into());
    m.insert("iat".into(), proof.iat().into());
    m.insert("alg".into(), proof.alg().name().into());
    m.insert(
        "jwk".into(),
        Value::Object(proof.jwk().key().to_jwk_members()),
    );
    if let Some(nonce) = proof.nonce() {
        m.insert("nonce".into(), nonce.into());
    }
    Value::Object(m)
}

// ---- making proofs ---------------------------------------------------------------------

/// What a `DpopKey.proof` call asks for.
const PROOF_REQUEST: &[&str] = &["method", "url", "accessToken", "nonce", "now"];

/// The unsigned half of an ES256 DPoP proof for a key held by the host (a
/// non-extractable WebCrypto key): `BASE64URL(header) "." BASE64URL(claims)` with
/// `typ` `dpop+jwt`, the public `jwk`, a fresh random `jti`, `htm`, `htu` (the URL
/// without query and fragment), `iat`, and `ath`/`nonce` when given. The host signs it
/// and [`dpop_proof_finish`] appends the signature.
///
/// The core's `dpop::proof_signing_input`, the builder `DpopKey::proof` signs with.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for a method that is not an HTTP token, a URL that is not an
/// absolute http(s) URL, or a malformed request object; `ERR_JWK_*` for the key;
/// `ERR_RNG_UNAVAILABLE`.
#[wasm_bindgen(js_name = dpopSigningInput)]
pub fn dpop_signing_input(
    public_jwk: &str,
    request: &str,
    now: f64,
) -> core::result::Result<String, JsValue> {
    Ok(signing_input(public_jwk, request, now)?)
}

fn signing_input(public_jwk: &str, request: &str, now: f64) -> Result<String> {
    let jwk = smartgate_core::jwk::Jwk::from_json(public_jwk)?;
    if !jwk.allows(Algorithm::Es256) {
        return Err(BindError::invalid("a DPoP key must be a P-256 key (ES256)"));
    }
    let o = Options::parse("request", Some(request), PROOF_REQUEST)?;
    let method = o.required_string("method")?;
    let url = o.required_string("url")?;
    let now = match o.time("now")? {
        Some(t) => t,
        None => seconds(now)?,
    };
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|_| Error::RngUnavailable)?;
    let jti = base64url::encode(&jti);
    let params = dpop::ProofParams {
        method,
        url,
        access_token: o.string("accessToken")?,
        nonce: o.string("nonce")?,
        iat: now,
        jti: &jti,
    };
    let members = jwk.key().to_jwk_members();
    dpop::proof_signing_input(&members, Algorithm::Es256, &params).map_err(|e| match e {
        Error::InvalidArgument(_) => {
            BindError::invalid("request.method is not an HTTP method token")
        }
        Error::Dpop(_) => BindError::invalid("request.url is not an absolute http(s) URL"),
        e => e.into(),
    })
}

/// `signing_input "." BASE64URL(signature)`, for a 64-byte ES256 (`r || s`) signature.
///
/// # Errors
/// `ERR_SIGNING_FAILED` for a signature of another length.
#[wasm_bindgen(js_name = dpopProofFinish)]
pub fn dpop_proof_finish(
    signing_input: &str,
    signature: &[u8],
) -> core::result::Result<String, JsValue> {
    if signature.len() != 64 {
        return Err(BindError::from(Error::SigningFailed).into());
    }
    Ok(alloc::format!(
        "{signing_input}.{}",
        base64url::encode(signature)
    ))
}

/// A DPoP key held in WebAssembly memory (`DpopKey.generate({ crypto: "builtin" })`,
/// for hosts without WebCrypto): the core's `DpopKey`.
#[wasm_bindgen]
pub struct WasmDpopKey {
    key: DpopKey,
}

#[wasm_bindgen]
impl WasmDpopKey {
    /// A fresh P-256 key from the host's random source.
    ///
    /// # Errors
    /// `ERR_RNG_UNAVAILABLE`.
    pub fn generate() -> core::result::Result<WasmDpopKey, JsValue> {
        let mut secret = [0u8; 32];
        // A uniformly random 32-byte string is a valid scalar except with probability
        // ~2^-32; try again then.
        for _ in 0..8 {
            getrandom::fill(&mut secret).map_err(|_| BindError::from(Error::RngUnavailable))?;
            if let Ok(key) = DpopKey::from_bytes(&secret) {
                secret.fill(0);
                return Ok(Self { key });
            }
        }
        Err(BindError::from(Error::RngUnavailable).into())
    }

    /// A key from a private P-256 JWK (`d` required).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for anything but a P-256 private JWK whose public half
    /// matches.
    #[wasm_bindgen(js_name = fromJwk)]
    pub fn from_jwk(jwk: &str) -> core::result::Result<WasmDpopKey, JsValue> {
        Ok(Self::from_private_jwk(jwk)?)
    }

    /// The public JWK as JSON.
    #[wasm_bindgen(js_name = publicJwk)]
    pub fn public_jwk(&self) -> String {
        Value::Object(self.key.public_jwk().clone()).to_string()
    }

    /// The RFC 7638 thumbprint.
    pub fn thumbprint(&self) -> String {
        self.key.thumbprint().into()
    }

    /// A signed proof for the request (JSON `{method, url, accessToken?, nonce?, now?}`).
    ///
    /// # Errors
    /// As [`dpop_signing_input`].
    pub fn proof(&self, request: &str, now: f64) -> core::result::Result<String, JsValue> {
        let o = Options::parse("request", Some(request), PROOF_REQUEST)?;
        let now = match o.time("now")? {
            Some(t) => t,
            None => seconds(now)?,
        };
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|_| BindError::from(Error::RngUnavailable))?;
        Ok(self
            .key
            .proof_with_jti(
                o.required_string("method")?,
                o.required_string("url")?,
                o.string("accessToken")?,
                o.string("nonce")?,
                now,
                &base64url::encode(&jti),
            )
            .map_err(BindError::from)?)
    }
}

impl WasmDpopKey {
    fn from_private_jwk(jwk: &str) -> Result<Self> {
        let bad = || {
            BindError::invalid(
                "a DPoP key JWK must be a P-256 private key (kty EC, crv P-256, x, y, d)",
            )
        };
        let value: Value = serde_json::from_str(jwk).map_err(|_| bad())?;
        let obj = value.as_object().ok_or_else(bad)?;
        if obj.get("kty").and_then(Value::as_str) != Some("EC")
            || obj.get("crv").and_then(Value::as_str) != Some("P-256")
        {
            return Err(bad());
        }
        let d = obj
            .get("d")
            .and_then(Value::as_str)
            .and_then(|d| base64url::decode(d.as_bytes()).ok())
            .filter(|d| d.len() == 32)
            .ok_or_else(bad)?;
        let key = DpopKey::from_bytes(&d).map_err(|_| bad())?;
        for member in ["x", "y"] {
            if obj.get(member) != key.public_jwk().get(member) {
                return Err(bad());
            }
        }
        Ok(Self { key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://ehr.example/fhir/Patient?_id=1";

    fn key() -> DpopKey {
        DpopKey::from_bytes(&[9u8; 32]).unwrap()
    }

    fn check(extra: &str) -> String {
        alloc::format!(r#"{{"method":"GET","url":"{URL}","now":1000{extra}}}"#)
    }

    #[test]
    fn a_core_proof_goes_through_every_step() {
        let proof = key()
            .proof_with_jti("GET", URL, Some("tok"), None, 1000, "jti-1")
            .unwrap();
        let step = DpopStep::begin(&proof, Some(&check(r#","accessToken":"tok""#)), 0.0).unwrap();
        assert!(step.verify_builtin());
        let replay: Value = serde_json::from_str(
            &step
                .verified(true)
                .map(|c| json!({"key": c.key(), "expiresAt": c.expires_at()}).to_string())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(replay["expiresAt"], 1060);
        let out: Value = serde_json::from_str(
            &step
                .verified(true)
                .unwrap()
                .complete(replay_answer(1))
                .map(|p| proof_json(&p).to_string())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(out["jkt"], key().thumbprint());
        assert_eq!(out["jti"], "jti-1");
        let e = step
            .verified(true)
            .unwrap()
            .complete(replay_answer(0))
            .unwrap_err();
        assert_eq!(e.code(), "ERR_DPOP_REPLAY");
        let e = step
            .verified(true)
            .unwrap()
            .complete(replay_answer(REPLAY_FULL))
            .unwrap_err();
        assert_eq!(e.code(), "ERR_DPOP_REPLAY_CACHE_FULL");
        for failed in [-1, 2, i32::MIN, i32::MAX] {
            let e = step
                .verified(true)
                .unwrap()
                .complete(replay_answer(failed))
                .unwrap_err();
            assert_eq!(e.code(), "ERR_DPOP_REPLAY_STORE_UNAVAILABLE");
        }
        let e = step.verified(false).err().unwrap();
        assert_eq!(e.code, "ERR_JWS_SIGNATURE_INVALID");
    }

    #[test]
    fn begin_refuses_what_the_bytes_decide() {
        let proof = key()
            .proof_with_jti("GET", URL, None, None, 1000, "j")
            .unwrap();
        let e = DpopStep::begin(&proof, Some(&check(r#","accessToken":"tok""#)), 0.0)
            .err()
            .unwrap();
        assert_eq!(e.code, "ERR_DPOP_ATH_MISSING");
        let e = DpopStep::begin(&proof, Some(&check(r#","nonce":"n1""#)), 0.0)
            .err()
            .unwrap();
        assert_eq!(e.code, "ERR_DPOP_NONCE_MISSING");
        let e = DpopStep::begin(
            &proof,
            Some(r#"{"method":"POST","url":"https://ehr.example/fhir/Patient","now":1000}"#),
            0.0,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, "ERR_DPOP_HTM_MISMATCH");
        let e = DpopStep::begin(&proof, Some(r#"{"url":"x"}"#), 0.0)
            .err()
            .unwrap();
        assert_eq!(e.code, "ERR_INVALID_ARGUMENT");
        let e = DpopStep::begin(&proof, Some(&check(r#","maxAge":"60""#)), 0.0)
            .err()
            .unwrap();
        assert_eq!(e.code, "ERR_INVALID_ARGUMENT");
        let e = DpopStep::begin(&proof, Some(&check("")), 0.0)
            .map(|s| s.owned.now)
            .unwrap();
        assert_eq!(e, 1000);
    }

    #[test]
    fn signing_input_matches_what_the_core_verifies() {
        let k = key();
        let jwk = Value::Object(k.public_jwk().clone()).to_string();
        let input = signing_input(
            &jwk,
            r#"{"method":"GET","url":"https://ehr.example/fhir/Patient?_id=1#f","accessToken":"tok","nonce":"n","now":1000}"#,
            0.0,
        )
        .unwrap();
        let (h, p) = input.split_once('.').unwrap();
        let header: Value =
            serde_json::from_slice(&base64url::decode(h.as_bytes()).unwrap()).unwrap();
        let claims: Value =
            serde_json::from_slice(&base64url::decode(p.as_bytes()).unwrap()).unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(claims["htu"], "https://ehr.example/fhir/Patient");
        assert_eq!(claims["ath"], dpop::access_token_hash("tok"));
        assert_eq!(claims["nonce"], "n");
        assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
        for bad in [
            r#"{"method":"G ET","url":"https://x/"}"#,
            r#"{"method":"GET","url":"/relative"}"#,
            r#"{"method":"GET"}"#,
        ] {
            assert_eq!(
                signing_input(&jwk, bad, 0.0).unwrap_err().code,
                "ERR_INVALID_ARGUMENT",
                "{bad}"
            );
        }
        let e = dpop_proof_finish_inner(&input, &[0u8; 63]);
        assert!(e.is_none());
    }

    fn dpop_proof_finish_inner(input: &str, sig: &[u8]) -> Option<String> {
        (sig.len() == 64).then(|| alloc::format!("{input}.{}", base64url::encode(sig)))
    }

    #[test]
    fn private_jwk_import_checks_the_public_half() {
        let k = key();
        let mut jwk = k.public_jwk().clone();
        jwk.insert("d".into(), base64url::encode(&[9u8; 32]).into());
        let ok = WasmDpopKey::from_private_jwk(&Value::Object(jwk.clone()).to_string()).unwrap();
        assert_eq!(ok.thumbprint(), k.thumbprint());
        jwk.insert("x".into(), jwk["y"].clone());
        assert!(WasmDpopKey::from_private_jwk(&Value::Object(jwk).to_string()).is_err());
        assert!(WasmDpopKey::from_private_jwk(r#"{"kty":"EC","crv":"P-384","d":"AA"}"#).is_err());
    }
}
