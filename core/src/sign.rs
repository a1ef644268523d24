//! Building and signing compact JWS/JWTs through a [`Signer`]: used for DPoP proofs,
//! `private_key_jwt` client assertions, and the mock EHR's tokens.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::base64url;
use crate::error::Error;
use crate::provider::Signer;

/// Signs `payload` as a compact JWS. `header` gives every member but `alg`, which is
/// always the signer's (any `alg` in `header` is replaced).
///
/// # Errors
/// `ERR_SIGNING_FAILED` from the provider.
pub fn sign_compact<S: Signer + ?Sized>(
    header: &Map<String, Value>,
    payload: &[u8],
    signer: &S,
) -> Result<String, Error> {
    let mut header = header.clone();
    header.insert("alg".into(), signer.algorithm().name().into());
    let header_json = serde_json::to_vec(&header).map_err(|_| Error::SigningFailed)?;
    let mut token = base64url::encode(&header_json);
    token.push('.');
    token.push_str(&base64url::encode(payload));
    let signature: Vec<u8> = signer.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&base64url::encode(&signature));
    Ok(token)
}

/// Signs `claims` as a JWT with header `{"alg", "typ"?, "kid"?}`.
///
/// # Errors
/// `ERR_SIGNING_FAILED` from the provider.
pub fn sign_jwt<S: Signer + ?Sized>(
    claims: &Map<String, Value>,
    typ: Option<&str>,
    kid: Option<&str>,
    signer: &S,
) -> Result<String, Error> {
    let mut header = Map::new();
    if let Some(typ) = typ {
        header.insert("typ".into(), typ.into());
    }
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    let payload = serde_json::to_vec(claims).map_err(|_| Error::SigningFailed)?;
    sign_compact(&header, &payload, signer)
}
