//! The FHIR API: read, vread, history, and every refusal of the guard (401, 400,
//! 403), with tokens from the mock's own authorization server.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::fhir_api_support::*;
use crate::support::NOW;

#[tokio::test]
async fn read_carries_etag_and_last_modified_and_if_none_match_gives_304() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    let res = get(&ehr, &token, "Patient/pat-001").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(
        res.header("content-type"),
        Some("application/fhir+json; charset=utf-8")
    );
    assert_eq!(res.header("etag"), Some("W/\"1\""));
    assert_eq!(
        res.header("last-modified"),
        Some("Sat, 01 Jun 2024 00:00:00 GMT")
    );
    let p = res.json();
    assert_eq!(p["id"], "pat-001");
    assert_eq!(p["name"][0]["family"], "Petrov");

    let res = Call::get("Patient/pat-001")
        .bearer(&token)
        .header("if-none-match", "W/\"1\"")
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::NOT_MODIFIED);
    assert!(res.body.is_empty());
    assert_eq!(res.header("etag"), Some("W/\"1\""));
    let res = Call::get("Patient/pat-001")
        .bearer(&token)
        .header("if-none-match", "W/\"2\"")
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::OK);

    // HEAD is answered as GET is.
    let res = Call::new(Method::HEAD, "Patient/pat-001")
        .bearer(&token)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("etag"), Some("W/\"1\""));
}

#[tokio::test]
async fn vread_and_history_follow_the_versions() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.cruds", None).await;
    let mut obs = get(&ehr, &token, "Observation/obs-001-1-hr").await.json();
    obs["status"] = "amended".into();
    let res = Call::new(Method::PUT, "Observation/obs-001-1-hr")
        .bearer(&token)
        .header("if-match", "W/\"1\"")
        .json(&obs)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header("etag"), Some("W/\"2\""));

    let v1 = get(&ehr, &token, "Observation/obs-001-1-hr/_history/1").await;
    assert_eq!(v1.status, StatusCode::OK);
    assert_eq!(v1.json()["status"], "final");
    assert_eq!(v1.header("etag"), Some("W/\"1\""));
    let v2 = get(&ehr, &token, "Observation/obs-001-1-hr/_history/2").await;
    assert_eq!(v2.json()["status"], "amended");
    assert_outcome(
        &get(&ehr, &token, "Observation/obs-001-1-hr/_history/3").await,
        404,
        "not-found",
    );
    assert_outcome(
        &get(&ehr, &token, "Observation/obs-001-1-hr/_history/x_y").await,
        400,
        "invalid",
    );

    let res = get(&ehr, &token, "Observation/obs-001-1-hr/_history").await;
    assert_eq!(res.status, StatusCode::OK);
    let h = res.json();
    assert_eq!(h["type"], "history");
    assert_eq!(h["total"], 2);
    assert_eq!(h["entry"][0]["resource"]["meta"]["versionId"], "2");
    assert_eq!(h["entry"][1]["resource"]["meta"]["versionId"], "1");
    assert_eq!(h["entry"][0]["request"]["method"], "PUT");

    // Another patient's history, version or resource: as if it did not exist.
    for path in [
        "Observation/obs-002-1-hr/_history",
        "Observation/obs-002-1-hr/_history/1",
        "Observation/obs-002-1-hr/_history/9",
        "Observation/obs-002-1-hr",
    ] {
        assert_outcome(&get(&ehr, &token, path).await, 404, "not-found");
    }
}

#[tokio::test]
async fn another_patients_resource_answers_exactly_as_a_missing_one() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    let hidden = get(&ehr, &token, "Observation/obs-002-1-hr").await;
    let missing = get(&ehr, &token, "Observation/obs-999-1-hr").await;
    let a = assert_outcome(&hidden, 404, "not-found");
    let b = assert_outcome(&missing, 404, "not-found");
    assert_eq!(
        a["issue"][0]["details"], b["issue"][0]["details"],
        "same code"
    );
    assert_eq!(
        a["issue"][0]["diagnostics"],
        "Observation/obs-002-1-hr is not known"
    );
    assert_eq!(hidden.headers.len(), missing.headers.len());
}

#[tokio::test]
async fn deleted_resources_are_410_only_for_those_who_may_see_them() {
    let ehr = ehr();
    let system = backend_access(&ehr, "system/*.cruds").await;
    for id in ["obs-001-1-hr", "obs-002-1-hr"] {
        let res = Call::new(Method::DELETE, &format!("Observation/{id}"))
            .bearer(&system)
            .send(&ehr)
            .await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    }
    assert_outcome(
        &get(&ehr, &system, "Observation/obs-002-1-hr").await,
        410,
        "deleted",
    );
    let patient = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    assert_outcome(
        &get(&ehr, &patient, "Observation/obs-001-1-hr").await,
        410,
        "deleted",
    );
    assert_outcome(
        &get(&ehr, &patient, "Observation/obs-002-1-hr").await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn ids_outside_the_id_syntax_and_path_traversal_are_400() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    let long = "a".repeat(65);
    for path in [
        "Patient/pat_001",
        "Patient/..",
        "Patient/.",
        "Patient/%2e%2e",
        "Patient/pat%2D001",
        "Patient/..%2F..%2F_admin",
        "Patient/../Patient/pat-001",
        "Patient/pat-001%00",
        long.as_str(),
    ] {
        let path = if path == long {
            format!("Patient/{long}")
        } else {
            path.to_string()
        };
        let res = get(&ehr, &token, &path).await;
        let body = assert_outcome(&res, 400, "invalid");
        assert_eq!(
            body["issue"][0]["details"]["text"], "ERR_FHIR_INVALID_ID",
            "{path}"
        );
    }
    // 64 characters is fine (and unknown).
    assert_outcome(
        &get(&ehr, &token, &format!("Patient/{}", "a".repeat(64))).await,
        404,
        "not-found",
    );
    // Not a served type, or not a type at all.
    for path in [
        "Patientx/1",
        "../_admin/reset",
        "patient/pat-001",
        "Basic/1",
    ] {
        assert_outcome(&get(&ehr, &token, path).await, 404, "not-supported");
    }
    assert_outcome(
        &get(&ehr, &token, "Patient/pat-001/extra/x/y").await,
        404,
        "not-found",
    );
    assert_outcome(
        &get(&ehr, &token, "Patient/_history").await,
        400,
        "not-supported",
    );
    assert_outcome(
        &get(&ehr, &token, "Patient/$everything").await,
        400,
        "not-supported",
    );
}

#[tokio::test]
async fn no_bad_expired_revoked_or_forgotten_tokens_are_401() {
    let ehr = ehr();
    // No token: both challenges, no error (RFC 6750 section 3.1).
    let res = Call::get("Patient/pat-001").send(&ehr).await;
    let body = assert_outcome(&res, 401, "security");
    assert_eq!(
        body["issue"][0]["details"]["text"],
        "ERR_GUARD_NO_CREDENTIALS"
    );
    let challenge = res.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer, DPoP algs="), "{challenge}");

    // Garbage and a tampered token.
    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    let res = get(&ehr, "not.a.jwt", "Patient/pat-001").await;
    assert_outcome(&res, 401, "security");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    let res = get(&ehr, &tampered, "Patient/pat-001").await;
    let body = assert_outcome(&res, 401, "security");
    assert_eq!(body["issue"][0]["details"]["text"], "invalid_token");

    // Two credentials, or a token with a space: 400 invalid_request.
    let res = Call::get("Patient/pat-001")
        .header("authorization", "Bearer a b")
        .send(&ehr)
        .await;
    assert_outcome(&res, 400, "invalid");
    let res = Call::get("Patient/pat-001")
        .bearer(&token)
        .header("authorization", "Bearer x")
        .send(&ehr)
        .await;
    assert_outcome(&res, 400, "invalid");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("invalid_request")
    );

    // The token works; an hour later it has expired.
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    ehr.post_json("/_admin/clock", json!({ "advance_secs": 3600 }))
        .await;
    let res = get(&ehr, &token, "Patient/pat-001").await;
    assert_outcome(&res, 401, "security");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    ehr.post_json("/_admin/clock", json!({ "offset_secs": 0 }))
        .await;

    // Revoked at the revocation endpoint: 401 although the signature is good.
    let res = ehr
        .post_form("/revoke", &[("token", &token), ("client_id", APP)])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let res = get(&ehr, &token, "Patient/pat-001").await;
    let body = assert_outcome(&res, 401, "security");
    assert_eq!(
        body["issue"][0]["diagnostics"],
        "the access token was revoked"
    );
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\", error_description=\"the access token was revoked\", DPoP algs=")
    );

    // Forgotten by a reset.
    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    ehr.post_json("/_admin/reset", json!({})).await;
    assert_outcome(&get(&ehr, &token, "Patient/pat-001").await, 401, "security");
}

#[tokio::test]
async fn insufficient_scope_is_403_naming_a_scope_that_would_do() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/Observation.rs", None).await;
    let res = get(&ehr, &token, "Condition?patient=pat-001").await;
    let body = assert_outcome(&res, 403, "forbidden");
    assert_eq!(body["issue"][0]["details"]["text"], "insufficient_scope");
    let challenge = res.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"patient/Condition.s\""),
        "{challenge}"
    );
    // Practitioner is outside the patient compartment: no patient/ scope reaches it.
    assert_outcome(
        &get(&ehr, &token, "Practitioner/prac-001").await,
        403,
        "forbidden",
    );
}

#[tokio::test]
async fn dpop_bound_tokens_need_a_fresh_proof_for_each_request() {
    let ehr = ehr();
    let key = dpop_key();
    let token = dpop_access(
        &ehr,
        &key,
        json!({ "client_id": APP, "scope": "launch/patient patient/*.rs", "patient": "pat-001", "user": "dr.smith" }),
    )
    .await;
    let dpop_get = |path: &str, proof: String| {
        Call::get(path)
            .header("authorization", &format!("DPoP {token}"))
            .header("dpop", &proof)
    };
    let p = proof(&ehr, &key, "GET", "Patient/pat-001", &token);
    let res = dpop_get("Patient/pat-001", p.clone()).send(&ehr).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    // The same proof again: a replay.
    let res = dpop_get("Patient/pat-001", p).send(&ehr).await;
    let body = assert_outcome(&res, 401, "security");
    assert_eq!(body["issue"][0]["details"]["text"], "invalid_dpop_proof");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("DPoP error=\"invalid_dpop_proof\"")
    );
    // A proof for another URL or method.
    let other = proof(&ehr, &key, "GET", "Patient/pat-002", &token);
    assert_outcome(
        &dpop_get("Patient/pat-001", other).send(&ehr).await,
        401,
        "security",
    );
    let post = proof(&ehr, &key, "POST", "Patient/pat-001", &token);
    assert_outcome(
        &dpop_get("Patient/pat-001", post).send(&ehr).await,
        401,
        "security",
    );
    // The query is not part of htu: one proof per request to the search URL.
    let p = proof(&ehr, &key, "GET", "Observation", &token);
    let res = dpop_get("Observation?category=laboratory", p)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["total"], 3);
    // A DPoP-bound token as a bearer token, or without a proof.
    assert_outcome(&get(&ehr, &token, "Patient/pat-001").await, 401, "security");
    let res = Call::get("Patient/pat-001")
        .header("authorization", &format!("DPoP {token}"))
        .send(&ehr)
        .await;
    assert_outcome(&res, 401, "security");
    // Another key's proof.
    let thief = smartgate_core::dpop::DpopKey::from_bytes(&[9u8; 32]).unwrap();
    let p = proof(&ehr, &thief, "GET", "Patient/pat-001", &token);
    assert_outcome(
        &dpop_get("Patient/pat-001", p).send(&ehr).await,
        401,
        "security",
    );
}

#[tokio::test]
async fn tokens_signed_before_a_key_rotation_still_verify() {
    let ehr = ehr();
    let before = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    assert_eq!(
        get(&ehr, &before, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    let res = ehr.post_json("/_admin/keys/rotate", json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let after = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    assert_eq!(
        get(&ehr, &before, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&ehr, &after, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    // A second rotation drops the first key: tokens it signed no longer verify.
    ehr.post_json("/_admin/keys/rotate", json!({})).await;
    assert_outcome(
        &get(&ehr, &before, "Patient/pat-001").await,
        401,
        "security",
    );
    assert_eq!(
        get(&ehr, &after, "Patient/pat-001").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_guard_caching_mode_decides_alike() {
    for caching in [
        mock_ehr::GuardCaching::None,
        mock_ehr::GuardCaching::Keys,
        mock_ehr::GuardCaching::Tokens,
    ] {
        let ehr = ehr_from(builder().guard_caching(caching));
        let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
        for _ in 0..2 {
            assert_eq!(
                get(&ehr, &token, "Patient/pat-001").await.status,
                StatusCode::OK
            );
            assert_eq!(
                get(&ehr, &token, "Patient/pat-002").await.status,
                StatusCode::NOT_FOUND
            );
        }
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_outcome(
            &get(&ehr, &tampered, "Patient/pat-001").await,
            401,
            "security",
        );
        // The cached token still expires.
        ehr.post_json("/_admin/clock", json!({ "advance_secs": 3600 }))
            .await;
        assert_outcome(&get(&ehr, &token, "Patient/pat-001").await, 401, "security");
        let stats = ehr.get("/_admin/stats").await.json();
        assert_eq!(stats["caching"], caching.as_str());
        assert_eq!(stats["requests"], 6);
        let hits = stats["token_cache"]["hits"].as_u64().unwrap();
        match caching {
            mock_ehr::GuardCaching::Tokens => assert_eq!(hits, 3, "{stats}"),
            _ => assert_eq!(hits, 0, "{stats}"),
        }
    }
    let _ = NOW;
}

#[tokio::test]
async fn the_fhir_base_itself_is_no_interaction_here() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    for uri in ["/fhir", "/fhir/"] {
        let res = ehr
            .send(
                axum::http::Request::get(uri)
                    .header("authorization", format!("Bearer {token}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_outcome(
            &res,
            404,
            if uri == "/fhir" {
                "not-found"
            } else {
                "not-supported"
            },
        );
    }
    // Without a token it is a 401 like every other FHIR path.
    assert_eq!(ehr.get("/fhir").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn withdrawing_consent_ends_the_grants_tokens_at_the_fhir_api() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    let res = ehr
        .post_json(
            "/_admin/consents/withdraw",
            json!({ "user": "dr.smith", "client_id": APP }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let body = assert_outcome(&get(&ehr, &token, "Patient/pat-001").await, 401, "security");
    assert_eq!(
        body["issue"][0]["diagnostics"],
        "the grant of the access token has ended"
    );
}
