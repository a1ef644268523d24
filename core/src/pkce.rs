//! Proof Key for Code Exchange ([RFC 7636]).
//!
//! A client makes a [`CodeVerifier`], sends its [`challenge_s256`] with the
//! authorization request, and later proves possession with the verifier; the server
//! checks the pair with [`verify`]. Only `S256` is accepted by default: SMART App
//! Launch 2.x requires it, and `plain` gives no protection against a stolen
//! authorization request, so it is refused (`ERR_PKCE_METHOD_UNSUPPORTED`) unless the
//! caller opts in with [`PlainPolicy::Allow`].
//!
//! [RFC 7636]: https://www.rfc-editor.org/rfc/rfc7636

use alloc::string::String;
use core::fmt;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::base64url;
use crate::error::Error;

/// Shortest verifier RFC 7636 section 4.1 allows.
pub const MIN_VERIFIER_LEN: usize = 43;
/// Longest verifier RFC 7636 section 4.1 allows.
pub const MAX_VERIFIER_LEN: usize = 128;

/// Why a PKCE input was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceError {
    /// The verifier is shorter than 43 or longer than 128 characters.
    VerifierLength,
    /// The verifier holds a character outside `[A-Za-z0-9-._~]`.
    VerifierCharset,
    /// The method is neither `S256` nor `plain`.
    MethodUnknown,
    /// The method is `plain` and the caller did not allow it.
    MethodUnsupported,
    /// The verifier does not match the challenge.
    Mismatch,
}

impl PkceError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::VerifierLength => "ERR_PKCE_VERIFIER_LENGTH",
            Self::VerifierCharset => "ERR_PKCE_VERIFIER_CHARSET",
            Self::MethodUnknown => "ERR_PKCE_METHOD_UNKNOWN",
            Self::MethodUnsupported => "ERR_PKCE_METHOD_UNSUPPORTED",
            Self::Mismatch => "ERR_PKCE_MISMATCH",
        }
    }
}

impl fmt::Display for PkceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::VerifierLength => "PKCE code_verifier must be 43 to 128 characters",
            Self::VerifierCharset => "PKCE code_verifier may only hold A-Z a-z 0-9 - . _ ~",
            Self::MethodUnknown => "unknown code_challenge_method (expected S256)",
            Self::MethodUnsupported => "code_challenge_method plain is not allowed; use S256",
            Self::Mismatch => "PKCE code_verifier does not match the code_challenge",
        })
    }
}

impl core::error::Error for PkceError {}

/// A `code_challenge_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `S256`: the challenge is base64url(SHA-256(verifier)).
    S256,
    /// `plain`: the challenge is the verifier itself.
    Plain,
}

impl Method {
    /// Parses `S256` or `plain` (case-sensitive, as RFC 7636 section 4.3 defines them).
    ///
    /// # Errors
    /// `ERR_PKCE_METHOD_UNKNOWN` for anything else.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "S256" => Ok(Self::S256),
            "plain" => Ok(Self::Plain),
            _ => Err(PkceError::MethodUnknown.into()),
        }
    }

    /// The method's name on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// Whether [`verify`] accepts the `plain` method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlainPolicy {
    /// Refuse `plain` with `ERR_PKCE_METHOD_UNSUPPORTED` (the default).
    #[default]
    Refuse,
    /// Accept `plain` (only for legacy clients that cannot hash).
    Allow,
}

/// A syntactically valid `code_verifier` (RFC 7636 section 4.1).
#[derive(Clone, PartialEq, Eq)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    /// A fresh verifier of 43 characters: 32 random bytes, base64url-encoded, as
    /// RFC 7636 section 4.1 recommends.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self(base64url::encode(&bytes))
    }

    /// A fresh verifier of `len` characters (43 to 128), each from 6 random bits.
    ///
    /// # Errors
    /// `ERR_PKCE_VERIFIER_LENGTH` when `len` is outside 43..=128.
    pub fn generate_with_len<R: CryptoRng + ?Sized>(
        rng: &mut R,
        len: usize,
    ) -> Result<Self, Error> {
        if !(MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&len) {
            return Err(PkceError::VerifierLength.into());
        }
        let mut bytes = [0u8; 96]; // 128 characters * 6 bits / 8
        let n = len.div_ceil(4) * 3;
        let buf = bytes.get_mut(..n).ok_or(PkceError::VerifierLength)?;
        rng.fill_bytes(buf);
        let mut s = base64url::encode(buf);
        s.truncate(len);
        Ok(Self(s))
    }

    /// A fresh 43-character verifier from the operating system's (or host's) RNG.
    ///
    /// # Errors
    /// `ERR_RNG_UNAVAILABLE` when the platform has no random source.
    #[cfg(feature = "getrandom")]
    pub fn generate_random() -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| Error::RngUnavailable)?;
        Ok(Self(base64url::encode(&bytes)))
    }

    /// Checks that `s` is 43 to 128 characters of `[A-Za-z0-9-._~]`.
    ///
    /// # Errors
    /// `ERR_PKCE_VERIFIER_LENGTH`, `ERR_PKCE_VERIFIER_CHARSET`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if !(MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&s.len()) {
            return Err(PkceError::VerifierLength.into());
        }
        if !s.bytes().all(is_unreserved) {
            return Err(PkceError::VerifierCharset.into());
        }
        Ok(Self(s.into()))
    }

    /// The verifier's characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `S256` challenge of this verifier.
    pub fn challenge(&self) -> String {
        challenge_s256(&self.0)
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A verifier is a secret until the token request: keep it out of logs.
        f.write_str("CodeVerifier(..)")
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))` (RFC 7636 section 4.2).
pub fn challenge_s256(verifier: &str) -> String {
    base64url::encode(&Sha256::digest(verifier.as_bytes()))
}

/// Checks a `code_verifier` against the stored `code_challenge` (RFC 7636 section 4.6).
///
/// The verifier's syntax is checked first; the comparison is constant-time.
///
/// # Errors
/// `ERR_PKCE_VERIFIER_LENGTH` / `ERR_PKCE_VERIFIER_CHARSET` for a malformed verifier,
/// `ERR_PKCE_METHOD_UNSUPPORTED` for `plain` under [`PlainPolicy::Refuse`],
/// `ERR_PKCE_MISMATCH` when the pair does not match.
pub fn verify(
    verifier: &str,
    challenge: &str,
    method: Method,
    plain: PlainPolicy,
) -> Result<(), Error> {
    let verifier = CodeVerifier::parse(verifier)?;
    let expected = match (method, plain) {
        (Method::S256, _) => verifier.challenge(),
        (Method::Plain, PlainPolicy::Allow) => verifier.0,
        (Method::Plain, PlainPolicy::Refuse) => return Err(PkceError::MethodUnsupported.into()),
    };
    // `ct_eq` on slices of different lengths returns false without comparing.
    if bool::from(expected.as_bytes().ct_eq(challenge.as_bytes())) {
        Ok(())
    } else {
        Err(PkceError::Mismatch.into())
    }
}
