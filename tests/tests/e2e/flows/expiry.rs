//! Token expiry through the clock control (`POST /_admin/clock`): an expired access
//! token is refused by the FHIR API (and by a client verifying it), a refresh within
//! the refresh token's lifetime gets a working one; past that lifetime the refresh is
//! refused too.

use mock_ehr::config::TokenConfig;

use super::*;

const SCOPE: &str = "launch/patient patient/*.rs offline_access";

async fn advance(ehr: &MockEhr, secs: i64) {
    let res = http::post_json(
        &format!("{}/_admin/clock", ehr.base_url()),
        &json!({ "advance_secs": secs }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

async fn first_tokens(server: &Server) -> Value {
    let auth = Authorization::new(server, APP, SCOPE, None);
    let code = auth.auto(server).await;
    token_response(&auth.exchange(server, APP, &code, None).await)
}

#[tokio::test]
async fn an_expired_access_token_is_refused_and_a_refresh_gets_a_new_one() {
    let ehr = spawn(Config::default(), true).await;
    let server = Server::discover(ehr.fhir_base()).await;
    let t = first_tokens(&server).await;
    let access = t["access_token"].as_str().unwrap();
    read(&server, access, "Patient/pat-001").await;

    advance(&ehr, t["expires_in"].as_i64().unwrap() + 1).await;
    let now = server_now(&ehr).await;
    assert_eq!(
        server.verify_access(access, now).unwrap_err().code(),
        "ERR_JWT_EXPIRED"
    );
    let res = fhir_get(
        &format!("{}/Patient/pat-001", server.fhir),
        &format!("Bearer {access}"),
        None,
    )
    .await;
    assert_refused(&res, 401, "invalid_token");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );

    // The refresh token (30 days) still works; the new access token does.
    let t1 =
        token_response(&refresh(&server, APP, t["refresh_token"].as_str().unwrap(), None).await);
    let access1 = t1["access_token"].as_str().unwrap();
    let now = server_now(&ehr).await;
    let claims = server.verify_access(access1, now).unwrap().claims;
    assert!(claims.exp().unwrap() > now);
    assert_eq!(
        read(&server, access1, "Patient/pat-001").await["id"],
        "pat-001"
    );
    search_observations(&server, access1, "pat-001").await;
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn past_the_refresh_token_lifetime_the_refresh_is_refused() {
    let config = Config {
        tokens: TokenConfig {
            access_token_secs: 300,
            refresh_token_secs: 600,
            ..TokenConfig::default()
        },
        ..Config::default()
    };
    let ehr = spawn(config, true).await;
    let server = Server::discover(ehr.fhir_base()).await;
    let t = first_tokens(&server).await;
    assert_eq!(t["expires_in"], 300);
    let rt = t["refresh_token"].as_str().unwrap();

    // Within the refresh token's lifetime: a new access token.
    advance(&ehr, 301).await;
    let t1 = token_response(&refresh(&server, APP, rt, None).await);
    let access1 = t1["access_token"].as_str().unwrap();
    read(&server, access1, "Patient/pat-001").await;

    // Each use restarts the lifetime; past it, the refresh is refused.
    advance(&ehr, 601).await;
    let res = refresh(&server, APP, t1["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    assert_eq!(res.oauth_error(), "invalid_grant");
    let res = fhir_get(
        &format!("{}/Patient/pat-001", server.fhir),
        &format!("Bearer {access1}"),
        None,
    )
    .await;
    assert_refused(&res, 401, "invalid_token");
    ehr.shutdown().await.unwrap();
}
