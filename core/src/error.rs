//! One error type for the whole core, with a stable code per variant.
//!
//! [`Error`] wraps one small enum per area (as rustls does): [`Base64Error`],
//! [`PkceError`], and so on. Every variant
//! has a stable string code (`ERR_...`) that the WASM package and the mock EHR pass
//! through unchanged; the codes are listed in the crate documentation and never change
//! meaning. Messages are for people and may change.

use core::fmt;

use crate::dpop::DpopError;
use crate::guard::GuardError;
use crate::jwk::JwkError;
use crate::jws::JwsError;
use crate::jwt::JwtError;
use crate::pkce::PkceError;
use crate::scope::ScopeError;

/// Any error the core returns.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Base64url decoding failed.
    Base64(Base64Error),
    /// A PKCE verifier, challenge or method was refused.
    Pkce(PkceError),
    /// A JWK or JWK Set was refused.
    Jwk(JwkError),
    /// A JWS was malformed, used a refused algorithm, or its signature did not verify.
    Jws(JwsError),
    /// A JWT's claims were refused.
    Jwt(JwtError),
    /// A DPoP proof or key binding was refused.
    Dpop(DpopError),
    /// The resource-server guard refused a request's credentials.
    Guard(GuardError),
    /// An input exceeded a documented size cap (the text names the input).
    TooLarge(&'static str),
    /// A provider failed to sign.
    SigningFailed,
    /// A SMART scope, scope string or request field was refused.
    Scope(ScopeError),
    /// A caller-supplied argument was out of range (a length, a count).
    InvalidArgument(&'static str),
    /// The platform has no random source (only with the `getrandom` feature).
    RngUnavailable,
}

impl Error {
    /// The stable code of this error, such as `ERR_JWT_EXPIRED`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Base64(e) => e.code(),
            Self::Pkce(e) => e.code(),
            Self::Jwk(e) => e.code(),
            Self::Jws(e) => e.code(),
            Self::Jwt(e) => e.code(),
            Self::Dpop(e) => e.code(),
            Self::Guard(e) => e.code(),
            Self::TooLarge(_) => "ERR_INPUT_TOO_LARGE",
            Self::SigningFailed => "ERR_SIGNING_FAILED",
            Self::Scope(e) => e.code(),
            Self::InvalidArgument(_) => "ERR_INVALID_ARGUMENT",
            Self::RngUnavailable => "ERR_RNG_UNAVAILABLE",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Base64(e) => e.fmt(f),
            Self::Pkce(e) => e.fmt(f),
            Self::Jwk(e) => e.fmt(f),
            Self::Jws(e) => e.fmt(f),
            Self::Jwt(e) => e.fmt(f),
            Self::Dpop(e) => e.fmt(f),
            Self::Guard(e) => e.fmt(f),
            Self::TooLarge(what) => write!(f, "{what} exceeds its documented size limit"),
            Self::SigningFailed => f.write_str("the crypto provider failed to sign"),
            Self::Scope(e) => e.fmt(f),
            Self::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Self::RngUnavailable => f.write_str("no random number source is available"),
        }
    }
}

impl core::error::Error for Error {}

macro_rules! wrap {
    ($variant:ident, $ty:ty) => {
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Self::$variant(e)
            }
        }
    };
}
wrap!(Base64, Base64Error);
wrap!(Pkce, PkceError);
wrap!(Jwk, JwkError);
wrap!(Jws, JwsError);
wrap!(Jwt, JwtError);
wrap!(Scope, ScopeError);
wrap!(Dpop, DpopError);
wrap!(Guard, GuardError);

/// Base64url input was not strict, unpadded, canonical base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base64Error;

impl Base64Error {
    /// `ERR_BASE64_INVALID`.
    pub fn code(&self) -> &'static str {
        "ERR_BASE64_INVALID"
    }
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not strict unpadded base64url (padding, whitespace, '+', '/' or non-zero trailing bits)")
    }
}

impl core::error::Error for Base64Error {}
