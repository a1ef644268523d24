//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their
//! corpus (`tests/core/fuzz_corpus.rs`). Not part of the API: hidden, and free to change.
//!
//! Each function takes the fuzzer's bytes and panics when an invariant breaks. Where a
//! round trip exists it is asserted (parse, render, parse again; sign, then verify), not
//! only the absence of a panic. The targets in `fuzz/fuzz_targets/` are three lines that
//! call these, as in rustls, so the logic is compiled and linted with the crate and the
//! corpus replays on every `cargo test` without a nightly toolchain.

// A panic is how a fuzz target reports a broken invariant.
#![allow(clippy::panic)]

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::dpop::ReplayCache;
use crate::error::Error;
use crate::jwk::{Jwk, JwkSet};
use crate::provider::rustcrypto::EcdsaP256Signer;

mod dpop;
mod guard;
mod jose;
mod jwt;
mod pkce;
mod scope;

pub use dpop::dpop;
pub use guard::guard_headers;
pub use jose::{base64url, jwk, jwks, jws};
pub use jwt::jwt_verify;
pub use pkce::pkce;
pub use scope::scope;

/// The fixed clock of the JWT, DPoP and guard targets.
pub const NOW: i64 = 1_700_000_000;
/// The issuer the JWT and guard targets accept.
pub const ISS: &str = "https://ehr.example.org";
/// The audience the JWT and guard targets accept.
pub const AUD: &str = "https://ehr.example.org/fhir";
/// The `kid` of the fixed signing key.
pub const KID: &str = "k1";
/// The fixed signing key of tokens: the P-256 scalar `[7; 32]`.
pub const SECRET: [u8; 32] = [7; 32];
/// The DPoP key of the DPoP and guard targets: the P-256 scalar `[8; 32]`.
pub const DPOP_SECRET: [u8; 32] = [8; 32];

/// The public JWK of [`SECRET`], as [`KID`] (a constant: no key derivation per input).
const FIXED_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"k1","x":"HhhTL9R1TALzBB2cdc6zO4P_2BrHzk_ogsyxyYvFiW4","y":"pGwxHE4v9A3ZajZT5uRURdMt_khuztdcepDGoYiBwKM"}"#;
/// RFC 7515 appendix A.3's P-256 key.
const RFC7515_A3_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
/// RFC 7515 appendix A.2's RSA key.
const RFC7515_A2_JWK: &str = r#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#;

/// Unwraps a result the invariant says is `Ok`.
#[track_caller]
fn must<T>(result: Result<T, Error>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected {} ({e})", e.code()),
    }
}

/// Asserts `result` is the error with this code.
#[track_caller]
fn refused<T>(result: Result<T, Error>, code: &str, what: &str) {
    match result {
        Ok(_) => panic!("{what}: accepted, expected {code}"),
        Err(e) => assert_eq!(e.code(), code, "{what}"),
    }
}

/// A hash of the input (FNV-1a), to pick positions and values from it deterministically.
fn seed(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `token` with one byte replaced: position and new byte picked by `h`, the new byte
/// from the base64url alphabet, `.`, and a few bytes outside it. Returns the position.
fn change_one_byte(token: &str, h: u64) -> (usize, String) {
    const ALT: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00";
    let mut bytes = Vec::from(token.as_bytes());
    let pos = usize::try_from(h % bytes.len().max(1) as u64).unwrap_or(0);
    let alt = usize::try_from((h >> 32) % ALT.len() as u64).unwrap_or(0);
    if let Some(byte) = bytes.get_mut(pos) {
        let original = *byte;
        *byte = ALT
            .iter()
            .cycle()
            .skip(alt)
            .find(|&&b| b != original)
            .copied()
            .unwrap_or(b'A');
    }
    (pos, String::from_utf8(bytes).unwrap_or_default())
}

/// The verification keys of the JWS and JWT targets: RFC 7515's P-256 and RSA keys,
/// without `kid`, and [`SECRET`]'s key as [`KID`].
fn fixed_keys() -> JwkSet {
    let keys: Vec<Jwk> = [RFC7515_A3_JWK, RFC7515_A2_JWK, FIXED_JWK]
        .iter()
        .map(|j| must(Jwk::from_json(j), "fixed key"))
        .collect();
    must(JwkSet::new(keys), "fixed key set")
}

fn signer() -> EcdsaP256Signer {
    must(EcdsaP256Signer::from_bytes(&SECRET), "fixed signer")
}

/// A replay cache for one input: remembers every key (expiry is not what is fuzzed).
#[derive(Default)]
struct SeenOnce(RefCell<BTreeSet<String>>);

impl ReplayCache for SeenOnce {
    fn check_and_insert(&self, key: &str, _expires_at: i64, _now: i64) -> Result<bool, Error> {
        Ok(self.0.borrow_mut().insert(key.into()))
    }
}
