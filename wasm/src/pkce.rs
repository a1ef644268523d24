//! PKCE (RFC 7636): `createPkcePair`, `pkceChallenge`, `verifyPkce`.

use alloc::string::String;

use smartgate_core::pkce::{self, CodeVerifier, Method, PlainPolicy};
use wasm_bindgen::prelude::*;

use crate::error::Result;

/// A fresh 43-character verifier from the host's `crypto.getRandomValues`; the JS glue
/// adds its S256 challenge.
///
/// # Errors
/// `ERR_RNG_UNAVAILABLE` when the host has no random source.
#[wasm_bindgen(js_name = pkceVerifier)]
pub fn pkce_verifier() -> core::result::Result<String, JsValue> {
    Ok(generate_verifier()?.as_str().into())
}

fn generate_verifier() -> Result<CodeVerifier> {
    Ok(CodeVerifier::generate_random()?)
}

/// The S256 challenge of a verifier, after checking the verifier's syntax.
///
/// # Errors
/// `ERR_PKCE_VERIFIER_LENGTH`, `ERR_PKCE_VERIFIER_CHARSET`.
#[wasm_bindgen(js_name = pkceChallenge)]
pub fn pkce_challenge(verifier: &str) -> core::result::Result<String, JsValue> {
    Ok(challenge(verifier)?)
}

fn challenge(verifier: &str) -> Result<String> {
    Ok(CodeVerifier::parse(verifier)?.challenge())
}

/// Whether `verifier` matches `challenge` under `method` (`S256` when `None`); `plain`
/// is refused (SMART App Launch 2.x requires S256).
///
/// # Errors
/// `ERR_PKCE_VERIFIER_LENGTH`, `ERR_PKCE_VERIFIER_CHARSET`, `ERR_PKCE_METHOD_UNKNOWN`,
/// `ERR_PKCE_METHOD_UNSUPPORTED`. A mismatch is `false`, not an error.
#[wasm_bindgen(js_name = verifyPkce)]
pub fn verify_pkce(
    verifier: &str,
    challenge: &str,
    method: Option<String>,
) -> core::result::Result<bool, JsValue> {
    Ok(verify(verifier, challenge, method.as_deref())?)
}

fn verify(verifier: &str, challenge: &str, method: Option<&str>) -> Result<bool> {
    let method = method.map_or(Ok(Method::S256), Method::parse)?;
    match pkce::verify(verifier, challenge, method, PlainPolicy::Refuse) {
        Ok(()) => Ok(true),
        Err(smartgate_core::Error::Pkce(pkce::PkceError::Mismatch)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7636_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC7636_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(challenge(RFC7636_VERIFIER).unwrap(), RFC7636_CHALLENGE);
        assert!(verify(RFC7636_VERIFIER, RFC7636_CHALLENGE, None).unwrap());
        assert!(verify(RFC7636_VERIFIER, RFC7636_CHALLENGE, Some("S256")).unwrap());
        assert!(!verify(RFC7636_VERIFIER, "x", None).unwrap());
    }

    #[test]
    fn plain_and_unknown_methods_are_errors_not_false() {
        let e = verify(RFC7636_VERIFIER, RFC7636_VERIFIER, Some("plain")).unwrap_err();
        assert_eq!(e.code, "ERR_PKCE_METHOD_UNSUPPORTED");
        let e = verify(RFC7636_VERIFIER, RFC7636_CHALLENGE, Some("s256")).unwrap_err();
        assert_eq!(e.code, "ERR_PKCE_METHOD_UNKNOWN");
        assert_eq!(
            challenge("short").unwrap_err().code,
            "ERR_PKCE_VERIFIER_LENGTH"
        );
    }
}
