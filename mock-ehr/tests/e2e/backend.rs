use axum::http::StatusCode;
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::ring::RingSigner;

use crate::support::*;

const TOKEN_URL: &str = "http://127.0.0.1:8080/token";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn backend_token(ehr: &Ehr, assertion: &str, scope: &str) -> Resp {
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    .await
}

fn ec(alg: Algorithm) -> RingSigner {
    RingSigner::generate_ecdsa(alg).unwrap().0
}

#[tokio::test]
async fn es384_rs384_es256_rs256_assertions_are_accepted() {
    for alg in [
        Algorithm::Es384,
        Algorithm::Rs384,
        Algorithm::Es256,
        Algorithm::Rs256,
    ] {
        let signer = if alg.is_rsa() {
            rsa_signer(alg)
        } else {
            ec(alg)
        };
        let ehr = Ehr::new(
            config_with(vec![backend_client("svc", jwks_of(&signer, "k1"))]),
            true,
        );
        let a = assertion(&signer, "k1", "svc", TOKEN_URL, NOW, "jti-1", 300);
        let res = backend_token(&ehr, &a, "system/*.rs system/Patient.rs").await;
        assert_eq!(res.status, StatusCode::OK, "{alg}: {}", res.text());
        let t = res.json();
        assert_eq!(t["scope"], "system/*.rs", "narrowed to what is allowed");
        assert!(t["expires_in"].as_i64().unwrap() <= 300);
        assert!(t.get("refresh_token").is_none());
        let jwks = ehr.get("/jwks.json").await.json();
        let claims = verify_with_core(
            &ehr,
            &jwks,
            t["access_token"].as_str().unwrap(),
            FHIR,
            &[Algorithm::Es256],
        );
        assert_eq!(claims["sub"], "svc");
        assert_eq!(claims["client_id"], "svc");
    }
}

#[tokio::test]
async fn every_assertion_failure_is_invalid_client() {
    let signer = ec(Algorithm::Es384);
    let other = ec(Algorithm::Es384);
    let ehr = Ehr::new(
        config_with(vec![backend_client("svc", jwks_of(&signer, "k1"))]),
        true,
    );
    let cases: Vec<(&str, String)> = vec![
        (
            "wrong key",
            assertion(&other, "k1", "svc", TOKEN_URL, NOW, "a", 300),
        ),
        (
            "unknown kid",
            assertion(&signer, "k2", "svc", TOKEN_URL, NOW, "b", 300),
        ),
        (
            "wrong aud",
            assertion(
                &signer,
                "k1",
                "svc",
                "http://127.0.0.1:8080/",
                NOW,
                "c",
                300,
            ),
        ),
        (
            "exp too far",
            assertion(&signer, "k1", "svc", TOKEN_URL, NOW, "d", 301),
        ),
        (
            "expired",
            assertion(&signer, "k1", "svc", TOKEN_URL, NOW - 400, "e", 300),
        ),
        (
            "unknown client",
            assertion(&signer, "k1", "nobody", TOKEN_URL, NOW, "f", 300),
        ),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (what, a) in &cases {
        let res = backend_token(&ehr, a, "system/*.rs").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}");
        res.assert_oauth_error("invalid_client");
    }
    // sub != iss
    let mut claims = serde_json::Map::new();
    for (k, v) in [
        ("iss", "svc"),
        ("sub", "other"),
        ("aud", TOKEN_URL),
        ("jti", "g"),
    ] {
        claims.insert(k.into(), v.into());
    }
    claims.insert("exp".into(), (NOW + 60).into());
    let a = smartgate_core::sign::sign_jwt(&claims, None, Some("k1"), &signer).unwrap();
    backend_token(&ehr, &a, "system/*.rs")
        .await
        .assert_oauth_error("invalid_client");
    // No kid.
    claims.insert("sub".into(), "svc".into());
    claims.insert("jti".into(), "h".into());
    let a = smartgate_core::sign::sign_jwt(&claims, None, None, &signer).unwrap();
    backend_token(&ehr, &a, "system/*.rs")
        .await
        .assert_oauth_error("invalid_client");
    // A jku that is not the registered JWKS URL.
    let mut header = serde_json::Map::new();
    header.insert("kid".into(), "k1".into());
    header.insert("jku".into(), "http://127.0.0.1:1/evil.json".into());
    claims.insert("jti".into(), "i".into());
    let a = smartgate_core::sign::sign_compact(
        &header,
        serde_json::to_string(&claims).unwrap().as_bytes(),
        &signer,
    )
    .unwrap();
    backend_token(&ehr, &a, "system/*.rs")
        .await
        .assert_oauth_error("invalid_client");
    // No token was issued by any of them.
    assert!(ehr.audit().await.iter().all(|e| e["outcome"] != "success"));
}

#[tokio::test]
async fn jti_is_never_reused() {
    let signer = ec(Algorithm::Es384);
    let ehr = Ehr::new(
        config_with(vec![backend_client("svc", jwks_of(&signer, "k1"))]),
        true,
    );
    let a = assertion(&signer, "k1", "svc", TOKEN_URL, NOW, "once", 300);
    assert_eq!(
        backend_token(&ehr, &a, "system/*.rs").await.status,
        StatusCode::OK
    );
    backend_token(&ehr, &a, "system/*.rs")
        .await
        .assert_oauth_error("invalid_client");
    let b = assertion(&signer, "k1", "svc", TOKEN_URL, NOW, "once", 200);
    backend_token(&ehr, &b, "system/*.rs")
        .await
        .assert_oauth_error("invalid_client");
}

#[tokio::test]
async fn two_keys_matching_kid_and_type_are_refused() {
    let a_key = ec(Algorithm::Es384);
    let b_key = ec(Algorithm::Es384);
    let mut jwks = jwks_of(&a_key, "dup");
    let extra = jwks_of(&b_key, "dup")["keys"][0].clone();
    jwks["keys"].as_array_mut().unwrap().push(extra);
    let ehr = Ehr::new(config_with(vec![backend_client("svc", jwks)]), true);
    let a = assertion(&a_key, "dup", "svc", TOKEN_URL, NOW, "x", 300);
    backend_token(&ehr, &a, "system/*.rs")
        .await
        .assert_oauth_error("invalid_client");
}

#[tokio::test]
async fn scopes_outside_the_allowed_set_are_refused() {
    let signer = ec(Algorithm::Es256);
    let ehr = Ehr::new(
        config_with(vec![backend_client("svc", jwks_of(&signer, "k1"))]),
        true,
    );
    let a = assertion(&signer, "k1", "svc", TOKEN_URL, NOW, "s1", 300);
    backend_token(&ehr, &a, "user/*.rs")
        .await
        .assert_oauth_error("invalid_scope");
}

#[tokio::test]
async fn builtin_demo_backend_works_with_its_shipped_key() {
    let ehr = Ehr::auto();
    let signer =
        RingSigner::from_pkcs8(Algorithm::Es384, mock_ehr::builtin::DEMO_BACKEND_KEY).unwrap();
    let a = assertion(
        &signer,
        mock_ehr::builtin::DEMO_BACKEND_KID,
        "demo-backend",
        TOKEN_URL,
        NOW,
        "d1",
        300,
    );
    let res = backend_token(&ehr, &a, "system/*.rs").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}
