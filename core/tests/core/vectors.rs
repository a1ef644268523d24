//! The RFCs' own examples (files in ../data name their sources).

use smartgate_core::base64url;
use smartgate_core::jwk::{self, Jwk, JwkSet};
use smartgate_core::jws::{Algorithm, Jws};
use smartgate_core::jwt::{self, Validation};
use smartgate_core::pkce::{self, CodeVerifier, Method, PlainPolicy};
use smartgate_core::provider::rustcrypto::RustCrypto;

use crate::common::*;

#[test]
fn rfc7515_a2_rs256() {
    let v = data("rfc7515_a2_rs256.json");
    let keys = JwkSet::new(vec![Jwk::from_value(&v["jwk"]).unwrap()]).unwrap();
    let token = v["token"].as_str().unwrap();
    for (name, p) in providers() {
        let jws = Jws::parse(token).unwrap();
        assert_eq!(jws.header().alg(), Algorithm::Rs256);
        jws.verify(&keys, p.as_ref())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(jws.payload(), v["payload"].as_str().unwrap().as_bytes());
    }
    // Our own RS256 signature over the same input is the same bytes: PKCS#1 v1.5 is
    // deterministic, so this checks the test signer against the RFC.
    let jws = Jws::parse(token).unwrap();
    let ours = smartgate_core::provider::Signer::sign(&rsa(Algorithm::Rs256), jws.signing_input())
        .unwrap();
    assert_eq!(ours, jws.signature());
}

#[test]
fn rfc7515_a3_es256() {
    let v = data("rfc7515_a3_es256.json");
    let keys = JwkSet::new(vec![Jwk::from_value(&v["jwk"]).unwrap()]).unwrap();
    let token = v["token"].as_str().unwrap();
    for (name, p) in providers() {
        let jws = Jws::parse(token).unwrap();
        jws.verify(&keys, p.as_ref())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(jws.payload(), v["payload"].as_str().unwrap().as_bytes());
    }
    // The RFC's private key is the test suite's ES256 key.
    assert_eq!(
        es256_jwk_thumbprint(),
        Jwk::from_value(&v["jwk"]).unwrap().thumbprint()
    );
}

fn es256_jwk_thumbprint() -> String {
    jwk_of(&es256(), None).thumbprint()
}

/// The RFC examples are JWTs without `aud` that expired in 2011: the JWT layer refuses
/// them for exactly those reasons, in its documented order (exp before aud).
#[test]
fn rfc7515_examples_as_jwts() {
    for file in ["rfc7515_a2_rs256.json", "rfc7515_a3_es256.json"] {
        let v = data(file);
        let keys = JwkSet::new(vec![Jwk::from_value(&v["jwk"]).unwrap()]).unwrap();
        let token = v["token"].as_str().unwrap();
        let val = Validation::new(["joe"], ["anyone"]);
        assert_eq!(
            code(jwt::verify(token, &keys, &val, &RustCrypto, NOW)),
            "ERR_JWT_EXPIRED"
        );
        let e = jwt::verify(token, &keys, &val, &RustCrypto, 1_300_819_379).unwrap_err();
        assert_eq!(e.code(), "ERR_JWT_CLAIM_MISSING");
        assert!(e.to_string().contains("\"aud\""), "{e}");
        let ok = jwt::verify(
            token,
            &keys,
            &val.clone().exp_optional(),
            &RustCrypto,
            1_300_819_379,
        );
        assert_eq!(code(ok), "ERR_JWT_CLAIM_MISSING");
    }
}

#[test]
fn rfc7638_3_1() {
    let v = data("rfc7638_3_1.json");
    let expected = v["thumbprint"].as_str().unwrap();
    let key = Jwk::from_value(&v["jwk"]).unwrap();
    assert_eq!(key.thumbprint(), expected);
    assert_eq!(key.kid(), Some("2011-04-29"));
    assert_eq!(key.alg(), Some(Algorithm::Rs256));
    assert_eq!(jwk::thumbprint(&v["jwk"].to_string()).unwrap(), expected);
    // Optional members do not change the thumbprint; member order does not either.
    let reordered = format!(
        r#"{{"e":"AQAB","use":"sig","n":"{}","kty":"RSA"}}"#,
        v["jwk"]["n"].as_str().unwrap()
    );
    assert_eq!(jwk::thumbprint(&reordered).unwrap(), expected);
}

#[test]
fn rfc7636_appendix_b() {
    let v = data("rfc7636_appendix_b.json");
    let octets: Vec<u8> = v["verifier_octets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_u64().unwrap() as u8)
        .collect();
    let verifier = v["code_verifier"].as_str().unwrap();
    let challenge = v["code_challenge"].as_str().unwrap();
    assert_eq!(base64url::encode(&octets), verifier);
    assert_eq!(pkce::challenge_s256(verifier), challenge);
    assert_eq!(
        CodeVerifier::parse(verifier).unwrap().challenge(),
        challenge
    );
    pkce::verify(verifier, challenge, Method::S256, PlainPolicy::Refuse).unwrap();
}
