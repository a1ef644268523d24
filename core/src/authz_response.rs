//! Client-side checks of an authorization response.
//!
//! [RFC 9207] (OAuth 2.0 Authorization Server Issuer Identification) defends a client
//! that talks to several authorization servers against mix-up attacks: the response
//! names its issuer in `iss`, and the client compares it with the issuer it sent the
//! request to. SMART servers advertise `authorization_response_iss_parameter_supported`.
//!
//! [RFC 9207]: https://www.rfc-editor.org/rfc/rfc9207

use core::fmt;

use crate::error::Error;

/// Why an authorization response was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthzResponseError {
    /// The server supports `iss` but the response has none (RFC 9207 section 2.4).
    IssMissing,
    /// `iss` is not the issuer the request was sent to: a possible mix-up attack.
    IssMismatch,
}

impl AuthzResponseError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::IssMissing => "ERR_AUTHZ_RESPONSE_ISS_MISSING",
            Self::IssMismatch => "ERR_AUTHZ_RESPONSE_ISS_MISMATCH",
        }
    }
}

impl fmt::Display for AuthzResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IssMissing => "authorization response has no iss, though the server supports it",
            Self::IssMismatch => "authorization response iss is not the expected issuer (mix-up?)",
        })
    }
}

impl core::error::Error for AuthzResponseError {}

/// RFC 9207 section 2.4: `received` (the response's `iss`) must equal `expected` (the
/// issuer the client sent the request to) by simple string comparison. When the
/// server does not advertise `authorization_response_iss_parameter_supported`, a
/// missing `iss` is accepted (an `iss` that is present is still compared).
///
/// # Errors
/// `ERR_AUTHZ_RESPONSE_ISS_MISSING`, `ERR_AUTHZ_RESPONSE_ISS_MISMATCH`.
pub fn check_iss(
    expected: &str,
    received: Option<&str>,
    server_supports_iss: bool,
) -> Result<(), Error> {
    match received {
        Some(iss) if iss == expected => Ok(()),
        Some(_) => Err(AuthzResponseError::IssMismatch.into()),
        None if server_supports_iss => Err(AuthzResponseError::IssMissing.into()),
        None => Ok(()),
    }
}
