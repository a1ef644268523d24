//! The FHIR API: search over HTTP (GET and POST `_search`), paging, parameters,
//! `_include`, bad input and formats.

use axum::http::{Method, StatusCode};

use crate::fhir_api_support::*;
use crate::support::Resp;

fn ids(res: &Resp) -> Vec<String> {
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    entry_refs(&res.json())
        .into_iter()
        .map(|r| r.split_once('/').unwrap().1.to_string())
        .collect()
}

fn link(res: &Resp, rel: &str) -> Option<String> {
    res.json()["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == rel)
        .map(|l| l["url"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn post_search_with_a_form_body_equals_get_search() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    let query = format!(
        "patient=pat-003&category={}&_count=2",
        LAB.replace('|', "%7C")
    );
    let got = get(&ehr, &token, &format!("Observation?{query}")).await;
    let posted = Call::new(Method::POST, "Observation/_search")
        .bearer(&token)
        .body(
            "application/x-www-form-urlencoded",
            query.clone().into_bytes(),
        )
        .send(&ehr)
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text());
    assert_eq!(got.json(), posted.json());
    assert_eq!(got.json()["total"], 3);
    // Parameters may also sit in the URL of a POST.
    let split = Call::new(Method::POST, "Observation/_search?patient=pat-003")
        .bearer(&token)
        .body(
            "application/x-www-form-urlencoded",
            format!("category={}&_count=2", LAB.replace('|', "%7C")).into_bytes(),
        )
        .send(&ehr)
        .await;
    assert_eq!(ids(&split), ids(&got));
    // A POST _search without a form body is 415; GET on _search is 405.
    let res = Call::new(Method::POST, "Observation/_search")
        .bearer(&token)
        .body("application/json", b"{}".to_vec())
        .send(&ehr)
        .await;
    assert_outcome(&res, 415, "not-supported");
    let res = get(&ehr, &token, "Observation/_search").await;
    assert_outcome(&res, 405, "not-supported");
    assert_eq!(res.header("allow"), Some("POST"));
}

#[tokio::test]
async fn paging_links_keep_the_query_and_cover_every_match_once() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    // pat-002: 3 labs and 4 vital signs at each of 3 encounters.
    let res = get(&ehr, &token, "Observation?patient=pat-002&_count=5").await;
    let b = res.json();
    assert_eq!(b["type"], "searchset");
    assert_eq!(b["total"], 15);
    assert_eq!(
        link(&res, "self").unwrap(),
        "http://127.0.0.1:8080/fhir/Observation?patient=pat-002&_count=5"
    );
    assert_eq!(
        link(&res, "next").unwrap(),
        "http://127.0.0.1:8080/fhir/Observation?patient=pat-002&_count=5&_offset=5"
    );
    assert!(link(&res, "previous").is_none());
    let all = search_all(&ehr, &token, "Observation?patient=pat-002&_count=5").await;
    assert_eq!(all, refs("Observation", &observations(2)));
    let last = get(
        &ehr,
        &token,
        "Observation?patient=pat-002&_count=5&_offset=10",
    )
    .await;
    assert!(link(&last, "next").is_none());
    assert_eq!(
        link(&last, "previous").unwrap(),
        "http://127.0.0.1:8080/fhir/Observation?patient=pat-002&_count=5&_offset=5"
    );
}

#[tokio::test]
async fn enormous_count_is_capped_and_unknown_parameters_are_ignored() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    let res = get(&ehr, &token, "Observation?_count=99999999999999999999999").await;
    assert_eq!(res.json()["total"], 264);
    assert_eq!(ids(&res).len(), 264);
    assert_eq!(
        link(&res, "self").unwrap(),
        "http://127.0.0.1:8080/fhir/Observation?_count=1000"
    );
    let res = get(
        &ehr,
        &token,
        "Patient?frobnicate=1&family=Petrov&_elements=id",
    )
    .await;
    assert_eq!(ids(&res), ["pat-001"]);
    assert_eq!(
        link(&res, "self").unwrap(),
        "http://127.0.0.1:8080/fhir/Patient?family=Petrov&_count=50"
    );
    let res = get(&ehr, &token, "Observation?_count=0&patient=pat-001").await;
    assert_eq!(res.json()["total"], 11);
    assert!(ids(&res).is_empty());
}

#[tokio::test]
async fn bad_parameter_values_are_400() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    for (path, code) in [
        ("Observation?date=yesterday", "invalid"),
        ("Observation?date=sa2023", "not-supported"),
        ("Observation?_count=-1", "invalid"),
        ("Observation?_count=1&_count=2", "invalid"),
        ("Observation?_sort=status", "invalid"),
        ("Observation?code:text=x", "not-supported"),
        ("Observation?patient=Practitioner/prac-001", "invalid"),
        ("Observation?_include=Observation:code", "invalid"),
        ("Observation?_include=*", "not-supported"),
        ("Observation?_id=a_b", "invalid"),
        ("Observation?status=%ZZ", "invalid"),
    ] {
        let res = get(&ehr, &token, path).await;
        assert_outcome(&res, 400, code);
    }
}

#[tokio::test]
async fn search_parameters_of_the_issue_work_over_http() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("Patient?family=Petrov", vec!["pat-001"]),
        ("Patient?given=ivan", vec!["pat-008", "pat-023", "pat-024"]),
        ("Patient?name=lucia", vec!["pat-012", "pat-013"]),
        ("Patient?birthdate=1954", vec!["pat-001", "pat-003"]),
        ("Patient?birthdate=ge2003-01-01", vec!["pat-014"]),
        ("Patient?_id=pat-001,pat-005", vec!["pat-001", "pat-005"]),
        (
            "Observation?subject=Patient/pat-001&code=http://loinc.org%7C2339-0",
            vec!["obs-001-1-glu"],
        ),
        ("Observation?patient=pat-001&code=%7C2339-0", vec![]),
        (
            "Encounter?patient=pat-002&date=lt2023-06-01",
            vec!["enc-002-1"],
        ),
        (
            "Encounter?patient=pat-002&date=ge2023-06-01",
            vec!["enc-002-2", "enc-002-3"],
        ),
        (
            "Encounter?patient=pat-002&date=gt2023-06-06",
            vec!["enc-002-3"],
        ),
        (
            "Encounter?patient=pat-002&date=le2023-06-06",
            vec!["enc-002-1", "enc-002-2"],
        ),
        (
            "Encounter?patient=pat-002&date=eq2023-06",
            vec!["enc-002-2"],
        ),
        (
            "Encounter?patient=pat-002&_sort=-date",
            vec!["enc-002-3", "enc-002-2", "enc-002-1"],
        ),
        (
            "MedicationRequest?patient=pat-003&status=stopped",
            vec!["medreq-003-2"],
        ),
        (
            "Immunization?patient=pat-012",
            vec!["imm-012-covid", "imm-012-flu", "imm-012-tdap"],
        ),
        ("AllergyIntolerance?patient=pat-001", vec![]),
        (
            "Observation?_lastUpdated=gt2024-06-01&patient=pat-001",
            vec![],
        ),
    ];
    for (path, want) in cases {
        let got = ids(&get(&ehr, &token, path).await);
        assert_eq!(got, want, "{path}");
    }
}

#[tokio::test]
async fn include_adds_the_subject_and_respects_the_included_types_scopes() {
    let ehr = ehr();
    let query = "Observation?patient=pat-001&code=8867-4&_include=Observation:subject&_include=Observation:performer";
    // patient/*.rs: the subject is in the compartment; the Practitioner is not.
    let patient = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    let res = get(&ehr, &patient, query).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let b = res.json();
    assert_eq!(b["total"], 2);
    assert_eq!(
        entry_refs(&b),
        [
            "Observation/obs-001-1-hr",
            "Observation/obs-001-2-hr",
            "Patient/pat-001"
        ]
    );
    assert_eq!(b["entry"][2]["search"]["mode"], "include");
    // user/ scopes for a practitioner: the performer comes along.
    let user = app_access(&ehr, "user/*.rs", None).await;
    let refs = entry_refs(&get(&ehr, &user, query).await.json());
    assert_eq!(
        refs,
        [
            "Observation/obs-001-1-hr",
            "Observation/obs-001-2-hr",
            "Patient/pat-001",
            "Practitioner/prac-001"
        ]
    );
    // Only Observation scopes: matches, no includes.
    let obs_only = app_access(&ehr, "launch/patient patient/Observation.rs", None).await;
    let refs = entry_refs(&get(&ehr, &obs_only, query).await.json());
    assert_eq!(
        refs,
        ["Observation/obs-001-1-hr", "Observation/obs-001-2-hr"]
    );
}

#[tokio::test]
async fn formats_other_than_json_are_406() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    for (header, value) in [("accept", "application/fhir+xml"), ("accept", "text/html")] {
        let res = Call::get("Patient/pat-001")
            .bearer(&token)
            .header(header, value)
            .send(&ehr)
            .await;
        assert_outcome(&res, 406, "not-supported");
    }
    assert_outcome(
        &get(&ehr, &token, "Patient?_format=xml").await,
        406,
        "not-supported",
    );
    for accept in [
        "application/fhir+json",
        "application/json",
        "*/*",
        "application/fhir+xml;q=0.9, application/fhir+json",
    ] {
        let res = Call::get("Patient/pat-001")
            .bearer(&token)
            .header("accept", accept)
            .send(&ehr)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{accept}");
    }
    assert_eq!(
        get(&ehr, &token, "Patient?_format=json").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&ehr, &token, "Patient?_format=application/fhir%2Bjson")
            .await
            .status,
        StatusCode::OK
    );
}
