//! JWS compact serialization ([RFC 7515]) with the signature algorithms of [RFC 7518]
//! that public keys verify: ES256, ES384, RS256, RS384, RS512, PS256, PS384.
//!
//! Verification is split in steps so that an asynchronous crypto provider (WebCrypto,
//! in the WASM package) can do the math between them without any parsing or policy
//! being written twice:
//!
//! 1. [`Jws::parse`]: exactly three dot-separated parts of strict base64url, a header
//!    that is a JSON object with a known `alg`, no `crit`, and size caps
//!    ([`MAX_TOKEN_LEN`], [`MAX_HEADER_LEN`]).
//! 2. [`Jws::candidates`]: the keys of a [`JwkSet`] that may verify it. With a `kid`,
//!    only keys with that `kid`; without one, every key whose type fits the algorithm
//!    (a P-256 key only ES256, a P-384 key only ES384, an RSA key only RS*/PS*), tried
//!    in the set's order.
//! 3. [`check_signature_shape`], then the provider's [`Verifier::verify`]. The shape
//!    check refuses, before any math, ECDSA signatures that are not exactly 64 (96)
//!    bytes or whose `r` or `s` is zero or not below the group order (the
//!    CVE-2022-21449 "psychic signature" class), and RSA signatures whose length is
//!    not the modulus length.
//!
//! [`Jws::verify`] runs steps 2 and 3 with a synchronous provider.
//!
//! `none` and the HMAC algorithms are recognised names that never verify
//! (`ERR_JWS_ALG_NONE`, `ERR_JWS_ALG_SYMMETRIC`): they are not [`Algorithm`]s, so no
//! allow-list can contain them.
//!
//! [RFC 7515]: https://www.rfc-editor.org/rfc/rfc7515
//! [RFC 7518]: https://www.rfc-editor.org/rfc/rfc7518

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::base64url;
use crate::error::Error;
use crate::jwk::{Curve, Jwk, JwkSet, PublicKey};
use crate::provider::Verifier;

/// The longest compact JWS accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The longest encoded protected header accepted, in bytes.
pub const MAX_HEADER_LEN: usize = 4 * 1024;

/// Why a JWS was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsError {
    /// Not three parts of strict base64url (the text says which part).
    Malformed(&'static str),
    /// The protected header is not a JSON object, or a member has the wrong type.
    HeaderInvalid(&'static str),
    /// `alg` is `none`.
    AlgNone,
    /// `alg` is an HMAC algorithm, which never verifies with a public key.
    AlgSymmetric,
    /// `alg` is not an algorithm this crate knows.
    AlgUnsupported,
    /// `alg` is not in the caller's allow-list.
    AlgNotAllowed,
    /// `crit` names an extension this crate does not implement (it implements none).
    CritUnsupported,
    /// No key of the set may verify this JWS (no key with its `kid`, or none whose
    /// type fits its `alg`).
    KeyNotFound,
    /// The key named by `kid` has a type or `alg` that does not fit the JWS `alg`.
    KeyAlgMismatch,
    /// The signature has the wrong length, or an ECDSA `r`/`s` out of range.
    SignatureMalformed,
    /// The signature does not verify. Deliberately says nothing more.
    SignatureInvalid,
}

impl JwsError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "ERR_JWS_MALFORMED",
            Self::HeaderInvalid(_) => "ERR_JWS_HEADER_INVALID",
            Self::AlgNone => "ERR_JWS_ALG_NONE",
            Self::AlgSymmetric => "ERR_JWS_ALG_SYMMETRIC",
            Self::AlgUnsupported => "ERR_JWS_ALG_UNSUPPORTED",
            Self::AlgNotAllowed => "ERR_JWS_ALG_NOT_ALLOWED",
            Self::CritUnsupported => "ERR_JWS_CRIT_UNSUPPORTED",
            Self::KeyNotFound => "ERR_JWS_KEY_NOT_FOUND",
            Self::KeyAlgMismatch => "ERR_JWS_KEY_ALG_MISMATCH",
            Self::SignatureMalformed => "ERR_JWS_SIGNATURE_MALFORMED",
            Self::SignatureInvalid => "ERR_JWS_SIGNATURE_INVALID",
        }
    }
}

impl fmt::Display for JwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed JWS: {what}"),
            Self::HeaderInvalid(what) => write!(f, "invalid JWS header: {what}"),
            Self::AlgNone => f.write_str("JWS alg \"none\" is never accepted"),
            Self::AlgSymmetric => f.write_str("JWS HMAC algorithms never verify with a public key"),
            Self::AlgUnsupported => f.write_str("JWS alg is not supported"),
            Self::AlgNotAllowed => f.write_str("JWS alg is not in the allowed algorithms"),
            Self::CritUnsupported => f.write_str("JWS crit names an unsupported extension"),
            Self::KeyNotFound => f.write_str("no key in the key set may verify this JWS"),
            Self::KeyAlgMismatch => f.write_str("the key named by kid does not fit the JWS alg"),
            Self::SignatureMalformed => {
                f.write_str("JWS signature has the wrong length or an out-of-range value")
            }
            Self::SignatureInvalid => f.write_str("JWS signature is invalid"),
        }
    }
}

impl core::error::Error for JwsError {}

/// A JWS signature algorithm that verifies with a public key.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256, 32-byte salt.
    Ps256,
    /// RSASSA-PSS with SHA-384, MGF1 with SHA-384, 48-byte salt.
    Ps384,
}

impl Algorithm {
    /// Every algorithm, in the order above.
    pub const ALL: [Self; 7] = [
        Self::Es256,
        Self::Es384,
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
    ];

    /// Parses a JWA `alg` name.
    ///
    /// # Errors
    /// `ERR_JWS_ALG_NONE` for `none`, `ERR_JWS_ALG_SYMMETRIC` for `HS256`/`HS384`/`HS512`,
    /// `ERR_JWS_ALG_UNSUPPORTED` for anything else unknown.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        Ok(match name {
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "PS256" => Self::Ps256,
            "PS384" => Self::Ps384,
            "none" => return Err(JwsError::AlgNone.into()),
            "HS256" | "HS384" | "HS512" => return Err(JwsError::AlgSymmetric.into()),
            _ => return Err(JwsError::AlgUnsupported.into()),
        })
    }

    /// The JWA name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
        }
    }

    /// The curve of an ECDSA algorithm.
    pub fn curve(&self) -> Option<Curve> {
        match self {
            Self::Es256 => Some(Curve::P256),
            Self::Es384 => Some(Curve::P384),
            _ => None,
        }
    }

    /// Whether this is an RSA algorithm (RS* or PS*).
    pub fn is_rsa(&self) -> bool {
        self.curve().is_none()
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The protected header of a JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    alg: Algorithm,
    kid: Option<String>,
    typ: Option<String>,
    raw: Map<String, Value>,
}

impl Header {
    fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let raw: Map<String, Value> = serde_json::from_slice(bytes)
            .map_err(|_| JwsError::HeaderInvalid("not a JSON object"))?;
        let alg = raw
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(JwsError::HeaderInvalid("alg must be a string"))?;
        let alg = Algorithm::from_name(alg)?;
        if let Some(crit) = raw.get("crit") {
            // RFC 7515 section 4.1.11: a non-empty array of names; we implement no
            // extension, so any well-formed crit is refused as unsupported.
            match crit.as_array() {
                Some(names) if !names.is_empty() && names.iter().all(Value::is_string) => {
                    return Err(JwsError::CritUnsupported.into());
                }
                _ => {
                    return Err(JwsError::HeaderInvalid(
                        "crit must be a non-empty array of strings",
                    )
                    .into());
                }
            }
        }
        let kid = opt_string(&raw, "kid", "kid must be a string")?;
        let typ = opt_string(&raw, "typ", "typ must be a string")?;
        Ok(Self { alg, kid, typ, raw })
    }

    /// `alg`.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// `kid`, if present.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `typ`, if present.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// Every header member, as parsed.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }

    /// Whether `typ` equals `expected` as a media type (RFC 7515 section 4.1.9):
    /// ASCII case-insensitive, with an optional `application/` prefix on either side.
    pub fn typ_is(&self, expected: &str) -> bool {
        fn strip(s: &str) -> &str {
            match s.get(..12) {
                Some(p) if p.eq_ignore_ascii_case("application/") => s.get(12..).unwrap_or(s),
                _ => s,
            }
        }
        self.typ
            .as_deref()
            .is_some_and(|t| strip(t).eq_ignore_ascii_case(strip(expected)))
    }
}

fn opt_string(
    raw: &Map<String, Value>,
    name: &str,
    err: &'static str,
) -> Result<Option<String>, Error> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwsError::HeaderInvalid(err).into()),
    }
}

/// A parsed, not yet verified, compact JWS.
#[derive(Debug, Clone)]
pub struct Jws<'t> {
    header: Header,
    signing_input: &'t str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'t> Jws<'t> {
    /// Parses a compact JWS (step 1 of the [module docs](self)).
    ///
    /// # Errors
    /// `ERR_INPUT_TOO_LARGE`, `ERR_JWS_MALFORMED`, `ERR_JWS_HEADER_INVALID`,
    /// `ERR_JWS_ALG_NONE`, `ERR_JWS_ALG_SYMMETRIC`, `ERR_JWS_ALG_UNSUPPORTED`,
    /// `ERR_JWS_CRIT_UNSUPPORTED`.
    pub fn parse(token: &'t str) -> Result<Self, Error> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::TooLarge("JWS"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed("a compact JWS has exactly three parts").into());
        };
        if h.len() > MAX_HEADER_LEN {
            return Err(Error::TooLarge("JWS header"));
        }
        let header_bytes = base64url::decode(h.as_bytes())
            .map_err(|_| JwsError::Malformed("header is not base64url"))?;
        let header = Header::from_json(&header_bytes)?;
        let payload = base64url::decode(p.as_bytes())
            .map_err(|_| JwsError::Malformed("payload is not base64url"))?;
        let signature = base64url::decode(s.as_bytes())
            .map_err(|_| JwsError::Malformed("signature is not base64url"))?;
        let signing_input = token.get(..h.len() + 1 + p.len()).unwrap_or_default();
        Ok(Self {
            header,
            signing_input,
            payload,
            signature,
        })
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The decoded payload. Unverified until [`Jws::verify`] (or the caller's own
    /// provider) has checked the signature.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes that are signed.
    pub fn signing_input(&self) -> &'t [u8] {
        self.signing_input.as_bytes()
    }

    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The keys of `keys` that may verify this JWS (step 2 of the [module docs](self)),
    /// in the set's order; never empty.
    ///
    /// # Errors
    /// `ERR_JWS_KEY_NOT_FOUND` when there is none; `ERR_JWS_KEY_ALG_MISMATCH` when keys
    /// with the header's `kid` exist but none fits its `alg`.
    pub fn candidates<'k>(&self, keys: &'k JwkSet) -> Result<Vec<&'k Jwk>, Error> {
        let alg = self.header.alg;
        let found: Vec<&'k Jwk> = match self.header.kid() {
            Some(kid) => {
                let named: Vec<&'k Jwk> = keys
                    .keys()
                    .iter()
                    .filter(|k| k.kid() == Some(kid))
                    .collect();
                if named.is_empty() {
                    return Err(JwsError::KeyNotFound.into());
                }
                let fitting: Vec<&'k Jwk> = named.into_iter().filter(|k| k.allows(alg)).collect();
                if fitting.is_empty() {
                    return Err(JwsError::KeyAlgMismatch.into());
                }
                fitting
            }
            None => keys.keys().iter().filter(|k| k.allows(alg)).collect(),
        };
        if found.is_empty() {
            Err(JwsError::KeyNotFound.into())
        } else {
            Ok(found)
        }
    }

    /// Verifies the signature with the first candidate key that accepts it, and
    /// returns that key.
    ///
    /// # Errors
    /// As [`Jws::candidates`], then `ERR_JWS_SIGNATURE_MALFORMED` or
    /// `ERR_JWS_SIGNATURE_INVALID`.
    pub fn verify<'k, V: Verifier + ?Sized>(
        &self,
        keys: &'k JwkSet,
        verifier: &V,
    ) -> Result<&'k Jwk, Error> {
        let mut last = Error::Jws(JwsError::SignatureInvalid);
        for key in self.candidates(keys)? {
            match verify_signature(
                self.header.alg,
                key,
                self.signing_input(),
                &self.signature,
                verifier,
            ) {
                Ok(()) => return Ok(key),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// Checks one signature: key/algorithm agreement, [`check_signature_shape`], then the
/// provider. This is the whole of JWS signature checking; everything that verifies a
/// signature goes through it.
///
/// # Errors
/// `ERR_JWS_KEY_ALG_MISMATCH`, `ERR_JWS_SIGNATURE_MALFORMED`, `ERR_JWS_SIGNATURE_INVALID`.
pub fn verify_signature<V: Verifier + ?Sized>(
    alg: Algorithm,
    key: &Jwk,
    message: &[u8],
    signature: &[u8],
    verifier: &V,
) -> Result<(), Error> {
    if !key.allows(alg) {
        return Err(JwsError::KeyAlgMismatch.into());
    }
    check_signature_shape(alg, key.key(), signature)?;
    verifier.verify(alg, key.key(), message, signature)
}

/// P-256 group order n, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// P-384 group order n, big-endian.
const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

/// The structural checks done before any signature math: an ECDSA signature is
/// exactly `r || s` of the curve's size with `0 < r, s < n`; an RSA signature is as
/// long as the modulus. Providers may be native code or a host's WebCrypto, and one of
/// those once accepted `r = s = 0` (CVE-2022-21449), so the core does not rely on them
/// for this.
///
/// # Errors
/// `ERR_JWS_SIGNATURE_MALFORMED`.
pub fn check_signature_shape(
    alg: Algorithm,
    key: &PublicKey,
    signature: &[u8],
) -> Result<(), Error> {
    let ok = match (alg.curve(), key) {
        (Some(curve), _) => {
            let order: &[u8] = match curve {
                Curve::P256 => &P256_ORDER,
                Curve::P384 => &P384_ORDER,
            };
            signature.len() == 2 * order.len() && {
                let (r, s) = signature.split_at(order.len());
                scalar_in_range(r, order) && scalar_in_range(s, order)
            }
        }
        (None, PublicKey::Rsa(k)) => signature.len() == k.modulus_len(),
        (None, PublicKey::Ec(_)) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(JwsError::SignatureMalformed.into())
    }
}

/// `0 < v < order`, both big-endian of equal length.
fn scalar_in_range(v: &[u8], order: &[u8]) -> bool {
    v.iter().any(|&b| b != 0) && v < order
}
