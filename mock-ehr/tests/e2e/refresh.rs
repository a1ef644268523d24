use axum::http::StatusCode;

use crate::support::*;

const SCOPE: &str = "openid fhirUser launch/patient patient/*.rs offline_access";

async fn refresh(ehr: &Ehr, rt: &str, scope: Option<&str>) -> Resp {
    let mut p = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", rt),
        ("client_id", "demo-app"),
    ];
    if let Some(s) = scope {
        p.push(("scope", s));
    }
    ehr.post_form("/token", &p).await
}

#[tokio::test]
async fn rotation_on_every_use_and_reuse_revokes_the_grant() {
    let ehr = Ehr::auto();
    let t0 = ehr.tokens(SCOPE).await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    let r1 = refresh(&ehr, rt0, None).await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.text());
    assert_eq!(r1.header("cache-control"), Some("no-store"));
    let t1 = r1.json();
    let rt1 = t1["refresh_token"].as_str().unwrap();
    assert_ne!(rt0, rt1);
    assert_eq!(t1["patient"], "pat-001");
    assert_eq!(t1["scope"], SCOPE);
    // The old one no longer introspects as active; the new one does.
    assert_eq!(
        ehr.introspect(rt0).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(ehr.introspect(rt1).await["active"], true);
    let at1 = t1["access_token"].as_str().unwrap();
    assert_eq!(ehr.introspect(at1).await["active"], true);
    // Reuse of rt0: refused, and the whole grant ends.
    refresh(&ehr, rt0, None)
        .await
        .assert_oauth_error("invalid_grant");
    assert_eq!(
        ehr.introspect(at1).await,
        serde_json::json!({"active": false})
    );
    refresh(&ehr, rt1, None)
        .await
        .assert_oauth_error("invalid_grant");
    let audit = ehr.audit().await;
    assert!(
        audit
            .iter()
            .any(|e| e["event"] == "refresh"
                && e["detail"].as_str().unwrap_or("").contains("reused"))
    );
    // No audit event holds a whole token.
    let text = serde_json::to_string(&audit).unwrap();
    assert!(!text.contains(rt0) && !text.contains(at1));
}

#[tokio::test]
async fn scopes_may_only_shrink() {
    let ehr = Ehr::auto();
    let t0 = ehr.tokens(SCOPE).await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    refresh(&ehr, rt0, Some("patient/*.rs user/*.rs"))
        .await
        .assert_oauth_error("invalid_scope");
    // The refused request changed nothing: the token still works, narrowed.
    let t1 = refresh(&ehr, rt0, Some("patient/*.rs offline_access"))
        .await
        .json();
    assert_eq!(t1["scope"], "patient/*.rs offline_access");
}

#[tokio::test]
async fn refresh_is_bound_to_the_client_and_expires() {
    let ehr = Ehr::auto();
    let t0 = ehr.tokens(SCOPE).await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    ehr.post_form_with(
        "/token",
        &[("grant_type", "refresh_token"), ("refresh_token", rt0)],
        &[("authorization", &basic("demo-confidential", "demo-secret"))],
    )
    .await
    .assert_oauth_error("invalid_grant");
    refresh(&ehr, "not-a-token", None)
        .await
        .assert_oauth_error("invalid_grant");
    ehr.state.clock().advance(30 * 24 * 3600);
    refresh(&ehr, rt0, None)
        .await
        .assert_oauth_error("invalid_grant");
}
