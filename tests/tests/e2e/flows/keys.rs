//! Signing key rotation (`POST /_admin/keys/rotate`): the previous keys stay in the
//! JWKS, so tokens signed before keep verifying; tokens signed after carry the new
//! `kid`, which a client's cached JWKS does not hold until it fetches the JWKS again.

use super::*;

async fn rotate(ehr: &MockEhr) {
    let res = http::post_json(
        &format!("{}/_admin/keys/rotate", ehr.base_url()),
        &json!({}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

const SCOPE: &str = "launch/patient openid patient/*.rs";

async fn tokens(server: &Server) -> (Value, String) {
    let auth = Authorization::new(server, APP, SCOPE, None);
    let code = auth.auto(server).await;
    let t = token_response(&auth.exchange(server, APP, &code, None).await);
    (t, auth.nonce)
}

#[tokio::test]
async fn rotated_keys_old_tokens_verify_new_tokens_carry_the_new_kid() {
    let ehr = spawn(Config::default(), true).await;
    let mut server = Server::discover(ehr.fhir_base()).await;
    let (old, old_nonce) = tokens(&server).await;
    let old_access = old["access_token"].as_str().unwrap();
    let now = server_now(&ehr).await;
    let old_kid = server.verify_access(old_access, now).unwrap().kid.unwrap();

    rotate(&ehr).await;
    let (new, new_nonce) = tokens(&server).await;
    let new_access = new["access_token"].as_str().unwrap();
    let now = server_now(&ehr).await;
    // The client's cached keys know the old kid only.
    assert_eq!(
        server.verify_access(new_access, now).unwrap_err().code(),
        "ERR_JWS_KEY_NOT_FOUND"
    );
    // Fetched again, the JWKS verifies both, each by its own kid.
    server.fetch_keys().await;
    assert_eq!(
        server.verify_access(old_access, now).unwrap().kid.unwrap(),
        old_kid
    );
    let new_kid = server.verify_access(new_access, now).unwrap().kid.unwrap();
    assert_ne!(new_kid, old_kid);
    server.verify_id_token(old["id_token"].as_str().unwrap(), APP, &old_nonce, now);
    server.verify_id_token(new["id_token"].as_str().unwrap(), APP, &new_nonce, now);
    // So does the FHIR API.
    for token in [old_access, new_access] {
        assert_eq!(
            read(&server, token, "Patient/pat-001").await["id"],
            "pat-001"
        );
    }

    // A second rotation drops the first keys: the old token no longer verifies anywhere.
    rotate(&ehr).await;
    server.fetch_keys().await;
    assert_eq!(
        server.verify_access(old_access, now).unwrap_err().code(),
        "ERR_JWS_KEY_NOT_FOUND"
    );
    assert_eq!(
        server.verify_access(new_access, now).unwrap().kid.unwrap(),
        new_kid
    );
    let res = fhir_get(
        &format!("{}/Patient/pat-001", server.fhir),
        &format!("Bearer {old_access}"),
        None,
    )
    .await;
    assert_refused(&res, 401, "invalid_token");
    read(&server, new_access, "Patient/pat-001").await;
    ehr.shutdown().await.unwrap();
}
