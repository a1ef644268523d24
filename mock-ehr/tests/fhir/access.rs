//! The security hook: patient compartment membership (R4 CompartmentDefinition/patient)
//! and mandatory access filters on search, include and read checks.

use mock_ehr::fhir::access::{compartment_params, in_patient_compartment};
use mock_ehr::fhir::{Access, FhirError, Filter, PatientLink, patients_of, search};
use serde_json::{Value, json};

use super::{BASE, LATER, builtin, match_ids, mode_ids, strs};

const LAB: &str = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
const VITALS: &str = "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs";

fn links(resource: &Value) -> Vec<(String, &'static str, &'static str)> {
    patients_of(resource)
        .into_iter()
        .map(
            |PatientLink {
                 patient_id,
                 param,
                 element,
             }| (patient_id, param, element),
        )
        .collect()
}

fn link(
    id: &str,
    param: &'static str,
    element: &'static str,
) -> (String, &'static str, &'static str) {
    (id.to_string(), param, element)
}

fn pat(id: &str) -> Value {
    json!({ "reference": format!("Patient/{id}") })
}

fn compartment(patient: &str) -> Filter {
    Filter::PatientCompartment(patient.into())
}

fn param(name: &str, value: &str) -> Filter {
    Filter::Param {
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn patients_of_builtin_resources() {
    let store = builtin();
    let get = |ty: &str, id: &str| store.read(ty, id).unwrap().resource.clone().unwrap();
    assert_eq!(
        links(&get("Patient", "pat-003")),
        [link("pat-003", "_id", "id")]
    );
    assert_eq!(
        links(&get("Observation", "obs-003-1-glu")),
        [link("pat-003", "subject", "subject")]
    );
    assert_eq!(
        links(&get("Encounter", "enc-003-1")),
        [link("pat-003", "patient", "subject")]
    );
    assert_eq!(
        links(&get("Condition", "cond-003-1")),
        [link("pat-003", "patient", "subject")]
    );
    assert_eq!(
        links(&get("MedicationRequest", "medreq-003-1")),
        [link("pat-003", "subject", "subject")]
    );
    assert_eq!(
        links(&get("AllergyIntolerance", "allergy-004-1")),
        [link("pat-004", "patient", "patient")]
    );
    assert_eq!(
        links(&get("Immunization", "imm-003-flu")),
        [link("pat-003", "patient", "patient")]
    );
    assert!(links(&get("Practitioner", "prac-001")).is_empty());
    assert!(links(&get("Organization", "org-001")).is_empty());
    let group = links(&get("Group", "all-patients"));
    assert_eq!(group.len(), 24);
    assert!(
        group
            .iter()
            .all(|(_, p, e)| (*p, *e) == ("member", "member.entity"))
    );
}

#[test]
fn patients_of_follows_every_compartment_field() {
    let obs = json!({ "resourceType": "Observation", "subject": pat("pat-003"),
        "performer": [{ "reference": "Practitioner/prac-001" }, pat("pat-007")] });
    assert_eq!(
        links(&obs),
        [
            link("pat-003", "subject", "subject"),
            link("pat-007", "performer", "performer")
        ]
    );

    let cond = json!({ "resourceType": "Condition", "subject": pat("pat-001"), "asserter": pat("pat-002") });
    assert_eq!(
        links(&cond),
        [
            link("pat-001", "patient", "subject"),
            link("pat-002", "asserter", "asserter")
        ]
    );

    let allergy = json!({ "resourceType": "AllergyIntolerance", "patient": pat("pat-001"),
        "recorder": pat("pat-002"), "asserter": pat("pat-003") });
    assert_eq!(
        links(&allergy),
        [
            link("pat-001", "patient", "patient"),
            link("pat-002", "recorder", "recorder"),
            link("pat-003", "asserter", "asserter")
        ]
    );

    let linked = json!({ "resourceType": "Patient", "id": "pat-001", "link": [{ "other": pat("pat-002"), "type": "seealso" }] });
    assert_eq!(
        links(&linked),
        [
            link("pat-001", "_id", "id"),
            link("pat-002", "link", "link.other")
        ]
    );

    let procedure = json!({ "resourceType": "Procedure", "subject": pat("pat-001"), "performer": [{ "actor": pat("pat-009") }] });
    assert_eq!(
        links(&procedure),
        [
            link("pat-001", "patient", "subject"),
            link("pat-009", "performer", "performer.actor")
        ]
    );
}

#[test]
fn patients_of_ignores_what_is_not_a_local_patient_reference() {
    for subject in [
        json!({ "reference": "http://other.example/fhir/Patient/pat-003" }),
        json!({ "reference": "urn:uuid:7f6e5d4c-0000-0000-0000-000000000000" }),
        json!({ "reference": "#contained" }),
        json!({ "reference": "Group/pat-003" }),
        json!({ "reference": "Patient/../pat-003" }),
        json!({ "display": "pat-003" }),
        json!("Patient/pat-003"),
    ] {
        let obs = json!({ "resourceType": "Observation", "subject": subject.clone() });
        assert!(patients_of(&obs).is_empty(), "{subject}");
    }
    // The same patient twice through one field is one link.
    let obs = json!({ "resourceType": "Observation", "subject": pat("pat-003"),
        "performer": [pat("pat-003"), json!({ "reference": "Patient/pat-003/_history/2" })] });
    assert_eq!(
        links(&obs),
        [
            link("pat-003", "performer", "performer"),
            link("pat-003", "subject", "subject")
        ]
    );
    // Types without a compartment rule belong to no patient.
    let location = json!({ "resourceType": "Location", "managingOrganization": pat("pat-003") });
    assert!(patients_of(&location).is_empty());
    assert!(patients_of(&json!({ "subject": pat("pat-003") })).is_empty());
    assert_eq!(
        compartment_params("MedicationRequest"),
        [("subject", "subject")]
    );
    assert!(compartment_params("Practitioner").is_empty());
}

#[test]
fn compartment_filter_restricts_a_search_to_one_patient() {
    let store = builtin();
    let mut access = Access::none();
    access
        .allow("Observation", &[compartment("pat-003")])
        .unwrap();
    let r = search(&store, BASE, "Observation", "", &access).unwrap();
    assert_eq!(r.total, 7);
    assert!(
        match_ids(&r.bundle)
            .iter()
            .all(|id| id.starts_with("obs-003-"))
    );
    // The client's own filters AND with it: asking for another patient gives nothing.
    let r = search(&store, BASE, "Observation", "patient=pat-004", &access).unwrap();
    assert_eq!(r.total, 0);
    let r = search(
        &store,
        BASE,
        "Observation",
        &format!("category={LAB}"),
        &access,
    )
    .unwrap();
    assert_eq!(
        match_ids(&r.bundle),
        strs(&["obs-003-1-cre", "obs-003-1-glu", "obs-003-1-hgb"])
    );
    // Access filters never show up in the links.
    assert_eq!(
        super::link(&r.bundle, "self").unwrap(),
        format!(
            "{BASE}/Observation?category=http://terminology.hl7.org/CodeSystem/observation-category%7Claboratory&_count=50"
        )
    );
}

#[test]
fn scope_query_filter_ands_with_the_compartment_and_grants_or() {
    let store = builtin();
    let mut labs_only = Access::none();
    labs_only
        .allow(
            "Observation",
            &[compartment("pat-004"), param("category", LAB)],
        )
        .unwrap();
    let r = search(&store, BASE, "Observation", "", &labs_only).unwrap();
    assert_eq!(
        match_ids(&r.bundle),
        strs(&["obs-004-1-cre", "obs-004-1-glu", "obs-004-1-hgb"])
    );
    assert_eq!(
        search(
            &store,
            BASE,
            "Observation",
            &format!("category={VITALS}"),
            &labs_only
        )
        .unwrap()
        .total,
        0
    );

    // Two grants on one type are alternatives (two SMART scopes).
    let mut both = labs_only.clone();
    both.allow(
        "Observation",
        &[
            compartment("pat-004"),
            param("code", "http://loinc.org|8867-4"),
        ],
    )
    .unwrap();
    let r = search(&store, BASE, "Observation", "", &both).unwrap();
    assert_eq!(
        match_ids(&r.bundle),
        strs(&[
            "obs-004-1-cre",
            "obs-004-1-glu",
            "obs-004-1-hgb",
            "obs-004-1-hr",
            "obs-004-2-hr"
        ])
    );

    // One filter with several values is an OR.
    let mut either = Access::none();
    either
        .allow(
            "Observation",
            &[
                compartment("pat-004"),
                param("category", &format!("{LAB},{VITALS}")),
            ],
        )
        .unwrap();
    assert_eq!(
        search(&store, BASE, "Observation", "", &either)
            .unwrap()
            .total,
        11
    );
}

#[test]
fn a_type_without_a_grant_is_forbidden() {
    let store = builtin();
    let mut access = Access::none();
    access
        .allow("Observation", &[compartment("pat-003")])
        .unwrap();
    let err = search(&store, BASE, "Condition", "", &access).unwrap_err();
    // Refused before the query is even read.
    let bad_query = search(&store, BASE, "Condition", "_count=abc", &access).unwrap_err();
    assert_eq!(bad_query.status(), 403);
    assert!(matches!(err, FhirError::Forbidden(_)));
    assert_eq!((err.status(), err.issue_type()), (403, "forbidden"));
    assert!(!access.permits_type("Condition"));
    assert!(access.permits_type("Observation"));
    assert!(!Access::none().permits_type("Patient"));
    assert!(Access::unrestricted().permits_type("Patient"));
}

#[test]
fn includes_are_filtered_by_access_too() {
    let mut store = builtin();
    // pat-003 performed an observation about pat-007 (R4: it is in both compartments).
    let obs = json!({ "resourceType": "Observation", "status": "final", "code": { "text": "home reading" },
        "subject": pat("pat-007"), "performer": [pat("pat-003")] });
    let id = store.create("Observation", obs, LATER).unwrap().version.id;

    let mut access = Access::none();
    access
        .allow("Observation", &[compartment("pat-003")])
        .unwrap();
    access.allow("Patient", &[compartment("pat-003")]).unwrap();
    let r = search(
        &store,
        BASE,
        "Observation",
        "_include=Observation:subject&_count=100",
        &access,
    )
    .unwrap();
    assert_eq!(r.total, 8);
    assert!(match_ids(&r.bundle).contains(&id));
    // The subject pat-007 is outside pat-003's access and is not included.
    assert_eq!(mode_ids(&r.bundle, "include"), strs(&["Patient/pat-003"]));

    // Without any Patient grant no Patient is included at all.
    let mut no_patients = Access::none();
    no_patients
        .allow("Observation", &[compartment("pat-003")])
        .unwrap();
    let r = search(
        &store,
        BASE,
        "Observation",
        "_include=Observation:subject",
        &no_patients,
    )
    .unwrap();
    assert!(mode_ids(&r.bundle, "include").is_empty());
    // Unrestricted, both subjects are included.
    let r = search(
        &store,
        BASE,
        "Observation",
        "performer=Patient/pat-003&_include=Observation:subject",
        &Access::unrestricted(),
    )
    .unwrap();
    assert_eq!(mode_ids(&r.bundle, "include"), strs(&["Patient/pat-007"]));
}

#[test]
fn permits_answers_for_reads() {
    let store = builtin();
    let get = |ty: &str, id: &str| store.read(ty, id).unwrap().resource.clone().unwrap();
    let mut access = Access::none();
    access.allow("*", &[compartment("pat-003")]).unwrap();
    assert!(access.permits(&get("Patient", "pat-003")));
    assert!(access.permits(&get("Condition", "cond-003-2")));
    assert!(!access.permits(&get("Patient", "pat-004")));
    assert!(!access.permits(&get("Practitioner", "prac-001")));
    // R4 puts a Group in the compartment of each member.
    assert!(access.permits(&get("Group", "all-patients")));
    assert!(in_patient_compartment(
        &get("Group", "all-patients"),
        "pat-024"
    ));
    assert!(!access.permits(&json!({ "id": "x" })));
    assert!(Access::unrestricted().permits(&json!({ "id": "x" })));
    let mut whole_type = Access::none();
    whole_type.allow("Practitioner", &[]).unwrap();
    assert!(whole_type.permits(&get("Practitioner", "prac-004")));
    assert!(!whole_type.permits(&get("Patient", "pat-003")));
}

#[test]
fn filters_that_cannot_be_enforced_are_refused_not_ignored() {
    let mut access = Access::none();
    let err = access
        .allow("Observation", &[param("foo", "bar")])
        .unwrap_err();
    assert!(matches!(err, FhirError::Forbidden(_)), "{err:?}");
    assert_eq!(err.status(), 403);
    assert!(
        access
            .allow("Observation", &[param("category", "")])
            .is_err()
    );
    assert!(
        access
            .allow("Observation", &[param("code:text", "x")])
            .is_err()
    );
    assert!(
        access
            .allow("Observation", &[param("date", "sa2020")])
            .is_err()
    );
    assert!(
        access
            .allow("*", &[param("category", "laboratory")])
            .is_err()
    );
    assert!(matches!(
        access.allow("Unicorn", &[]).unwrap_err(),
        FhirError::UnknownType(_)
    ));
    assert!(matches!(
        access.allow("Patient", &[compartment("../x")]).unwrap_err(),
        FhirError::InvalidId(_)
    ));
    // Nothing was granted by the refused calls.
    assert!(!access.permits_type("Observation"));
    assert!(
        access
            .allow("*", &[param("_lastUpdated", "ge2024")])
            .is_ok()
    );
    // An unrestricted access checks filters but stays unrestricted.
    let mut all = Access::unrestricted();
    assert!(all.allow("Observation", &[param("foo", "bar")]).is_err());
    all.allow("Observation", &[compartment("pat-001")]).unwrap();
    assert!(all.is_unrestricted());
}
