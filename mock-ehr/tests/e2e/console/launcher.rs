//! The launcher: provider, patient and standalone launches, scopes to allow, simulated
//! errors, and its validation errors next to their field.

use axum::http::StatusCode;
use serde_json::json;

use super::{Case, csrf, field_error, launch_form, launch_url_query, unescaped};
use crate::support::*;

#[tokio::test]
async fn provider_launch_gives_a_launch_url_that_an_app_can_use() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let form = launch_form(&token, &[("encounter", "enc-003-1")]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let html = res.text();
    let q = launch_url_query(&html);
    assert_eq!(q["iss"], FHIR);
    let launch = q["launch"].clone();
    assert!(html.contains("id=\"launch-app\" href=\"http://localhost:3000/launch?iss="));
    let curl = unescaped(&html);
    assert!(
        curl.contains(
            "curl -s -X POST 'http://127.0.0.1:8080/_admin/launch' -H 'content-type: application/json' \\\n  -d '{\"encounter\":\"enc-003-1\",\"patient\":\"pat-003\",\"user\":\"dr.jones\"}'"
        ),
        "{curl}"
    );
    // The launch is the one /_admin/launch would make: the app gets its context.
    let code = ehr
        .code(
            "demo-app",
            "launch openid fhirUser patient/*.rs",
            &[("launch", &launch)],
        )
        .await;
    let t = ehr.exchange(&code).await.json();
    assert_eq!(t["patient"], "pat-003");
    assert_eq!(t["encounter"], "enc-003-1");
    let audit = ehr.audit().await;
    let made = audit.iter().find(|e| e["event"] == "launch").unwrap();
    assert_eq!(made["user"], "dr.jones");
    assert_eq!(made["patient"], "pat-003");
}

#[tokio::test]
async fn patient_and_standalone_launches() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let form = launch_form(
        &token,
        &[
            ("launch_type", "patient"),
            ("user", "jane.doe"),
            ("patient", ""),
        ],
    );
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let launch = launch_url_query(&res.text())["launch"].clone();
    let code = ehr
        .code(
            "demo-app",
            "launch openid fhirUser patient/*.rs",
            &[("launch", &launch)],
        )
        .await;
    let t = ehr.exchange(&code).await.json();
    assert_eq!(t["patient"], "pat-001");

    let form = launch_form(&token, &[("launch_type", "standalone")]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let html = res.text();
    let q = launch_url_query(&html);
    assert_eq!(q["iss"], FHIR);
    assert!(!q.contains_key("launch"), "{q:?}");
    assert!(!html.contains("launch-curl"));
    // No launch was created.
    assert!(
        ehr.audit()
            .await
            .iter()
            .filter(|e| e["event"] == "launch")
            .count()
            == 1
    );
}

#[tokio::test]
async fn scopes_to_allow_cap_what_the_launched_app_gets() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let form = launch_form(&token, &[("scope", "launch openid patient/Observation.rs")]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let html = res.text();
    assert!(unescaped(&html).contains("\"scope\":\"launch openid patient/Observation.rs\""));
    let launch = launch_url_query(&html)["launch"].clone();
    let code = ehr
        .code(
            "demo-app",
            "launch openid fhirUser patient/*.rs patient/Observation.rs",
            &[("launch", &launch)],
        )
        .await;
    let t = ehr.exchange(&code).await.json();
    // fhirUser and patient/*.rs are not covered by the launch's scopes.
    assert_eq!(t["scope"], "launch openid patient/Observation.rs");

    // The same cap through /_admin/launch, and its refusal of a malformed scope.
    let res = ehr
        .post_json(
            "/_admin/launch",
            json!({"patient": "pat-003", "scope": "launch patient/Observation.rs"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let launch = res.json()["launch"].as_str().unwrap().to_string();
    let code = ehr
        .code(
            "demo-app",
            "launch openid patient/*.rs",
            &[("launch", &launch)],
        )
        .await;
    assert_eq!(ehr.exchange(&code).await.json()["scope"], "launch");
    let res = ehr
        .post_json(
            "/_admin/launch",
            json!({"patient": "pat-003", "scope": "patient/Observation.xyz"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json()["error"],
        "scope \"patient/Observation.xyz\" refused (ERR_SCOPE_PERMISSIONS_INVALID)"
    );
}

#[tokio::test]
async fn a_simulated_error_is_armed_for_the_next_call() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let form = launch_form(&token, &[("fault", "token_invalid_grant")]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(unescaped(&res.text()).contains(
        "-d '{\"count\":1,\"endpoint\":\"token\",\"fault\":{\"error\":\"invalid_grant\",\"type\":\"oauth_error\"}}'"
    ));
    let faults = ehr.get("/_admin/faults").await.json();
    assert_eq!(faults["faults"][0]["endpoint"], "token");
    assert_eq!(faults["faults"][0]["remaining"], 1);
    let code = ehr.code("demo-app", "openid patient/*.rs", &[]).await;
    ehr.exchange(&code)
        .await
        .assert_oauth_error("invalid_grant");
}

#[tokio::test]
async fn launcher_validation_errors_are_explained_next_to_their_field() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let cases: &[Case] = &[
        (
            &[("patient", "pat-999")],
            "patient",
            "unknown patient \"pat-999\": choose one of the data's patients",
        ),
        (
            &[("launch_url", "localhost:3000/launch")],
            "launch_url",
            "malformed URL: \"localhost:3000/launch\" is not an absolute http(s) URL without a fragment",
        ),
        (
            &[("launch_url", "http://localhost:3000/launch#x")],
            "launch_url",
            "malformed URL: \"http://localhost:3000/launch#x\" is not an absolute http(s) URL without a fragment",
        ),
        (
            &[("launch_url", "")],
            "launch_url",
            "the app's launch URL is required",
        ),
        (
            &[("scope", "patient/Observation.xyz")],
            "scope",
            "scope \"patient/Observation.xyz\" refused (ERR_SCOPE_PERMISSIONS_INVALID): write SMART scopes separated by spaces",
        ),
        (
            &[("user", "nobody")],
            "user",
            "unknown user \"nobody\": choose one of the EHR's users",
        ),
        (
            &[("user", "jane.doe")],
            "user",
            "a provider launch is made by a practitioner, and jane.doe is Patient/pat-001: choose a practitioner",
        ),
        (
            &[("launch_type", "patient")],
            "user",
            "a patient launch is made by a patient user, and dr.jones is Practitioner/prac-002: choose a user whose record is a Patient",
        ),
        (
            &[("launch_type", "patient"), ("user", "jane.doe")],
            "patient",
            "in a patient launch the patient is the user's own record: jane.doe is Patient/pat-001, not pat-003",
        ),
        (
            &[("encounter", "enc-999-1")],
            "encounter",
            "there is no Encounter/enc-999-1 in the data",
        ),
        (
            &[("encounter", "enc-004-1")],
            "encounter",
            "Encounter/enc-004-1 belongs to Patient/pat-004, not to Patient/pat-003",
        ),
        (
            &[("encounter", "enc 1")],
            "encounter",
            "\"enc 1\" is not a FHIR id",
        ),
        (
            &[("encounter", "enc-003-1"), ("patient", "")],
            "encounter",
            "an encounter needs the patient it belongs to",
        ),
        (
            &[("launch_type", "standalone"), ("scope", "openid")],
            "scope",
            "a standalone launch has no launch context to carry allowed scopes: leave this empty (the client's registered scopes apply)",
        ),
        (
            &[("fault", "explode")],
            "fault",
            "unknown simulated error \"explode\"",
        ),
        (
            &[("launch_type", "sideways")],
            "launch_type",
            "unknown launch type \"sideways\": choose provider, patient or standalone",
        ),
    ];
    for (overrides, field, message) in cases {
        let form = launch_form(&token, overrides);
        let res = ehr.post_form("/_console/launch", &form).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{overrides:?}");
        let html = res.text();
        assert_eq!(field_error(&html, field), *message, "{overrides:?}");
        // The form comes back with the values sent, and nothing was done.
        assert!(html.contains("<form method=\"post\" action=\"/_console/launch\">"));
        assert!(html.contains("Nothing was done"));
        assert!(!html.contains("id=\"launch-url\""));
    }
    let audit = ehr.audit().await;
    assert!(audit.iter().all(|e| e["event"] != "launch"), "{audit:?}");
    assert_eq!(ehr.get("/_admin/faults").await.json()["faults"], json!([]));
}
