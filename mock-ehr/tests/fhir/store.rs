//! The versioned store: read, vread, create, update with If-Match, delete, validation,
//! and "a refused write changes nothing".

use mock_ehr::fhir::store::Method;
use mock_ehr::fhir::validate_resource;
use mock_ehr::fhir::{FhirError, WriteStatus};
use serde_json::{Value, json};

use super::{LATER, builtin};

fn observation(id: Option<&str>) -> Value {
    let mut obs = json!({
        "resourceType": "Observation",
        "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8867-4" }] },
        "subject": { "reference": "Patient/pat-003" },
        "effectiveDateTime": "2024-06-15T10:00:00Z",
        "valueQuantity": { "value": 70, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min" },
    });
    if let Some(id) = id {
        obs["id"] = json!(id);
    }
    obs
}

fn patient_003() -> Value {
    builtin()
        .read("Patient", "pat-003")
        .unwrap()
        .resource
        .clone()
        .unwrap()
}

#[test]
fn read_gives_the_current_version_with_etag_and_last_modified() {
    let store = builtin();
    let v = store.read("Observation", "obs-003-1-glu").unwrap();
    assert_eq!(v.etag(), "W/\"1\"");
    assert_eq!(v.last_modified(), "Sat, 01 Jun 2024 00:00:00 GMT");
    assert_eq!(v.method, Method::Put);
    assert_eq!(
        v.resource.as_ref().unwrap()["code"]["coding"][0]["code"],
        "2339-0"
    );
}

#[test]
fn read_refuses_unknown_types_bad_ids_and_unknown_ids() {
    let store = builtin();
    let err = store.read("Patients", "pat-003").unwrap_err();
    assert!(matches!(err, FhirError::UnknownType(_)));
    assert_eq!(err.status(), 404);
    for bad in [
        "../pat-003",
        "..",
        ".",
        "pat/003",
        "pat 003",
        "",
        "pät",
        &"a".repeat(65),
        "%2e%2e",
    ] {
        let err = store.read("Patient", bad).unwrap_err();
        assert!(matches!(err, FhirError::InvalidId(_)), "{bad:?}: {err:?}");
        assert_eq!(err.status(), 400);
    }
    assert!(
        store
            .read("Patient", &"a".repeat(64))
            .is_err_and(|e| e.status() == 404)
    );
    let err = store.read("Patient", "pat-999").unwrap_err();
    assert_eq!(
        err,
        FhirError::NotFound {
            resource_type: "Patient".into(),
            id: "pat-999".into()
        }
    );
    assert_eq!(err.status(), 404);
}

#[test]
fn create_assigns_an_id_ignores_the_body_id_and_stamps_meta() {
    let mut store = builtin();
    let w = store
        .create("Observation", observation(Some("chosen-by-client")), LATER)
        .unwrap();
    assert_eq!(w.status, WriteStatus::Created);
    assert_eq!(w.status.http_status(), 201);
    assert_eq!(w.version.id, "1");
    assert_eq!(w.version.version_id, 1);
    assert_eq!(w.version.method, Method::Post);
    let r = w.version.resource.unwrap();
    assert_eq!(r["id"], "1");
    assert_eq!(r["meta"]["versionId"], "1");
    assert_eq!(r["meta"]["lastUpdated"], "2024-07-01T00:00:00Z");
    assert!(store.read("Observation", "chosen-by-client").is_err());
    assert_eq!(
        store
            .create("Observation", observation(None), LATER)
            .unwrap()
            .version
            .id,
        "2"
    );
    assert_eq!(store.count("Observation"), 266);
}

#[test]
fn create_keeps_other_meta_elements() {
    let mut store = builtin();
    let mut obs = observation(None);
    obs["meta"] = json!({ "profile": ["http://example.org/p"], "versionId": "77", "lastUpdated": "1999-01-01T00:00:00Z" });
    let r = store
        .create("Observation", obs, LATER)
        .unwrap()
        .version
        .resource
        .unwrap();
    assert_eq!(
        r["meta"],
        json!({ "profile": ["http://example.org/p"], "versionId": "1", "lastUpdated": "2024-07-01T00:00:00Z" })
    );
}

#[test]
fn invalid_resources_are_refused_with_the_documented_status() {
    let mut store = builtin();
    let before = store.clone();
    let mut wrong_type = observation(None);
    wrong_type["resourceType"] = json!("Condition");
    let cases: Vec<(Value, u16, &str)> = vec![
        (wrong_type, 422, "invalid"),
        (json!({ "status": "final", "code": {} }), 422, "invalid"),
        (
            json!({ "resourceType": "Observation", "status": "final" }),
            422,
            "required",
        ),
        (
            json!({ "resourceType": "Observation", "code": { "text": "x" } }),
            422,
            "required",
        ),
        (
            json!({ "resourceType": "Observation", "status": "", "code": { "text": "x" } }),
            422,
            "required",
        ),
        (
            json!({ "resourceType": "Observation", "status": "final", "code": { "text": "x" }, "meta": [] }),
            422,
            "invalid",
        ),
        (json!([1, 2]), 400, "invalid"),
        (json!("Observation"), 400, "invalid"),
    ];
    for (body, status, code) in cases {
        let err = store
            .create("Observation", body.clone(), LATER)
            .unwrap_err();
        assert_eq!(
            (err.status(), err.issue_type()),
            (status, code),
            "{body}: {err}"
        );
    }
    let err = store
        .create(
            "Observation",
            json!({ "resourceType": "Observation", "status": "final" }),
            LATER,
        )
        .unwrap_err();
    assert_eq!(
        err,
        FhirError::MissingElement {
            resource_type: "Observation".into(),
            element: "code"
        }
    );
    assert_eq!(
        err.to_string(),
        "invalid resource: Observation.code is required"
    );
    assert!(
        store
            .create("Unicorn", json!({ "resourceType": "Unicorn" }), LATER)
            .is_err_and(|e| e.status() == 404)
    );
    assert_eq!(store, before, "a refused write changed the store");
}

#[test]
fn choice_elements_satisfy_required_x() {
    let mr = json!({
        "resourceType": "MedicationRequest", "status": "active", "intent": "order",
        "subject": { "reference": "Patient/pat-001" },
    });
    let err = validate_resource("MedicationRequest", &mr).unwrap_err();
    assert_eq!(
        err,
        FhirError::MissingElement {
            resource_type: "MedicationRequest".into(),
            element: "medication[x]"
        }
    );
    let mut with_ref = mr.clone();
    with_ref["medicationReference"] = json!({ "reference": "Medication/m1" });
    assert!(validate_resource("MedicationRequest", &with_ref).is_ok());
    let mut lowercase = mr;
    lowercase["medicationfoo"] = json!("x");
    assert!(validate_resource("MedicationRequest", &lowercase).is_err());
    // Types without a rule here need nothing but their resourceType.
    assert!(validate_resource("Patient", &json!({ "resourceType": "Patient" })).is_ok());
}

#[test]
fn update_with_current_if_match_makes_version_2() {
    let mut store = builtin();
    let mut p = patient_003();
    p["active"] = json!(false);
    let w = store
        .update("Patient", "pat-003", p, Some("W/\"1\""), LATER)
        .unwrap();
    assert_eq!(w.status, WriteStatus::Updated);
    assert_eq!(w.status.http_status(), 200);
    assert_eq!(w.version.version_id, 2);
    assert_eq!(w.version.etag(), "W/\"2\"");
    assert_eq!(w.version.last_modified(), "Mon, 01 Jul 2024 00:00:00 GMT");
    let current = store
        .read("Patient", "pat-003")
        .unwrap()
        .resource
        .clone()
        .unwrap();
    assert_eq!(current["active"], false);
    assert_eq!(current["meta"]["versionId"], "2");
    // A strong ETag form and `*` are accepted too.
    let p = current.clone();
    assert_eq!(
        store
            .update("Patient", "pat-003", p.clone(), Some("\"2\""), LATER)
            .unwrap()
            .version
            .version_id,
        3
    );
    assert_eq!(
        store
            .update("Patient", "pat-003", p, Some("*"), LATER)
            .unwrap()
            .version
            .version_id,
        4
    );
}

#[test]
fn stale_if_match_is_412_and_changes_nothing() {
    let mut store = builtin();
    let p = patient_003();
    store
        .update("Patient", "pat-003", p.clone(), None, LATER)
        .unwrap();
    let before = store.clone();
    let mut changed = p;
    changed["gender"] = json!("female");
    let err = store
        .update("Patient", "pat-003", changed, Some("W/\"1\""), LATER + 1)
        .unwrap_err();
    assert!(matches!(err, FhirError::PreconditionFailed(_)));
    assert_eq!((err.status(), err.issue_type()), (412, "conflict"));
    assert_eq!(store, before);
    assert_eq!(
        store
            .read("Patient", "pat-003")
            .unwrap()
            .resource
            .as_ref()
            .unwrap()["gender"],
        "male"
    );
}

#[test]
fn malformed_if_match_is_400() {
    let mut store = builtin();
    let before = store.clone();
    for bad in ["1", "W/1", "W/\"\"", "W/\"one\"", "\"1", "W/\"-1\"", ""] {
        let err = store
            .update("Patient", "pat-003", patient_003(), Some(bad), LATER)
            .unwrap_err();
        assert!(
            matches!(err, FhirError::InvalidParameter { ref name, .. } if name == "If-Match"),
            "{bad:?}"
        );
    }
    assert_eq!(store, before);
}

#[test]
fn update_checks_the_body_id_against_the_url() {
    let mut store = builtin();
    let before = store.clone();
    let mut other = patient_003();
    other["id"] = json!("pat-004");
    let err = store
        .update("Patient", "pat-003", other, None, LATER)
        .unwrap_err();
    assert!(matches!(err, FhirError::BadRequest(_)));
    assert_eq!(err.status(), 400);
    let mut missing = patient_003();
    missing.as_object_mut().unwrap().remove("id");
    assert_eq!(
        store
            .update("Patient", "pat-003", missing, None, LATER)
            .unwrap_err()
            .status(),
        400
    );
    let mut wrong_type = patient_003();
    wrong_type["resourceType"] = json!("Practitioner");
    assert_eq!(
        store
            .update("Patient", "pat-003", wrong_type, None, LATER)
            .unwrap_err()
            .status(),
        422
    );
    let mut traversal = patient_003();
    traversal["id"] = json!("../pat-003");
    let err = store
        .update("Patient", "../pat-003", traversal, None, LATER)
        .unwrap_err();
    assert!(matches!(err, FhirError::InvalidId(_)));
    assert_eq!(store, before);
}

#[test]
fn update_creates_a_resource_with_a_client_id() {
    let mut store = builtin();
    let w = store
        .update(
            "Observation",
            "my-obs.1",
            observation(Some("my-obs.1")),
            None,
            LATER,
        )
        .unwrap();
    assert_eq!(w.status, WriteStatus::Created);
    assert_eq!(w.status.http_status(), 201);
    assert_eq!(w.version.version_id, 1);
    assert_eq!(store.read("Observation", "my-obs.1").unwrap().version_id, 1);
}

#[test]
fn if_match_on_a_missing_resource_is_412() {
    let mut store = builtin();
    let before = store.clone();
    let err = store
        .update(
            "Observation",
            "nope",
            observation(Some("nope")),
            Some("W/\"1\""),
            LATER,
        )
        .unwrap_err();
    assert_eq!(err.status(), 412);
    let err = store
        .update(
            "Observation",
            "nope",
            observation(Some("nope")),
            Some("*"),
            LATER,
        )
        .unwrap_err();
    assert_eq!(err.status(), 412);
    assert_eq!(store, before);
}

#[test]
fn vread_returns_old_versions() {
    let mut store = builtin();
    let mut p = patient_003();
    p["active"] = json!(false);
    store.update("Patient", "pat-003", p, None, LATER).unwrap();
    let v1 = store.vread("Patient", "pat-003", "1").unwrap();
    assert_eq!(v1.resource.as_ref().unwrap()["active"], true);
    assert_eq!(v1.last_updated, 1_717_200_000);
    let v2 = store.vread("Patient", "pat-003", "2").unwrap();
    assert_eq!(v2.resource.as_ref().unwrap()["active"], false);
    for missing in ["3", "0", "abc", "01x"] {
        let err = store.vread("Patient", "pat-003", missing).unwrap_err();
        assert!(
            matches!(err, FhirError::VersionNotFound { .. }),
            "{missing}"
        );
        assert_eq!(err.status(), 404);
    }
    assert_eq!(
        store
            .vread("Patient", "pat-003", "../1")
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(
        store.vread("Patient", "pat-999", "1").unwrap_err().status(),
        404
    );
}

#[test]
fn delete_leaves_a_marker_read_is_410_history_keeps_everything() {
    let mut store = builtin();
    let mut p = patient_003();
    p["active"] = json!(false);
    store.update("Patient", "pat-003", p, None, LATER).unwrap();
    let deleted = store.delete("Patient", "pat-003", LATER + 60).unwrap();
    assert_eq!((deleted.version_id, deleted.is_deleted()), (3, true));

    let err = store.read("Patient", "pat-003").unwrap_err();
    assert_eq!(
        err,
        FhirError::Gone {
            resource_type: "Patient".into(),
            id: "pat-003".into(),
            version: 3
        }
    );
    assert_eq!((err.status(), err.issue_type()), (410, "deleted"));
    assert_eq!(
        store.vread("Patient", "pat-003", "3").unwrap_err().status(),
        410
    );
    assert!(store.vread("Patient", "pat-003", "2").is_ok());
    assert_eq!(store.count("Patient"), 23);

    // Deleting again succeeds and writes nothing.
    let before = store.clone();
    assert_eq!(
        store
            .delete("Patient", "pat-003", LATER + 120)
            .unwrap()
            .version_id,
        3
    );
    assert_eq!(store, before);

    let history = store.history("Patient", "pat-003").unwrap();
    let methods: Vec<_> = history.iter().map(|v| (v.version_id, v.method)).collect();
    assert_eq!(
        methods,
        [(1, Method::Put), (2, Method::Put), (3, Method::Delete)]
    );

    // An update brings it back as version 4, "created".
    let w = store
        .update("Patient", "pat-003", patient_003(), None, LATER + 180)
        .unwrap();
    assert_eq!((w.status, w.version.version_id), (WriteStatus::Created, 4));
    assert!(store.read("Patient", "pat-003").is_ok());
}

#[test]
fn delete_of_unknown_or_invalid_ids() {
    let mut store = builtin();
    let before = store.clone();
    assert_eq!(
        store
            .delete("Patient", "pat-999", LATER)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        store
            .delete("Patient", "../../etc", LATER)
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(
        store.delete("Nope", "pat-003", LATER).unwrap_err().status(),
        404
    );
    assert_eq!(store, before);
}

#[test]
fn errors_render_as_operation_outcomes() {
    let err = builtin().read("Patient", "pat-999").unwrap_err();
    let oo = err.operation_outcome();
    assert_eq!(
        oo,
        json!({
            "resourceType": "OperationOutcome",
            "issue": [{
                "severity": "error",
                "code": "not-found",
                "diagnostics": "Patient/pat-999 is not known",
                "details": { "text": "ERR_FHIR_NOT_FOUND" },
            }],
        })
    );
    // Echoed input is cut short.
    let long = "x".repeat(5000);
    let err = builtin().read("Patient", &long).unwrap_err();
    assert!(err.to_string().len() < 200);
    assert_eq!(err.code(), "ERR_FHIR_INVALID_ID");
}
