//! JWS parsing, key selection and signature checks: every refusal, by code.

use serde_json::json;
use smartgate_core::base64url;
use smartgate_core::jwk::PublicKey;
use smartgate_core::jws::{self, Algorithm, Jws, MAX_HEADER_LEN, MAX_TOKEN_LEN};
use smartgate_core::provider::Signer;
use smartgate_core::provider::rustcrypto::RustCrypto;

use crate::common::*;

const PAYLOAD: &str = r#"{"iss":"joe"}"#;

fn parse_code(token: &str) -> &'static str {
    code(Jws::parse(token))
}

#[test]
fn structure() {
    let good = token(&claims(), &es256(), None, json!({}));
    Jws::parse(&good).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    assert_eq!(parse_code(""), "ERR_JWS_MALFORMED");
    assert_eq!(parse_code(&parts[..2].join(".")), "ERR_JWS_MALFORMED");
    assert_eq!(parse_code(&format!("{good}.")), "ERR_JWS_MALFORMED");
    assert_eq!(parse_code(&format!("{good}.a.b")), "ERR_JWS_MALFORMED"); // JWE shape
    assert_eq!(
        parse_code(&format!("{}=.{}.{}", parts[0], parts[1], parts[2])),
        "ERR_JWS_MALFORMED"
    );
    assert_eq!(
        parse_code(&format!("{}.{}=.{}", parts[0], parts[1], parts[2])),
        "ERR_JWS_MALFORMED"
    );
    assert_eq!(
        parse_code(&format!("{}.{}.{}+", parts[0], parts[1], parts[2])),
        "ERR_JWS_MALFORMED"
    );
    assert_eq!(
        parse_code(&format!("{}. {}.{}", parts[0], parts[1], parts[2])),
        "ERR_JWS_MALFORMED"
    );
}

#[test]
fn header() {
    assert_eq!(
        parse_code(&raw_jws("not json", PAYLOAD, b"s")),
        "ERR_JWS_HEADER_INVALID"
    );
    assert_eq!(
        parse_code(&raw_jws(r#"["ES256"]"#, PAYLOAD, b"s")),
        "ERR_JWS_HEADER_INVALID"
    );
    assert_eq!(
        parse_code(&raw_jws(r#"{"typ":"JWT"}"#, PAYLOAD, b"s")),
        "ERR_JWS_HEADER_INVALID"
    );
    assert_eq!(
        parse_code(&raw_jws(r#"{"alg":256}"#, PAYLOAD, b"s")),
        "ERR_JWS_HEADER_INVALID"
    );
    assert_eq!(
        parse_code(&raw_jws(r#"{"alg":"ES256","kid":1}"#, PAYLOAD, b"s")),
        "ERR_JWS_HEADER_INVALID"
    );
    assert_eq!(
        parse_code(&raw_jws(r#"{"alg":"ES256","typ":{}}"#, PAYLOAD, b"s")),
        "ERR_JWS_HEADER_INVALID"
    );
}

#[test]
fn algorithms_that_never_verify() {
    assert_eq!(
        parse_code(&raw_jws(r#"{"alg":"none"}"#, PAYLOAD, b"")),
        "ERR_JWS_ALG_NONE"
    );
    for hs in ["HS256", "HS384", "HS512"] {
        let h = format!(r#"{{"alg":"{hs}"}}"#);
        assert_eq!(
            parse_code(&raw_jws(&h, PAYLOAD, b"mac")),
            "ERR_JWS_ALG_SYMMETRIC"
        );
    }
    for other in ["ES512", "EdDSA", "PS512", "NONE", "es256", ""] {
        let h = format!(r#"{{"alg":"{other}"}}"#);
        assert_eq!(
            parse_code(&raw_jws(&h, PAYLOAD, b"s")),
            "ERR_JWS_ALG_UNSUPPORTED",
            "{other}"
        );
    }
    assert_eq!(Algorithm::from_name("ES256").unwrap().name(), "ES256");
    for alg in Algorithm::ALL {
        assert_eq!(Algorithm::from_name(alg.name()).unwrap(), alg);
    }
}

#[test]
fn crit() {
    let signer = es256();
    let t = token(&claims(), &signer, None, json!({"crit": ["exp"], "exp": 1}));
    assert_eq!(parse_code(&t), "ERR_JWS_CRIT_UNSUPPORTED");
    let t = token(
        &claims(),
        &signer,
        None,
        json!({"crit": ["b64"], "b64": false}),
    );
    assert_eq!(parse_code(&t), "ERR_JWS_CRIT_UNSUPPORTED");
    let t = token(&claims(), &signer, None, json!({"crit": []}));
    assert_eq!(parse_code(&t), "ERR_JWS_HEADER_INVALID");
    let t = token(&claims(), &signer, None, json!({"crit": "exp"}));
    assert_eq!(parse_code(&t), "ERR_JWS_HEADER_INVALID");
}

#[test]
fn size_caps() {
    let huge = format!(
        "{}.{}.",
        base64url::encode(br#"{"alg":"ES256"}"#),
        "a".repeat(MAX_TOKEN_LEN)
    );
    assert_eq!(parse_code(&huge), "ERR_INPUT_TOO_LARGE");
    let big_header = format!(r#"{{"alg":"ES256","x":"{}"}}"#, "a".repeat(MAX_HEADER_LEN));
    assert_eq!(
        parse_code(&raw_jws(&big_header, PAYLOAD, b"s")),
        "ERR_INPUT_TOO_LARGE"
    );
}

#[test]
fn key_selection() {
    let a = es256();
    let b = es256_other();
    let keys = set(vec![jwk_of(&b, Some("b")), jwk_of(&a, Some("a"))]);
    // By kid.
    let t = token(&claims(), &a, Some("a"), json!({}));
    assert_eq!(
        Jws::parse(&t)
            .unwrap()
            .verify(&keys, &RustCrypto)
            .unwrap()
            .kid(),
        Some("a")
    );
    // Unknown kid.
    let t = token(&claims(), &a, Some("zzz"), json!({}));
    assert_eq!(
        code(Jws::parse(&t).unwrap().verify(&keys, &RustCrypto)),
        "ERR_JWS_KEY_NOT_FOUND"
    );
    // kid names a key of the wrong type (RSA token, EC key).
    let t = token(&claims(), &rsa(Algorithm::Rs256), Some("a"), json!({}));
    assert_eq!(
        code(Jws::parse(&t).unwrap().verify(&keys, &RustCrypto)),
        "ERR_JWS_KEY_ALG_MISMATCH"
    );
    // No kid: every fitting key is tried in order, so the second one verifies.
    let t = token(&claims(), &a, None, json!({}));
    assert_eq!(
        Jws::parse(&t)
            .unwrap()
            .verify(&keys, &RustCrypto)
            .unwrap()
            .kid(),
        Some("a")
    );
    // No kid, no key of the right type: an RSA token against an EC-only set, and the reverse.
    assert_eq!(
        code(
            Jws::parse(&token(&claims(), &rsa(Algorithm::Rs256), None, json!({})))
                .unwrap()
                .candidates(&keys)
        ),
        "ERR_JWS_KEY_NOT_FOUND"
    );
    let rsa_only = set(vec![jwk_of(&rsa(Algorithm::Rs256), None)]);
    assert_eq!(
        code(Jws::parse(&t).unwrap().verify(&rsa_only, &RustCrypto)),
        "ERR_JWS_KEY_NOT_FOUND"
    );
    // An ES384 token against P-256 keys.
    let t = token(&claims(), &es384(), None, json!({}));
    assert_eq!(
        code(Jws::parse(&t).unwrap().verify(&keys, &RustCrypto)),
        "ERR_JWS_KEY_NOT_FOUND"
    );
    // A wrong key with the right kid: the math says no.
    let wrong = set(vec![jwk_of(&b, Some("a"))]);
    let t = token(&claims(), &a, Some("a"), json!({}));
    assert_eq!(
        code(Jws::parse(&t).unwrap().verify(&wrong, &RustCrypto)),
        "ERR_JWS_SIGNATURE_INVALID"
    );
}

#[test]
fn embedded_keys_and_urls_are_ignored() {
    // An attacker signs with its own key and names it in `jwk`, `jku` and `x5u`: the
    // verifier only ever uses the caller's key set.
    let attacker = es256_other();
    let mut jwk = serde_json::Value::Object(attacker.public_key().to_jwk_members());
    jwk["kid"] = json!("a");
    let t = token(
        &claims(),
        &attacker,
        Some("a"),
        json!({"jwk": jwk, "jku": "https://evil.example/jwks", "x5u": "https://evil.example/cert"}),
    );
    let keys = set(vec![jwk_of(&es256(), Some("a"))]);
    assert_eq!(
        code(Jws::parse(&t).unwrap().verify(&keys, &RustCrypto)),
        "ERR_JWS_SIGNATURE_INVALID"
    );
}

#[test]
fn hmac_with_the_public_key_is_refused() {
    // Algorithm confusion: HS256 "signed" with the server's public key bytes.
    let t = raw_jws(r#"{"alg":"HS256","kid":"a"}"#, PAYLOAD, &[0u8; 32]);
    assert_eq!(parse_code(&t), "ERR_JWS_ALG_SYMMETRIC");
}

fn with_signature(t: &str, sig: &[u8]) -> String {
    let (head, _) = t.rsplit_once('.').unwrap();
    format!("{head}.{}", base64url::encode(sig))
}

#[test]
fn ecdsa_signature_shape() {
    let signer = es256();
    let keys = set(vec![jwk_of(&signer, None)]);
    let t = token(&claims(), &signer, None, json!({}));
    let sig = Jws::parse(&t).unwrap().signature().to_vec();
    let check = |s: &[u8]| {
        code(
            Jws::parse(&with_signature(&t, s))
                .unwrap()
                .verify(&keys, &RustCrypto),
        )
    };
    assert_eq!(check(&sig[..63]), "ERR_JWS_SIGNATURE_MALFORMED");
    assert_eq!(
        check(&[sig.as_slice(), &[0]].concat()),
        "ERR_JWS_SIGNATURE_MALFORMED"
    );
    assert_eq!(check(&[0u8; 64]), "ERR_JWS_SIGNATURE_MALFORMED"); // CVE-2022-21449
    assert_eq!(
        check(&[&[0u8; 32][..], &sig[32..]].concat()),
        "ERR_JWS_SIGNATURE_MALFORMED"
    ); // r = 0
    assert_eq!(
        check(&[&sig[..32], &[0u8; 32][..]].concat()),
        "ERR_JWS_SIGNATURE_MALFORMED"
    ); // s = 0
    let n: [u8; 32] =
        hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
            .unwrap()
            .try_into()
            .unwrap();
    assert_eq!(
        check(&[&n[..], &sig[32..]].concat()),
        "ERR_JWS_SIGNATURE_MALFORMED"
    ); // r = n
    assert_eq!(
        check(&[&sig[..32], &[0xff; 32][..]].concat()),
        "ERR_JWS_SIGNATURE_MALFORMED"
    ); // s > n
    let mut n_minus_1 = n;
    n_minus_1[31] -= 1;
    assert_eq!(
        check(&[&n_minus_1[..], &sig[32..]].concat()),
        "ERR_JWS_SIGNATURE_INVALID"
    ); // in range, wrong
    // DER-encoded ECDSA (what some libraries emit) is not JWS.
    assert_eq!(
        check(&[0x30, 0x44, 0x02, 0x20]),
        "ERR_JWS_SIGNATURE_MALFORMED"
    );
}

#[test]
fn rsa_signature_shape() {
    let signer = rsa(Algorithm::Rs256);
    let keys = set(vec![jwk_of(&signer, None)]);
    let t = token(&claims(), &signer, None, json!({}));
    let sig = Jws::parse(&t).unwrap().signature().to_vec();
    let check = |s: &[u8]| {
        code(
            Jws::parse(&with_signature(&t, s))
                .unwrap()
                .verify(&keys, &RustCrypto),
        )
    };
    assert_eq!(check(&sig[1..]), "ERR_JWS_SIGNATURE_MALFORMED");
    assert_eq!(
        check(&[&[0u8][..], &sig].concat()),
        "ERR_JWS_SIGNATURE_MALFORMED"
    );
    let mut flipped = sig.clone();
    flipped[100] ^= 1;
    assert_eq!(check(&flipped), "ERR_JWS_SIGNATURE_INVALID");
}

#[test]
fn every_algorithm_round_trips_and_cross_algorithm_fails() {
    let rsa_algs = [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
    ];
    let mut signers: Vec<Box<dyn Signer>> = vec![Box::new(es256()), Box::new(es384())];
    signers.extend(rsa_algs.map(|a| Box::new(rsa(a)) as Box<dyn Signer>));
    for s in &signers {
        let keys = set(vec![jwk_of(s.as_ref(), None)]);
        let t = token(&claims(), s.as_ref(), None, json!({}));
        Jws::parse(&t)
            .unwrap()
            .verify(&keys, &RustCrypto)
            .unwrap_or_else(|e| panic!("{}: {e}", s.algorithm()));
        #[cfg(feature = "ring")]
        Jws::parse(&t)
            .unwrap()
            .verify(&keys, &smartgate_core::provider::ring::Ring)
            .unwrap();
    }
    // An RS256 signature relabelled RS384 or PS256 does not verify.
    let t = token(&claims(), &rsa(Algorithm::Rs256), None, json!({}));
    let jws = Jws::parse(&t).unwrap();
    let key = jwk_of(&rsa(Algorithm::Rs256), None);
    for alg in [Algorithm::Rs384, Algorithm::Ps256] {
        let e = jws::verify_signature(alg, &key, jws.signing_input(), jws.signature(), &RustCrypto)
            .unwrap_err();
        assert_eq!(e.code(), "ERR_JWS_SIGNATURE_INVALID", "{alg}");
    }
    // verify_signature refuses a key that does not fit.
    let ec = jwk_of(&es256(), None);
    assert_eq!(
        code(jws::verify_signature(
            Algorithm::Rs256,
            &ec,
            b"x",
            &[0; 256],
            &RustCrypto
        )),
        "ERR_JWS_KEY_ALG_MISMATCH"
    );
    assert!(matches!(ec.key(), PublicKey::Ec(_)));
}

#[test]
fn typ_comparison() {
    let t = token(
        &claims(),
        &es256(),
        None,
        json!({"typ": "Application/AT+JWT"}),
    );
    let jws = Jws::parse(&t).unwrap();
    assert!(jws.header().typ_is("at+jwt"));
    assert!(jws.header().typ_is("application/at+jwt"));
    assert!(!jws.header().typ_is("jwt"));
    assert!(!jws.header().typ_is("dpop+jwt"));
}
