//! The FHIR API as a server: the CapabilityStatement, CORS, forced faults, the audit
//! trail, reset, `--data` / `.data_path(..)`, and the counters at `/_admin/stats`.

use std::process::Command;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fhir_api_support::*;
use crate::support::{BASE, Ehr};

#[tokio::test]
async fn capability_statement_lists_exactly_what_is_served() {
    let ehr = ehr();
    let res = ehr.get("/fhir/metadata").await;
    assert_eq!(res.status, StatusCode::OK);
    let m = res.json();
    assert_eq!(m["fhirVersion"], "4.0.1");
    assert_eq!(m["patchFormat"], json!(["application/json-patch+json"]));
    let rest = &m["rest"][0];
    assert_eq!(
        rest["security"]["extension"][0]["url"],
        "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    );
    assert_eq!(
        rest["security"]["service"][0]["coding"][0]["code"],
        "SMART-on-FHIR"
    );
    assert_eq!(
        rest["operation"][0]["definition"],
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
    );
    let resources = rest["resource"].as_array().unwrap();
    let types: Vec<&str> = resources
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "AllergyIntolerance",
            "Condition",
            "DiagnosticReport",
            "Encounter",
            "Group",
            "Immunization",
            "MedicationRequest",
            "Observation",
            "Organization",
            "Patient",
            "Practitioner",
            "Procedure",
            // The audit trail, read-only (audit_trail.rs).
            "AuditEvent"
        ]
    );
    for r in resources {
        let ty = r["type"].as_str().unwrap();
        let names: Vec<&str> = r["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, mock_ehr::fhir::search::supported_params(ty), "{ty}");
        let interactions: Vec<&str> = r["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        if ty == "AuditEvent" {
            assert_eq!(interactions, ["read", "search-type"]);
            continue;
        }
        assert_eq!(
            interactions,
            [
                "read",
                "vread",
                "update",
                "patch",
                "delete",
                "history-instance",
                "create",
                "search-type"
            ]
        );
    }
    let obs = resources
        .iter()
        .find(|r| r["type"] == "Observation")
        .unwrap();
    assert!(
        obs["searchInclude"]
            .as_array()
            .unwrap()
            .contains(&json!("Observation:subject"))
    );
    let patient = resources.iter().find(|r| r["type"] == "Patient").unwrap();
    assert_eq!(
        patient["operation"][0]["definition"],
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
    );

    // Every listed interaction answers (here: search on each type).
    let token = backend_access(&ehr, "system/*.rs").await;
    for ty in types {
        let res = get(&ehr, &token, ty).await;
        assert_eq!(res.status, StatusCode::OK, "{ty}: {}", res.text());
    }
}

#[tokio::test]
async fn cors_only_for_registered_origins() {
    let ehr = ehr();
    let preflight = |origin: &str| {
        Call::new(Method::OPTIONS, "Observation")
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header(
                "access-control-request-headers",
                "authorization, dpop, if-match",
            )
    };
    let res = preflight("http://localhost:4000").send(&ehr).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://localhost:4000")
    );
    assert!(
        res.header("access-control-allow-methods")
            .unwrap()
            .contains("PUT")
    );
    assert!(
        res.header("access-control-allow-headers")
            .unwrap()
            .contains("dpop")
    );
    let res = preflight("http://evil.example").send(&ehr).await;
    assert!(res.header("access-control-allow-origin").is_none());

    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    let res = Call::get("Patient/pat-001")
        .bearer(&token)
        .header("origin", "http://localhost:4000")
        .send(&ehr)
        .await;
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://localhost:4000")
    );
    assert!(
        res.header("access-control-expose-headers")
            .unwrap()
            .contains("etag")
    );
    // Refusals carry CORS too, so a browser app can read the OperationOutcome.
    let res = Call::get("Patient/pat-001")
        .header("origin", "http://localhost:4000")
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://localhost:4000")
    );
    let res = Call::get("Patient/pat-001")
        .bearer(&token)
        .header("origin", "http://evil.example")
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn faults_force_429_and_other_errors_on_fhir_requests() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    let arm = |fault: Value, count: u32| {
        ehr.post_json(
            "/_admin/faults",
            json!({ "endpoint": "fhir", "count": count, "fault": fault }),
        )
    };
    let res = arm(json!({ "type": "rate_limit", "retry_after": 7 }), 2).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    for _ in 0..2 {
        let res = get(&ehr, &token, "Patient/pat-001").await;
        assert_outcome(&res, 429, "throttled");
        assert_eq!(res.header("retry-after"), Some("7"));
    }
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::OK
    );

    arm(json!({ "type": "status", "status": 503 }), 1).await;
    assert_outcome(&get(&ehr, &token, "Observation").await, 503, "transient");
    arm(
        json!({ "type": "oauth_error", "error": "invalid_token" }),
        1,
    )
    .await;
    let res = get(&ehr, &token, "Observation").await;
    assert_outcome(&res, 401, "security");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    arm(json!({ "type": "delay", "ms": 20 }), 1).await;
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    // A faulted write changes nothing.
    arm(json!({ "type": "status", "status": 500 }), 1).await;
    let writer = backend_access(&ehr, "system/*.cruds").await;
    let res = Call::new(Method::DELETE, "Patient/pat-001")
        .bearer(&writer)
        .send(&ehr)
        .await;
    assert_outcome(&res, 500, "transient");
    assert_eq!(
        get(&ehr, &writer, "Patient/pat-001").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_fhir_access_is_audited_without_the_token() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    get(&ehr, &token, "Patient/pat-001").await;
    get(&ehr, &token, "Patient/pat-002").await;
    get(&ehr, &token, "Practitioner/prac-001").await;
    Call::get("Patient/pat-001").send(&ehr).await;
    let events: Vec<Value> = ehr
        .audit()
        .await
        .into_iter()
        .filter(|e| e["event"] == "fhir")
        .collect();
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[0]["outcome"], "success");
    assert_eq!(events[0]["client_id"], APP);
    assert_eq!(events[0]["user"], "dr.smith");
    assert_eq!(events[0]["patient"], "pat-001");
    assert_eq!(events[0]["detail"], "GET /fhir/Patient/pat-001 -> 200");
    assert!(events[0]["token_id"].as_str().unwrap().len() >= 16);
    assert_eq!(events[1]["outcome"], "ERR_FHIR_NOT_FOUND");
    assert_eq!(events[2]["outcome"], "insufficient_scope");
    assert_eq!(events[3]["outcome"], "ERR_GUARD_NO_CREDENTIALS");
    let trail = ehr.get("/_admin/audit").await.text();
    let signature = token.rsplit('.').next().unwrap();
    assert!(!trail.contains(signature), "no token in the audit trail");
}

#[tokio::test]
async fn reset_restores_the_data() {
    let ehr = ehr();
    let writer = backend_access(&ehr, "system/*.cruds").await;
    let res = Call::new(Method::DELETE, "Patient/pat-001")
        .bearer(&writer)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    ehr.post_json("/_admin/reset", json!({})).await;
    let reader = backend_access(&ehr, "system/*.rs").await;
    let res = get(&ehr, &reader, "Patient/pat-001").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("etag"), Some("W/\"1\""));
}

const BUNDLE: &str = r#"{
  "resourceType": "Bundle", "type": "transaction",
  "entry": [
    { "fullUrl": "urn:uuid:p1", "resource": { "resourceType": "Patient", "name": [{ "family": "Mine" }] },
      "request": { "method": "POST", "url": "Patient" } },
    { "resource": { "resourceType": "Observation", "id": "o1", "status": "final",
        "code": { "text": "x" }, "subject": { "reference": "urn:uuid:p1" } },
      "request": { "method": "PUT", "url": "Observation/o1" } },
    { "resource": { "resourceType": "DocumentReference", "id": "d1", "status": "current",
        "content": [{ "attachment": { "url": "http://x" } }], "subject": { "reference": "urn:uuid:p1" } },
      "request": { "method": "PUT", "url": "DocumentReference/d1" } }
  ]
}"#;

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mock-ehr-fhir-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn data_path_serves_a_teams_own_bundle_and_reset_restores_it() {
    let path = temp_file("bundle.json", BUNDLE);
    let ehr = ehr_from(builder().data_path(&path));
    let token = backend_access(&ehr, "system/*.cruds").await;
    assert_eq!(search_all(&ehr, &token, "Patient").await, ["Patient/p1"]);
    let obs = get(&ehr, &token, "Observation/o1").await.json();
    assert_eq!(obs["subject"]["reference"], "Patient/p1");
    // A type only the data holds is served, and listed.
    assert_eq!(
        get(&ehr, &token, "DocumentReference/d1").await.status,
        StatusCode::OK
    );
    let m = ehr.get("/fhir/metadata").await.json();
    assert!(
        m["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["type"] == "DocumentReference")
    );
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::NOT_FOUND
    );
    // The data's patients can be named in a login_hint.
    let t = app_token(&ehr, "launch/patient patient/*.rs", Some("Patient/p1")).await;
    assert_eq!(t["patient"], "p1");
    // Reset: back to the loaded data, not the built-in set.
    Call::new(Method::DELETE, "Observation/o1")
        .bearer(&token)
        .send(&ehr)
        .await;
    ehr.post_json("/_admin/reset", json!({})).await;
    let token = backend_access(&ehr, "system/*.rs").await;
    assert_eq!(
        get(&ehr, &token, "Observation/o1").await.status,
        StatusCode::OK
    );
    assert_eq!(search_all(&ehr, &token, "Patient").await, ["Patient/p1"]);

    // NDJSON too, and an in-memory store.
    let nd = temp_file(
        "data.ndjson",
        "{\"resourceType\":\"Patient\",\"id\":\"n1\"}\n",
    );
    let ehr = ehr_from(builder().data_path(&nd));
    let token = backend_access(&ehr, "system/*.rs").await;
    assert_eq!(search_all(&ehr, &token, "Patient").await, ["Patient/n1"]);
    let store = mock_ehr::fhir::load::load_bundle_str("inline", BUNDLE, 0).unwrap();
    let ehr = ehr_from(builder().data(store));
    let token = backend_access(&ehr, "system/*.rs").await;
    assert_eq!(search_all(&ehr, &token, "Patient").await, ["Patient/p1"]);
}

#[tokio::test]
async fn invalid_data_is_refused_at_start_with_file_resource_and_reason() {
    let bad = temp_file(
        "bad.ndjson",
        "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Observation\",\"id\":\"o\",\"code\":{}}\n",
    );
    let err = builder().data_path(&bad).build_state(BASE).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad.ndjson"), "{text}");
    assert!(text.contains("line 2 (Observation/o)"), "{text}");
    assert!(text.contains("Observation.status is required"), "{text}");
    let missing = builder()
        .data_path("/nonexistent/fixtures.json")
        .build_state(BASE)
        .unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/fixtures.json"),
        "{missing}"
    );

    // The binary refuses to start, with the same message.
    let out = Command::new(env!("CARGO_BIN_EXE_mock-ehr"))
        .args(["--port", "0", "--data"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2 (Observation/o)"), "{stderr}");
    assert!(
        stderr.contains("Observation.status is required"),
        "{stderr}"
    );
}

#[tokio::test]
async fn stats_split_the_time_between_guard_and_fhir_work() {
    let ehr = ehr();
    let token = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    for _ in 0..3 {
        get(&ehr, &token, "Observation?_count=5").await;
    }
    let s = ehr.get("/_admin/stats").await.json();
    assert_eq!(s["caching"], "tokens");
    assert_eq!(s["requests"], 3);
    assert_eq!(s["errors"], 0);
    assert_eq!(s["token_cache"], json!({ "hits": 2, "misses": 1 }));
    assert!(s["guard_ns"].as_u64().unwrap() > 0);
    assert!(s["fhir_ns"].as_u64().unwrap() > 0);
    assert!(
        s["total_ns"].as_u64().unwrap()
            >= s["guard_ns"].as_u64().unwrap() + s["fhir_ns"].as_u64().unwrap()
    );
    let res = ehr
        .send(
            axum::http::Request::delete("/_admin/stats")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.json()["requests"], 0);
}

#[tokio::test]
async fn admin_tokens_are_refused_for_unknown_clients_users_and_patients() {
    let ehr: Ehr = ehr();
    for body in [
        json!({ "client_id": "nobody", "scope": "system/*.rs" }),
        json!({ "client_id": APP, "scope": "user/*.rs", "user": "nobody" }),
        json!({ "client_id": APP, "scope": "patient/*.rs", "patient": "pat-999" }),
        json!({ "client_id": APP, "scope": "patient/*.rs", "jkt": "short" }),
        json!({ "client_id": APP, "scope": "patient/*.rs", "expires_in": 0 }),
        json!({ "client_id": APP, "scope": "bad\"scope" }),
        json!({ "client_id": APP, "scope": "x", "extra": 1 }),
    ] {
        let res = ehr.post_json("/_admin/tokens", body.clone()).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            res.text()
        );
    }
}
