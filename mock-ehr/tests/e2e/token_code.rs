use axum::http::StatusCode;
use smartgate_core::jws::Algorithm;

use crate::support::*;

const SCOPE: &str = "openid fhirUser launch/patient patient/*.rs offline_access";

#[tokio::test]
async fn code_exchange_returns_signed_tokens_and_context() {
    let ehr = Ehr::auto();
    let code = ehr.code("demo-app", SCOPE, &[("nonce", "n-123")]).await;
    let res = ehr.exchange(&code).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("pragma"), Some("no-cache"));
    let t = res.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], SCOPE);
    assert_eq!(t["patient"], "pat-001");
    assert_eq!(t["need_patient_banner"], true);
    assert!(t["smart_style_url"].as_str().unwrap().starts_with(BASE));
    assert!(t["refresh_token"].is_string());
    assert!(t["expires_in"].as_i64().unwrap() > 0);
    let jwks = ehr.get("/jwks.json").await.json();
    let at = verify_with_core(
        &ehr,
        &jwks,
        t["access_token"].as_str().unwrap(),
        FHIR,
        &[Algorithm::Es256],
    );
    assert_eq!(at["client_id"], "demo-app");
    assert_eq!(at["scope"], SCOPE);
    assert_eq!(at["patient"], "pat-001");
    assert_eq!(at["sub"], "dr.smith");
    assert_eq!(at["fhirUser"], format!("{FHIR}/Practitioner/prac-001"));
    assert!(at["jti"].is_string() && at["iat"].is_i64());
    let id = verify_with_core(
        &ehr,
        &jwks,
        t["id_token"].as_str().unwrap(),
        "demo-app",
        &[Algorithm::Rs256],
    );
    assert_eq!(id["nonce"], "n-123");
    assert_eq!(id["fhirUser"], format!("{FHIR}/Practitioner/prac-001"));
    assert_eq!(id["sub"], "dr.smith");
}

#[tokio::test]
async fn no_refresh_without_offline_or_online_access_and_no_id_token_without_openid() {
    let ehr = Ehr::auto();
    let t = ehr.tokens("patient/*.rs launch/patient").await;
    assert!(t.get("refresh_token").is_none());
    assert!(t.get("id_token").is_none());
}

#[tokio::test]
async fn narrowed_scopes_are_reported_and_versions_kept() {
    let ehr = Ehr::auto();
    // user/*.* is not allowed for demo-app; patient/*.read (v1) is.
    let t = ehr.tokens("patient/*.read user/*.* launch/patient").await;
    assert_eq!(t["scope"], "patient/*.read launch/patient");
    let t = ehr.tokens("patient/*.rs launch/patient").await;
    assert_eq!(t["scope"], "patient/*.rs launch/patient");
}

#[tokio::test]
async fn code_is_single_use_and_replay_revokes_the_grant() {
    let ehr = Ehr::auto();
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    let t = ehr.exchange(&code).await.json();
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(ehr.introspect(at).await["active"], true);
    ehr.exchange(&code)
        .await
        .assert_oauth_error("invalid_grant");
    assert_eq!(
        ehr.introspect(at).await,
        serde_json::json!({"active": false})
    );
    let rt = t["refresh_token"].as_str().unwrap();
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", "demo-app"),
        ],
    )
    .await
    .assert_oauth_error("invalid_grant");
}

#[tokio::test]
async fn code_expires_after_60_seconds() {
    let ehr = Ehr::auto();
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    ehr.state.clock().advance(60);
    ehr.exchange(&code)
        .await
        .assert_oauth_error("invalid_grant");
}

#[tokio::test]
async fn code_is_bound_to_client_redirect_and_verifier() {
    let ehr = Ehr::auto();
    let code = ehr.code("demo-app", SCOPE, &[]).await;
    let base = |k: &'static str, v: &'static str| {
        let mut p = vec![
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", "demo-app"),
        ];
        p.retain(|(n, _)| *n != k);
        p.push((k, v));
        p
    };
    for (k, v, err) in [
        (
            "redirect_uri",
            "http://127.0.0.1:3000/callback",
            "invalid_grant",
        ),
        (
            "code_verifier",
            "wrong-verifier-wrong-verifier-wrong-verifier-0",
            "invalid_grant",
        ),
        ("code_verifier", "short", "invalid_grant"),
        ("code_verifier", "", "invalid_request"),
    ] {
        let mut p = base(k, v);
        p.push(("code", &code));
        ehr.post_form("/token", &p).await.assert_oauth_error(err);
    }
    // Another client (authenticated) presenting the code.
    let mut p = base("client_id", "demo-confidential");
    p.push(("code", &code));
    ehr.post_form_with(
        "/token",
        &p,
        &[("authorization", &basic("demo-confidential", "demo-secret"))],
    )
    .await
    .assert_oauth_error("invalid_grant");
    // None of the refusals used the code up.
    assert_eq!(ehr.exchange(&code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn confidential_client_authenticates_with_basic() {
    let ehr = Ehr::auto();
    let code = ehr.code("demo-confidential", SCOPE, &[]).await;
    let p = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let wrong = ehr
        .post_form_with(
            "/token",
            &p,
            &[("authorization", &basic("demo-confidential", "nope"))],
        )
        .await;
    wrong.assert_oauth_error("invalid_client");
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.header("www-authenticate").is_some());
    let no_auth = ehr
        .post_form(
            "/token",
            &[p.as_slice(), &[("client_id", "demo-confidential")]].concat(),
        )
        .await;
    no_auth.assert_oauth_error("invalid_client");
    let ok = ehr
        .post_form_with(
            "/token",
            &p,
            &[("authorization", &basic("demo-confidential", "demo-secret"))],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let fails: Vec<_> = ehr
        .audit()
        .await
        .into_iter()
        .filter(|e| e["event"] == "client_auth")
        .collect();
    assert_eq!(fails.len(), 2);
    assert!(
        fails[1]["detail"]
            .as_str()
            .unwrap()
            .contains("consecutive failures: 2")
    );
}

#[tokio::test]
async fn token_endpoint_refusals() {
    let ehr = Ehr::auto();
    ehr.post_form(
        "/token",
        &[("grant_type", "password"), ("client_id", "demo-app")],
    )
    .await
    .assert_oauth_error("unsupported_grant_type");
    ehr.post_form("/token", &[("client_id", "demo-app")])
        .await
        .assert_oauth_error("invalid_request");
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "nobody"),
        ],
    )
    .await
    .assert_oauth_error("invalid_client");
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-app"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
    .assert_oauth_error("invalid_grant");
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-app"),
            ("scope", "system/*.rs"),
        ],
    )
    .await
    .assert_oauth_error("unauthorized_client");
}

#[tokio::test]
async fn ehr_launch_carries_context_into_the_token_response() {
    let ehr = Ehr::auto();
    let launch = ehr
        .post_json(
            "/_admin/launch",
            serde_json::json!({
                "patient": "pat-003", "encounter": "enc-9", "user": "dr.jones",
                "fhirContext": [{"reference": "Observation/obs-1"}],
                "need_patient_banner": false, "smart_style_url": "http://localhost:3000/style.json"
            }),
        )
        .await
        .json();
    let id = launch["launch"].as_str().unwrap();
    assert_eq!(launch["iss"], FHIR);
    let code = ehr
        .code(
            "demo-app",
            "launch openid fhirUser patient/*.rs",
            &[("launch", id)],
        )
        .await;
    let t = ehr.exchange(&code).await.json();
    assert_eq!(t["patient"], "pat-003");
    assert_eq!(t["encounter"], "enc-9");
    assert_eq!(
        t["fhirContext"],
        serde_json::json!([{"reference": "Observation/obs-1"}])
    );
    assert_eq!(t["need_patient_banner"], false);
    assert_eq!(t["smart_style_url"], "http://localhost:3000/style.json");
    let jwks = ehr.get("/jwks.json").await.json();
    let id_token = verify_with_core(
        &ehr,
        &jwks,
        t["id_token"].as_str().unwrap(),
        "demo-app",
        &[Algorithm::Rs256],
    );
    assert_eq!(
        id_token["fhirUser"],
        format!("{FHIR}/Practitioner/prac-002")
    );
    // The launch expires.
    ehr.state.clock().advance(3600);
    ehr.authorize("demo-app", "launch openid", &[("launch", id)])
        .await
        .assert_error_redirect("invalid_request");
}
