//! The resource-server guard: every decision of its table, by status, OAuth error,
//! code and exact `WWW-Authenticate` value; RFC 9449's challenge figures; the
//! sans-IO steps; tokens and proofs from jwcrypto; bad headers.
//!
//! One module per topic: [`schemes`] (`Bearer` and `DPoP` in each mode), [`headers`],
//! [`proofs`] (refusals, nonces, replays), [`challenges`] (`WWW-Authenticate`),
//! [`tokens`], [`steps`] (sans-IO steps, threads).

use serde_json::{Map, Value, json};
use smartgate_core::dpop::{
    DpopError, DpopKey, DpopValidation, MemoryReplayCache, NoncePolicy, ReplayCache, RotatingNonce,
};
use smartgate_core::guard::{Authorized, Checked, DpopMode, Guard, Rejection, Request};
use smartgate_core::jwk::JwkSet;
use smartgate_core::jws::{Algorithm, JwsError};
use smartgate_core::jwt::Validation;
use smartgate_core::provider::rustcrypto::RustCrypto;

use crate::common::*;
use crate::dpop::{DownStore, client};

mod challenges;
mod headers;
mod proofs;
mod schemes;
mod steps;
mod tokens;

const URL: &str = "https://ehr.example.org/fhir/Observation?patient=123";
const ALL_ALGS: &str = "ES256 ES384 RS256 RS384 RS512 PS256 PS384";

fn guard(mode: DpopMode) -> Guard {
    let keys = set(vec![jwk_of(&es256(), Some("as"))]);
    Guard::new(keys, Validation::new([ISS], [AUD]).typ("at+jwt")).dpop(mode)
}

fn at(changes: Value) -> String {
    let mut c = claims();
    c.insert("client_id".into(), "app-1".into());
    c.insert("patient".into(), "123".into());
    c.insert("encounter".into(), "E-9".into());
    c.insert("fhirUser".into(), "Practitioner/1".into());
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.remove(k);
        } else {
            c.insert(k.clone(), v.clone());
        }
    }
    token(&c, &es256(), Some("as"), json!({"typ": "at+jwt"}))
}

fn bound(key: &DpopKey) -> String {
    at(json!({"cnf": {"jkt": key.thumbprint()}}))
}

fn proof_for(key: &DpopKey, token: &str, seed: u64) -> String {
    key.proof("GET", URL, Some(token), None, NOW, &mut TestRng(seed))
        .unwrap()
}

fn run(
    g: &Guard,
    authorization: Option<&str>,
    dpop: Option<&str>,
) -> Result<Authorized, Rejection> {
    let mut req = Request::new("GET", URL, NOW);
    if let Some(a) = authorization {
        req = req.authorization(a);
    }
    if let Some(d) = dpop {
        req = req.dpop(d);
    }
    g.check(&req, &RustCrypto, &MemoryReplayCache::new())
}

fn rejected(r: Result<Authorized, Rejection>) -> Rejection {
    r.expect_err("expected a rejection")
}

#[track_caller]
fn assert_rejection(r: &Rejection, status: u16, error: Option<&str>, code: &str) {
    assert_eq!((r.status, r.error, r.code), (status, error, code), "{r:?}");
}

#[allow(dead_code)]
fn _object(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[allow(dead_code)]
fn _nonce_policy_is_object_safe(p: &dyn NoncePolicy) -> String {
    p.current(NOW)
}
