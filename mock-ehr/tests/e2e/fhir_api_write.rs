//! The FHIR API: create, conditional create, update with ETags, JSON Patch, delete,
//! and the bad inputs of writes. A refused write changes nothing.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fhir_api_support::*;
use crate::support::{Ehr, Resp};

/// Every Observation id and version, as a system client sees them.
async fn snapshot(ehr: &Ehr) -> Value {
    let token = backend_access(ehr, "system/*.rs").await;
    let res = get(ehr, &token, "Observation?_count=1000").await;
    let b = res.json();
    json!(
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"].clone())
            .collect::<Vec<_>>()
    )
}

fn send_json(method: Method, path: &str, token: &str, body: &Value) -> Call<'static> {
    Call::new(method, path).bearer(token).json(body)
}

#[tokio::test]
async fn create_answers_201_with_location_and_etag() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.cruds", None).await;
    let res = send_json(
        Method::POST,
        "Observation",
        &token,
        &new_observation("pat-001", "vital-signs"),
    )
    .send(&ehr)
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let created = res.json();
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        res.header("location").unwrap(),
        format!("http://127.0.0.1:8080/fhir/Observation/{id}/_history/1")
    );
    assert_eq!(res.header("etag"), Some("W/\"1\""));
    assert_eq!(created["meta"]["versionId"], "1");
    assert_eq!(created["meta"]["lastUpdated"], "2023-11-14T22:13:20Z");
    let read = get(&ehr, &token, &format!("Observation/{id}")).await;
    assert_eq!(read.json(), created);

    // Prefer: return=minimal and return=OperationOutcome.
    let res = send_json(
        Method::POST,
        "Observation",
        &token,
        &new_observation("pat-001", "vital-signs"),
    )
    .header("prefer", "return=minimal")
    .send(&ehr)
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert!(res.body.is_empty());
    assert!(res.header("location").is_some());
    let res = send_json(
        Method::POST,
        "Observation",
        &token,
        &new_observation("pat-001", "vital-signs"),
    )
    .header("prefer", "return=OperationOutcome")
    .send(&ehr)
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.json()["issue"][0]["severity"], "information");
}

#[tokio::test]
async fn conditional_create_finds_the_existing_one() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.cruds", None).await;
    let mut obs = new_observation("pat-001", "vital-signs");
    obs["identifier"] = json!([{ "system": "urn:test", "value": "abc" }]);
    let first = send_json(Method::POST, "Observation", &token, &obs)
        .header("if-none-exist", "identifier=urn:test|abc")
        .send(&ehr)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let second = send_json(Method::POST, "Observation", &token, &obs)
        .header("if-none-exist", "identifier=urn:test|abc")
        .send(&ehr)
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text());
    assert_eq!(second.json()["id"], first.json()["id"]);
    // Criteria matching several: 412; an unknown criterion: 400.
    let res = send_json(Method::POST, "Observation", &token, &obs)
        .header("if-none-exist", "patient=pat-001")
        .send(&ehr)
        .await;
    assert_outcome(&res, 412, "multiple-matches");
    let res = send_json(Method::POST, "Observation", &token, &obs)
        .header("if-none-exist", "frobnicate=1")
        .send(&ehr)
        .await;
    assert_outcome(&res, 400, "invalid");
}

#[tokio::test]
async fn update_checks_if_match_and_a_stale_version_is_412() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.cruds", None).await;
    let mut obs = get(&ehr, &token, "Observation/obs-001-1-hr").await.json();
    obs["status"] = "amended".into();
    let res = send_json(Method::PUT, "Observation/obs-001-1-hr", &token, &obs)
        .header("if-match", "W/\"1\"")
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header("etag"), Some("W/\"2\""));
    let before = snapshot(&ehr).await;
    obs["status"] = "cancelled".into();
    let res = send_json(Method::PUT, "Observation/obs-001-1-hr", &token, &obs)
        .header("if-match", "W/\"1\"")
        .send(&ehr)
        .await;
    assert_outcome(&res, 412, "conflict");
    assert_eq!(
        snapshot(&ehr).await,
        before,
        "a refused write changes nothing"
    );
    // Without If-Match it goes through; to a new id it creates.
    let res = send_json(Method::PUT, "Observation/obs-001-1-hr", &token, &obs)
        .send(&ehr)
        .await;
    assert_eq!(res.header("etag"), Some("W/\"3\""));
    let mut fresh = new_observation("pat-001", "vital-signs");
    fresh["id"] = "my-own-id".into();
    let res = send_json(Method::PUT, "Observation/my-own-id", &token, &fresh)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert_eq!(
        res.header("location"),
        Some("http://127.0.0.1:8080/fhir/Observation/my-own-id/_history/1")
    );
}

#[tokio::test]
async fn bad_write_bodies_get_their_status_and_change_nothing() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.cruds", None).await;
    let before = snapshot(&ehr).await;
    let obs = get(&ehr, &token, "Observation/obs-001-1-hr").await.json();
    let mut other_id = obs.clone();
    other_id["id"] = "obs-001-2-hr".into();
    let mut no_id = obs.clone();
    no_id.as_object_mut().unwrap().remove("id");
    let mut wrong_type = obs.clone();
    wrong_type["resourceType"] = "Condition".into();
    let mut no_status = new_observation("pat-001", "vital-signs");
    no_status.as_object_mut().unwrap().remove("status");
    let cases: Vec<(Call<'static>, u16, &str)> = vec![
        (
            send_json(Method::PUT, "Observation/obs-001-1-hr", &token, &other_id),
            400,
            "invalid",
        ),
        (
            send_json(Method::PUT, "Observation/obs-001-1-hr", &token, &no_id),
            400,
            "invalid",
        ),
        (
            send_json(Method::PUT, "Observation/obs-001-1-hr", &token, &wrong_type),
            422,
            "invalid",
        ),
        (
            send_json(Method::POST, "Observation", &token, &wrong_type),
            422,
            "invalid",
        ),
        (
            send_json(Method::POST, "Observation", &token, &no_status),
            422,
            "required",
        ),
        (
            send_json(Method::POST, "Observation", &token, &json!([1, 2])),
            400,
            "invalid",
        ),
        (
            Call::new(Method::POST, "Observation")
                .bearer(&token)
                .body("application/fhir+json", b"{\"resourceType\": ".to_vec()),
            400,
            "invalid",
        ),
        (
            Call::new(Method::POST, "Observation")
                .bearer(&token)
                .body("text/plain", obs.to_string().into_bytes()),
            415,
            "not-supported",
        ),
        (
            Call::new(Method::PUT, "Observation/obs-001-1-hr")
                .bearer(&token)
                .body("application/xml", b"<Observation/>".to_vec()),
            415,
            "not-supported",
        ),
        (
            Call::new(Method::POST, "Observation").bearer(&token),
            415,
            "not-supported",
        ),
        (
            Call::new(Method::POST, "Observation")
                .bearer(&token)
                .body("application/fhir+json", vec![b' '; mock_ehr::MAX_BODY + 1]),
            413,
            "too-long",
        ),
        (
            send_json(Method::PUT, "Observation/bad_id", &token, &obs),
            400,
            "invalid",
        ),
        (
            send_json(Method::PUT, "Observation/..", &token, &obs),
            400,
            "invalid",
        ),
        (
            send_json(Method::POST, "Observation/obs-001-1-hr", &token, &obs),
            405,
            "not-supported",
        ),
        (
            Call::new(Method::DELETE, "Observation").bearer(&token),
            405,
            "not-supported",
        ),
    ];
    for (i, (call, status, code)) in cases.into_iter().enumerate() {
        let res = call.send(&ehr).await;
        assert_eq!(res.status.as_u16(), status, "case {i}: {}", res.text());
        assert_outcome(&res, status, code);
    }
    assert_eq!(
        snapshot(&ehr).await,
        before,
        "a refused write changes nothing"
    );
}

async fn patch(ehr: &Ehr, token: &str, path: &str, ops: Value, if_match: Option<&str>) -> Resp {
    let mut call = Call::new(Method::PATCH, path)
        .bearer(token)
        .body("application/json-patch+json", ops.to_string().into_bytes());
    if let Some(m) = if_match {
        call = call.header("if-match", m);
    }
    call.send(ehr).await
}

#[tokio::test]
async fn json_patch_updates_and_its_failures_change_nothing() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.cruds", None).await;
    let res = patch(
        &ehr,
        &token,
        "Observation/obs-001-1-hr",
        json!([
            { "op": "test", "path": "/status", "value": "final" },
            { "op": "replace", "path": "/status", "value": "amended" },
            { "op": "add", "path": "/note", "value": [{ "text": "rechecked" }] }
        ]),
        Some("W/\"1\""),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header("etag"), Some("W/\"2\""));
    let patched = res.json();
    assert_eq!(patched["status"], "amended");
    assert_eq!(patched["note"][0]["text"], "rechecked");

    let before = snapshot(&ehr).await;
    let refusals: Vec<(Value, Option<&str>, u16, &str)> = vec![
        (
            json!([{ "op": "test", "path": "/status", "value": "final" }]),
            None,
            422,
            "processing",
        ),
        (
            json!([{ "op": "remove", "path": "/nothing" }]),
            None,
            422,
            "processing",
        ),
        (
            json!([{ "op": "replace", "path": "/status", "value": "x" }]),
            Some("W/\"1\""),
            412,
            "conflict",
        ),
        (
            json!([{ "op": "remove", "path": "/id" }]),
            None,
            400,
            "invalid",
        ),
        (
            json!([{ "op": "replace", "path": "/id", "value": "other" }]),
            None,
            400,
            "invalid",
        ),
        (
            json!([{ "op": "replace", "path": "/resourceType", "value": "Condition" }]),
            None,
            422,
            "invalid",
        ),
        (
            json!([{ "op": "remove", "path": "/status" }]),
            None,
            422,
            "required",
        ),
        (
            json!({ "op": "remove", "path": "/status" }),
            None,
            400,
            "invalid",
        ),
        // Moving it to another patient: outside what the token may write.
        (
            json!([{ "op": "replace", "path": "/subject/reference", "value": "Patient/pat-002" }]),
            None,
            403,
            "forbidden",
        ),
    ];
    for (ops, if_match, status, code) in refusals {
        let res = patch(
            &ehr,
            &token,
            "Observation/obs-001-1-hr",
            ops.clone(),
            if_match,
        )
        .await;
        assert_eq!(res.status.as_u16(), status, "{ops}: {}", res.text());
        assert_outcome(&res, status, code);
    }
    // Another patient's resource: 404; a plain JSON body: 415.
    let res = patch(&ehr, &token, "Observation/obs-002-1-hr", json!([]), None).await;
    assert_outcome(&res, 404, "not-found");
    let res = Call::new(Method::PATCH, "Observation/obs-001-1-hr")
        .bearer(&token)
        .json(&json!([]))
        .send(&ehr)
        .await;
    assert_outcome(&res, 415, "not-supported");
    assert_eq!(
        snapshot(&ehr).await,
        before,
        "a refused patch changes nothing"
    );
}

#[tokio::test]
async fn delete_is_204_then_410_and_history_keeps_it() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.cruds", None).await;
    let res = Call::new(Method::DELETE, "Observation/obs-001-1-hr")
        .bearer(&token)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert_outcome(
        &get(&ehr, &token, "Observation/obs-001-1-hr").await,
        410,
        "deleted",
    );
    let again = Call::new(Method::DELETE, "Observation/obs-001-1-hr")
        .bearer(&token)
        .send(&ehr)
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let h = get(&ehr, &token, "Observation/obs-001-1-hr/_history")
        .await
        .json();
    assert_eq!(h["total"], 2);
    assert_eq!(h["entry"][0]["request"]["method"], "DELETE");
    assert!(h["entry"][0].get("resource").is_none());
    assert_outcome(
        &get(&ehr, &token, "Observation/obs-001-1-hr/_history/2").await,
        410,
        "deleted",
    );
    // Never existed: 404.
    let res = Call::new(Method::DELETE, "Observation/nope")
        .bearer(&token)
        .send(&ehr)
        .await;
    assert_outcome(&res, 404, "not-found");
    // The deleted one is gone from searches.
    let ids = search_all(&ehr, &token, "Observation").await;
    assert!(!ids.contains(&"Observation/obs-001-1-hr".to_string()));
    assert_eq!(ids.len(), observations(1).len() - 1);
}
