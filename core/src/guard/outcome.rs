//! What the guard answers: an authorized request or a rejection.

use alloc::string::String;
use core::fmt;

use serde_json::Value;

use crate::error::Error;
use crate::jwt::{Claims, JwtError};
use crate::scope::ScopeSet;

/// An authorized request: who, for which client, in which SMART context, with which
/// scopes, and the DPoP key thumbprint if the token is DPoP-bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorized {
    /// Every claim of the access token.
    pub claims: Claims,
    /// `sub`.
    pub subject: Option<String>,
    /// `client_id` (RFC 9068 section 2.2), else `azp`.
    pub client_id: Option<String>,
    /// `patient` (SMART launch context).
    pub patient: Option<String>,
    /// `encounter` (SMART launch context).
    pub encounter: Option<String>,
    /// `fhirUser`.
    pub fhir_user: Option<String>,
    /// `scope`, raw (empty when absent).
    pub scope: String,
    /// `scope`, parsed leniently: scopes the server does not understand are ignored,
    /// as SMART App Launch requires, and grant nothing.
    pub scopes: ScopeSet,
    /// The proof key's thumbprint, for a DPoP-bound token.
    pub jkt: Option<String>,
}

impl Authorized {
    pub(crate) fn from_claims(claims: Claims) -> Result<Self, Error> {
        let s = |name: &'static str| -> Result<Option<String>, Error> {
            match claims.get(name) {
                None => Ok(None),
                Some(Value::String(v)) => Ok(Some(v.clone())),
                Some(_) => Err(JwtError::ClaimInvalid(name).into()),
            }
        };
        let client_id = match s("client_id")? {
            Some(c) => Some(c),
            None => s("azp")?,
        };
        let scope = s("scope")?.unwrap_or_default();
        Ok(Self {
            scopes: ScopeSet::parse_lenient(&scope)?.scopes,
            scope,
            subject: claims.sub().map(String::from),
            client_id,
            patient: s("patient")?,
            encounter: s("encounter")?,
            fhir_user: s("fhirUser")?,
            jkt: None,
            claims,
        })
    }
}

/// A refused request, ready to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status: 400, 401 or 403; 503 when the replay store could not record
    /// the proof (the server's fault, not the client's).
    pub status: u16,
    /// The OAuth error (`invalid_request`, `invalid_token`, `invalid_dpop_proof`,
    /// `use_dpop_nonce`, `insufficient_scope`); `None` when the request carried no
    /// usable credentials (RFC 6750 section 3.1: no error code then), and for a 503.
    pub error: Option<&'static str>,
    /// A description for developers (sanitised; also in the challenge when `error` is
    /// set).
    pub description: String,
    /// The `WWW-Authenticate` header value.
    pub www_authenticate: String,
    /// The `DPoP-Nonce` header value to send, for `use_dpop_nonce`.
    pub dpop_nonce: Option<String>,
    /// The core's stable code (`ERR_...`).
    pub code: &'static str,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.description)
    }
}
