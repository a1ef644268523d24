//! DPoP rows (RFC 9449), against the core's resource-server guard.

use serde_json::json;
use smartgate_core::dpop::{DpopKey, MemoryReplayCache};
use smartgate_core::guard::{DpopMode, Guard, Rejection, Request};
use smartgate_core::provider::rustcrypto::RustCrypto;

use super::*;

const URL: &str = "https://ehr.example.org/fhir/Observation";

fn client() -> DpopKey {
    DpopKey::from_bytes(&[5; 32]).unwrap()
}

fn guard() -> Guard {
    Guard::new(keys_of(&issuer(), "as-1"), validation()).dpop(DpopMode::Allowed)
}

fn bound_token(key: &DpopKey) -> String {
    let mut c = claims();
    c.insert("cnf".into(), json!({"jkt": key.thumbprint()}));
    jwt(&c, json!({"kid": "as-1"}), &issuer())
}

fn proof(key: &DpopKey, method: &str, url: &str, token: &str, iat: i64, jti: &str) -> String {
    key.proof_with_jti(method, url, Some(token), None, iat, jti)
        .unwrap()
}

fn check(auth: &str, proof: Option<&str>, cache: &MemoryReplayCache) -> Result<(), Rejection> {
    let mut req = Request::new("GET", URL, NOW).authorization(auth);
    if let Some(p) = proof {
        req = req.dpop(p);
    }
    guard().check(&req, &RustCrypto, cache).map(|_| ())
}

#[track_caller]
fn refused(r: Result<(), Rejection>, status: u16, error: &str, code: &str) {
    let r = r.expect_err("the attack must be refused");
    assert_eq!(
        (r.status, r.error, r.code),
        (status, Some(error), code),
        "{r:?}"
    );
}

#[test]
fn attack_dpop_proof_reuse() {
    let (key, cache) = (client(), MemoryReplayCache::new());
    let t = bound_token(&key);
    let p = proof(&key, "GET", URL, &t, NOW, "once");
    check(&format!("DPoP {t}"), Some(&p), &cache).unwrap();
    refused(
        check(&format!("DPoP {t}"), Some(&p), &cache),
        401,
        "invalid_dpop_proof",
        "ERR_DPOP_REPLAY",
    );
}

#[test]
fn attack_dpop_htu_for_another_host() {
    let key = client();
    let t = bound_token(&key);
    let p = proof(
        &key,
        "GET",
        "https://evil.example/fhir/Observation",
        &t,
        NOW,
        "h1",
    );
    let r = check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new());
    refused(r, 401, "invalid_dpop_proof", "ERR_DPOP_HTU_MISMATCH");
}

#[test]
fn attack_dpop_htu_with_a_query() {
    // RFC 9449 section 4.3 compares htu without query and fragment: a query in htu
    // can neither carry a proof to another path nor break a proof for this one.
    let key = client();
    let t = bound_token(&key);
    let other_path = proof(
        &key,
        "GET",
        "https://ehr.example.org/fhir/Patient?next=/fhir/Observation",
        &t,
        NOW,
        "q1",
    );
    let r = check(
        &format!("DPoP {t}"),
        Some(&other_path),
        &MemoryReplayCache::new(),
    );
    refused(r, 401, "invalid_dpop_proof", "ERR_DPOP_HTU_MISMATCH");
    let same_path = proof(
        &key,
        "GET",
        "https://ehr.example.org/fhir/Observation?patient=1",
        &t,
        NOW,
        "q2",
    );
    check(
        &format!("DPoP {t}"),
        Some(&same_path),
        &MemoryReplayCache::new(),
    )
    .unwrap();
}

#[test]
fn attack_dpop_htm_mismatch() {
    let key = client();
    let t = bound_token(&key);
    let p = proof(&key, "POST", URL, &t, NOW, "m1");
    refused(
        check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new()),
        401,
        "invalid_dpop_proof",
        "ERR_DPOP_HTM_MISMATCH",
    );
}

#[test]
fn attack_dpop_stale_iat() {
    let key = client();
    let t = bound_token(&key);
    let p = proof(&key, "GET", URL, &t, NOW - 3600, "s1");
    refused(
        check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new()),
        401,
        "invalid_dpop_proof",
        "ERR_DPOP_IAT_STALE",
    );
}

#[test]
fn attack_dpop_ath_for_another_token() {
    let key = client();
    let t = bound_token(&key);
    let other = {
        let mut c = claims();
        c.insert("cnf".into(), json!({"jkt": key.thumbprint()}));
        c.insert("jti".into(), "another".into());
        jwt(&c, json!({"kid": "as-1"}), &issuer())
    };
    let p = proof(&key, "GET", URL, &other, NOW, "a1");
    refused(
        check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new()),
        401,
        "invalid_dpop_proof",
        "ERR_DPOP_ATH_MISMATCH",
    );
}

#[test]
fn attack_dpop_proof_key_not_matching_cnf_jkt() {
    let (key, thief) = (client(), DpopKey::from_bytes(&[6; 32]).unwrap());
    let t = bound_token(&key);
    let p = proof(&thief, "GET", URL, &t, NOW, "k1");
    refused(
        check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new()),
        401,
        "invalid_token",
        "ERR_DPOP_JKT_MISMATCH",
    );
}

#[test]
fn attack_dpop_bound_token_used_as_bearer() {
    let t = bound_token(&client());
    refused(
        check(&format!("Bearer {t}"), None, &MemoryReplayCache::new()),
        401,
        "invalid_token",
        "ERR_GUARD_DPOP_TOKEN_AS_BEARER",
    );
}
