//! Scope granting through `smartgate_core::scope`: lenient parsing, narrowing to the
//! client's allowed set, SMART's v1-in-v1-out rule, query scopes, and refresh requests
//! that may only shrink the grant.

use axum::http::StatusCode;
use mock_ehr::{ClientAuthMethod, ClientConfig};
use serde_json::Value;
use smartgate_core::jws::Algorithm;

use crate::support::*;

const LAB: &str = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

/// A public client allowed exactly `scope`.
fn app_allowed(scope: &str) -> Ehr {
    Ehr::new(
        config_with(vec![ClientConfig {
            client_id: "narrow-app".into(),
            auth: ClientAuthMethod::None,
            redirect_uris: vec![REDIRECT.into()],
            scope: scope.into(),
            ..ClientConfig::default()
        }]),
        true,
    )
}

async fn tokens_of(ehr: &Ehr, client_id: &str, scope: &str) -> Value {
    let code = ehr.code(client_id, scope, &[]).await;
    let res = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", client_id),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let t = res.json();
    // The access token carries exactly the scope the response reports.
    let jwks = ehr.get("/jwks.json").await.json();
    let at = verify_with_core(
        ehr,
        &jwks,
        t["access_token"].as_str().unwrap(),
        FHIR,
        &[Algorithm::Es256],
    );
    assert_eq!(at["scope"], t["scope"]);
    t
}

#[tokio::test]
async fn v1_in_v1_out_and_v2_in_v2_out() {
    let ehr = Ehr::auto();
    let t = ehr.tokens("patient/*.read launch/patient").await;
    assert_eq!(t["scope"], "patient/*.read launch/patient");
    let t = ehr.tokens("patient/*.rs launch/patient").await;
    assert_eq!(t["scope"], "patient/*.rs launch/patient");
    let t = ehr.tokens("user/Observation.read user/Condition.rs").await;
    assert_eq!(t["scope"], "user/Observation.read user/Condition.rs");
}

#[tokio::test]
async fn wildcard_is_narrowed_to_the_clients_allowed_type() {
    let ehr = app_allowed("launch/patient patient/Observation.rs");
    // v2 in: the Observation part of the wildcard, in v2.
    let t = tokens_of(&ehr, "narrow-app", "patient/*.rs launch/patient").await;
    assert_eq!(t["scope"], "patient/Observation.rs launch/patient");
    // v1 in: the same part, in v1.
    let t = tokens_of(&ehr, "narrow-app", "patient/*.read launch/patient").await;
    assert_eq!(t["scope"], "patient/Observation.read launch/patient");
    // More permissions than allowed: narrowed to rs.
    let t = tokens_of(
        &ehr,
        "narrow-app",
        "patient/Observation.cruds launch/patient",
    )
    .await;
    assert_eq!(t["scope"], "patient/Observation.rs launch/patient");
    // Another type only: nothing clinical is granted; the rest is.
    let t = tokens_of(&ehr, "narrow-app", "patient/Condition.rs launch/patient").await;
    assert_eq!(t["scope"], "launch/patient");
    // Nothing at all: invalid_scope, with state and iss.
    ehr.authorize("narrow-app", "patient/Condition.rs user/*.rs", &[])
        .await
        .assert_error_redirect("invalid_scope");
}

#[tokio::test]
async fn query_scopes_are_granted_and_narrowed_by_the_core() {
    // demo-app may have patient/*.rs, which covers the query scope: granted as asked.
    let ehr = Ehr::auto();
    let t = ehr.tokens(&format!("{LAB} launch/patient")).await;
    assert_eq!(t["scope"], format!("{LAB} launch/patient"));
    // A client allowed only the laboratory category: a plain request is narrowed to it.
    let ehr = app_allowed(&format!("launch/patient {LAB}"));
    let t = tokens_of(&ehr, "narrow-app", "patient/Observation.rs launch/patient").await;
    assert_eq!(t["scope"], format!("{LAB} launch/patient"));
    let t = tokens_of(&ehr, "narrow-app", "patient/*.rs launch/patient").await;
    assert_eq!(t["scope"], format!("{LAB} launch/patient"));
    // v1 cannot carry a query: a v1 request gets no clinical scope from it.
    let t = tokens_of(
        &ehr,
        "narrow-app",
        "patient/Observation.read launch/patient",
    )
    .await;
    assert_eq!(t["scope"], "launch/patient");
    // Another category is not covered.
    let other = "patient/Observation.rs?category=vital-signs";
    let t = tokens_of(&ehr, "narrow-app", &format!("{other} launch/patient")).await;
    assert_eq!(
        t["scope"],
        format!(
            "{other}&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory launch/patient"
        )
    );
}

#[tokio::test]
async fn scopes_the_server_does_not_understand_are_ignored_and_audited() {
    let ehr = Ehr::auto();
    let t = ehr
        .tokens("patient/*.rs patient/Bogus.rs user/*.everything launch/patient x-custom")
        .await;
    assert_eq!(t["scope"], "patient/*.rs launch/patient");
    let audit = ehr.audit().await;
    let granted = audit
        .iter()
        .find(|e| e["event"] == "authorize" && e["outcome"] == "success")
        .unwrap();
    let detail = granted["detail"].as_str().unwrap();
    assert!(
        detail.contains("patient/Bogus.rs (ERR_SCOPE_RESOURCE_UNKNOWN)"),
        "{detail}"
    );
    assert!(
        detail.contains("user/*.everything (ERR_SCOPE_PERMISSIONS_INVALID)"),
        "{detail}"
    );
    assert!(detail.contains("not granted: x-custom"), "{detail}");
    // A scope string beyond the core's limits is refused whole.
    ehr.authorize("demo-app", &"openid ".repeat(300), &[])
        .await
        .assert_error_redirect("invalid_scope");
}

async fn refresh(ehr: &Ehr, rt: &str, scope: &str) -> Resp {
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", "demo-app"),
            ("scope", scope),
        ],
    )
    .await
}

#[tokio::test]
async fn refresh_may_only_shrink_as_the_core_compares() {
    let ehr = Ehr::auto();
    let t = ehr
        .tokens("patient/*.rs launch/patient offline_access")
        .await;
    let mut rt = t["refresh_token"].as_str().unwrap().to_string();
    // Wider than granted, in several ways: each refused, nothing used up.
    for wider in [
        "patient/*.cruds",
        "user/*.rs",
        "patient/*.rs openid",
        "patient/Bogus.rs",
        "patient/*.rs nonsense-scope",
    ] {
        refresh(&ehr, &rt, wider)
            .await
            .assert_oauth_error("invalid_scope");
    }
    // Narrower, though never spelled that way in the grant: a type of the wildcard, a
    // query, the v1 spelling of the same permissions.
    for narrower in [
        "patient/Observation.rs",
        LAB,
        "patient/*.read offline_access",
    ] {
        let res = refresh(&ehr, &rt, narrower).await;
        assert_eq!(res.status, StatusCode::OK, "{narrower}: {}", res.text());
        let t = res.json();
        assert_eq!(t["scope"], narrower);
        rt = t["refresh_token"].as_str().unwrap().to_string();
    }
    // Omitted: the grant's own scope, unchanged by the narrower refreshes.
    let res = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", "demo-app"),
            ],
        )
        .await;
    assert_eq!(
        res.json()["scope"],
        "patient/*.rs launch/patient offline_access"
    );
}
