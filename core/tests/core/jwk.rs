//! JWK and JWK Set parsing: every refusal, by code.

use serde_json::json;
use smartgate_core::base64url;
use smartgate_core::jwk::{self, Jwk, JwkSet, MAX_JSON_LEN, MAX_KEYS};
use smartgate_core::jws::Algorithm;

use crate::common::*;

const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

fn ec(extra: serde_json::Value) -> serde_json::Value {
    let mut v = json!({"kty": "EC", "crv": "P-256", "x": X, "y": Y});
    for (k, val) in extra.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

fn rsa_n() -> Vec<u8> {
    base64url::decode(
        data("rfc7515_a2_rs256.json")["jwk"]["n"]
            .as_str()
            .unwrap()
            .as_bytes(),
    )
    .unwrap()
}

fn rsa_jwk(n: &[u8], e: &str) -> serde_json::Value {
    json!({"kty": "RSA", "n": base64url::encode(n), "e": e})
}

fn jcode(v: serde_json::Value) -> &'static str {
    code(Jwk::from_value(&v))
}

#[test]
fn accepts_public_keys() {
    let k = Jwk::from_value(&ec(
        json!({"kid": "k1", "use": "sig", "key_ops": ["verify"], "alg": "ES256"}),
    ))
    .unwrap();
    assert_eq!(k.kid(), Some("k1"));
    assert!(k.allows(Algorithm::Es256));
    assert!(!k.allows(Algorithm::Es384));
    assert!(!k.allows(Algorithm::Rs256));
    let r = Jwk::from_value(&rsa_jwk(&rsa_n(), "AQAB")).unwrap();
    for alg in [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
    ] {
        assert!(r.allows(alg), "{alg}");
    }
    assert!(!r.allows(Algorithm::Es256));
    let p384 = jwk_of(&es384(), Some("p384"));
    assert!(p384.allows(Algorithm::Es384) && !p384.allows(Algorithm::Es256));
    // Round trip through the published form.
    let again = Jwk::from_map(&p384.to_json()).unwrap();
    assert_eq!(again, p384);
}

#[test]
fn malformed() {
    assert_eq!(code(Jwk::from_json("not json")), "ERR_JWK_MALFORMED");
    assert_eq!(jcode(json!([1, 2])), "ERR_JWK_MALFORMED");
    assert_eq!(
        jcode(json!({"crv": "P-256", "x": X, "y": Y})),
        "ERR_JWK_MALFORMED"
    );
    assert_eq!(jcode(json!({"kty": 1})), "ERR_JWK_MALFORMED");
    assert_eq!(
        jcode(ec(
            json!({"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU="})
        )),
        "ERR_JWK_MALFORMED"
    );
    assert_eq!(
        jcode(ec(
            json!({"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE+"})
        )),
        "ERR_JWK_MALFORMED"
    );
    assert_eq!(jcode(ec(json!({"x": 5}))), "ERR_JWK_MALFORMED");
    assert_eq!(
        jcode(json!({"kty": "EC", "crv": "P-256", "x": X})),
        "ERR_JWK_MALFORMED"
    );
    assert_eq!(
        jcode(json!({"kty": "EC", "x": X, "y": Y})),
        "ERR_JWK_MALFORMED"
    );
    assert_eq!(jcode(ec(json!({"use": 1}))), "ERR_JWK_MALFORMED");
    assert_eq!(jcode(ec(json!({"key_ops": "verify"}))), "ERR_JWK_MALFORMED");
    assert_eq!(jcode(ec(json!({"key_ops": [1]}))), "ERR_JWK_MALFORMED");
    assert_eq!(jcode(ec(json!({"kid": 7}))), "ERR_JWK_MALFORMED");
    assert_eq!(jcode(ec(json!({"alg": ["ES256"]}))), "ERR_JWK_MALFORMED");
    // RFC 7518 section 6.3.1: minimal octets for n and e; an even modulus is no RSA key.
    let mut padded = vec![0u8];
    padded.extend(rsa_n());
    assert_eq!(jcode(rsa_jwk(&padded, "AQAB")), "ERR_JWK_MALFORMED");
    assert_eq!(jcode(rsa_jwk(&rsa_n(), "AAEAAQ")), "ERR_JWK_MALFORMED");
    let mut even = rsa_n();
    *even.last_mut().unwrap() &= 0xfe;
    assert_eq!(jcode(rsa_jwk(&even, "AQAB")), "ERR_JWK_MALFORMED");
    assert_eq!(
        jcode(json!({"kty": "RSA", "n": "", "e": "AQAB"})),
        "ERR_JWK_MALFORMED"
    );
}

#[test]
fn private_members_are_refused() {
    let d = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
    assert_eq!(jcode(ec(json!({"d": d}))), "ERR_JWK_PRIVATE_KEY");
    for member in ["p", "q", "dp", "dq", "qi", "oth", "d"] {
        let mut v = rsa_jwk(&rsa_n(), "AQAB");
        v[member] = json!("AQAB");
        assert_eq!(jcode(v), "ERR_JWK_PRIVATE_KEY", "{member}");
    }
    assert_eq!(
        jcode(json!({"kty": "oct", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"})),
        "ERR_JWK_PRIVATE_KEY"
    );
}

#[test]
fn unsupported_kty_and_crv() {
    assert_eq!(
        jcode(json!({"kty": "OKP", "crv": "Ed25519", "x": X})),
        "ERR_JWK_KTY_UNSUPPORTED"
    );
    assert_eq!(jcode(json!({"kty": "oct"})), "ERR_JWK_KTY_UNSUPPORTED");
    assert_eq!(
        jcode(json!({"kty": "ec", "crv": "P-256", "x": X, "y": Y})),
        "ERR_JWK_KTY_UNSUPPORTED"
    );
    assert_eq!(
        jcode(ec(json!({"crv": "P-521"}))),
        "ERR_JWK_CRV_UNSUPPORTED"
    );
    assert_eq!(
        jcode(ec(json!({"crv": "secp256k1"}))),
        "ERR_JWK_CRV_UNSUPPORTED"
    );
}

#[test]
fn coordinate_length_and_curve_membership() {
    let x = base64url::decode(X.as_bytes()).unwrap();
    assert_eq!(
        jcode(ec(json!({"x": base64url::encode(&x[1..])}))),
        "ERR_JWK_COORDINATE_LENGTH"
    );
    let mut long = vec![0u8];
    long.extend(&x);
    assert_eq!(
        jcode(ec(json!({"x": base64url::encode(&long)}))),
        "ERR_JWK_COORDINATE_LENGTH"
    );
    // A P-256 point given as P-384.
    assert_eq!(
        jcode(ec(json!({"crv": "P-384"}))),
        "ERR_JWK_COORDINATE_LENGTH"
    );
    // y with its last bit flipped: in the field, not on the curve.
    assert_eq!(
        jcode(ec(
            json!({"y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5aw"})
        )),
        "ERR_JWK_POINT_INVALID"
    );
    assert_eq!(
        jcode(ec(
            json!({"x": base64url::encode(&[0; 32]), "y": base64url::encode(&[0; 32])})
        )),
        "ERR_JWK_POINT_INVALID"
    );
    // Coordinates at or above the field prime are not field elements.
    assert_eq!(
        jcode(ec(json!({"x": base64url::encode(&[0xff; 32])}))),
        "ERR_JWK_POINT_INVALID"
    );
}

#[test]
fn rsa_sizes_and_exponents() {
    let n = rsa_n();
    let mut short = n[..128].to_vec(); // 1024 bits
    *short.last_mut().unwrap() |= 1;
    assert_eq!(jcode(rsa_jwk(&short, "AQAB")), "ERR_JWK_RSA_TOO_SHORT");
    let mut just_short = n[1..].to_vec(); // 2040 bits
    *just_short.last_mut().unwrap() |= 1;
    assert_eq!(jcode(rsa_jwk(&just_short, "AQAB")), "ERR_JWK_RSA_TOO_SHORT");
    let mut long = vec![0x01];
    long.extend(std::iter::repeat_n(0xab, 1024)); // 8193 bits
    assert_eq!(jcode(rsa_jwk(&long, "AQAB")), "ERR_JWK_RSA_TOO_LONG");
    for e in ["AQ", "Ag", "BA", "AgAAAAE", "AQAAAAAB"] {
        assert_eq!(
            jcode(rsa_jwk(&n, e)),
            "ERR_JWK_RSA_EXPONENT_INVALID",
            "e = {e}"
        );
    }
    Jwk::from_value(&rsa_jwk(&n, "Aw")).unwrap(); // e = 3
    Jwk::from_value(&rsa_jwk(&n, "AQAAAAE")).unwrap(); // e = 2^32 + 1
}

#[test]
fn use_key_ops_alg_that_forbid_verification() {
    assert_eq!(jcode(ec(json!({"use": "enc"}))), "ERR_JWK_USE_MISMATCH");
    assert_eq!(jcode(ec(json!({"use": "SIG"}))), "ERR_JWK_USE_MISMATCH");
    assert_eq!(
        jcode(ec(json!({"key_ops": ["encrypt", "sign"]}))),
        "ERR_JWK_KEY_OPS_MISMATCH"
    );
    assert_eq!(
        jcode(ec(json!({"key_ops": []}))),
        "ERR_JWK_KEY_OPS_MISMATCH"
    );
    Jwk::from_value(&ec(json!({"key_ops": ["sign", "verify"]}))).unwrap();
    assert_eq!(jcode(ec(json!({"alg": "RS256"}))), "ERR_JWK_ALG_MISMATCH");
    assert_eq!(jcode(ec(json!({"alg": "ES384"}))), "ERR_JWK_ALG_MISMATCH");
    assert_eq!(jcode(ec(json!({"alg": "HS256"}))), "ERR_JWK_ALG_MISMATCH");
    assert_eq!(jcode(ec(json!({"alg": "none"}))), "ERR_JWK_ALG_MISMATCH");
    let mut r = rsa_jwk(&rsa_n(), "AQAB");
    r["alg"] = json!("RSA-OAEP");
    assert_eq!(jcode(r.clone()), "ERR_JWK_ALG_MISMATCH");
    r["alg"] = json!("ES256");
    assert_eq!(jcode(r), "ERR_JWK_ALG_MISMATCH");
}

#[test]
fn a_jwk_alg_restricts_the_key() {
    let mut r = rsa_jwk(&rsa_n(), "AQAB");
    r["alg"] = json!("RS384");
    let k = Jwk::from_value(&r).unwrap();
    assert!(k.allows(Algorithm::Rs384));
    assert!(!k.allows(Algorithm::Rs256));
}

#[test]
fn size_cap() {
    let big = format!(r#"{{"kty":"EC","pad":"{}"}}"#, "a".repeat(MAX_JSON_LEN));
    assert_eq!(code(Jwk::from_json(&big)), "ERR_INPUT_TOO_LARGE");
    assert_eq!(code(JwkSet::from_json(&big)), "ERR_INPUT_TOO_LARGE");
}

#[test]
fn sets_keep_usable_keys_and_report_the_rest() {
    let set = JwkSet::from_value(&json!({"keys": [
        ec(json!({"kid": "sig"})),
        ec(json!({"kid": "enc", "use": "enc"})),
        {"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "ed"},
        rsa_jwk(&rsa_n(), "AQAB"),
        ec(json!({"kid": "bad", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5aw"})),
        "not an object",
    ]}))
    .unwrap();
    assert_eq!(set.keys().len(), 2);
    let skipped: Vec<_> = set
        .skipped()
        .iter()
        .map(|s| (s.index, s.kid.as_deref(), s.error.code()))
        .collect();
    assert_eq!(
        skipped,
        [
            (1, Some("enc"), "ERR_JWK_USE_MISMATCH"),
            (2, Some("ed"), "ERR_JWK_KTY_UNSUPPORTED"),
            (4, Some("bad"), "ERR_JWK_POINT_INVALID"),
            (5, None, "ERR_JWK_MALFORMED"),
        ]
    );
    assert_eq!(set.find("sig").count(), 1);
    assert_eq!(set.find("enc").count(), 0);
    let again = JwkSet::from_value(&set.to_json()).unwrap();
    assert_eq!(again.keys(), set.keys());
}

#[test]
fn sets_refuse_private_keys_and_bad_shapes() {
    let d = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
    let leaked = json!({"keys": [ec(json!({"kid": "ok"})), ec(json!({"d": d}))]});
    assert_eq!(code(JwkSet::from_value(&leaked)), "ERR_JWK_PRIVATE_KEY");
    assert_eq!(code(JwkSet::from_json("[]")), "ERR_JWKS_MALFORMED");
    assert_eq!(
        code(JwkSet::from_json(r#"{"keys": {}}"#)),
        "ERR_JWKS_MALFORMED"
    );
    assert_eq!(
        code(JwkSet::from_json(r#"{"key": []}"#)),
        "ERR_JWKS_MALFORMED"
    );
    assert_eq!(code(JwkSet::from_json("{")), "ERR_JWKS_MALFORMED");
    let many: Vec<_> = (0..=MAX_KEYS)
        .map(|i| ec(json!({"kid": i.to_string()})))
        .collect();
    assert_eq!(
        code(JwkSet::from_value(&json!({"keys": many}))),
        "ERR_JWKS_TOO_MANY_KEYS"
    );
    let max: Vec<_> = (0..MAX_KEYS)
        .map(|i| ec(json!({"kid": i.to_string()})))
        .collect();
    assert_eq!(
        JwkSet::from_value(&json!({"keys": max}))
            .unwrap()
            .keys()
            .len(),
        MAX_KEYS
    );
    JwkSet::from_json(r#"{"keys": []}"#).unwrap();
}

#[test]
fn thumbprint_refuses_private_keys() {
    let d = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
    assert_eq!(
        code(jwk::thumbprint(&ec(json!({"d": d})).to_string())),
        "ERR_JWK_PRIVATE_KEY"
    );
}
