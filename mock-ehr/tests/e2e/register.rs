use axum::http::StatusCode;
use serde_json::json;
use smartgate_core::jws::Algorithm;
use smartgate_core::pkce;
use smartgate_core::provider::ring::RingSigner;

use crate::support::*;

#[tokio::test]
async fn public_client_registers_and_completes_a_flow() {
    let ehr = Ehr::auto();
    let res = ehr
        .post_json("/register", json!({"redirect_uris": ["http://localhost:4000/cb"], "token_endpoint_auth_method": "none", "client_name": "Reg App", "scope": "openid patient/*.rs launch/patient user/*.everything", "logo_uri": "ignored"}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let c = res.json();
    assert_eq!(c["scope"], "openid patient/*.rs launch/patient");
    assert!(c.get("client_secret").is_none());
    let id = c["client_id"].as_str().unwrap();
    let q = form(&[
        ("response_type", "code"),
        ("client_id", id),
        ("redirect_uri", "http://localhost:4000/cb"),
        ("scope", "patient/*.rs launch/patient"),
        ("state", "s"),
        ("aud", FHIR),
        ("code_challenge", &pkce::challenge_s256(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]);
    let code = ehr.get(&format!("/authorize?{q}")).await.location_query()["code"].clone();
    let t = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://localhost:4000/cb"),
                ("code_verifier", VERIFIER),
                ("client_id", id),
            ],
        )
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());
    // Reset forgets registered clients.
    ehr.post_json("/_admin/reset", json!({})).await;
    ehr.get(&format!("/authorize?{q}"))
        .await
        .assert_error_page();
}

#[tokio::test]
async fn secret_and_private_key_jwt_clients() {
    let ehr = Ehr::auto();
    let c = ehr
        .post_json(
            "/register",
            json!({"redirect_uris": ["http://localhost:4000/cb"]}),
        )
        .await
        .json();
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_basic");
    let id = c["client_id"].as_str().unwrap();
    let secret = c["client_secret"].as_str().unwrap();
    let res = ehr
        .post_form_with(
            "/revoke",
            &[("token", "x")],
            &[("authorization", &basic(id, secret))],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let signer = RingSigner::generate_ecdsa(Algorithm::Es384).unwrap().0;
    let c = ehr
        .post_json("/register", json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": jwks_of(&signer, "k"), "scope": "system/*.rs"}))
        .await
        .json();
    let id = c["client_id"].as_str().unwrap();
    assert_eq!(c["grant_types"], json!(["client_credentials"]));
    let a = assertion(
        &signer,
        "k",
        id,
        "http://127.0.0.1:8080/token",
        NOW,
        "r1",
        60,
    );
    let res = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "system/*.rs"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

#[tokio::test]
async fn registration_refusals() {
    let ehr = Ehr::auto();
    let cases = [
        (
            json!({"redirect_uris": ["not a url"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["http://x.example/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"token_endpoint_auth_method": "client_secret_jwt", "redirect_uris": ["http://x.example/cb"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["http://x.example/cb"], "grant_types": ["implicit"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["http://x.example/cb"], "scope": "admin/everything"}),
            "invalid_client_metadata",
        ),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://evil.example/jwks"}),
            "invalid_client_metadata",
        ),
        (json!(["not", "an", "object"]), "invalid_client_metadata"),
    ];
    for (body, code) in cases {
        ehr.post_json("/register", body.clone())
            .await
            .assert_oauth_error(code);
    }
    assert!(ehr.audit().await.is_empty());
}
