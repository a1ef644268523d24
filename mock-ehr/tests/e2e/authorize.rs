use axum::http::StatusCode;

use crate::support::*;

const SCOPE: &str = "openid fhirUser launch/patient patient/*.rs offline_access";

#[tokio::test]
async fn auto_approve_redirects_with_code_state_and_iss() {
    let ehr = Ehr::auto();
    let res = ehr.authorize("demo-app", SCOPE, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().starts_with(REDIRECT));
    let q = res.location_query();
    assert_eq!(q["iss"], BASE);
    assert_eq!(q["state"], "st-1");
    assert_eq!(q["code"].len(), 43);
    let audit = ehr.audit().await;
    let last = audit.last().unwrap();
    assert_eq!(last["event"], "authorize");
    assert_eq!(last["outcome"], "success");
    assert_eq!(last["user"], "dr.smith");
    assert_eq!(last["patient"], "pat-001");
}

#[tokio::test]
async fn unknown_client_or_unregistered_redirect_never_redirects() {
    let ehr = Ehr::auto();
    ehr.authorize("nobody", SCOPE, &[])
        .await
        .assert_error_page();
    ehr.authorize(
        "demo-app",
        SCOPE,
        &[("redirect_uri", "http://evil.example/cb")],
    )
    .await
    .assert_error_page();
    // A registered URI with something appended is not an exact match.
    ehr.authorize(
        "demo-app",
        SCOPE,
        &[("redirect_uri", "http://localhost:3000/callback/x")],
    )
    .await
    .assert_error_page();
    // Repeated redirect_uri: refused with a page too.
    let q = format!(
        "{}&redirect_uri=http%3A%2F%2Fevil.example%2Fcb",
        form(&[("client_id", "demo-app"), ("redirect_uri", REDIRECT)])
    );
    ehr.get(&format!("/authorize?{q}"))
        .await
        .assert_error_page();
    // The backend client has no redirect URIs at all.
    ehr.authorize("demo-backend", SCOPE, &[])
        .await
        .assert_error_page();
}

#[tokio::test]
async fn refusals_redirect_with_error_state_and_iss() {
    let ehr = Ehr::auto();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("response_type", "")], "invalid_request"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("code_challenge_method", "")], "invalid_request"),
        (&[("code_challenge", "")], "invalid_request"),
        (&[("code_challenge", "short")], "invalid_request"),
        (&[("aud", "http://other.example/fhir")], "invalid_request"),
        (&[("aud", "")], "invalid_request"),
        (&[("scope", "")], "invalid_scope"),
        (&[("scope", "system/*.rs")], "invalid_scope"),
        (
            &[("launch", "no-such-launch"), ("scope", "launch openid")],
            "invalid_request",
        ),
        (&[("scope", "launch openid")], "invalid_request"),
    ];
    for (extra, code) in cases {
        let res = ehr.authorize("demo-app", SCOPE, extra).await;
        res.assert_error_redirect(code);
    }
    // Refused requests create no code.
    assert!(ehr.audit().await.iter().all(|e| e["outcome"] != "success"));
}

#[tokio::test]
async fn missing_state_is_refused_without_state() {
    let ehr = Ehr::auto();
    let res = ehr.authorize("demo-app", SCOPE, &[("state", "")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let q = res.location_query();
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["iss"], BASE);
    assert!(!q.contains_key("state") && !q.contains_key("code"));
}

#[tokio::test]
async fn repeated_parameter_redirects_invalid_request() {
    let ehr = Ehr::auto();
    let mut pairs = authorize_params("demo-app", SCOPE);
    pairs.push(("scope".into(), "openid".into()));
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ehr.get(&format!("/authorize?{}", form(&pairs)))
        .await
        .assert_error_redirect("invalid_request");
}

#[tokio::test]
async fn post_form_works_like_get() {
    let ehr = Ehr::auto();
    let pairs = authorize_params("demo-app", SCOPE);
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = ehr.post_form("/authorize", &pairs).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location_query().contains_key("code"));
}

#[tokio::test]
async fn login_hint_selects_user_or_patient() {
    let ehr = Ehr::auto();
    let t = {
        let code = ehr
            .code("demo-app", SCOPE, &[("login_hint", "Patient/pat-007")])
            .await;
        ehr.exchange(&code).await.json()
    };
    assert_eq!(t["patient"], "pat-007");
    let code = ehr
        .code("demo-app", SCOPE, &[("login_hint", "jane.doe")])
        .await;
    let t = ehr.exchange(&code).await.json();
    assert_eq!(t["patient"], "pat-001");
    let ehr2 = Ehr::auto();
    ehr2.authorize("demo-app", SCOPE, &[("login_hint", "nobody")])
        .await
        .assert_error_redirect("access_denied");
}

#[tokio::test]
async fn unknown_parameters_are_ignored_as_rfc6749_requires() {
    let ehr = Ehr::auto();
    let res = ehr
        .authorize("demo-app", SCOPE, &[("x-extension", "1")])
        .await;
    assert!(res.location_query().contains_key("code"));
}
