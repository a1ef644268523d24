//! Refresh token rotation: each refresh answers a new refresh token; presenting an
//! old one is refused and ends the whole grant (OAuth 2.0 Security BCP, section 4.14).

use super::*;

const SCOPE: &str = "launch/patient openid fhirUser patient/*.rs offline_access";

/// Introspection as the built-in confidential client (HTTP Basic,
/// `demo-confidential:demo-secret`).
async fn active(server: &Server, token: &str) -> bool {
    let res = http::send_with(
        server.endpoint("introspection_endpoint"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            (
                "authorization",
                "Basic ZGVtby1jb25maWRlbnRpYWw6ZGVtby1zZWNyZXQ=",
            ),
        ],
        http::form(&[("token", token)]),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["active"].as_bool().unwrap()
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_grant() {
    let ehr = spawn(Config::default(), true).await;
    let server = Server::discover(ehr.fhir_base()).await;
    let auth = Authorization::new(&server, APP, SCOPE, None);
    let code = auth.auto(&server).await;
    let t0 = token_response(&auth.exchange(&server, APP, &code, None).await);
    let rt0 = t0["refresh_token"].as_str().unwrap();

    let t1 = token_response(&refresh(&server, APP, rt0, None).await);
    let rt1 = t1["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt0, "a new refresh token");
    assert_ne!(t1["access_token"], t0["access_token"]);
    assert_eq!(t1["scope"], SCOPE);
    assert_eq!(t1["patient"], "pat-001");
    let now = server_now(&ehr).await;
    let access1 = t1["access_token"].as_str().unwrap();
    assert_eq!(
        server.verify_access(access1, now).unwrap().claims.raw()["patient"],
        "pat-001"
    );
    assert_eq!(
        read(&server, access1, "Patient/pat-001").await["id"],
        "pat-001"
    );

    // The old refresh token again: refused, and the grant ends.
    let res = refresh(&server, APP, rt0, None).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    assert_eq!(res.oauth_error(), "invalid_grant");
    let res = refresh(&server, APP, rt1, None).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    assert_eq!(res.oauth_error(), "invalid_grant");
    assert!(!active(&server, access1).await);
    let res = fhir_get(
        &format!("{}/Patient/pat-001", server.fhir),
        &format!("Bearer {access1}"),
        None,
    )
    .await;
    assert_refused(&res, 401, "invalid_token");
    ehr.shutdown().await.unwrap();
}
