//! JWT claims validation ([RFC 7519]) on top of [`crate::jws`].
//!
//! A [`Validation`] is built from the two things a relying party must always know —
//! who may issue the token and for whom it is meant — so that setting an audience
//! can never be forgotten. `now` (seconds since the Unix epoch) is a parameter: the
//! core never reads a clock.
//!
//! [`verify`] checks, in this order (claims are only looked at once the signature
//! verified, so a forged token learns nothing about the policy):
//!
//! | check | code |
//! | --- | --- |
//! | the JWS parses ([`Jws::parse`]) | `ERR_JWS_*`, `ERR_INPUT_TOO_LARGE` |
//! | `alg` is in the allow-list | `ERR_JWS_ALG_NOT_ALLOWED` |
//! | header `typ` matches, when one is expected | `ERR_JWT_TYP_MISMATCH` |
//! | a key may verify it, and the signature verifies | `ERR_JWS_KEY_NOT_FOUND`, `ERR_JWS_KEY_ALG_MISMATCH`, `ERR_JWS_SIGNATURE_MALFORMED`, `ERR_JWS_SIGNATURE_INVALID` |
//! | the payload is a JSON object | `ERR_JWT_MALFORMED` |
//! | registered claims have their types (`exp`/`nbf`/`iat` numbers, `iss`/`sub`/`jti` strings, `aud` a string or array of strings) | `ERR_JWT_CLAIM_INVALID` |
//! | `exp` present (unless [`Validation::exp_optional`]), and the required claims | `ERR_JWT_CLAIM_MISSING` |
//! | `now < exp + leeway` | `ERR_JWT_EXPIRED` |
//! | `nbf <= now + leeway` | `ERR_JWT_NOT_YET_VALID` |
//! | `iat <= now + leeway` | `ERR_JWT_IAT_FUTURE` |
//! | `now - iat <= max_age + leeway`, when a max age is set (`iat` then required) | `ERR_JWT_TOO_OLD` |
//! | `iss` is one of the issuers (exact string match) | `ERR_JWT_CLAIM_MISSING`, `ERR_JWT_ISSUER_MISMATCH` |
//! | `aud` holds one of the audiences (exact string match) | `ERR_JWT_CLAIM_MISSING`, `ERR_JWT_AUDIENCE_MISMATCH` |
//!
//! [RFC 7519]: https://www.rfc-editor.org/rfc/rfc7519

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::jwk::JwkSet;
use crate::jws::{Algorithm, Header, Jws, JwsError};
use crate::provider::Verifier;

/// Why a JWT's claims were refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// The payload is not a JSON object.
    Malformed,
    /// A required claim is absent (its name is given).
    ClaimMissing(String),
    /// A registered claim has the wrong JSON type (its name is given).
    ClaimInvalid(&'static str),
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IatFuture,
    /// `iat` is older than the maximum age.
    TooOld,
    /// `iss` is not one of the accepted issuers.
    IssuerMismatch,
    /// `aud` names none of the accepted audiences.
    AudienceMismatch,
    /// The header `typ` is not the expected one.
    TypMismatch,
}

impl JwtError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "ERR_JWT_MALFORMED",
            Self::ClaimMissing(_) => "ERR_JWT_CLAIM_MISSING",
            Self::ClaimInvalid(_) => "ERR_JWT_CLAIM_INVALID",
            Self::Expired => "ERR_JWT_EXPIRED",
            Self::NotYetValid => "ERR_JWT_NOT_YET_VALID",
            Self::IatFuture => "ERR_JWT_IAT_FUTURE",
            Self::TooOld => "ERR_JWT_TOO_OLD",
            Self::IssuerMismatch => "ERR_JWT_ISSUER_MISMATCH",
            Self::AudienceMismatch => "ERR_JWT_AUDIENCE_MISMATCH",
            Self::TypMismatch => "ERR_JWT_TYP_MISMATCH",
        }
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("JWT payload is not a JSON object"),
            Self::ClaimMissing(name) => write!(f, "JWT claim \"{name}\" is missing"),
            Self::ClaimInvalid(name) => write!(f, "JWT claim \"{name}\" has the wrong type"),
            Self::Expired => f.write_str("JWT has expired"),
            Self::NotYetValid => f.write_str("JWT is not yet valid (nbf)"),
            Self::IatFuture => f.write_str("JWT was issued in the future (iat)"),
            Self::TooOld => f.write_str("JWT is older than the maximum age (iat)"),
            Self::IssuerMismatch => f.write_str("JWT issuer is not accepted"),
            Self::AudienceMismatch => f.write_str("JWT audience is not accepted"),
            Self::TypMismatch => f.write_str("JWT typ header is not the expected type"),
        }
    }
}

impl core::error::Error for JwtError {}

/// What a JWT must satisfy. Built with [`Validation::new`], then adjusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    issuers: Vec<String>,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: u64,
    max_age: Option<u64>,
    typ: Option<String>,
    required: Vec<String>,
    exp_required: bool,
}

impl Validation {
    /// Accept tokens whose `iss` is one of `issuers` and whose `aud` holds one of
    /// `audiences`. Defaults: every [`Algorithm`], no leeway, no max age, no `typ`
    /// check, `exp` required.
    pub fn new<I, A>(issuers: I, audiences: A) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
        A: IntoIterator,
        A::Item: Into<String>,
    {
        Self {
            issuers: issuers.into_iter().map(Into::into).collect(),
            audiences: audiences.into_iter().map(Into::into).collect(),
            algorithms: Algorithm::ALL.to_vec(),
            leeway: 0,
            max_age: None,
            typ: None,
            required: Vec::new(),
            exp_required: true,
        }
    }

    /// Only these algorithms verify (checked before any key is used).
    #[must_use]
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// Seconds of clock skew tolerated on `exp`, `nbf`, `iat` and max age.
    #[must_use]
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Refuse tokens whose `iat` is more than `seconds` old (`iat` becomes required).
    #[must_use]
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Require the header `typ` to be this media type (for example `at+jwt`,
    /// RFC 9068), compared as [`Header::typ_is`] does.
    #[must_use]
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Require a claim to be present (any value).
    #[must_use]
    pub fn require(mut self, claim: impl Into<String>) -> Self {
        self.required.push(claim.into());
        self
    }

    /// Accept tokens without `exp` (they never expire: use with care).
    #[must_use]
    pub fn exp_optional(mut self) -> Self {
        self.exp_required = false;
        self
    }

    /// The allowed algorithms.
    pub fn allowed_algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The header checks: `alg` in the allow-list, then `typ`.
    ///
    /// # Errors
    /// `ERR_JWS_ALG_NOT_ALLOWED`, `ERR_JWT_TYP_MISMATCH`.
    pub fn check_header(&self, header: &Header) -> Result<(), Error> {
        if !self.algorithms.contains(&header.alg()) {
            return Err(JwsError::AlgNotAllowed.into());
        }
        match &self.typ {
            Some(typ) if !header.typ_is(typ) => Err(JwtError::TypMismatch.into()),
            _ => Ok(()),
        }
    }

    /// The claim checks, on a payload whose signature has been verified.
    ///
    /// # Errors
    /// The `ERR_JWT_*` codes of the [module docs](self).
    pub fn check_claims(&self, payload: &[u8], now: i64) -> Result<Claims, Error> {
        let claims = Claims::from_json(payload)?;
        for name in &self.required {
            if !claims.raw.contains_key(name.as_str()) {
                return Err(JwtError::ClaimMissing(name.clone()).into());
            }
        }
        let leeway = i64::try_from(self.leeway).unwrap_or(i64::MAX);
        match claims.exp {
            Some(exp) if now >= exp.saturating_add(leeway) => return Err(JwtError::Expired.into()),
            None if self.exp_required => return Err(JwtError::ClaimMissing("exp".into()).into()),
            _ => {}
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(JwtError::NotYetValid.into());
        }
        if claims
            .iat
            .is_some_and(|iat| iat > now.saturating_add(leeway))
        {
            return Err(JwtError::IatFuture.into());
        }
        if let Some(max_age) = self.max_age {
            let iat = claims
                .iat
                .ok_or_else(|| JwtError::ClaimMissing("iat".into()))?;
            let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
            if now.saturating_sub(iat) > max_age.saturating_add(leeway) {
                return Err(JwtError::TooOld.into());
            }
        }
        let iss = claims
            .iss
            .as_deref()
            .ok_or_else(|| JwtError::ClaimMissing("iss".into()))?;
        if !self.issuers.iter().any(|i| i == iss) {
            return Err(JwtError::IssuerMismatch.into());
        }
        if !claims.raw.contains_key("aud") {
            return Err(JwtError::ClaimMissing("aud".into()).into());
        }
        if !claims.aud.iter().any(|a| self.audiences.contains(a)) {
            return Err(JwtError::AudienceMismatch.into());
        }
        Ok(claims)
    }
}

/// The claims of a verified JWT: the registered ones typed, all of them raw.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Vec<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
    raw: Map<String, Value>,
}

impl Claims {
    /// Parses a payload and types its registered claims.
    ///
    /// # Errors
    /// `ERR_JWT_MALFORMED`, `ERR_JWT_CLAIM_INVALID`.
    pub fn from_json(payload: &[u8]) -> Result<Self, Error> {
        let raw: Map<String, Value> =
            serde_json::from_slice(payload).map_err(|_| JwtError::Malformed)?;
        let aud = match raw.get("aud") {
            None => Vec::new(),
            Some(Value::String(s)) => alloc::vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or(JwtError::ClaimInvalid("aud"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(JwtError::ClaimInvalid("aud").into()),
        };
        Ok(Self {
            iss: string_claim(&raw, "iss")?,
            sub: string_claim(&raw, "sub")?,
            aud,
            exp: date_claim(&raw, "exp")?,
            nbf: date_claim(&raw, "nbf")?,
            iat: date_claim(&raw, "iat")?,
            jti: string_claim(&raw, "jti")?,
            raw,
        })
    }

    /// `iss`.
    pub fn iss(&self) -> Option<&str> {
        self.iss.as_deref()
    }
    /// `sub`.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }
    /// `aud`, as a list (a single string becomes one entry).
    pub fn aud(&self) -> &[String] {
        &self.aud
    }
    /// `exp`, seconds since the epoch (fractions dropped).
    pub fn exp(&self) -> Option<i64> {
        self.exp
    }
    /// `nbf`, seconds since the epoch.
    pub fn nbf(&self) -> Option<i64> {
        self.nbf
    }
    /// `iat`, seconds since the epoch.
    pub fn iat(&self) -> Option<i64> {
        self.iat
    }
    /// `jti`.
    pub fn jti(&self) -> Option<&str> {
        self.jti.as_deref()
    }
    /// Any claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.raw.get(name)
    }
    /// Every claim.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }
    /// Every claim, by value.
    pub fn into_raw(self) -> Map<String, Value> {
        self.raw
    }
}

fn string_claim(raw: &Map<String, Value>, name: &'static str) -> Result<Option<String>, JwtError> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwtError::ClaimInvalid(name)),
    }
}

/// A NumericDate (RFC 7519 section 2): a JSON number of seconds, fractions dropped,
/// saturated to the `i64` range. Strings are refused.
fn date_claim(raw: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, JwtError> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(match n.as_i64() {
            Some(i) => i,
            // `as` saturates; floor keeps 1.9 at 1, -0.5 at -1.
            None => n
                .as_f64()
                .map(|f| libm_floor(f) as i64)
                .ok_or(JwtError::ClaimInvalid(name))?,
        })),
        Some(_) => Err(JwtError::ClaimInvalid(name)),
    }
}

/// `f64::floor` without std.
fn libm_floor(f: f64) -> f64 {
    let t = f as i64 as f64;
    if t > f { t - 1.0 } else { t }
}

/// A JWT whose signature and claims verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    /// The protected header.
    pub header: Header,
    /// The claims.
    pub claims: Claims,
    /// The `kid` of the key that verified it, if that key had one.
    pub kid: Option<String>,
}

/// Verifies a compact JWT: parse, header policy, key selection, signature, claims
/// (the [module docs](self) list every check and its code).
///
/// # Errors
/// Any code of the table in the [module docs](self).
pub fn verify<V: Verifier + ?Sized>(
    token: &str,
    keys: &JwkSet,
    validation: &Validation,
    verifier: &V,
    now: i64,
) -> Result<VerifiedJwt, Error> {
    let jws = Jws::parse(token)?;
    validation.check_header(jws.header())?;
    let key = jws.verify(keys, verifier)?;
    let claims = validation.check_claims(jws.payload(), now)?;
    Ok(VerifiedJwt {
        kid: key.kid().map(String::from),
        header: jws.header().clone(),
        claims,
    })
}
