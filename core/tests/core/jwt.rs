//! JWT claims validation: every refusal, by code, and the boundaries.

use serde_json::{Map, Value, json};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::{self, Validation};
use smartgate_core::provider::rustcrypto::RustCrypto;

use crate::common::*;

fn val() -> Validation {
    Validation::new([ISS], [AUD])
}

fn check(
    claims: &Map<String, Value>,
    v: &Validation,
    now: i64,
) -> Result<jwt::VerifiedJwt, smartgate_core::Error> {
    let signer = es256();
    let keys = set(vec![jwk_of(&signer, Some("k"))]);
    jwt::verify(
        &token(claims, &signer, Some("k"), json!({"typ": "at+jwt"})),
        &keys,
        v,
        &RustCrypto,
        now,
    )
}

fn with(changes: Value) -> Map<String, Value> {
    let mut c = claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.remove(k);
        } else {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

#[test]
fn accepts_and_types_the_claims() {
    let ok = check(&claims(), &val(), NOW).unwrap();
    assert_eq!(ok.claims.iss(), Some(ISS));
    assert_eq!(ok.claims.aud(), [AUD]);
    assert_eq!(ok.claims.sub(), Some("Practitioner/1"));
    assert_eq!(ok.claims.exp(), Some(NOW + 300));
    assert_eq!(ok.claims.iat(), Some(NOW - 10));
    assert_eq!(ok.claims.jti(), Some("abc"));
    assert_eq!(
        ok.claims.get("scope"),
        Some(&json!("patient/Observation.rs"))
    );
    assert_eq!(ok.kid.as_deref(), Some("k"));
    assert_eq!(ok.header.alg(), Algorithm::Es256);
}

#[test]
fn exp_boundaries_and_leeway() {
    let c = with(json!({"exp": NOW}));
    assert_eq!(code(check(&c, &val(), NOW)), "ERR_JWT_EXPIRED"); // now >= exp
    check(&c, &val(), NOW - 1).unwrap();
    check(&c, &val().leeway(1), NOW).unwrap();
    assert_eq!(
        code(check(&c, &val().leeway(1), NOW + 1)),
        "ERR_JWT_EXPIRED"
    );
    assert_eq!(
        code(check(&with(json!({"exp": null})), &val(), NOW)),
        "ERR_JWT_CLAIM_MISSING"
    );
    check(&with(json!({"exp": null})), &val().exp_optional(), NOW).unwrap();
    // Fractions are allowed (NumericDate) and dropped.
    check(&with(json!({"exp": NOW as f64 + 0.5})), &val(), NOW - 1).unwrap();
    assert_eq!(
        code(check(&with(json!({"exp": NOW as f64 + 0.5})), &val(), NOW)),
        "ERR_JWT_EXPIRED"
    );
    // Huge values saturate instead of overflowing.
    check(&with(json!({"exp": 1e300})), &val().leeway(u64::MAX), NOW).unwrap();
    check(
        &with(json!({"exp": i64::MAX})),
        &val().leeway(u64::MAX),
        NOW,
    )
    .unwrap();
}

#[test]
fn nbf_and_iat() {
    assert_eq!(
        code(check(&with(json!({"nbf": NOW + 1})), &val(), NOW)),
        "ERR_JWT_NOT_YET_VALID"
    );
    check(&with(json!({"nbf": NOW})), &val(), NOW).unwrap();
    check(&with(json!({"nbf": NOW + 5})), &val().leeway(5), NOW).unwrap();
    assert_eq!(
        code(check(&with(json!({"iat": NOW + 1})), &val(), NOW)),
        "ERR_JWT_IAT_FUTURE"
    );
    check(&with(json!({"iat": NOW + 1})), &val().leeway(1), NOW).unwrap();
}

#[test]
fn max_age() {
    let c = with(json!({"iat": NOW - 60}));
    check(&c, &val().max_age(60), NOW).unwrap();
    assert_eq!(code(check(&c, &val().max_age(59), NOW)), "ERR_JWT_TOO_OLD");
    check(&c, &val().max_age(59).leeway(1), NOW).unwrap();
    let e = check(&with(json!({"iat": null})), &val().max_age(60), NOW).unwrap_err();
    assert_eq!(e.code(), "ERR_JWT_CLAIM_MISSING");
    assert!(e.to_string().contains("\"iat\""));
}

#[test]
fn issuer() {
    assert_eq!(
        code(check(
            &with(json!({"iss": "https://evil.example"})),
            &val(),
            NOW
        )),
        "ERR_JWT_ISSUER_MISMATCH"
    );
    assert_eq!(
        code(check(&with(json!({"iss": format!("{ISS}/")})), &val(), NOW)),
        "ERR_JWT_ISSUER_MISMATCH"
    );
    assert_eq!(
        code(check(&with(json!({"iss": null})), &val(), NOW)),
        "ERR_JWT_CLAIM_MISSING"
    );
    let two = Validation::new(["https://other.example", ISS], [AUD]);
    check(&claims(), &two, NOW).unwrap();
    let none: [&str; 0] = [];
    assert_eq!(
        code(check(&claims(), &Validation::new(none, [AUD]), NOW)),
        "ERR_JWT_ISSUER_MISMATCH"
    );
}

#[test]
fn audience() {
    assert_eq!(
        code(check(
            &with(json!({"aud": "https://other.example/fhir"})),
            &val(),
            NOW
        )),
        "ERR_JWT_AUDIENCE_MISMATCH"
    );
    assert_eq!(
        code(check(&with(json!({"aud": null})), &val(), NOW)),
        "ERR_JWT_CLAIM_MISSING"
    );
    assert_eq!(
        code(check(&with(json!({"aud": []})), &val(), NOW)),
        "ERR_JWT_AUDIENCE_MISMATCH"
    );
    check(&with(json!({"aud": ["x", AUD]})), &val(), NOW).unwrap();
    let ok = check(
        &with(json!({"aud": ["x", AUD]})),
        &Validation::new([ISS], ["y", AUD]),
        NOW,
    )
    .unwrap();
    assert_eq!(ok.claims.aud(), ["x", AUD]);
}

#[test]
fn claim_types() {
    for (name, bad) in [
        ("exp", json!("1700000300")),
        ("nbf", json!(true)),
        ("iat", json!([1])),
        ("iss", json!(1)),
        ("sub", json!({})),
        ("jti", json!(5)),
        ("aud", json!(7)),
        ("aud", json!([AUD, 1])),
    ] {
        let e = check(&with(json!({ name: bad })), &val(), NOW).unwrap_err();
        assert_eq!(e.code(), "ERR_JWT_CLAIM_INVALID", "{name}");
        assert!(e.to_string().contains(name), "{e}");
    }
}

#[test]
fn payload_must_be_an_object() {
    let signer = es256();
    let keys = set(vec![jwk_of(&signer, None)]);
    for payload in [&b"[1,2]"[..], b"\"text\"", b"not json", b"", b"{\"a\":1"] {
        let t = smartgate_core::sign::sign_compact(&Map::new(), payload, &signer).unwrap();
        assert_eq!(
            code(jwt::verify(&t, &keys, &val(), &RustCrypto, NOW)),
            "ERR_JWT_MALFORMED"
        );
    }
}

#[test]
fn required_claims() {
    let v = val().require("patient").require("scope");
    let e = check(&claims(), &v, NOW).unwrap_err();
    assert_eq!(e.code(), "ERR_JWT_CLAIM_MISSING");
    assert!(e.to_string().contains("patient"));
    check(&with(json!({"patient": "123"})), &v, NOW).unwrap();
}

#[test]
fn typ_and_algorithm_policy() {
    check(&claims(), &val().typ("at+jwt"), NOW).unwrap();
    check(&claims(), &val().typ("application/at+jwt"), NOW).unwrap();
    assert_eq!(
        code(check(&claims(), &val().typ("JWT"), NOW)),
        "ERR_JWT_TYP_MISMATCH"
    );
    assert_eq!(
        code(check(
            &claims(),
            &val().algorithms(&[Algorithm::Rs256]),
            NOW
        )),
        "ERR_JWS_ALG_NOT_ALLOWED"
    );
    check(&claims(), &val().algorithms(&[Algorithm::Es256]), NOW).unwrap();
    assert_eq!(
        code(check(&claims(), &val().algorithms(&[]), NOW)),
        "ERR_JWS_ALG_NOT_ALLOWED"
    );
}

#[test]
fn a_bad_signature_is_reported_before_any_claim() {
    // Expired, wrong issuer and audience, and signed by the wrong key: the answer is
    // the signature, so a forger learns nothing about the claim policy.
    let c = with(json!({"exp": 1, "iss": "x", "aud": "y"}));
    let keys = set(vec![jwk_of(&es256(), Some("k"))]);
    let t = token(&c, &es256_other(), Some("k"), json!({}));
    assert_eq!(
        code(jwt::verify(&t, &keys, &val(), &RustCrypto, NOW)),
        "ERR_JWS_SIGNATURE_INVALID"
    );
}
