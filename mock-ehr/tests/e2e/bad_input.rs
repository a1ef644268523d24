use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::*;

async fn raw_post(ehr: &Ehr, uri: &str, content_type: &str, body: Vec<u8>) -> Resp {
    ehr.send(
        Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn malformed_bodies_get_oauth_errors_not_500() {
    let ehr = Ehr::auto();
    for uri in ["/token", "/introspect", "/revoke", "/par"] {
        raw_post(
            &ehr,
            uri,
            "application/json",
            b"{\"grant_type\":1}".to_vec(),
        )
        .await
        .assert_oauth_error("invalid_request");
        raw_post(
            &ehr,
            uri,
            "application/x-www-form-urlencoded",
            b"a=%FF%FE".to_vec(),
        )
        .await
        .assert_oauth_error("invalid_request");
        raw_post(
            &ehr,
            uri,
            "application/x-www-form-urlencoded",
            b"token=a&token=b&grant_type=x&grant_type=y".to_vec(),
        )
        .await
        .assert_oauth_error("invalid_request");
        let big = vec![b'a'; mock_ehr::MAX_BODY + 1];
        let res = raw_post(&ehr, uri, "application/x-www-form-urlencoded", big).await;
        res.assert_oauth_error("invalid_request");
    }
    // Repeated grant_type at the token endpoint, with an otherwise valid request.
    let code = ehr
        .code("demo-app", "patient/*.rs launch/patient", &[])
        .await;
    let body = format!(
        "{}&grant_type=authorization_code",
        form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", "demo-app")
        ])
    );
    raw_post(
        &ehr,
        "/token",
        "application/x-www-form-urlencoded",
        body.into_bytes(),
    )
    .await
    .assert_oauth_error("invalid_request");
    // ...and the refused request did not use the code.
    assert_eq!(ehr.exchange(&code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_headers_and_authorize_inputs() {
    let ehr = Ehr::auto();
    for auth in ["Basic !!!", "Basic Zm9v", "Basic", "Bearer"] {
        let res = ehr
            .post_form_with(
                "/token",
                &[("grant_type", "refresh_token"), ("refresh_token", "x")],
                &[("authorization", auth)],
            )
            .await;
        assert!(res.status.is_client_error(), "{auth}: {}", res.status);
        assert!(res.json()["error"].is_string());
    }
    ehr.get("/authorize?%FF=1").await.assert_error_page();
    ehr.get(&format!(
        "/authorize?client_id=demo-app&x={}",
        "a".repeat(9000)
    ))
    .await
    .assert_error_page();
    raw_post(&ehr, "/authorize", "application/json", b"{}".to_vec())
        .await
        .assert_error_page();
    let res = raw_post(
        &ehr,
        "/_admin/launch",
        "application/json",
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.json()["error"].is_string());
    assert_eq!(ehr.get("/nowhere").await.status, StatusCode::NOT_FOUND);
    // Nothing was recorded as a success.
    assert!(ehr.audit().await.iter().all(|e| e["outcome"] != "success"));
}

#[tokio::test]
async fn two_client_authentication_methods_are_refused() {
    let ehr = Ehr::auto();
    let res = ehr
        .post_form_with(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", "a.b.c"),
            ],
            &[("authorization", &basic("demo-confidential", "demo-secret"))],
        )
        .await;
    res.assert_oauth_error("invalid_request");
    ehr.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-confidential"),
            ("client_secret", "demo-secret"),
        ],
    )
    .await
    .assert_oauth_error("invalid_client");
}
