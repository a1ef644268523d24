//! Each page of the console, its absence without admin, the patient browser, the FHIR
//! JSON views and the audit viewer.

use axum::http::StatusCode;
use mock_ehr::MockEhr;

use super::unescaped;
use crate::support::*;

#[tokio::test]
async fn every_page_renders_with_the_navigation_bar() {
    let ehr = Ehr::auto();
    for (path, title) in [
        ("/_console/", "Launcher"),
        ("/_console/patients", "Patients"),
        ("/_console/patients?q=okonkwo", "Patients"),
        ("/_console/patients/pat-003", "Dmitri Okonkwo"),
        ("/_console/audit", "Audit trail"),
        ("/_console/clients", "Clients"),
    ] {
        let res = ehr.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(res.header("content-type").unwrap().starts_with("text/html"));
        assert_eq!(res.header("cache-control"), Some("no-store"));
        let html = res.text();
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{path}: {html}"
        );
        for link in [
            "/_console/\"",
            "/_console/patients\"",
            "/_console/audit\"",
            "/_console/clients\"",
        ] {
            assert!(
                html.contains(&format!("href=\"{link}")),
                "{path} lacks {link}"
            );
        }
        assert!(!html.contains("<script"), "{path}");
    }
    let bare = ehr.get("/_console").await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.location(), "/_console/");
}

#[tokio::test]
async fn the_console_is_absent_without_admin() {
    let state = MockEhr::builder().admin(false).build_state(BASE).unwrap();
    let app = mock_ehr::app(state.clone());
    let ehr = Ehr { state, app };
    for path in [
        "/_console/",
        "/_console/patients",
        "/_console/fhir/Patient/pat-001",
    ] {
        let res = ehr.get(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.json()["error"], "not_found");
    }
}

#[tokio::test]
async fn patient_browser_lists_searches_and_shows_resources() {
    let ehr = Ehr::auto();
    let all = ehr.get("/_console/patients").await.text();
    assert!(all.contains("24 patients."), "{all}");
    assert!(all.contains("Dmitri Okonkwo") && all.contains("1954-01-13") && all.contains("male"));
    assert!(all.contains("href=\"/_console/fhir/Patient/pat-003\""));
    let found = ehr.get("/_console/patients?q=OKON").await.text();
    assert!(found.contains("1 of 24 patients match"), "{found}");
    assert!(found.contains("pat-003") && !found.contains("pat-004"));
    let none = ehr.get("/_console/patients?q=nobody-at-all").await.text();
    assert!(none.contains("0 of 24 patients match"));

    let page = ehr.get("/_console/patients/pat-003").await.text();
    assert!(
        page.contains("<h2 id=\"Observation\">Observation (7)</h2>"),
        "{page}"
    );
    assert!(page.contains("Glucose [Mass/volume] in Blood = 135 mg/dL"));
    assert!(page.contains("href=\"/_console/fhir/Condition/cond-003-1\""));
    assert!(page.contains("href=\"/_console/?patient=pat-003\""));
    // Another patient's records are not listed.
    assert!(!page.contains("obs-004-"));

    let missing = ehr.get("/_console/patients/pat-999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(unescaped(&missing.text()).contains("There is no patient \"pat-999\" in the data."));
    let bad = ehr.get("/_console/patients/a%20b").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(unescaped(&bad.text()).contains("\"a b\" is not a FHIR id."));
    let repeated = ehr.get("/_console/patients?q=a&q=b").await;
    assert_eq!(repeated.status, StatusCode::BAD_REQUEST);
    assert!(repeated.text().contains("parameter q is repeated"));
}

#[tokio::test]
async fn fhir_json_views_read_the_store_without_a_token() {
    let ehr = Ehr::auto();
    let res = ehr.get("/_console/fhir/Observation/obs-003-1-glu").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("application/fhir+json"));
    let body = res.json();
    assert_eq!(body["resourceType"], "Observation");
    assert_eq!(body["subject"]["reference"], "Patient/pat-003");
    // The FHIR API itself wants a token for the same resource.
    assert_eq!(
        ehr.get("/fhir/Observation/obs-003-1-glu").await.status,
        StatusCode::UNAUTHORIZED
    );
    let missing = ehr.get("/_console/fhir/Observation/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["resourceType"], "OperationOutcome");
    let unknown = ehr.get("/_console/fhir/Bogus/x").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn audit_viewer_filters_newest_first() {
    let ehr = Ehr::auto();
    ehr.tokens("openid patient/*.rs").await;
    let code = ehr.code("demo-confidential", "openid", &[]).await;
    drop(code);
    ehr.authorize("demo-app", "openid", &[("code_challenge_method", "plain")])
        .await;
    let all = ehr.get("/_console/audit").await.text();
    let events = ehr.audit().await;
    assert!(all.contains(&format!(
        "Showing {n} of {n} matching events ({n} in the trail), newest first.",
        n = events.len()
    )));
    // Newest first: the last event's row comes before the first's.
    let last = format!("<tr><td>{}</td>", events.len());
    assert!(all.find(&last).unwrap() < all.find("<tr><td>1</td>").unwrap());
    assert!(
        all.contains("<td class=\"nowrap\">2023-11-14T22:13:20Z</td>"),
        "ISO time of NOW"
    );

    let demo = ehr.get("/_console/audit?client=demo-app").await.text();
    let expected = events
        .iter()
        .filter(|e| e["client_id"] == "demo-app")
        .count();
    assert!(expected >= 3);
    assert!(
        demo.contains(&format!("Showing {expected} of {expected} matching")),
        "{demo}"
    );
    assert!(demo.contains("<td>token</td>") && !demo.contains("demo-confidential</td>"));

    let refused = ehr
        .get("/_console/audit?client=demo-app&outcome=invalid_request")
        .await
        .text();
    assert!(refused.contains("Showing 1 of 1 matching"), "{refused}");
    assert!(refused.contains("<td>authorize</td>"));

    let patient = ehr.get("/_console/audit?patient=pat-001").await.text();
    let expected = events.iter().filter(|e| e["patient"] == "pat-001").count();
    assert!(patient.contains(&format!("Showing {expected} of {expected} matching")));
    let nothing = ehr.get("/_console/audit?client=nobody").await.text();
    assert!(nothing.contains("Showing 0 of 0 matching"));
}
