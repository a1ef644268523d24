//! A DPoP-bound public client (RFC 9449): proofs at the token endpoint (the code bound
//! with `dpop_jkt`), a token bound by `cnf.jkt`, a fresh proof with `ath` for each FHIR
//! request, refreshes bound to the same key; with the server's default configuration
//! and with DPoP required and server nonces.

use mock_ehr::DpopConfig;

use super::*;

const SCOPE: &str = "launch/patient patient/*.rs offline_access";

fn key() -> DpopKey {
    DpopKey::from_bytes(&[21; 32]).unwrap()
}

/// `GET {fhir}/{path}` with the DPoP scheme and a proof by `key`.
async fn dpop_get(ehr: &MockEhr, server: &Server, key: &DpopKey, token: &str, path: &str) -> Reply {
    let url = format!("{}/{path}", server.fhir);
    let p = proof(key, "GET", &url, Some(token), None, server_now(ehr).await);
    fhir_get(&url, &format!("DPoP {token}"), Some(&p)).await
}

/// What a bound token must allow and refuse at the FHIR API.
async fn use_bound_token(ehr: &MockEhr, server: &Server, key: &DpopKey, token: &str) {
    let res = dpop_get(ehr, server, key, token, "Patient/pat-001").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["id"], "pat-001");
    assert!(
        res.header("dpop-nonce").is_none(),
        "the FHIR API asks for no nonce"
    );
    // A search: htu is the URL without its query.
    let res = dpop_get(
        ehr,
        server,
        key,
        token,
        "Observation?patient=pat-001&_count=100",
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let mut ids = entry_ids(&res.json());
    ids.sort();
    assert_eq!(ids, observations_of("pat-001"));
    // As a bearer token: refused (RFC 9449 section 7.2).
    let res = fhir_get(
        &format!("{}/Patient/pat-001", server.fhir),
        &format!("Bearer {token}"),
        None,
    )
    .await;
    assert_refused(&res, 401, "invalid_token");
    // The DPoP scheme without a proof.
    let res = fhir_get(
        &format!("{}/Patient/pat-001", server.fhir),
        &format!("DPoP {token}"),
        None,
    )
    .await;
    assert_refused(&res, 401, "invalid_dpop_proof");
}

#[tokio::test]
async fn dpop_bound_public_client() {
    let ehr = spawn(Config::default(), true).await;
    let server = Server::discover(ehr.fhir_base()).await;
    let algs = server.config["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.iter().any(|a| a == "ES256"));
    let key = key();
    let token_url = server.endpoint("token_endpoint").to_string();

    // The code is bound to the key (section 10).
    let auth = Authorization::with(&server, APP, SCOPE, None, &[("dpop_jkt", key.thumbprint())]);
    let code = auth.auto(&server).await;
    let now = server_now(&ehr).await;
    let res = auth
        .exchange(
            &server,
            APP,
            &code,
            Some(&proof(&key, "POST", &token_url, None, None, now)),
        )
        .await;
    assert!(res.header("dpop-nonce").is_none(), "no nonces by default");
    let t = token_response(&res);
    assert_eq!(t["token_type"], "DPoP");
    let access = t["access_token"].as_str().unwrap();
    let now = server_now(&ehr).await;
    let claims = server.verify_access(access, now).unwrap().claims.into_raw();
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
    use_bound_token(&ehr, &server, &key, access).await;

    // Refresh: a proof by the same key, a new bound token and refresh token.
    let rt0 = t["refresh_token"].as_str().unwrap();
    let now = server_now(&ehr).await;
    let t1 = token_response(
        &refresh(
            &server,
            APP,
            rt0,
            Some(&proof(&key, "POST", &token_url, None, None, now)),
        )
        .await,
    );
    assert_eq!(t1["token_type"], "DPoP");
    assert_ne!(t1["refresh_token"], t["refresh_token"]);
    let access1 = t1["access_token"].as_str().unwrap();
    let now = server_now(&ehr).await;
    let claims = server
        .verify_access(access1, now)
        .unwrap()
        .claims
        .into_raw();
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
    use_bound_token(&ehr, &server, &key, access1).await;

    // The refresh token is bound to the key: another key's proof, or none, is refused.
    let rt1 = t1["refresh_token"].as_str().unwrap();
    let thief = DpopKey::from_bytes(&[22; 32]).unwrap();
    for p in [
        Some(proof(&thief, "POST", &token_url, None, None, now)),
        None,
    ] {
        let res = refresh(&server, APP, rt1, p.as_deref()).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
        assert_eq!(res.oauth_error(), "invalid_dpop_proof");
    }
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn dpop_required_with_server_nonces() {
    let config = Config {
        dpop: DpopConfig {
            required: true,
            nonce: true,
            ..DpopConfig::default()
        },
        ..Config::default()
    };
    let ehr = spawn(config, true).await;
    let server = Server::discover(ehr.fhir_base()).await;
    let key = key();
    let token_url = server.endpoint("token_endpoint").to_string();
    let auth = Authorization::new(&server, APP, SCOPE, None);
    let code = auth.auto(&server).await;

    // No proof: refused, DPoP is required.
    let res = auth.exchange(&server, APP, &code, None).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    assert_eq!(res.oauth_error(), "invalid_dpop_proof");
    // A proof without the server's nonce: use_dpop_nonce, and the nonce to use.
    let now = server_now(&ehr).await;
    let p = proof(&key, "POST", &token_url, None, None, now);
    let res = auth.exchange(&server, APP, &code, Some(&p)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    assert_eq!(res.oauth_error(), "use_dpop_nonce");
    let nonce = res.header("dpop-nonce").unwrap().to_string();
    // Again with the nonce (the code was not used up by the round trip).
    let p = proof(&key, "POST", &token_url, None, Some(&nonce), now);
    let res = auth.exchange(&server, APP, &code, Some(&p)).await;
    let nonce = res.header("dpop-nonce").unwrap().to_string();
    let t = token_response(&res);
    assert_eq!(t["token_type"], "DPoP");
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(
        server
            .verify_access(access, server_now(&ehr).await)
            .unwrap()
            .claims
            .raw()["cnf"]["jkt"],
        key.thumbprint()
    );
    use_bound_token(&ehr, &server, &key, access).await;

    // A refresh with the nonce of the last response.
    let p = proof(&key, "POST", &token_url, None, Some(&nonce), now);
    let rt = t["refresh_token"].as_str().unwrap();
    let t1 = token_response(&refresh(&server, APP, rt, Some(&p)).await);
    assert_eq!(t1["token_type"], "DPoP");
    use_bound_token(&ehr, &server, &key, t1["access_token"].as_str().unwrap()).await;
    ehr.shutdown().await.unwrap();
}
