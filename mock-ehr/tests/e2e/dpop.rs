//! DPoP (RFC 9449) at the token endpoint: bound tokens, bound refresh tokens of public
//! clients, server nonces, the server and client requirements, and every refusal with
//! its OAuth error code. Proofs are made with the core's `DpopKey`.

use axum::http::StatusCode;
use mock_ehr::{ClientAuthMethod, ClientConfig, Config, DpopConfig};
use serde_json::{Value, json};
use smartgate_core::dpop::DpopKey;
use smartgate_core::jws::Algorithm;

use crate::support::*;

const TOKEN_URL: &str = "http://127.0.0.1:8080/token";
const SCOPE: &str = "openid fhirUser launch/patient patient/*.rs offline_access";

fn key(n: u8) -> DpopKey {
    DpopKey::from_bytes(&[n; 32]).unwrap()
}

/// A proof for `POST /token` at `iat`, with a `jti` unique to `tag`.
fn proof(key: &DpopKey, now: i64, nonce: Option<&str>, tag: &str) -> String {
    key.proof_with_jti("POST", TOKEN_URL, None, nonce, now, &format!("jti-{tag}"))
        .unwrap()
}

fn code_pairs(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", "demo-app"),
    ]
}

async fn exchange_with(ehr: &Ehr, code: &str, dpop: Option<&str>) -> Resp {
    let headers: Vec<(&str, &str)> = dpop.map(|p| ("dpop", p)).into_iter().collect();
    ehr.post_form_with("/token", &code_pairs(code), &headers)
        .await
}

async fn refresh_with(ehr: &Ehr, rt: &str, dpop: Option<&str>) -> Resp {
    let headers: Vec<(&str, &str)> = dpop.map(|p| ("dpop", p)).into_iter().collect();
    ehr.post_form_with(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", "demo-app"),
        ],
        &headers,
    )
    .await
}

fn access_claims(ehr: &Ehr, jwks: &Value, t: &Value) -> serde_json::Map<String, Value> {
    verify_with_core(
        ehr,
        jwks,
        t["access_token"].as_str().unwrap(),
        FHIR,
        &[Algorithm::Es256],
    )
}

fn with_dpop(dpop: DpopConfig) -> Ehr {
    Ehr::new(
        Config {
            dpop,
            ..Config::default()
        },
        true,
    )
}

/// Asserts an `invalid_dpop_proof` refusal whose description names `code`.
fn assert_invalid_proof(res: &Resp, code: &str) {
    res.assert_oauth_error("invalid_dpop_proof");
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let description = res.json()["error_description"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(description.contains(code), "{code}: {description}");
}

#[tokio::test]
async fn a_proof_binds_the_access_token_and_a_public_clients_refresh_token() {
    let ehr = Ehr::auto();
    let k = key(1);
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    let res = exchange_with(&ehr, &code, Some(&proof(&k, NOW, None, "1"))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(
        res.header("dpop-nonce").is_none(),
        "no nonce unless configured"
    );
    let t = res.json();
    assert_eq!(t["token_type"], "DPoP");
    let jwks = ehr.get("/jwks.json").await.json();
    let at = access_claims(&ehr, &jwks, &t);
    assert_eq!(at["cnf"], json!({ "jkt": k.thumbprint() }));
    // Introspection reports the binding, for the access and the refresh token.
    let i = ehr.introspect(t["access_token"].as_str().unwrap()).await;
    assert_eq!(i["cnf"]["jkt"], k.thumbprint());
    assert_eq!(i["token_type"], "DPoP");
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(ehr.introspect(rt).await["cnf"]["jkt"], k.thumbprint());
    // Refresh with another key, or without a proof: refused, nothing used up.
    assert_invalid_proof(
        &refresh_with(&ehr, rt, Some(&proof(&key(2), NOW, None, "2"))).await,
        "ERR_DPOP_JKT_MISMATCH",
    );
    refresh_with(&ehr, rt, None)
        .await
        .assert_oauth_error("invalid_dpop_proof");
    assert_eq!(ehr.introspect(rt).await["active"], true);
    // The same key: a new token, bound to it again.
    let res = refresh_with(&ehr, rt, Some(&proof(&k, NOW, None, "3"))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let t2 = res.json();
    assert_eq!(t2["token_type"], "DPoP");
    assert_eq!(
        access_claims(&ehr, &jwks, &t2)["cnf"]["jkt"],
        k.thumbprint()
    );
    // The refusals are in the audit trail.
    let refusals = ehr
        .audit()
        .await
        .into_iter()
        .filter(|e| {
            e["outcome"] == "invalid_dpop_proof"
                || e["detail"].as_str().unwrap_or("").contains("DPoP")
        })
        .count();
    assert!(refusals >= 2, "{refusals}");
}

#[tokio::test]
async fn without_a_proof_tokens_stay_bearer_tokens() {
    let ehr = Ehr::auto();
    let t = ehr.tokens(SCOPE).await;
    assert_eq!(t["token_type"], "Bearer");
    let jwks = ehr.get("/jwks.json").await.json();
    assert!(access_claims(&ehr, &jwks, &t).get("cnf").is_none());
    let i = ehr.introspect(t["access_token"].as_str().unwrap()).await;
    assert_eq!(i["token_type"], "Bearer");
    assert!(i.get("cnf").is_none());
}

#[tokio::test]
async fn every_bad_proof_is_refused_with_invalid_dpop_proof() {
    let ehr = Ehr::auto();
    let k = key(3);
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    let wrong_htu = k
        .proof_with_jti(
            "POST",
            "http://127.0.0.1:8080/introspect",
            None,
            None,
            NOW,
            "a",
        )
        .unwrap();
    let wrong_htm = k
        .proof_with_jti("GET", TOKEN_URL, None, None, NOW, "b")
        .unwrap();
    let stale = proof(&k, NOW - 120, None, "c");
    let future = proof(&k, NOW + 60, None, "d");
    let good = proof(&k, NOW, None, "e");
    let tampered = {
        let mut chars: Vec<char> = good.chars().collect();
        let i = chars.len() - 10;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let cases: [(&str, &str); 7] = [
        ("not.a.jwt", "ERR_"),
        (&wrong_htu, "ERR_DPOP_HTU_MISMATCH"),
        (&wrong_htm, "ERR_DPOP_HTM_MISMATCH"),
        (&stale, "ERR_DPOP_IAT_STALE"),
        (&future, "ERR_DPOP_IAT_FUTURE"),
        (&tampered, "ERR_JWS_SIGNATURE"),
        (&format!("{good}, {good}"), "ERR_DPOP_MALFORMED"),
    ];
    for (p, code_expected) in cases {
        assert_invalid_proof(&exchange_with(&ehr, &code, Some(p)).await, code_expected);
    }
    // Two DPoP header fields.
    let two = ehr
        .post_form_with(
            "/token",
            &code_pairs(&code),
            &[("dpop", &good), ("dpop", &good)],
        )
        .await;
    assert_invalid_proof(&two, "ERR_DPOP_MALFORMED");
    // A proof signed with an HMAC "key" never verifies.
    let hs = {
        use smartgate_core::base64url::encode;
        let header = encode(
            json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": k.public_jwk()})
                .to_string()
                .as_bytes(),
        );
        let claims = encode(
            json!({"jti": "f", "htm": "POST", "htu": TOKEN_URL, "iat": NOW})
                .to_string()
                .as_bytes(),
        );
        format!("{header}.{claims}.{}", encode(b"mac"))
    };
    assert_invalid_proof(
        &exchange_with(&ehr, &code, Some(&hs)).await,
        "ERR_JWS_ALG_SYMMETRIC",
    );
    // None of the refusals used the code; the good proof works once...
    let ok = exchange_with(&ehr, &code, Some(&good)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    // ...and never again (the shared replay cache), even for another request.
    let code2 = ehr.code("demo-app", SCOPE, &[]).await;
    assert_invalid_proof(
        &exchange_with(&ehr, &code2, Some(&good)).await,
        "ERR_DPOP_REPLAY",
    );
    assert_eq!(
        exchange_with(&ehr, &code2, Some(&proof(&k, NOW, None, "g")))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn server_nonces_use_dpop_nonce_and_rotate() {
    let ehr = with_dpop(DpopConfig {
        nonce: true,
        nonce_period_secs: 300,
        ..DpopConfig::default()
    });
    let k = key(4);
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    // No nonce: 400 use_dpop_nonce, with the nonce to use.
    let first = exchange_with(&ehr, &code, Some(&proof(&k, NOW, None, "1"))).await;
    first.assert_oauth_error("use_dpop_nonce");
    assert_eq!(first.status, StatusCode::BAD_REQUEST);
    let nonce = first.header("dpop-nonce").unwrap().to_string();
    // A wrong nonce: the same.
    let wrong = exchange_with(&ehr, &code, Some(&proof(&k, NOW, Some("nope"), "2"))).await;
    wrong.assert_oauth_error("use_dpop_nonce");
    assert_eq!(wrong.header("dpop-nonce"), Some(nonce.as_str()));
    // With it: a bound token, and the current nonce for next time.
    let ok = exchange_with(&ehr, &code, Some(&proof(&k, NOW, Some(&nonce), "3"))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["token_type"], "DPoP");
    assert_eq!(ok.header("dpop-nonce"), Some(nonce.as_str()));
    // Bearer requests need no nonce.
    let plain = ehr.code("demo-app", SCOPE, &[]).await;
    assert_eq!(
        exchange_with(&ehr, &plain, None).await.json()["token_type"],
        "Bearer"
    );
    // Two periods on, the nonce is stale: use_dpop_nonce again, with a new one.
    ehr.state.clock().advance(600);
    let now = ehr.now();
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    let stale = exchange_with(&ehr, &code, Some(&proof(&k, now, Some(&nonce), "4"))).await;
    stale.assert_oauth_error("use_dpop_nonce");
    let fresh = stale.header("dpop-nonce").unwrap().to_string();
    assert_ne!(fresh, nonce);
    let ok = exchange_with(&ehr, &code, Some(&proof(&k, now, Some(&fresh), "5"))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
}

#[tokio::test]
async fn a_nonce_round_trip_does_not_use_up_a_client_assertion() {
    use smartgate_core::provider::ring::RingSigner;
    let signer = RingSigner::generate_ecdsa(Algorithm::Es384).unwrap().0;
    let ehr = Ehr::new(
        Config {
            clients: vec![backend_client("svc", jwks_of(&signer, "k1"))],
            dpop: DpopConfig {
                nonce: true,
                ..DpopConfig::default()
            },
            ..Config::default()
        },
        true,
    );
    let a = assertion(&signer, "k1", "svc", TOKEN_URL, NOW, "once", 300);
    let body = [
        ("grant_type", "client_credentials"),
        ("scope", "system/*.rs"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", a.as_str()),
    ];
    let k = key(5);
    let first = ehr
        .post_form_with("/token", &body, &[("dpop", &proof(&k, NOW, None, "1"))])
        .await;
    first.assert_oauth_error("use_dpop_nonce");
    let nonce = first.header("dpop-nonce").unwrap().to_string();
    let ok = ehr
        .post_form_with(
            "/token",
            &body,
            &[("dpop", &proof(&k, NOW, Some(&nonce), "2"))],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let t = ok.json();
    assert_eq!(t["token_type"], "DPoP");
    let jwks = ehr.get("/jwks.json").await.json();
    assert_eq!(access_claims(&ehr, &jwks, &t)["cnf"]["jkt"], k.thumbprint());
}

#[tokio::test]
async fn required_by_the_server_or_by_the_clients_registration() {
    // [dpop] required = true.
    let ehr = with_dpop(DpopConfig {
        required: true,
        ..DpopConfig::default()
    });
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    let res = exchange_with(&ehr, &code, None).await;
    res.assert_oauth_error("invalid_dpop_proof");
    assert_eq!(
        exchange_with(&ehr, &code, Some(&proof(&key(6), NOW, None, "1")))
            .await
            .status,
        StatusCode::OK
    );
    // dpop_bound_access_tokens in a client's configuration.
    let ehr = Ehr::new(
        config_with(vec![ClientConfig {
            client_id: "dpop-app".into(),
            auth: ClientAuthMethod::None,
            redirect_uris: vec![REDIRECT.into()],
            scope: "patient/*.rs launch/patient".into(),
            dpop_bound_access_tokens: true,
            ..ClientConfig::default()
        }]),
        true,
    );
    let code = ehr
        .code("dpop-app", "patient/*.rs launch/patient", &[])
        .await;
    let mut pairs = code_pairs(&code);
    pairs.retain(|(k, _)| *k != "client_id");
    pairs.push(("client_id", "dpop-app"));
    ehr.post_form("/token", &pairs)
        .await
        .assert_oauth_error("invalid_dpop_proof");
    let ok = ehr
        .post_form_with(
            "/token",
            &pairs,
            &[("dpop", &proof(&key(7), NOW, None, "2"))],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    // ...and in dynamic registration (RFC 9449 section 5.2).
    let reg = ehr
        .post_json(
            "/register",
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                   "scope": "patient/*.rs launch/patient", "dpop_bound_access_tokens": true}),
        )
        .await
        .json();
    assert_eq!(reg["dpop_bound_access_tokens"], true);
    let id = reg["client_id"].as_str().unwrap();
    let code = ehr.code(id, "patient/*.rs launch/patient", &[]).await;
    let mut pairs = code_pairs(&code);
    pairs.retain(|(k, _)| *k != "client_id");
    pairs.push(("client_id", id));
    ehr.post_form("/token", &pairs)
        .await
        .assert_oauth_error("invalid_dpop_proof");
}

#[tokio::test]
async fn a_confidential_clients_refresh_token_is_bound_by_its_authentication() {
    let ehr = Ehr::auto();
    let code = ehr.code("demo-confidential", SCOPE, &[]).await;
    let mut pairs = code_pairs(&code);
    pairs.retain(|(k, _)| *k != "client_id");
    let auth = basic("demo-confidential", "demo-secret");
    let t = ehr
        .post_form_with(
            "/token",
            &pairs,
            &[
                ("authorization", &auth),
                ("dpop", &proof(&key(8), NOW, None, "1")),
            ],
        )
        .await
        .json();
    assert_eq!(t["token_type"], "DPoP");
    let rt = t["refresh_token"].as_str().unwrap();
    assert!(ehr.introspect(rt).await.get("cnf").is_none());
    // Another key is fine (the client authenticates); the new token is bound to it.
    let res = ehr
        .post_form_with(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
            &[
                ("authorization", &auth),
                ("dpop", &proof(&key(9), NOW, None, "2")),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let jwks = ehr.get("/jwks.json").await.json();
    assert_eq!(
        access_claims(&ehr, &jwks, &res.json())["cnf"]["jkt"],
        key(9).thumbprint()
    );
}

#[tokio::test]
async fn a_bound_token_authenticates_introspection_only_with_its_proof() {
    let ehr = Ehr::auto();
    let k = key(10);
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    let t = exchange_with(&ehr, &code, Some(&proof(&k, NOW, None, "1")))
        .await
        .json();
    let at = t["access_token"].as_str().unwrap();
    // As Bearer: refused by the core's guard (RFC 9449 section 7.2).
    let bearer = ehr
        .post_form_with(
            "/introspect",
            &[("token", at)],
            &[("authorization", &format!("Bearer {at}"))],
        )
        .await;
    bearer.assert_oauth_error("invalid_token");
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    assert!(bearer.header("www-authenticate").unwrap().contains("DPoP"));
    // As DPoP with a proof for this endpoint (ath included): accepted.
    let p = k
        .proof_with_jti(
            "POST",
            "http://127.0.0.1:8080/introspect",
            Some(at),
            None,
            NOW,
            "2",
        )
        .unwrap();
    let ok = ehr
        .post_form_with(
            "/introspect",
            &[("token", at)],
            &[("authorization", &format!("DPoP {at}")), ("dpop", &p)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["cnf"]["jkt"], k.thumbprint());
    // The same proof again: a replay.
    let again = ehr
        .post_form_with(
            "/introspect",
            &[("token", at)],
            &[("authorization", &format!("DPoP {at}")), ("dpop", &p)],
        )
        .await;
    again.assert_oauth_error("invalid_dpop_proof");
    // Another key's proof: the binding fails.
    let other = key(11)
        .proof_with_jti(
            "POST",
            "http://127.0.0.1:8080/introspect",
            Some(at),
            None,
            NOW,
            "3",
        )
        .unwrap();
    ehr.post_form_with(
        "/introspect",
        &[("token", at)],
        &[("authorization", &format!("DPoP {at}")), ("dpop", &other)],
    )
    .await
    .assert_oauth_error("invalid_token");
}

#[tokio::test]
async fn a_code_requested_with_dpop_jkt_needs_a_proof_by_that_key() {
    let ehr = Ehr::auto();
    let k = key(12);
    let code = ehr
        .code("demo-app", SCOPE, &[("dpop_jkt", k.thumbprint())])
        .await;
    // RFC 9449 section 10: no proof, or a proof by another key, is refused...
    exchange_with(&ehr, &code, None)
        .await
        .assert_oauth_error("invalid_dpop_proof");
    assert_invalid_proof(
        &exchange_with(&ehr, &code, Some(&proof(&key(13), NOW, None, "1"))).await,
        "ERR_DPOP_JKT_MISMATCH",
    );
    // ...without using the code up; the right key gets a bound token.
    let ok = exchange_with(&ehr, &code, Some(&proof(&k, NOW, None, "2"))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["token_type"], "DPoP");
    // A dpop_jkt that is no thumbprint: the authorization request is refused.
    ehr.authorize("demo-app", SCOPE, &[("dpop_jkt", "not-a-thumbprint")])
        .await
        .assert_error_redirect("invalid_request");
}
