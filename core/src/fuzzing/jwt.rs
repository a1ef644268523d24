//! The `jwt_verify` target.

use alloc::string::String;

use serde_json::{Map, Value};

use super::{AUD, ISS, KID, NOW, change_one_byte, fixed_keys, must, refused, seed, signer};
use crate::base64url;
use crate::error::Error;
use crate::jws::{self, Algorithm};
use crate::jwt::{self, Claims, Validation};
use crate::provider::rustcrypto::RustCrypto;
use crate::sign;

fn validation() -> Validation {
    Validation::new([ISS], [AUD])
        .typ("at+jwt")
        .algorithms(&[Algorithm::Es256])
}

/// JWT verification with fixed keys and clock. Three parts:
/// 1. the input as a token: a token that verifies has claims the policy accepts;
/// 2. the input as a payload: claims the policy accepts are what it promises
///    ([`Validation::check_claims`], the step after the signature);
/// 3. valid claims derived from the input, signed by [`SECRET`](super::SECRET): they verify at [`NOW`]
///    to the same claims, are expired at `exp`, and a token with one byte changed
///    (position and value picked by the input), one byte cut or one byte added never
///    verifies.
pub fn jwt_verify(data: &[u8]) {
    let signer = signer();
    let keys = fixed_keys();
    let validation = validation();

    if let Ok(token) = core::str::from_utf8(data)
        && let Ok(verified) = jwt::verify(token, &keys, &validation, &RustCrypto, NOW)
    {
        assert_accepted(&verified.claims);
    }

    if let Ok(claims) = validation.check_claims(data, NOW) {
        assert_accepted(&claims);
    }

    let claims = derived_claims(data);
    let token = must(
        sign::sign_jwt(&claims, Some("at+jwt"), Some(KID), &signer),
        "sign claims",
    );
    let verify = |token: &str| jwt::verify(token, &keys, &validation, &RustCrypto, NOW);
    if token.len() > jws::MAX_TOKEN_LEN {
        refused(verify(&token), "ERR_INPUT_TOO_LARGE", "oversized token");
        return;
    }
    let payload = must(
        serde_json::to_vec(&claims).map_err(|_| Error::SigningFailed),
        "claims JSON",
    );
    let verified = must(verify(&token), "valid claims");
    assert_eq!(verified.claims, must(Claims::from_json(&payload), "claims"));
    assert_eq!(verified.kid.as_deref(), Some(KID));
    let exp = verified.claims.exp().unwrap_or(NOW);
    refused(
        validation.check_claims(&payload, exp),
        "ERR_JWT_EXPIRED",
        "at exp",
    );

    let (pos, changed) = change_one_byte(&token, seed(data));
    assert!(
        verify(&changed).is_err(),
        "verified with byte {pos} changed"
    );
    let len = token.len();
    let cut = token.get(..len - 1).unwrap_or_default();
    assert!(verify(cut).is_err(), "verified with the last byte cut");
    let longer = alloc::format!("{token}A");
    assert!(verify(&longer).is_err(), "verified with a byte added");
}

/// What the JWT target's policy guarantees of accepted claims.
fn assert_accepted(claims: &Claims) {
    assert_eq!(claims.iss(), Some(ISS));
    assert!(claims.aud().iter().any(|a| a == AUD));
    assert!(claims.exp().is_some_and(|exp| NOW < exp));
    assert!(claims.nbf().is_none_or(|nbf| nbf <= NOW));
    assert!(claims.iat().is_none_or(|iat| iat <= NOW));
}

/// The input's JSON object (or `{"data": base64url(input)}`), made valid at [`NOW`]:
/// `iss` and `aud` set (a string-array `aud` keeps its entries), `exp` kept when it is an
/// integer in the future and set to `NOW + 300` otherwise, `nbf`/`iat` kept when integers
/// in the past and dropped otherwise, `sub`/`jti` dropped unless strings.
fn derived_claims(data: &[u8]) -> Map<String, Value> {
    let mut claims = serde_json::from_slice::<Map<String, Value>>(data).unwrap_or_else(|_| {
        let mut m = Map::new();
        m.insert("data".into(), base64url::encode(data).into());
        m
    });
    claims.insert("iss".into(), ISS.into());
    match claims.get_mut("aud") {
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a.push(AUD.into()),
        _ => {
            claims.insert("aud".into(), AUD.into());
        }
    }
    let int = |c: &Map<String, Value>, name: &str| c.get(name).and_then(Value::as_i64);
    if !int(&claims, "exp").is_some_and(|exp| exp > NOW && exp < NOW + 1_000_000_000) {
        claims.insert("exp".into(), (NOW + 300).into());
    }
    for name in ["nbf", "iat"] {
        if !int(&claims, name).is_some_and(|t| t <= NOW && t > NOW - 1_000_000_000) {
            claims.remove(name);
        }
    }
    for name in ["sub", "jti"] {
        if claims.get(name).is_some_and(|v| !v.is_string()) {
            claims.remove(name);
        }
    }
    claims
}
