//! JSON Web Keys ([RFC 7517]) and JWK Sets: public EC P-256 / P-384 and RSA keys for
//! signature verification, with [RFC 7638] thumbprints.
//!
//! [`Jwk::from_json`] parses one key strictly: every refusal has its own code, checked
//! in this order:
//!
//! | check | code |
//! | --- | --- |
//! | a JSON object with a string `kty` | `ERR_JWK_MALFORMED` |
//! | no private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) | `ERR_JWK_PRIVATE_KEY` |
//! | `kty` is `EC` or `RSA` | `ERR_JWK_KTY_UNSUPPORTED` |
//! | `use`, if present, is `sig` | `ERR_JWK_USE_MISMATCH` |
//! | `key_ops`, if present, holds `verify` | `ERR_JWK_KEY_OPS_MISMATCH` |
//! | `alg`, if present, is a signature algorithm this key type can verify | `ERR_JWK_ALG_MISMATCH` |
//! | EC: `crv` is `P-256` (or `P-384` with the `p384` feature) | `ERR_JWK_CRV_UNSUPPORTED` |
//! | EC: `x` and `y` are exactly 32 (48) bytes | `ERR_JWK_COORDINATE_LENGTH` |
//! | EC: the point is on the curve | `ERR_JWK_POINT_INVALID` |
//! | RSA: `n` has 2048 to 8192 bits | `ERR_JWK_RSA_TOO_SHORT`, `ERR_JWK_RSA_TOO_LONG` |
//! | RSA: `e` is odd, at least 3, below 2^33 | `ERR_JWK_RSA_EXPONENT_INVALID` |
//!
//! Members must have the JSON types RFC 7517/7518 give them, base64url members are
//! strict ([`crate::base64url`]), and RSA `n`/`e` must use the minimum number of octets
//! (RFC 7518 section 6.3.1): otherwise `ERR_JWK_MALFORMED`.
//!
//! [`JwkSet::from_json`] is what a relying party points at an issuer's `jwks_uri`. Real
//! key sets mix encryption keys, other curves and key types with the signing keys, and
//! RFC 7517 section 5 says to ignore keys one does not understand, so a set keeps the
//! keys it can verify with and lists the others in [`JwkSet::skipped`] with the reason.
//! Two things refuse the whole set: a private key (`ERR_JWK_PRIVATE_KEY`: the publisher
//! has leaked a secret, and nothing it signs can be trusted) and more than
//! [`MAX_KEYS`] keys (`ERR_JWKS_TOO_MANY_KEYS`).
//!
//! [RFC 7517]: https://www.rfc-editor.org/rfc/rfc7517
//! [RFC 7638]: https://www.rfc-editor.org/rfc/rfc7638

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::base64url;
use crate::error::Error;
use crate::jws::Algorithm;

/// The most keys a [`JwkSet`] holds (counting skipped ones).
pub const MAX_KEYS: usize = 64;
/// The longest JWK or JWK Set JSON text accepted, in bytes.
pub const MAX_JSON_LEN: usize = 256 * 1024;
/// Smallest RSA modulus accepted, in bits.
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (bounds the cost of one verification).
pub const RSA_MAX_BITS: usize = 8192;

/// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a JWK or JWK Set was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwkError {
    /// Not a JSON object, a member of the wrong type, bad base64url, non-minimal RSA
    /// integers. The text says which.
    Malformed(&'static str),
    /// A private member where a public key is asked for.
    PrivateKey,
    /// `kty` is not `EC` or `RSA`.
    KtyUnsupported,
    /// `crv` is not a supported curve.
    CrvUnsupported,
    /// An EC coordinate of the wrong length for its curve.
    CoordinateLength,
    /// The EC point is not on the curve.
    PointInvalid,
    /// The RSA modulus is shorter than [`RSA_MIN_BITS`].
    RsaTooShort,
    /// The RSA modulus is longer than [`RSA_MAX_BITS`].
    RsaTooLong,
    /// The RSA public exponent is even, below 3 or at least 2^33.
    RsaExponentInvalid,
    /// `use` is present and is not `sig`.
    UseMismatch,
    /// `key_ops` is present and does not allow `verify`.
    KeyOpsMismatch,
    /// `alg` is not a signature algorithm this key can verify.
    AlgMismatch,
    /// A JWK Set that is not an object with a `keys` array.
    SetMalformed,
    /// A JWK Set with more than [`MAX_KEYS`] keys.
    SetTooManyKeys,
}

impl JwkError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "ERR_JWK_MALFORMED",
            Self::PrivateKey => "ERR_JWK_PRIVATE_KEY",
            Self::KtyUnsupported => "ERR_JWK_KTY_UNSUPPORTED",
            Self::CrvUnsupported => "ERR_JWK_CRV_UNSUPPORTED",
            Self::CoordinateLength => "ERR_JWK_COORDINATE_LENGTH",
            Self::PointInvalid => "ERR_JWK_POINT_INVALID",
            Self::RsaTooShort => "ERR_JWK_RSA_TOO_SHORT",
            Self::RsaTooLong => "ERR_JWK_RSA_TOO_LONG",
            Self::RsaExponentInvalid => "ERR_JWK_RSA_EXPONENT_INVALID",
            Self::UseMismatch => "ERR_JWK_USE_MISMATCH",
            Self::KeyOpsMismatch => "ERR_JWK_KEY_OPS_MISMATCH",
            Self::AlgMismatch => "ERR_JWK_ALG_MISMATCH",
            Self::SetMalformed => "ERR_JWKS_MALFORMED",
            Self::SetTooManyKeys => "ERR_JWKS_TOO_MANY_KEYS",
        }
    }
}

impl fmt::Display for JwkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed JWK: {what}"),
            Self::PrivateKey => {
                f.write_str("JWK holds private key material where a public key is expected")
            }
            Self::KtyUnsupported => f.write_str("JWK kty is not EC or RSA"),
            Self::CrvUnsupported => f.write_str("JWK crv is not a supported curve"),
            Self::CoordinateLength => {
                f.write_str("JWK EC coordinate has the wrong length for its curve")
            }
            Self::PointInvalid => f.write_str("JWK EC point is not on the curve"),
            Self::RsaTooShort => write!(f, "JWK RSA modulus is shorter than {RSA_MIN_BITS} bits"),
            Self::RsaTooLong => write!(f, "JWK RSA modulus is longer than {RSA_MAX_BITS} bits"),
            Self::RsaExponentInvalid => {
                f.write_str("JWK RSA exponent must be odd, at least 3 and below 2^33")
            }
            Self::UseMismatch => f.write_str("JWK use is not \"sig\""),
            Self::KeyOpsMismatch => f.write_str("JWK key_ops does not include \"verify\""),
            Self::AlgMismatch => {
                f.write_str("JWK alg is not a signature algorithm for this key type")
            }
            Self::SetMalformed => f.write_str("JWK Set is not a JSON object with a \"keys\" array"),
            Self::SetTooManyKeys => write!(f, "JWK Set has more than {MAX_KEYS} keys"),
        }
    }
}

impl core::error::Error for JwkError {}

/// An elliptic curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256 (`P-256`), for ES256.
    P256,
    /// NIST P-384 (`P-384`), for ES384.
    P384,
}

impl Curve {
    /// The JWK `crv` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }

    /// The length of one coordinate (and of `r` and `s` in a signature), in bytes.
    pub fn coordinate_len(&self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }
}

/// A validated EC public key.
#[derive(Clone, PartialEq, Eq)]
pub struct EcKey {
    curve: Curve,
    /// SEC1 uncompressed point: `04 || x || y`.
    sec1: Vec<u8>,
    inner: EcInner,
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum EcInner {
    P256(p256::ecdsa::VerifyingKey),
    #[cfg(feature = "p384")]
    P384(p384::ecdsa::VerifyingKey),
}

impl EcKey {
    /// Builds a key from its big-endian affine coordinates.
    ///
    /// # Errors
    /// `ERR_JWK_COORDINATE_LENGTH`, `ERR_JWK_POINT_INVALID`, and
    /// `ERR_JWK_CRV_UNSUPPORTED` for P-384 without the `p384` feature.
    pub fn from_coordinates(curve: Curve, x: &[u8], y: &[u8]) -> Result<Self, JwkError> {
        if x.len() != curve.coordinate_len() || y.len() != curve.coordinate_len() {
            return Err(JwkError::CoordinateLength);
        }
        let mut sec1 = Vec::with_capacity(1 + 2 * x.len());
        sec1.push(0x04);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        let inner = match curve {
            Curve::P256 => EcInner::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map_err(|_| JwkError::PointInvalid)?,
            ),
            #[cfg(feature = "p384")]
            Curve::P384 => EcInner::P384(
                p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map_err(|_| JwkError::PointInvalid)?,
            ),
            #[cfg(not(feature = "p384"))]
            Curve::P384 => return Err(JwkError::CrvUnsupported),
        };
        Ok(Self { curve, sec1, inner })
    }

    /// Builds a key from a P-256 verifying key.
    pub fn from_p256(key: &p256::ecdsa::VerifyingKey) -> Self {
        let point = key.to_sec1_point(false);
        Self {
            curve: Curve::P256,
            sec1: point.as_bytes().into(),
            inner: EcInner::P256(*key),
        }
    }

    /// Builds a key from a P-384 verifying key.
    #[cfg(feature = "p384")]
    pub fn from_p384(key: &p384::ecdsa::VerifyingKey) -> Self {
        let point = key.to_sec1_point(false);
        Self {
            curve: Curve::P384,
            sec1: point.as_bytes().into(),
            inner: EcInner::P384(*key),
        }
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The SEC1 uncompressed encoding `04 || x || y`.
    pub fn sec1_uncompressed(&self) -> &[u8] {
        &self.sec1
    }

    /// The x coordinate (big-endian, fixed length).
    pub fn x(&self) -> &[u8] {
        let n = self.curve.coordinate_len();
        self.sec1.get(1..1 + n).unwrap_or_default()
    }

    /// The y coordinate (big-endian, fixed length).
    pub fn y(&self) -> &[u8] {
        let n = self.curve.coordinate_len();
        self.sec1.get(1 + n..).unwrap_or_default()
    }

    pub(crate) fn inner(&self) -> &EcInner {
        &self.inner
    }
}

/// A validated RSA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
    #[cfg(feature = "rsa")]
    inner: rsa::RsaPublicKey,
}

impl RsaKey {
    /// Builds a key from the big-endian modulus and exponent (minimal encodings).
    ///
    /// # Errors
    /// `ERR_JWK_MALFORMED` for leading zero octets or an even modulus,
    /// `ERR_JWK_RSA_TOO_SHORT`, `ERR_JWK_RSA_TOO_LONG`, `ERR_JWK_RSA_EXPONENT_INVALID`.
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, JwkError> {
        let (Some(&n_first), Some(&e_first)) = (n.first(), e.first()) else {
            return Err(JwkError::Malformed("RSA n and e must not be empty"));
        };
        if n_first == 0 || e_first == 0 {
            return Err(JwkError::Malformed(
                "RSA n and e must use the minimum number of octets",
            ));
        }
        let bits = n.len() * 8 - n_first.leading_zeros() as usize;
        if bits < RSA_MIN_BITS {
            return Err(JwkError::RsaTooShort);
        }
        if bits > RSA_MAX_BITS {
            return Err(JwkError::RsaTooLong);
        }
        if n.last().is_some_and(|b| b & 1 == 0) {
            return Err(JwkError::Malformed("RSA modulus is even"));
        }
        // e in [3, 2^33): at most 5 octets, odd. This is ring's rule, and WebCrypto hosts
        // accept every such exponent.
        let e_value = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        if e.len() > 5 || !(3..1 << 33).contains(&e_value) || e_value & 1 == 0 {
            return Err(JwkError::RsaExponentInvalid);
        }
        Ok(Self {
            n: n.into(),
            e: e.into(),
            #[cfg(feature = "rsa")]
            inner: {
                let n_int = rsa::BoxedUint::from_be_slice_vartime(n);
                let e_int = rsa::BoxedUint::from_be_slice_vartime(e);
                rsa::RsaPublicKey::new_with_size_limits(n_int, e_int, RSA_MIN_BITS..=RSA_MAX_BITS)
                    .map_err(|_| JwkError::Malformed("RSA key refused by the rsa crate"))?
            },
        })
    }

    /// The modulus, big-endian, minimal.
    pub fn n(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian, minimal.
    pub fn e(&self) -> &[u8] {
        &self.e
    }

    /// The modulus length in bytes (= the signature length).
    pub fn modulus_len(&self) -> usize {
        self.n.len()
    }

    #[cfg(feature = "rsa")]
    pub(crate) fn inner(&self) -> &rsa::RsaPublicKey {
        &self.inner
    }
}

/// The key material of a [`Jwk`].
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An EC key (`kty` = `EC`).
    Ec(EcKey),
    /// An RSA key (`kty` = `RSA`).
    Rsa(RsaKey),
}

impl PublicKey {
    /// Whether this key's type and size fit `alg` (a P-256 key verifies only ES256, a
    /// P-384 key only ES384, an RSA key only RS* and PS*).
    pub fn fits(&self, alg: Algorithm) -> bool {
        match self {
            Self::Ec(k) => alg.curve() == Some(k.curve),
            Self::Rsa(_) => alg.is_rsa(),
        }
    }

    /// RFC 7638 thumbprint input: the required members in lexicographic order.
    fn thumbprint_json(&self) -> String {
        match self {
            Self::Ec(k) => alloc::format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                k.curve.name(),
                base64url::encode(k.x()),
                base64url::encode(k.y())
            ),
            Self::Rsa(k) => alloc::format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                base64url::encode(&k.e),
                base64url::encode(&k.n)
            ),
        }
    }

    /// The RFC 7638 SHA-256 thumbprint, base64url-encoded (what DPoP's `jkt` holds).
    pub fn thumbprint(&self) -> String {
        base64url::encode(&Sha256::digest(self.thumbprint_json().as_bytes()))
    }

    /// The public JWK members (`kty`, `crv`/`x`/`y` or `n`/`e`) as a JSON object.
    pub fn to_jwk_members(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            Self::Ec(k) => {
                m.insert("kty".into(), "EC".into());
                m.insert("crv".into(), k.curve.name().into());
                m.insert("x".into(), base64url::encode(k.x()).into());
                m.insert("y".into(), base64url::encode(k.y()).into());
            }
            Self::Rsa(k) => {
                m.insert("kty".into(), "RSA".into());
                m.insert("n".into(), base64url::encode(&k.n).into());
                m.insert("e".into(), base64url::encode(&k.e).into());
            }
        }
        m
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ec(k) => write!(f, "EcKey({}, {})", k.curve.name(), self.thumbprint()),
            Self::Rsa(k) => write!(f, "RsaKey({} bits, {})", k.n.len() * 8, self.thumbprint()),
        }
    }
}

/// A public JWK usable for signature verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<Algorithm>,
    key: PublicKey,
}

impl Jwk {
    /// Wraps key material with an optional `kid` and `alg`.
    ///
    /// # Errors
    /// `ERR_JWK_ALG_MISMATCH` when `alg` does not fit the key.
    pub fn new(key: PublicKey, kid: Option<String>, alg: Option<Algorithm>) -> Result<Self, Error> {
        if alg.is_some_and(|a| !key.fits(a)) {
            return Err(JwkError::AlgMismatch.into());
        }
        Ok(Self { kid, alg, key })
    }

    /// Parses one public JWK from JSON text. See the [module docs](self) for every check.
    ///
    /// # Errors
    /// The `ERR_JWK_*` codes of the module docs; `ERR_INPUT_TOO_LARGE` beyond
    /// [`MAX_JSON_LEN`].
    pub fn from_json(json: &str) -> Result<Self, Error> {
        Self::from_value(&parse_json(json)?)
    }

    /// Parses one public JWK from a JSON value. See the [module docs](self).
    ///
    /// # Errors
    /// The `ERR_JWK_*` codes of the module docs.
    pub fn from_value(value: &Value) -> Result<Self, Error> {
        let obj = value
            .as_object()
            .ok_or(JwkError::Malformed("not a JSON object"))?;
        Self::from_map(obj)
    }

    /// Parses one public JWK from a JSON object. See the [module docs](self).
    ///
    /// # Errors
    /// The `ERR_JWK_*` codes of the module docs.
    pub fn from_map(obj: &Map<String, Value>) -> Result<Self, Error> {
        let kty = obj
            .get("kty")
            .and_then(Value::as_str)
            .ok_or(JwkError::Malformed("kty must be a string"))?;
        if PRIVATE_MEMBERS.iter().any(|m| obj.contains_key(*m)) {
            return Err(JwkError::PrivateKey.into());
        }
        if kty != "EC" && kty != "RSA" {
            return Err(JwkError::KtyUnsupported.into());
        }
        if let Some(u) = obj.get("use")
            && u.as_str()
                .ok_or(JwkError::Malformed("use must be a string"))?
                != "sig"
        {
            return Err(JwkError::UseMismatch.into());
        }
        if let Some(ops) = obj.get("key_ops") {
            let ops = ops
                .as_array()
                .ok_or(JwkError::Malformed("key_ops must be an array"))?;
            let mut verify = false;
            for op in ops {
                verify |= op
                    .as_str()
                    .ok_or(JwkError::Malformed("key_ops must hold strings"))?
                    == "verify";
            }
            if !verify {
                return Err(JwkError::KeyOpsMismatch.into());
            }
        }
        let alg = match obj.get("alg") {
            None => None,
            Some(a) => {
                let a = a
                    .as_str()
                    .ok_or(JwkError::Malformed("alg must be a string"))?;
                Some(Algorithm::from_name(a).map_err(|_| JwkError::AlgMismatch)?)
            }
        };
        let kid = match obj.get("kid") {
            None => None,
            Some(k) => Some(String::from(
                k.as_str()
                    .ok_or(JwkError::Malformed("kid must be a string"))?,
            )),
        };
        let key = if kty == "EC" {
            let curve = match obj.get("crv").and_then(Value::as_str) {
                Some("P-256") => Curve::P256,
                #[cfg(feature = "p384")]
                Some("P-384") => Curve::P384,
                Some(_) => return Err(JwkError::CrvUnsupported.into()),
                None => return Err(JwkError::Malformed("crv must be a string").into()),
            };
            let x = b64_member(obj, "x")?;
            let y = b64_member(obj, "y")?;
            PublicKey::Ec(EcKey::from_coordinates(curve, &x, &y)?)
        } else {
            let n = b64_member(obj, "n")?;
            let e = b64_member(obj, "e")?;
            PublicKey::Rsa(RsaKey::from_components(&n, &e)?)
        };
        Self::new(key, kid, alg)
    }

    /// The `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `alg` the key is restricted to, if any.
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The key material.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// Whether this key may verify `alg`: the key type fits and `alg`, if the JWK
    /// names one, is the same.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.key.fits(alg) && self.alg.is_none_or(|a| a == alg)
    }

    /// The RFC 7638 SHA-256 thumbprint, base64url-encoded.
    pub fn thumbprint(&self) -> String {
        self.key.thumbprint()
    }

    /// The public JWK as a JSON object (`kty`, key members, `kid` and `alg` if set,
    /// `use: "sig"`), as a JWKS endpoint publishes it.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = self.key.to_jwk_members();
        if let Some(kid) = &self.kid {
            m.insert("kid".into(), kid.as_str().into());
        }
        if let Some(alg) = self.alg {
            m.insert("alg".into(), alg.name().into());
        }
        m.insert("use".into(), "sig".into());
        m
    }
}

/// The RFC 7638 thumbprint of a public JWK given as JSON text (checked as
/// [`Jwk::from_json`] does, so a private key is refused).
///
/// # Errors
/// As [`Jwk::from_json`].
pub fn thumbprint(json: &str) -> Result<String, Error> {
    Jwk::from_json(json).map(|k| k.thumbprint())
}

fn parse_json(json: &str) -> Result<Value, Error> {
    if json.len() > MAX_JSON_LEN {
        return Err(Error::TooLarge("JWK JSON"));
    }
    serde_json::from_str(json).map_err(|_| JwkError::Malformed("not JSON").into())
}

fn b64_member(obj: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JwkError> {
    let s = obj
        .get(name)
        .and_then(Value::as_str)
        .ok_or(JwkError::Malformed(match name {
            "x" => "x must be a base64url string",
            "y" => "y must be a base64url string",
            "n" => "n must be a base64url string",
            _ => "e must be a base64url string",
        }))?;
    base64url::decode(s.as_bytes())
        .map_err(|_| JwkError::Malformed("key member is not strict base64url"))
}

/// A key of a JWK Set that [`JwkSet`] did not keep, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// Position in the set's `keys` array.
    pub index: usize,
    /// The key's `kid`, when it had a string one.
    pub kid: Option<String>,
    /// Why it was skipped.
    pub error: Error,
}

/// A JWK Set ([RFC 7517 section 5]): the verification keys of an issuer.
///
/// [RFC 7517 section 5]: https://www.rfc-editor.org/rfc/rfc7517#section-5
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    skipped: Vec<SkippedKey>,
}

impl JwkSet {
    /// A set of the given keys.
    ///
    /// # Errors
    /// `ERR_JWKS_TOO_MANY_KEYS` beyond [`MAX_KEYS`].
    pub fn new(keys: Vec<Jwk>) -> Result<Self, Error> {
        if keys.len() > MAX_KEYS {
            return Err(JwkError::SetTooManyKeys.into());
        }
        Ok(Self {
            keys,
            skipped: Vec::new(),
        })
    }

    /// Parses a JWK Set from JSON text. Keys that cannot verify are skipped (see the
    /// [module docs](self)).
    ///
    /// # Errors
    /// `ERR_JWKS_MALFORMED`, `ERR_JWKS_TOO_MANY_KEYS`, `ERR_JWK_PRIVATE_KEY` (any key),
    /// `ERR_INPUT_TOO_LARGE` beyond [`MAX_JSON_LEN`].
    pub fn from_json(json: &str) -> Result<Self, Error> {
        if json.len() > MAX_JSON_LEN {
            return Err(Error::TooLarge("JWK Set JSON"));
        }
        let value: Value = serde_json::from_str(json).map_err(|_| JwkError::SetMalformed)?;
        Self::from_value(&value)
    }

    /// Parses a JWK Set from a JSON value. See [`JwkSet::from_json`].
    ///
    /// # Errors
    /// As [`JwkSet::from_json`].
    pub fn from_value(value: &Value) -> Result<Self, Error> {
        let entries = value
            .as_object()
            .and_then(|o| o.get("keys"))
            .and_then(Value::as_array)
            .ok_or(JwkError::SetMalformed)?;
        if entries.len() > MAX_KEYS {
            return Err(JwkError::SetTooManyKeys.into());
        }
        let mut set = Self::default();
        for (index, entry) in entries.iter().enumerate() {
            match Jwk::from_value(entry) {
                Ok(k) => set.keys.push(k),
                Err(e @ Error::Jwk(JwkError::PrivateKey)) => return Err(e),
                Err(error) => set.skipped.push(SkippedKey {
                    index,
                    kid: entry.get("kid").and_then(Value::as_str).map(String::from),
                    error,
                }),
            }
        }
        Ok(set)
    }

    /// The usable keys, in the set's order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The keys that were skipped, and why.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// The usable keys whose `kid` is `kid`.
    pub fn find<'a>(&'a self, kid: &'a str) -> impl Iterator<Item = &'a Jwk> + 'a {
        self.keys.iter().filter(move |k| k.kid() == Some(kid))
    }

    /// The set as JWKS JSON (`{"keys":[...]}`), usable keys only.
    pub fn to_json(&self) -> Value {
        let keys = self
            .keys
            .iter()
            .map(|k| Value::Object(k.to_json()))
            .collect();
        let mut m = Map::new();
        m.insert("keys".into(), Value::Array(keys));
        Value::Object(m)
    }
}
