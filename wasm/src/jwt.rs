//! `verifyJwt`: the core's JWT verification, split so the host can do the math.
//!
//! 1. [`WasmValidation::parse`] reads the options once (the glue caches it per options
//!    text), building the core's `Validation`.
//! 2. [`jwt_begin`] parses the token, applies the header policy (allow-list, `typ`),
//!    selects the candidate keys and shape-checks the signature: a [`JwtStep`].
//! 3. The host verifies ([`JwtStep::packed`] holds everything it needs), or
//!    [`JwtStep::verify_builtin`] does it in Rust.
//! 4. [`JwtStep::finish`] turns the host's answer into the core's result and, only when
//!    the signature verified, checks the claims; it returns
//!    `{"header":{...},"claims":{...}}` as JSON text, made from the verified bytes
//!    (nothing is re-serialized), for one `JSON.parse` in JS.

use alloc::string::String;
use alloc::vec::Vec;

use smartgate_core::jwk::JwkSet;
use smartgate_core::jws::{Algorithm, Jws};
use smartgate_core::jwt::Validation;
use smartgate_core::{Error, base64url};
use wasm_bindgen::prelude::*;

use crate::args::{MAX_SAFE_INTEGER, Options};
use crate::error::{BindError, Result};
use crate::keys::WasmJwkSet;
use crate::sigjob::SigJob;

/// Every member `verifyJwt`'s options may have.
pub const JWT_OPTIONS: &[&str] = &[
    "issuer",
    "audience",
    "algorithms",
    "clockTolerance",
    "maxTokenAge",
    "typ",
    "requiredClaims",
    "now",
    "crypto",
];

/// The values `crypto` may take.
pub const CRYPTO_MODES: &[&str] = &["webcrypto", "builtin"];

/// The validation policy of `verifyJwt`'s options, with the options the glue needs.
#[wasm_bindgen]
pub struct WasmValidation {
    pub(crate) validation: Validation,
    now: Option<i64>,
    crypto: Option<&'static str>,
}

#[wasm_bindgen]
impl WasmValidation {
    /// Reads `verifyJwt`'s options from their JSON text.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a missing `issuer` or `audience`, an unknown member,
    /// or a member of the wrong type or range.
    pub fn parse(json: Option<String>) -> core::result::Result<WasmValidation, JsValue> {
        Ok(Self::from_json(json.as_deref())?)
    }

    /// `options.now`, if given.
    #[wasm_bindgen(getter)]
    pub fn now(&self) -> Option<f64> {
        // |now| <= 2^53 - 1, checked when parsed: exact as an f64.
        self.now.map(|n| n as f64)
    }

    /// `options.crypto`, if given.
    #[wasm_bindgen(getter)]
    pub fn crypto(&self) -> Option<String> {
        self.crypto.map(String::from)
    }
}

impl WasmValidation {
    pub(crate) fn from_json(json: Option<&str>) -> Result<Self> {
        let o = Options::parse("options", json, JWT_OPTIONS)?;
        let validation = validation(&o, "issuer", "audience")?;
        Ok(Self {
            validation,
            now: o.time("now")?,
            crypto: o.one_of("crypto", CRYPTO_MODES)?,
        })
    }
}

/// The core `Validation` for options with `issuer`/`audience` (named `iss_key` and
/// `aud_key`), `algorithms`, `clockTolerance`, `maxTokenAge`, `typ` and `requiredClaims`.
pub(crate) fn validation(o: &Options, iss_key: &str, aud_key: &str) -> Result<Validation> {
    let issuers = o
        .strings(iss_key)?
        .ok_or_else(|| o.wrong(iss_key, "a string or a non-empty array of strings"))?;
    let audiences = o
        .strings(aud_key)?
        .ok_or_else(|| o.wrong(aud_key, "a string or a non-empty array of strings"))?;
    let mut v = Validation::new(issuers, audiences);
    if let Some(algs) = algorithms(o)? {
        v = v.algorithms(&algs);
    }
    if let Some(leeway) = o.seconds("clockTolerance", MAX_SAFE_INTEGER)? {
        v = v.leeway(leeway);
    }
    if let Some(max_age) = o.seconds("maxTokenAge", MAX_SAFE_INTEGER)? {
        v = v.max_age(max_age);
    }
    if let Some(typ) = o.string("typ")? {
        v = v.typ(typ);
    }
    for claim in o.string_array("requiredClaims")?.unwrap_or_default() {
        v = v.require(claim);
    }
    Ok(v)
}

/// `options.algorithms` as algorithms: a non-empty list of names this build verifies.
pub(crate) fn algorithms(o: &Options) -> Result<Option<Vec<Algorithm>>> {
    let Some(names) = o.string_array("algorithms")? else {
        return Ok(None);
    };
    if names.is_empty() {
        return Err(o.wrong("algorithms", "a non-empty array of algorithm names"));
    }
    names
        .iter()
        .map(|n| {
            Algorithm::from_name(n)
                .ok()
                .filter(|a| built_in(*a))
                .ok_or_else(|| {
                    BindError::invalid(alloc::format!(
                        "options.algorithms: {n:?} is not an algorithm this build verifies ({})",
                        supported().join(", ")
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Whether this build has `alg` (the ES256-only build has only ES256).
fn built_in(alg: Algorithm) -> bool {
    match alg {
        Algorithm::Es384 => cfg!(feature = "p384"),
        Algorithm::Es256 => true,
        _ => cfg!(feature = "rsa"),
    }
}

/// The algorithm names this build verifies.
pub fn supported() -> Vec<&'static str> {
    Algorithm::ALL
        .iter()
        .filter(|a| built_in(**a))
        .map(Algorithm::name)
        .collect()
}

/// The algorithms this build verifies (`ES256`, and with every feature `ES384`, `RS256`,
/// `RS384`, `RS512`, `PS256`, `PS384`), comma-separated.
#[wasm_bindgen(js_name = supportedAlgorithms)]
pub fn supported_algorithms() -> String {
    supported().join(",")
}

/// A JWT between parsing and its signature check.
#[wasm_bindgen]
pub struct JwtStep {
    job: SigJob,
    header_json: Vec<u8>,
    payload: Vec<u8>,
}

/// Parses `token`, applies the header policy of `validation` and selects the keys of
/// `keys` that may verify it.
///
/// # Errors
/// `ERR_INPUT_TOO_LARGE`, the `ERR_JWS_*` parsing codes, `ERR_JWS_ALG_NOT_ALLOWED`,
/// `ERR_JWT_TYP_MISMATCH`, `ERR_JWS_KEY_NOT_FOUND`, `ERR_JWS_KEY_ALG_MISMATCH`.
#[wasm_bindgen(js_name = jwtBegin)]
pub fn jwt_begin(
    token: &str,
    keys: &WasmJwkSet,
    validation: &WasmValidation,
) -> core::result::Result<JwtStep, JsValue> {
    Ok(begin(token, &keys.set, &validation.validation)?)
}

pub(crate) fn begin(token: &str, keys: &JwkSet, validation: &Validation) -> Result<JwtStep> {
    let jws = Jws::parse(token)?;
    validation.check_header(jws.header())?;
    let job = SigJob::for_set(&jws, keys)?;
    // The header part decodes (Jws::parse did it); decode it again rather than keep a
    // re-serialized copy, so the caller sees the header exactly as signed.
    let header_b64 = token.split('.').next().unwrap_or_default();
    let header_json = base64url::decode(header_b64.as_bytes()).map_err(Error::from)?;
    Ok(JwtStep {
        job,
        header_json,
        payload: jws.payload().to_vec(),
    })
}

#[wasm_bindgen]
impl JwtStep {
    /// The signature job for the host (layout in `sigjob`).
    pub fn packed(&self) -> Vec<u8> {
        self.job.packed()
    }

    /// Verifies with the built-in pure-Rust provider: the position of the candidate that
    /// verified, or -1.
    #[wasm_bindgen(js_name = verifyBuiltin)]
    pub fn verify_builtin(&self, keys: &WasmJwkSet) -> i32 {
        position(self.job.verify_builtin(keys.set.keys()))
    }

    /// Finishes: `verified` is the position of the candidate the host verified, or -1;
    /// `now` is seconds since the epoch. Returns `{"header":...,"claims":...}` as JSON.
    ///
    /// # Errors
    /// `ERR_JWS_SIGNATURE_MALFORMED`, `ERR_JWS_SIGNATURE_INVALID`, then the `ERR_JWT_*`
    /// claim codes; `ERR_INVALID_ARGUMENT` for a `now` that is not whole seconds.
    pub fn finish(
        &self,
        verified: i32,
        validation: &WasmValidation,
        now: f64,
    ) -> core::result::Result<String, JsValue> {
        Ok(self.finish_inner(verified, &validation.validation, now)?)
    }
}

impl JwtStep {
    pub(crate) fn finish_inner(
        &self,
        verified: i32,
        validation: &Validation,
        now: f64,
    ) -> Result<String> {
        let now = seconds(now)?;
        self.job.outcome(usize::try_from(verified).ok())?;
        validation.check_claims(&self.payload, now)?;
        let mut out = Vec::with_capacity(22 + self.header_json.len() + self.payload.len());
        out.extend_from_slice(b"{\"header\":");
        out.extend_from_slice(&self.header_json);
        out.extend_from_slice(b",\"claims\":");
        out.extend_from_slice(&self.payload);
        out.push(b'}');
        // Both parts parsed as JSON objects (serde_json reads UTF-8 only), so this is
        // UTF-8 JSON; the fallback is never taken.
        String::from_utf8(out)
            .map_err(|_| BindError::from(Error::from(smartgate_core::jwt::JwtError::Malformed)))
    }
}

/// `-1` for none, else the position.
pub(crate) fn position(p: Option<usize>) -> i32 {
    p.and_then(|p| i32::try_from(p).ok()).unwrap_or(-1)
}

/// A JS number of whole seconds as `i64`.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for NaN, infinities, fractions, or beyond 2^53 - 1.
pub(crate) fn seconds(now: f64) -> Result<i64> {
    if now.is_finite() && now.fract() == 0.0 && now.abs() <= MAX_SAFE_INTEGER as f64 {
        // Whole and within ±2^53: exact.
        Ok(now as i64)
    } else {
        Err(BindError::invalid(
            "now must be whole seconds since the Unix epoch",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartgate_core::jwk::Jwk;
    use smartgate_core::provider::Signer;
    use smartgate_core::provider::rustcrypto::EcdsaP256Signer;
    use smartgate_core::sign::sign_jwt;

    const ISS: &str = "https://ehr.example";
    const AUD: &str = "https://ehr.example/fhir";

    fn token(claims: serde_json::Value) -> (String, JwkSet) {
        let signer = EcdsaP256Signer::from_bytes(&[7u8; 32]).unwrap();
        let keys = JwkSet::new(alloc::vec![
            Jwk::new(signer.public_key(), Some("k1".into()), None).unwrap()
        ])
        .unwrap();
        let t = sign_jwt(
            claims.as_object().unwrap(),
            Some("at+jwt"),
            Some("k1"),
            &signer,
        )
        .unwrap();
        (t, keys)
    }

    fn options(extra: &str) -> WasmValidation {
        WasmValidation::from_json(Some(&alloc::format!(
            r#"{{"issuer":"{ISS}","audience":"{AUD}"{extra}}}"#
        )))
        .unwrap()
    }

    #[test]
    fn the_result_is_the_signed_header_and_payload() {
        let (t, keys) = token(serde_json::json!({"iss": ISS, "aud": AUD, "exp": 2000, "x": [1]}));
        let v = options(r#","typ":"at+jwt","now":1000"#);
        let step = begin(&t, &keys, &v.validation).unwrap();
        let verified = step.job.verify_builtin(keys.keys());
        let out = step
            .finish_inner(position(verified), &v.validation, 1000.0)
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["header"]["kid"], "k1");
        assert_eq!(json["header"]["typ"], "at+jwt");
        assert_eq!(json["claims"]["x"][0], 1);
        assert_eq!(v.now(), Some(1000.0));
    }

    #[test]
    fn claims_are_not_looked_at_when_the_signature_failed() {
        // Expired and wrong audience, but the host said no: the signature error wins.
        let (t, keys) = token(serde_json::json!({"iss": ISS, "aud": "other", "exp": 1}));
        let v = options("");
        let step = begin(&t, &keys, &v.validation).unwrap();
        let e = step.finish_inner(-1, &v.validation, 1000.0).unwrap_err();
        assert_eq!(e.code, "ERR_JWS_SIGNATURE_INVALID");
        let e = step.finish_inner(0, &v.validation, 1000.0).unwrap_err();
        assert_eq!(e.code, "ERR_JWT_EXPIRED");
    }

    #[test]
    fn options_are_checked() {
        for (json, needle) in [
            (r#"{"audience":"a"}"#, "options.issuer"),
            (r#"{"issuer":"a"}"#, "options.audience"),
            (
                r#"{"issuer":"a","audience":"b","algorithms":["none"]}"#,
                "algorithms",
            ),
            (
                r#"{"issuer":"a","audience":"b","algorithms":["HS256"]}"#,
                "algorithms",
            ),
            (
                r#"{"issuer":"a","audience":"b","algorithms":[]}"#,
                "algorithms",
            ),
            (
                r#"{"issuer":"a","audience":"b","clockTolerance":-1}"#,
                "clockTolerance",
            ),
            (
                r#"{"issuer":"a","audience":"b","maxTokenAge":"5m"}"#,
                "maxTokenAge",
            ),
            (
                r#"{"issuer":"a","audience":"b","crypto":"native"}"#,
                "crypto",
            ),
            (r#"{"issuer":"a","audience":"b","now":1.5}"#, "now"),
            (
                r#"{"issuer":"a","audience":"b","requiredClaims":"sub"}"#,
                "requiredClaims",
            ),
        ] {
            let e = WasmValidation::from_json(Some(json)).err().unwrap();
            assert_eq!(e.code, "ERR_INVALID_ARGUMENT", "{json}");
            assert!(e.message.contains(needle), "{json}: {}", e.message);
        }
    }

    #[test]
    fn now_must_be_whole_seconds() {
        for bad in [f64::NAN, f64::INFINITY, 1.5, 1e300] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(seconds(-3.0).unwrap(), -3);
    }
}
