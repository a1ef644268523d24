use axum::http::StatusCode;

use crate::support::*;

const SCOPE: &str = "openid fhirUser launch/patient patient/*.rs";

#[tokio::test]
async fn pushed_request_then_authorize_with_request_uri() {
    let ehr = Ehr::auto();
    let pairs = authorize_params("demo-app", SCOPE);
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = ehr.post_form("/par", &pairs).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let body = res.json();
    let uri = body["request_uri"].as_str().unwrap();
    assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(body["expires_in"], 60);
    let q = form(&[("client_id", "demo-app"), ("request_uri", uri)]);
    let res = ehr.get(&format!("/authorize?{q}")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let code = res.location_query()["code"].clone();
    assert_eq!(ehr.exchange(&code).await.status, StatusCode::OK);
    // Single use.
    ehr.get(&format!("/authorize?{q}"))
        .await
        .assert_error_page();
}

#[tokio::test]
async fn par_refusals() {
    let ehr = Ehr::auto();
    let mut pairs = authorize_params("demo-app", SCOPE);
    pairs.retain(|(k, _)| k != "redirect_uri");
    pairs.push(("redirect_uri".into(), "http://evil.example/cb".into()));
    let p: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ehr.post_form("/par", &p)
        .await
        .assert_oauth_error("invalid_request");
    ehr.post_form("/par", &[("client_id", "nobody")])
        .await
        .assert_oauth_error("invalid_client");
    // A request_uri of another client, or expired.
    let good = authorize_params("demo-app", SCOPE);
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let uri = ehr.post_form("/par", &good).await.json()["request_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let q = form(&[("client_id", "demo-confidential"), ("request_uri", &uri)]);
    ehr.get(&format!("/authorize?{q}"))
        .await
        .assert_error_page();
    let uri = ehr.post_form("/par", &good).await.json()["request_uri"]
        .as_str()
        .unwrap()
        .to_string();
    ehr.state.clock().advance(60);
    let q = form(&[("client_id", "demo-app"), ("request_uri", &uri)]);
    ehr.get(&format!("/authorize?{q}"))
        .await
        .assert_error_page();
}
