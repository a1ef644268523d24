//! The access token's confirmation (`cnf`, RFC 7800) methods the guard checks:
//! `jkt` (RFC 9449) and `x5t#S256` (RFC 8705).

use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::base64url;
use crate::dpop::{self, DpopError};
use crate::error::Error;
use crate::guard::GuardError;
use crate::jwt::Claims;

/// The `cnf` claim's confirmation methods this guard checks.
pub(crate) struct Confirmation<'c> {
    pub(crate) jkt: Option<&'c str>,
    pub(crate) x5t_s256: Option<&'c str>,
}

impl<'c> Confirmation<'c> {
    pub(crate) fn of(claims: &'c Claims) -> Result<Self, Error> {
        let jkt = dpop::bound_jkt(claims)?;
        let Some(Value::Object(cnf)) = claims.get("cnf") else {
            return Ok(Self {
                jkt,
                x5t_s256: None,
            });
        };
        let x5t_s256 = match cnf.get("x5t#S256") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(DpopError::CnfInvalid.into()),
        };
        // Every member of cnf is a confirmation method (RFC 7800 section 3.1): one
        // this guard cannot check means the token is bound in a way it cannot verify.
        if cnf.keys().any(|k| k != "jkt" && k != "x5t#S256") {
            return Err(GuardError::CnfUnsupported.into());
        }
        Ok(Self { jkt, x5t_s256 })
    }
}

/// Whether the connection's certificate thumbprint (base64url, or hex as some edge
/// platforms report it) is the token's `x5t#S256` (base64url of 32 bytes).
pub(crate) fn same_certificate(connection: &str, x5t_s256: &str) -> bool {
    let mut expected = [0u8; 32];
    if base64url::decode_exact(x5t_s256.as_bytes(), &mut expected).is_err() {
        return false;
    }
    let mut actual = [0u8; 32];
    let decoded = if connection.len() == 64 {
        hex_decode(connection, &mut actual)
    } else {
        base64url::decode_exact(connection.as_bytes(), &mut actual).is_ok()
    };
    decoded && bool::from(actual.ct_eq(&expected))
}

fn hex_decode(hex: &str, out: &mut [u8; 32]) -> bool {
    let digit = |b: u8| char::from(b).to_digit(16);
    for (slot, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        match (
            pair.first().copied().and_then(digit),
            pair.get(1).copied().and_then(digit),
        ) {
            (Some(hi), Some(lo)) => *slot = ((hi << 4) | lo) as u8,
            _ => return false,
        }
    }
    true
}
