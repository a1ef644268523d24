use axum::http::StatusCode;
use serde_json::json;
use smartgate_core::jws::Algorithm;

use crate::support::*;

const SCOPE: &str = "openid fhirUser launch/patient patient/*.rs offline_access";

#[tokio::test]
async fn clock_offset_expires_tokens() {
    let ehr = Ehr::auto();
    let t = ehr.tokens(SCOPE).await;
    let at = t["access_token"].as_str().unwrap();
    let c = ehr
        .post_json("/_admin/clock", json!({"advance_secs": 3599}))
        .await
        .json();
    assert_eq!(c["offset"], 3599);
    assert_eq!(ehr.introspect(at).await["active"], true);
    ehr.post_json("/_admin/clock", json!({"advance_secs": 1}))
        .await;
    assert_eq!(ehr.introspect(at).await, json!({"active": false}));
    assert_eq!(
        ehr.post_json("/_admin/clock", json!({"offset_secs": 0}))
            .await
            .json()["now"],
        NOW
    );
    let bad = ehr
        .post_json(
            "/_admin/clock",
            json!({"advance_secs": 1, "offset_secs": 1}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = ehr.post_json("/_admin/clock", json!({"jump": 1})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_verifiable() {
    let ehr = Ehr::auto();
    let old = ehr.tokens(SCOPE).await;
    let jwks_before = ehr.get("/jwks.json").await.json();
    let rotated = ehr.post_json("/_admin/keys/rotate", json!({})).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new = ehr.tokens(SCOPE).await;
    let jwks = ehr.get("/jwks.json").await.json();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 4);
    for t in [&old, &new] {
        verify_with_core(
            &ehr,
            &jwks,
            t["access_token"].as_str().unwrap(),
            FHIR,
            &[Algorithm::Es256],
        );
        verify_with_core(
            &ehr,
            &jwks,
            t["id_token"].as_str().unwrap(),
            "demo-app",
            &[Algorithm::Rs256],
        );
        assert_eq!(
            ehr.introspect(t["access_token"].as_str().unwrap()).await["active"],
            true
        );
    }
    // The new token is signed by a key the old JWKS did not have.
    let keys = smartgate_core::jwk::JwkSet::from_value(&jwks_before).unwrap();
    let v = smartgate_core::jwt::Validation::new([BASE], [FHIR]);
    assert!(
        smartgate_core::jwt::verify(
            new["access_token"].as_str().unwrap(),
            &keys,
            &v,
            &smartgate_core::provider::ring::Ring,
            NOW
        )
        .is_err()
    );
    // A second rotation drops the first keys: tokens signed by them stop verifying.
    ehr.post_json("/_admin/keys/rotate", json!({})).await;
    assert_eq!(
        ehr.introspect(old["access_token"].as_str().unwrap()).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn faults_for_the_next_n_calls() {
    let ehr = Ehr::auto();
    let add = |fault: serde_json::Value| ehr.post_json("/_admin/faults", fault);
    assert_eq!(add(json!({"endpoint": "token", "count": 2, "fault": {"type": "oauth_error", "error": "temporarily_unavailable"}})).await.status, StatusCode::OK);
    for _ in 0..2 {
        let res = ehr
            .post_form("/token", &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
        res.assert_oauth_error("temporarily_unavailable");
    }
    ehr.post_form("/token", &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error("invalid_client");
    add(json!({"endpoint": "token", "count": 1, "fault": {"type": "status", "status": 500}})).await;
    assert_eq!(
        ehr.post_form("/token", &[]).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    add(json!({"endpoint": "introspect", "count": 1, "fault": {"type": "rate_limit", "retry_after": 7}})).await;
    let res = ehr.post_form("/introspect", &[]).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header("retry-after"), Some("7"));
    add(json!({"endpoint": "jwks", "count": 1, "fault": {"type": "delay", "ms": 20}})).await;
    assert_eq!(ehr.get("/jwks.json").await.status, StatusCode::OK);
    // An authorize fault redirects to the client, with state and iss.
    add(json!({"endpoint": "authorize", "count": 1, "fault": {"type": "oauth_error", "error": "access_denied"}})).await;
    ehr.authorize("demo-app", SCOPE, &[])
        .await
        .assert_error_redirect("access_denied");
    assert!(
        ehr.authorize("demo-app", SCOPE, &[])
            .await
            .location_query()
            .contains_key("code")
    );
    // Bad rules are refused.
    for bad in [
        json!({"endpoint": "nowhere", "count": 1, "fault": {"type": "delay", "ms": 1}}),
        json!({"endpoint": "token", "count": 0, "fault": {"type": "delay", "ms": 1}}),
        json!({"endpoint": "token", "count": 1, "fault": {"type": "oauth_error", "error": "made_up"}}),
        json!({"endpoint": "token", "count": 1, "fault": {"type": "status", "status": 200}}),
    ] {
        assert_eq!(add(bad).await.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(ehr.get("/_admin/faults").await.json()["faults"], json!([]));
}

#[tokio::test]
async fn reset_returns_to_the_built_in_state() {
    let ehr = Ehr::auto();
    let t = ehr.tokens(SCOPE).await;
    ehr.post_json("/_admin/clock", json!({"advance_secs": 10}))
        .await;
    ehr.post_json("/_admin/keys/rotate", json!({})).await;
    assert_eq!(
        ehr.post_json("/_admin/reset", json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        ehr.introspect(t["access_token"].as_str().unwrap()).await,
        json!({"active": false})
    );
    assert_eq!(ehr.get("/_admin/clock").await.json()["offset"], 0);
    assert_eq!(
        ehr.get("/jwks.json").await.json()["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The audit trail holds only the introspection made after the reset.
    assert_eq!(ehr.audit().await.len(), 1);
}

#[tokio::test]
async fn consent_withdrawal_ends_the_grant() {
    let ehr = Ehr::auto();
    let t = ehr.tokens(SCOPE).await;
    let consents = ehr.get("/_admin/consents").await.json();
    assert_eq!(consents["consents"][0]["user"], "dr.smith");
    assert_eq!(consents["consents"][0]["scope"], SCOPE);
    let w = ehr
        .post_json(
            "/_admin/consents/withdraw",
            json!({"user": "dr.smith", "client_id": "demo-app"}),
        )
        .await;
    assert_eq!(w.json()["grants_ended"], 1);
    assert_eq!(
        ehr.introspect(t["access_token"].as_str().unwrap()).await,
        json!({"active": false})
    );
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("client_id", "demo-app"),
        ],
    )
    .await
    .assert_oauth_error("invalid_grant");
    let missing = ehr
        .post_json(
            "/_admin/consents/withdraw",
            json!({"user": "nobody", "client_id": "demo-app"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_can_be_disabled() {
    let state = mock_ehr::MockEhr::builder()
        .admin(false)
        .build_state(BASE)
        .unwrap();
    let ehr = Ehr {
        app: mock_ehr::app(state.clone()),
        state,
    };
    assert_eq!(ehr.get("/_admin/audit").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        ehr.post_json("/_admin/reset", json!({})).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn launch_page_redirects_only_to_registered_launch_urls() {
    let ehr = Ehr::auto();
    let res = ehr
        .get("/launch?launch_uri=http%3A%2F%2Flocalhost%3A3000%2Flaunch&patient=pat-002")
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let q = res.location_query();
    assert_eq!(q["iss"], FHIR);
    assert!(res.location().starts_with("http://localhost:3000/launch?"));
    let code = ehr
        .code(
            "demo-app",
            "launch patient/*.rs",
            &[("launch", &q["launch"])],
        )
        .await;
    assert_eq!(ehr.exchange(&code).await.json()["patient"], "pat-002");
    ehr.get("/launch?launch_uri=http%3A%2F%2Fevil.example%2Flaunch")
        .await
        .assert_error_page();
    ehr.get("/launch?launch_uri=http%3A%2F%2Flocalhost%3A3000%2Flaunch&patient=nobody")
        .await
        .assert_error_page();
    let bad = ehr
        .post_json("/_admin/launch", json!({"patient": "pat-999"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = ehr
        .post_json("/_admin/launch", json!({"fhirContext": ["Observation/1"]}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let config = mock_ehr::Config {
        rate_limit: Some(mock_ehr::config::RateLimitConfig {
            requests_per_minute: 2,
        }),
        ..mock_ehr::Config::default()
    };
    let ehr = Ehr::new(config, true);
    let p = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "x"),
        ("client_id", "demo-app"),
    ];
    ehr.post_form("/token", &p)
        .await
        .assert_oauth_error("invalid_grant");
    ehr.post_form("/token", &p)
        .await
        .assert_oauth_error("invalid_grant");
    let limited = ehr.post_form("/token", &p).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after"), Some("60"));
    // Another client is not limited; a minute later the first one is not either.
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "demo-confidential"),
        ],
    )
    .await
    .assert_oauth_error("invalid_client");
    ehr.state.clock().advance(60);
    ehr.post_form("/token", &p)
        .await
        .assert_oauth_error("invalid_grant");
    // The authorize endpoint is limited per client too.
    ehr.authorize("demo-app", SCOPE, &[]).await;
    ehr.authorize("demo-app", SCOPE, &[]).await;
    assert_eq!(
        ehr.authorize("demo-app", SCOPE, &[]).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
