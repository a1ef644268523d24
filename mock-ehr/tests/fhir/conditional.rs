//! Conditional create (`If-None-Exist`) and the history Bundle.

use mock_ehr::fhir::{Access, FhirError, Filter, WriteStatus};
use serde_json::{Value, json};

use super::{BASE, LATER, builtin};

fn observation() -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8867-4" }] },
        "subject": { "reference": "Patient/pat-003" },
    })
}

fn with_id(mut resource: Value, id: &str) -> Value {
    resource["id"] = json!(id);
    resource
}

#[test]
fn history_bundle_is_newest_first() {
    let mut store = builtin();
    let w = store.create("Observation", observation(), LATER).unwrap();
    let id = w.version.id;
    store
        .update(
            "Observation",
            &id,
            with_id(observation(), &id),
            Some("W/\"1\""),
            LATER + 1,
        )
        .unwrap();
    store.delete("Observation", &id, LATER + 2).unwrap();
    let bundle = store.history_bundle(BASE, "Observation", &id).unwrap();
    assert_eq!(bundle["type"], "history");
    assert_eq!(bundle["total"], 3);
    assert_eq!(
        bundle["link"][0]["url"],
        format!("{BASE}/Observation/{id}/_history")
    );
    let entries = bundle["entry"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["request"]["method"].as_str().unwrap().into(),
                e["request"]["url"].as_str().unwrap().into(),
                e["response"]["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "DELETE".into(),
                format!("Observation/{id}"),
                "204 No Content".into()
            ),
            ("PUT".into(), format!("Observation/{id}"), "200 OK".into()),
            ("POST".into(), "Observation".into(), "201 Created".into()),
        ]
    );
    assert!(entries[0].get("resource").is_none());
    assert_eq!(entries[1]["resource"]["meta"]["versionId"], "2");
    assert_eq!(entries[1]["response"]["etag"], "W/\"2\"");
    assert_eq!(
        entries[2]["response"]["lastModified"],
        "2024-07-01T00:00:00Z"
    );
    assert_eq!(entries[0]["fullUrl"], format!("{BASE}/Observation/{id}"));
    assert_eq!(
        store
            .history_bundle(BASE, "Observation", "never")
            .unwrap_err()
            .status(),
        404
    );
}

const MRN: &str = "https://smartgate.example/fhir/sid/mrn";

fn new_patient(mrn: &str) -> Value {
    json!({ "resourceType": "Patient", "identifier": [{ "system": MRN, "value": mrn }], "gender": "other" })
}

#[test]
fn conditional_create_with_one_match_returns_it_and_writes_nothing() {
    let mut store = builtin();
    let before = store.clone();
    let criteria = format!("identifier={MRN}|MRN100003");
    let w = store
        .create_if_none_exist(
            "Patient",
            new_patient("MRN100003"),
            &criteria,
            &Access::unrestricted(),
            LATER,
        )
        .unwrap();
    assert_eq!(
        (w.status, w.status.http_status()),
        (WriteStatus::Existing, 200)
    );
    assert_eq!(w.version.id, "pat-003");
    assert_eq!(store, before);
}

#[test]
fn conditional_create_with_no_match_creates() {
    let mut store = builtin();
    let criteria = format!("identifier={}|MRN999999", MRN.replace(':', "%3A"));
    let w = store
        .create_if_none_exist(
            "Patient",
            new_patient("MRN999999"),
            &criteria,
            &Access::unrestricted(),
            LATER,
        )
        .unwrap();
    assert_eq!(w.status, WriteStatus::Created);
    assert_eq!(store.count("Patient"), 25);
    // The same request again now finds the new patient.
    let again = store
        .create_if_none_exist(
            "Patient",
            new_patient("MRN999999"),
            &criteria,
            &Access::unrestricted(),
            LATER,
        )
        .unwrap();
    assert_eq!(
        (again.status, again.version.id),
        (WriteStatus::Existing, w.version.id)
    );
    assert_eq!(store.count("Patient"), 25);
}

#[test]
fn conditional_create_with_several_matches_is_412() {
    let mut store = builtin();
    let before = store.clone();
    let err = store
        .create_if_none_exist(
            "Patient",
            new_patient("x"),
            "gender=male",
            &Access::unrestricted(),
            LATER,
        )
        .unwrap_err();
    assert!(matches!(err, FhirError::MultipleMatches { count } if count > 1));
    assert_eq!((err.status(), err.issue_type()), (412, "multiple-matches"));
    assert_eq!(store, before);
}

#[test]
fn conditional_create_refuses_unknown_or_empty_criteria() {
    let mut store = builtin();
    let before = store.clone();
    for criteria in [
        "",
        "foo=bar",
        "_count=1",
        "identifier=x&foo=bar",
        "identifier",
    ] {
        let err = store
            .create_if_none_exist(
                "Patient",
                new_patient("x"),
                criteria,
                &Access::unrestricted(),
                LATER,
            )
            .unwrap_err();
        assert_eq!(err.status(), 400, "{criteria:?}: {err}");
    }
    // The body is checked first: an invalid body is 422 even when criteria match.
    let err = store
        .create_if_none_exist(
            "Patient",
            json!({ "resourceType": "Group" }),
            "gender=male",
            &Access::unrestricted(),
            LATER,
        )
        .unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(store, before);
}

#[test]
fn conditional_create_only_sees_what_access_permits() {
    let mut store = builtin();
    let mut access = Access::none();
    access
        .allow("Patient", &[Filter::PatientCompartment("pat-004".into())])
        .unwrap();
    // pat-003 matches the criteria but is invisible: no match, so the server creates.
    let w = store
        .create_if_none_exist(
            "Patient",
            new_patient("MRN100003"),
            &format!("identifier={MRN}|MRN100003"),
            &access,
            LATER,
        )
        .unwrap();
    assert_eq!(w.status, WriteStatus::Created);
    assert_ne!(w.version.id, "pat-003");
}
