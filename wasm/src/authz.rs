//! RFC 9207 for browser and Node clients: `checkAuthorizationResponseIss`.

use smartgate_core::authz_response;
use wasm_bindgen::prelude::*;

use crate::error::Result;

/// Checks the `iss` of an authorization response against the issuer the request was
/// sent to (RFC 9207 section 2.4); a mix-up attack delivers another issuer's response.
///
/// # Errors
/// `ERR_AUTHZ_RESPONSE_ISS_MISMATCH`; `ERR_AUTHZ_RESPONSE_ISS_MISSING` when the server
/// advertises `authorization_response_iss_parameter_supported` and `iss` is absent.
#[wasm_bindgen(js_name = checkAuthorizationResponseIss)]
pub fn check_authorization_response_iss(
    expected: &str,
    iss: Option<String>,
    server_supports_iss: bool,
) -> core::result::Result<(), JsValue> {
    Ok(check(expected, iss.as_deref(), server_supports_iss)?)
}

fn check(expected: &str, iss: Option<&str>, server_supports_iss: bool) -> Result<()> {
    Ok(authz_response::check_iss(
        expected,
        iss,
        server_supports_iss,
    )?)
}
