//! DPoP proofs (RFC 9449): the RFC's examples, proofs made by jwcrypto, every
//! refusal by code, `htu` normalisation both ways, the replay cache, and `DpopKey`.
//!
//! RFC 9449 examples (../data/rfc9449_examples.json) and what of them can be checked:
//! - section 4.1 figure 2 (= figure 5), section 5 figure 7 and section 7.1 figure 13
//!   are complete proofs: their public key is in their header and their `iat` is
//!   fixed, so they verify in full (signature, `htm`, `htu`, `iat`, `ath`) at that
//!   `now`; their thumbprint is the `jkt` of section 6.1.
//! - figures 4 and 14 are the decoded content of figures 2 and 13: compared as JSON.
//! - figure 8 is a JWT access token with `cnf.jkt`, signed by the authorization
//!   server's key `BeALkb`, which the RFC does not publish: its signature cannot be
//!   verified. Its payload is figure 9, and its `cnf.jkt` binds the example proofs.
//! - figure 21 (a payload with `nonce`) is unsigned content only: not verifiable.
//! - the access token of figure 6 (`Kz~8...gxU`) is opaque, so the guard (which takes
//!   JWT access tokens) cannot be run on the RFC's request; its `ath` is checked.
//! - the `WWW-Authenticate` figures are checked in guard.rs.
//!
//! One module per topic: [`examples`] (the RFC's and jwcrypto's proofs), [`refusals`],
//! [`htu`], [`replay`], [`steps`] (sans-IO steps and binding), [`key`] (`DpopKey`),
//! [`robustness`] (bad input).

use std::sync::Arc;

use serde_json::{Map, Value, json};
use smartgate_core::Error;
use smartgate_core::base64url;
use smartgate_core::dpop::{
    self, DpopError, DpopKey, DpopValidation, MemoryReplayCache, NoncePolicy, ProofRequest,
    ReplayCache, RotatingNonce, VerifiedProof,
};
use smartgate_core::jwk::Jwk;
use smartgate_core::jws::{Algorithm, Jws, JwsError};
use smartgate_core::jwt::Claims;
use smartgate_core::provider::Signer;
use smartgate_core::provider::rustcrypto::{EcdsaP256Signer, RustCrypto};
use smartgate_core::sign::sign_compact;

use crate::common::*;

mod examples;
mod htu;
mod key;
mod refusals;
mod replay;
mod robustness;
mod steps;

pub use replay::DownStore;

const URL: &str = "https://ehr.example.org/fhir/Patient";

/// A nonce policy that accepts one fixed nonce.
pub struct Fixed(pub &'static str);

impl NoncePolicy for Fixed {
    fn accepts(&self, nonce: &str, _now: i64) -> bool {
        nonce == self.0
    }
    fn current(&self, _now: i64) -> String {
        self.0.into()
    }
}

pub fn client() -> DpopKey {
    DpopKey::from_bytes(&[0x11; 32]).unwrap()
}

fn verify_at(proof: &str, request: &ProofRequest<'_>, now: i64) -> Result<VerifiedProof, Error> {
    dpop::verify(
        proof,
        request,
        &DpopValidation::default(),
        &RustCrypto,
        &MemoryReplayCache::new(),
        now,
    )
}

fn verify(proof: &str, method: &str, url: &str) -> Result<VerifiedProof, Error> {
    verify_at(proof, &ProofRequest::new(method, url), NOW)
}

fn proof(method: &str, url: &str) -> String {
    client()
        .proof(method, url, None, None, NOW, &mut TestRng(9))
        .unwrap()
}

/// A proof signed by `signer` with header `{typ, jwk}` and claims `{jti, htm, htu,
/// iat}`, each then changed by the `header`/`claims` objects (null removes).
fn custom(signer: &dyn Signer, header: Value, claims: Value) -> String {
    let mut h = Map::new();
    h.insert("typ".into(), "dpop+jwt".into());
    h.insert(
        "jwk".into(),
        Value::Object(signer.public_key().to_jwk_members()),
    );
    let mut c = json!({"jti": "j-1", "htm": "GET", "htu": URL, "iat": NOW})
        .as_object()
        .unwrap()
        .clone();
    for (target, changes) in [(&mut h, header), (&mut c, claims)] {
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                target.remove(k);
            } else {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    sign_compact(&h, &serde_json::to_vec(&c).unwrap(), signer).unwrap()
}

fn client_signer() -> EcdsaP256Signer {
    EcdsaP256Signer::from_bytes(&[0x11; 32]).unwrap()
}

fn ok(header: Value, claims: Value) -> VerifiedProof {
    verify(&custom(&client_signer(), header, claims), "GET", URL).unwrap()
}

fn refused(header: Value, claims: Value) -> &'static str {
    code(verify(
        &custom(&client_signer(), header, claims),
        "GET",
        URL,
    ))
}
