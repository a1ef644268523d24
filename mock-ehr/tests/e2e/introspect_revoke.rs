use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

const SCOPE: &str = "openid fhirUser launch/patient patient/*.rs offline_access";

#[tokio::test]
async fn introspection_reports_the_smart_fields() {
    let ehr = Ehr::auto();
    let t = ehr.tokens(SCOPE).await;
    let i = ehr.introspect(t["access_token"].as_str().unwrap()).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["scope"], SCOPE);
    assert_eq!(i["client_id"], "demo-app");
    assert_eq!(i["patient"], "pat-001");
    assert_eq!(i["fhirUser"], format!("{FHIR}/Practitioner/prac-001"));
    assert_eq!(i["iss"], BASE);
    assert_eq!(i["sub"], "dr.smith");
    assert!(i["exp"].as_i64().unwrap() > NOW);
}

#[tokio::test]
async fn inactive_is_exactly_active_false() {
    let ehr = Ehr::auto();
    let t = ehr.tokens("patient/*.rs launch/patient").await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(ehr.introspect("garbage").await, json!({"active": false}));
    // No iss/sub without an id_token.
    let i = ehr.introspect(at).await;
    assert!(i.get("iss").is_none() && i.get("sub").is_none());
    ehr.state.clock().advance(3600);
    assert_eq!(ehr.introspect(at).await, json!({"active": false}));
}

#[tokio::test]
async fn introspection_needs_an_authenticated_caller() {
    let ehr = Ehr::auto();
    let t = ehr.tokens(SCOPE).await;
    let at = t["access_token"].as_str().unwrap();
    ehr.post_form("/introspect", &[("token", at)])
        .await
        .assert_oauth_error("invalid_client");
    ehr.post_form("/introspect", &[("token", at), ("client_id", "demo-app")])
        .await
        .assert_oauth_error("invalid_client");
    let bad = ehr
        .post_form_with(
            "/introspect",
            &[("token", at)],
            &[("authorization", "Bearer nope")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let ok = ehr
        .post_form_with(
            "/introspect",
            &[("token", at)],
            &[("authorization", &format!("Bearer {at}"))],
        )
        .await;
    assert_eq!(ok.json()["active"], true);
}

#[tokio::test]
async fn revoking_an_access_token_then_introspecting() {
    let ehr = Ehr::auto();
    let t = ehr.tokens(SCOPE).await;
    let at = t["access_token"].as_str().unwrap();
    let res = ehr
        .post_form("/revoke", &[("token", at), ("client_id", "demo-app")])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(ehr.introspect(at).await, json!({"active": false}));
    // The refresh token still works: revoking an access token ends only that token.
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(ehr.introspect(rt).await["active"], true);
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_the_grant() {
    let ehr = Ehr::auto();
    let t = ehr.tokens(SCOPE).await;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(
        ehr.post_form("/revoke", &[("token", rt), ("client_id", "demo-app")])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(ehr.introspect(at).await, json!({"active": false}));
    assert_eq!(ehr.introspect(rt).await, json!({"active": false}));
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
async fn revocation_edge_cases() {
    let ehr = Ehr::auto();
    assert_eq!(
        ehr.post_form(
            "/revoke",
            &[("token", "unknown"), ("client_id", "demo-app")]
        )
        .await
        .status,
        StatusCode::OK
    );
    ehr.post_form("/revoke", &[("token", "unknown")])
        .await
        .assert_oauth_error("invalid_client");
    let t = ehr.tokens(SCOPE).await;
    let at = t["access_token"].as_str().unwrap();
    ehr.post_form_with(
        "/revoke",
        &[("token", at)],
        &[("authorization", &basic("demo-confidential", "demo-secret"))],
    )
    .await
    .assert_oauth_error("unauthorized_client");
    assert_eq!(ehr.introspect(at).await["active"], true);
}
