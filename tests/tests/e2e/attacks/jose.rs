//! Token forgery rows: the core's `jwt::verify` refuses each forged access token with
//! its code; the same forgery as a `private_key_jwt` client assertion is refused by a
//! running mock EHR with `invalid_client`.

use serde_json::{Map, Value, json};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt;
use smartgate_core::provider::Signer;
use smartgate_core::provider::ring::RingSigner;
use smartgate_core::provider::rustcrypto::RustCrypto;

use super::*;

const RSA_KEY: &[u8] = include_bytes!("../../../../mock-ehr/tests/keys/client-rsa2048.pk8");

fn rsa() -> RingSigner {
    RingSigner::from_pkcs8(Algorithm::Rs256, RSA_KEY).unwrap()
}

fn verify(token: &str) -> Result<jwt::VerifiedJwt, smartgate_core::Error> {
    jwt::verify(
        token,
        &keys_of(&issuer(), "as-1"),
        &validation(),
        &RustCrypto,
        NOW,
    )
}

/// The network half: the forgery `make` builds from an assertion's claims, presented
/// to the mock EHR's token endpoint, gets `invalid_client`.
async fn network<F: Fn(&Map<String, Value>) -> String>(make: F) {
    let ehr = ehr().await;
    // The honest assertion passes, so the refusal below is about the forgery.
    let honest = jwt(
        &assertion_claims(&ehr, "honest"),
        json!({"kid": "as-1"}),
        &issuer(),
    );
    assert_eq!(token_error(&ehr, &honest).await, "(accepted)");
    assert_eq!(
        token_error(&ehr, &make(&assertion_claims(&ehr, "forged"))).await,
        "invalid_client"
    );
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn attack_alg_none() {
    assert_eq!(
        code(verify(&raw(
            r#"{"alg":"none","kid":"as-1"}"#,
            &claims(),
            b""
        ))),
        "ERR_JWS_ALG_NONE"
    );
    network(|c| raw(r#"{"alg":"none","kid":"as-1"}"#, c, b"")).await;
}

#[tokio::test]
async fn attack_hs256_signed_with_the_public_key() {
    // Algorithm confusion: an HMAC "signed" with the issuer's public key bytes.
    let public = issuer()
        .public_key()
        .to_jwk_members()
        .get("x")
        .unwrap()
        .to_string();
    let forged =
        |c: &Map<String, Value>| raw(r#"{"alg":"HS256","kid":"as-1"}"#, c, public.as_bytes());
    assert_eq!(code(verify(&forged(&claims()))), "ERR_JWS_ALG_SYMMETRIC");
    network(forged).await;
}

#[tokio::test]
async fn attack_rsa_token_against_ec_keys() {
    let t = jwt(&claims(), json!({"kid": "as-1"}), &rsa());
    assert_eq!(code(verify(&t)), "ERR_JWS_KEY_ALG_MISMATCH");
    let t = jwt(&claims(), json!({}), &rsa());
    assert_eq!(code(verify(&t)), "ERR_JWS_KEY_NOT_FOUND");
    network(|c| jwt(c, json!({"kid": "as-1"}), &rsa())).await;
}

#[tokio::test]
async fn attack_ec_token_against_rsa_keys() {
    let rsa_keys = keys_of(&rsa(), "as-1");
    let t = jwt(&claims(), json!({"kid": "as-1"}), &issuer());
    let r = jwt::verify(&t, &rsa_keys, &validation(), &RustCrypto, NOW);
    assert_eq!(code(r), "ERR_JWS_KEY_ALG_MISMATCH");
    let t = jwt(&claims(), json!({}), &issuer());
    assert_eq!(
        code(jwt::verify(&t, &rsa_keys, &validation(), &RustCrypto, NOW)),
        "ERR_JWS_KEY_NOT_FOUND"
    );
}

#[tokio::test]
async fn attack_kid_names_a_missing_key() {
    let t = jwt(&claims(), json!({"kid": "nope"}), &issuer());
    assert_eq!(code(verify(&t)), "ERR_JWS_KEY_NOT_FOUND");
    network(|c| jwt(c, json!({"kid": "nope"}), &issuer())).await;
}

#[tokio::test]
async fn attack_embedded_jwk_jku_x5u_are_ignored() {
    // The attacker signs with its own key and names it every way JOSE allows: only
    // the verifier's key set counts, and nothing is fetched.
    let mut jwk = Value::Object(attacker().public_key().to_jwk_members());
    jwk["kid"] = json!("as-1");
    let header = json!({"kid": "as-1", "jwk": jwk, "jku": "http://127.0.0.1:9/jwks", "x5u": "http://127.0.0.1:9/x5u"});
    assert_eq!(
        code(verify(&jwt(&claims(), header.clone(), &attacker()))),
        "ERR_JWS_SIGNATURE_INVALID"
    );
    network(|c| jwt(c, header.clone(), &attacker())).await;
}

#[tokio::test]
async fn attack_unknown_crit() {
    let header = json!({"kid": "as-1", "crit": ["exp"], "exp": 1});
    assert_eq!(
        code(verify(&jwt(&claims(), header.clone(), &issuer()))),
        "ERR_JWS_CRIT_UNSUPPORTED"
    );
    network(|c| jwt(c, header.clone(), &issuer())).await;
}

fn with_signature(token: &str, sig: &[u8]) -> String {
    let (head, _) = token.rsplit_once('.').unwrap();
    format!("{head}.{}", smartgate_core::base64url::encode(sig))
}

#[tokio::test]
async fn attack_ecdsa_r_zero() {
    // CVE-2022-21449: r = 0 (with s = 0, the "psychic signature"; and with a real s).
    let t = jwt(&claims(), json!({"kid": "as-1"}), &issuer());
    assert_eq!(
        code(verify(&with_signature(&t, &[0; 64]))),
        "ERR_JWS_SIGNATURE_MALFORMED"
    );
    let sig = smartgate_core::jws::Jws::parse(&t)
        .unwrap()
        .signature()
        .to_vec();
    let r_zero = [&[0u8; 32][..], &sig[32..]].concat();
    assert_eq!(
        code(verify(&with_signature(&t, &r_zero))),
        "ERR_JWS_SIGNATURE_MALFORMED"
    );
    network(|c| with_signature(&jwt(c, json!({"kid": "as-1"}), &issuer()), &[0; 64])).await;
}

#[tokio::test]
async fn attack_ecdsa_s_zero() {
    let t = jwt(&claims(), json!({"kid": "as-1"}), &issuer());
    let sig = smartgate_core::jws::Jws::parse(&t)
        .unwrap()
        .signature()
        .to_vec();
    let s_zero = [&sig[..32], &[0u8; 32][..]].concat();
    assert_eq!(
        code(verify(&with_signature(&t, &s_zero))),
        "ERR_JWS_SIGNATURE_MALFORMED"
    );
    network(|c| {
        let t = jwt(c, json!({"kid": "as-1"}), &issuer());
        let sig = smartgate_core::jws::Jws::parse(&t)
            .unwrap()
            .signature()
            .to_vec();
        with_signature(&t, &[&sig[..32], &[0u8; 32][..]].concat())
    })
    .await;
}

#[tokio::test]
async fn attack_bad_signature_with_valid_claims() {
    let t = jwt(&claims(), json!({"kid": "as-1"}), &attacker());
    assert_eq!(code(verify(&t)), "ERR_JWS_SIGNATURE_INVALID");
    network(|c| jwt(c, json!({"kid": "as-1"}), &attacker())).await;
}

fn claims_with(change: Value) -> Map<String, Value> {
    let mut c = claims();
    for (k, v) in change.as_object().unwrap() {
        if v.is_null() {
            c.remove(k);
        } else {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

#[tokio::test]
async fn attack_expired_token() {
    let t = jwt(
        &claims_with(json!({"exp": NOW - 1})),
        json!({"kid": "as-1"}),
        &issuer(),
    );
    assert_eq!(code(verify(&t)), "ERR_JWT_EXPIRED");
    network(|c| {
        let mut c = c.clone();
        c.insert("exp".into(), (wall_clock() - 10).into());
        jwt(&c, json!({"kid": "as-1"}), &issuer())
    })
    .await;
}

#[tokio::test]
async fn attack_not_yet_valid_token() {
    let t = jwt(
        &claims_with(json!({"nbf": NOW + 60})),
        json!({"kid": "as-1"}),
        &issuer(),
    );
    assert_eq!(code(verify(&t)), "ERR_JWT_NOT_YET_VALID");
    network(|c| {
        let mut c = c.clone();
        c.insert("nbf".into(), (wall_clock() + 120).into());
        jwt(&c, json!({"kid": "as-1"}), &issuer())
    })
    .await;
}

#[tokio::test]
async fn attack_wrong_issuer() {
    let t = jwt(
        &claims_with(json!({"iss": "https://evil.example"})),
        json!({"kid": "as-1"}),
        &issuer(),
    );
    assert_eq!(code(verify(&t)), "ERR_JWT_ISSUER_MISMATCH");
    network(|c| {
        let mut c = c.clone();
        c.insert("iss".into(), "someone-else".into());
        jwt(&c, json!({"kid": "as-1"}), &issuer())
    })
    .await;
}

#[tokio::test]
async fn attack_missing_audience() {
    let t = jwt(
        &claims_with(json!({"aud": null})),
        json!({"kid": "as-1"}),
        &issuer(),
    );
    assert_eq!(code(verify(&t)), "ERR_JWT_CLAIM_MISSING");
    network(|c| {
        let mut c = c.clone();
        c.remove("aud");
        jwt(&c, json!({"kid": "as-1"}), &issuer())
    })
    .await;
}

#[tokio::test]
async fn attack_wrong_audience() {
    let t = jwt(
        &claims_with(json!({"aud": "https://other.example/fhir"})),
        json!({"kid": "as-1"}),
        &issuer(),
    );
    assert_eq!(code(verify(&t)), "ERR_JWT_AUDIENCE_MISMATCH");
    network(|c| {
        let mut c = c.clone();
        c.insert("aud".into(), "https://other.example/token".into());
        jwt(&c, json!({"kid": "as-1"}), &issuer())
    })
    .await;
}
