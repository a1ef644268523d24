//! Search parameters: references, tokens, dates and prefixes, strings, the `self`
//! link, unknown and bad parameters.

use mock_ehr::fhir::search::supported_params;
use mock_ehr::fhir::{Access, FhirError, search};
use serde_json::json;

use super::{BASE, LATER, builtin, ids, link, match_ids, run, strs};

const LAB: &str = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

fn err(ty: &str, query: &str) -> FhirError {
    search(&builtin(), BASE, ty, query, &Access::unrestricted()).unwrap_err()
}

#[test]
fn patient_and_category_give_exactly_the_labs_of_pat_003() {
    let store = builtin();
    let r = run(
        &store,
        "Observation",
        &format!("patient=pat-003&category={LAB}"),
    );
    assert_eq!(r.total, 3);
    assert_eq!(r.bundle["total"], 3);
    assert_eq!(r.bundle["type"], "searchset");
    assert_eq!(
        match_ids(&r.bundle),
        strs(&["obs-003-1-cre", "obs-003-1-glu", "obs-003-1-hgb"])
    );
    let first = &r.bundle["entry"][0];
    assert_eq!(
        first["fullUrl"],
        format!("{BASE}/Observation/obs-003-1-cre")
    );
    assert_eq!(first["search"]["mode"], "match");
    assert_eq!(first["resource"]["meta"]["versionId"], "1");
}

#[test]
fn reference_forms_for_patient_and_subject() {
    let store = builtin();
    let all7 = ids(&store, "Observation", "patient=pat-003");
    assert_eq!(all7.len(), 7);
    for q in [
        "patient=Patient/pat-003",
        "subject=Patient/pat-003",
        "subject=pat-003",
        "subject:Patient=pat-003",
        "patient=http://elsewhere.example/fhir/Patient/pat-003",
        "patient=Patient/pat-003/_history/1",
        "patient=Patient%2Fpat-003",
    ] {
        assert_eq!(ids(&store, "Observation", q), all7, "{q}");
    }
    assert_eq!(
        ids(&store, "Observation", "subject=Group/pat-003"),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&store, "Observation", "patient=pat-003,pat-004").len(),
        7 + 11
    );
    assert_eq!(
        ids(&store, "Encounter", "patient=pat-004"),
        strs(&["enc-004-1", "enc-004-2"])
    );
    assert_eq!(
        ids(&store, "Immunization", "patient=pat-004"),
        strs(&["imm-004-flu", "imm-004-tdap"])
    );
    assert_eq!(
        ids(&store, "AllergyIntolerance", "patient=pat-004"),
        strs(&["allergy-004-1"])
    );
    assert_eq!(
        ids(&store, "AllergyIntolerance", "patient=pat-003"),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&store, "Condition", "patient=pat-003"),
        strs(&["cond-003-1", "cond-003-2"])
    );
    assert_eq!(
        ids(&store, "MedicationRequest", "subject=pat-003"),
        strs(&["medreq-003-1", "medreq-003-2"])
    );
    assert_eq!(
        run(&store, "Observation", "performer=Practitioner/prac-003").total,
        72
    );
    assert_eq!(
        ids(&store, "Group", "member=pat-017"),
        strs(&["all-patients"])
    );
}

#[test]
fn token_forms() {
    let store = builtin();
    let n = |q: &str| run(&store, "Observation", q).total;
    assert_eq!(n("code=http://loinc.org|8867-4"), 48);
    assert_eq!(n("code=8867-4"), 48);
    assert_eq!(n("code=|8867-4"), 0, "LOINC codings have a system");
    assert_eq!(n("code=http://loinc.org|"), 264);
    assert_eq!(n("code=http://snomed.info/sct|8867-4"), 0);
    assert_eq!(n("code=8867-4,8480-6"), 96, "commas OR");
    assert_eq!(n("code=8867-4&code=8480-6"), 0, "repeats AND");
    assert_eq!(n("category=vital-signs"), 192);
    assert_eq!(n("category=laboratory"), 72);
    assert_eq!(n("status=final"), 264);
    assert_eq!(n("status=|final"), 264, "plain codes have no system");
    assert_eq!(n("status=preliminary"), 0);
    assert_eq!(n("_id=obs-003-1-hr,obs-004-2-ht"), 2);
    let stopped = (1..=24usize)
        .flat_map(|n| (1..=1 + n % 2).map(move |j| n + j))
        .filter(|s| s % 5 == 0)
        .count();
    assert_eq!(
        run(&store, "MedicationRequest", "status=stopped").total,
        stopped
    );
    assert_eq!(
        run(&store, "MedicationRequest", "status=active").total,
        36 - stopped
    );
    assert_eq!(
        ids(
            &store,
            "Patient",
            "identifier=https://smartgate.example/fhir/sid/mrn|MRN100003"
        ),
        strs(&["pat-003"])
    );
    assert_eq!(run(&store, "Group", "actual=true").total, 1);
    assert_eq!(
        run(
            &store,
            "Immunization",
            "vaccine-code=http://hl7.org/fhir/sid/cvx|208"
        )
        .total,
        8
    );
    assert_eq!(
        run(
            &store,
            "AllergyIntolerance",
            "category=food,medication,environment"
        )
        .total,
        12
    );
    assert_eq!(
        run(
            &store,
            "Condition",
            "clinical-status=http://terminology.hl7.org/CodeSystem/condition-clinical|active"
        )
        .total,
        36
    );
}

#[test]
fn escaped_separators_are_literal() {
    let mut store = builtin();
    let mut p = store
        .read("Patient", "pat-001")
        .unwrap()
        .resource
        .clone()
        .unwrap();
    p["identifier"] = json!([{ "system": "urn:a|b", "value": "x,y" }]);
    store.update("Patient", "pat-001", p, None, LATER).unwrap();
    assert_eq!(
        ids(&store, "Patient", r"identifier=urn:a\|b|x\,y"),
        strs(&["pat-001"])
    );
    assert_eq!(
        ids(&store, "Patient", r"identifier=x\,y"),
        strs(&["pat-001"])
    );
    assert_eq!(
        ids(&store, "Patient", "identifier=x,y"),
        Vec::<String>::new()
    );
}

#[test]
fn date_prefixes_on_a_single_day() {
    // pat-003 has one encounter, 2023-03-26T11:00:00Z: 7 observations that instant.
    let store = builtin();
    let n = |date: &str| {
        run(
            &store,
            "Observation",
            &format!("patient=pat-003&date={date}"),
        )
        .total
    };
    assert_eq!(n("2023-03-26"), 7);
    assert_eq!(n("eq2023-03-26"), 7);
    assert_eq!(n("eq2023-03"), 7);
    assert_eq!(n("2023"), 7);
    assert_eq!(n("ne2023-03-26"), 0);
    assert_eq!(n("gt2023-03-26"), 0);
    assert_eq!(n("ge2023-03-26"), 7);
    assert_eq!(n("lt2023-03-26"), 0);
    assert_eq!(n("le2023-03-26"), 7);
    assert_eq!(n("gt2023-03-25"), 7);
    assert_eq!(n("lt2023-03-27"), 7);
    assert_eq!(n("2023-03-26T11:00:00Z"), 7);
    assert_eq!(n("2023-03-26T11:00:01Z"), 0);
    assert_eq!(n("2023-03-26T12:00:00%2B01:00"), 7);
    // An unencoded '+' arrives as a space; the zone still reads as +01:00.
    assert_eq!(n("2023-03-26T12:00:00+01:00"), 7);
    assert_eq!(n("ge2023-03-26T10:59:59Z"), 7);
    assert_eq!(n("lt2023-03-26T11:00:00Z"), 0);
}

#[test]
fn date_ranges_across_encounters() {
    // pat-004: encounters on 2023-04-30 (7 observations) and 2023-06-02 (4 vitals).
    let store = builtin();
    let n = |q: &str| run(&store, "Observation", &format!("patient=pat-004&{q}")).total;
    assert_eq!(n("date=ge2023-05-01"), 4);
    assert_eq!(n("date=lt2023-05-01"), 7);
    assert_eq!(n("date=ge2023-04-30&date=le2023-04-30"), 7);
    assert_eq!(n("date=2023-04-30,2023-06-02"), 11);
    assert_eq!(n("date=ge2023-05-01&date=lt2023-06-01"), 0);
    // Encounter.date searches the period.
    assert_eq!(
        ids(&store, "Encounter", "patient=pat-004&date=2023-06-02"),
        strs(&["enc-004-2"])
    );
    assert_eq!(
        ids(
            &store,
            "Encounter",
            "patient=pat-004&date=2023-06-02T10:15:00Z"
        )
        .len(),
        0
    );
    assert_eq!(
        ids(
            &store,
            "Encounter",
            "patient=pat-004&date=gt2023-06-02T10:15:00Z"
        ),
        strs(&["enc-004-2"])
    );
}

#[test]
fn patient_demographics() {
    let store = builtin();
    assert_eq!(ids(&store, "Patient", "family=Okonkwo"), strs(&["pat-003"]));
    assert_eq!(ids(&store, "Patient", "family=okon"), strs(&["pat-003"]));
    assert_eq!(
        ids(&store, "Patient", "family:exact=Okonkwo"),
        strs(&["pat-003"])
    );
    assert_eq!(
        ids(&store, "Patient", "family:exact=okonkwo"),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&store, "Patient", "family:contains=ONKW"),
        strs(&["pat-003"])
    );
    assert_eq!(
        ids(&store, "Patient", "family=konkwo"),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&store, "Patient", "given=Ivan"),
        strs(&["pat-008", "pat-023", "pat-024"])
    );
    assert_eq!(
        ids(&store, "Patient", "name=dmitri"),
        strs(&["pat-003", "pat-017"])
    );
    assert_eq!(ids(&store, "Patient", "name=okonkwo"), strs(&["pat-003"]));
    assert_eq!(
        ids(&store, "Patient", "name=dmitri&family=gallagher"),
        strs(&["pat-017"])
    );
    assert_eq!(
        ids(&store, "Patient", "birthdate=1954-01-13"),
        strs(&["pat-003"])
    );
    assert_eq!(
        ids(&store, "Patient", "birthdate=1954"),
        strs(&["pat-001", "pat-003"])
    );
    assert_eq!(
        ids(&store, "Patient", "birthdate=lt1950"),
        strs(&["pat-008", "pat-011", "pat-018", "pat-022", "pat-024"])
    );
    let female = run(&store, "Patient", "gender=female").total;
    let male = run(&store, "Patient", "gender=male").total;
    assert_eq!(female + male, 24);
    assert!(female > 0 && male > 0);
    assert_eq!(
        ids(&store, "Practitioner", "family=marchetti"),
        strs(&["prac-003"])
    );
    assert_eq!(
        ids(&store, "Organization", "name=smartgate"),
        strs(&["org-001"])
    );
}

#[test]
fn unknown_parameters_are_ignored_reported_and_dropped_from_self() {
    let store = builtin();
    let r = run(
        &store,
        "Observation",
        "patient=pat-003&foo=bar&_summary=count&_revinclude=Provenance:target&subject.name=x&category=laboratory",
    );
    assert_eq!(
        r.ignored,
        strs(&["foo", "_summary", "_revinclude", "subject.name"])
    );
    assert_eq!(r.total, 3);
    assert_eq!(
        link(&r.bundle, "self").unwrap(),
        format!("{BASE}/Observation?patient=pat-003&category=laboratory&_count=50")
    );
    assert_eq!(
        run(&store, "Patient", "status=final").ignored,
        strs(&["status"])
    );
    assert_eq!(run(&store, "Patient", "status=final").total, 24);
}

#[test]
fn self_link_encodes_values() {
    let r = run(
        &builtin(),
        "Observation",
        &format!("patient=pat-003&category={LAB}"),
    );
    assert_eq!(
        link(&r.bundle, "self").unwrap(),
        format!(
            "{BASE}/Observation?patient=pat-003&category=http://terminology.hl7.org/CodeSystem/observation-category%7Claboratory&_count=50"
        )
    );
    let r = run(&builtin(), "Patient", "name=a%20b%26c");
    assert_eq!(
        link(&r.bundle, "self").unwrap(),
        format!("{BASE}/Patient?name=a%20b%26c&_count=50")
    );
}

#[test]
fn bad_values_of_known_parameters_are_400() {
    for (ty, q) in [
        ("Observation", "_count=abc"),
        ("Observation", "_count=-1"),
        ("Observation", "_count="),
        ("Observation", "_count=1&_count=2"),
        ("Observation", "_offset=x"),
        ("Observation", "_sort=status"),
        ("Observation", "_sort=foo"),
        ("Observation", "_sort=date&_sort=-date"),
        ("Observation", "_include=Patient:subject"),
        ("Observation", "_include=Observation:code"),
        ("Observation", "_include=Observation:patient:Practitioner"),
        ("Observation", "_include=Observation"),
        ("Observation", "patient=../pat-003"),
        ("Observation", "patient=Practitioner/prac-001"),
        ("Observation", "subject=Unicorn/1"),
        ("Observation", "patient="),
        ("Observation", "code=a|b|c"),
        ("Observation", "code=|"),
        ("Observation", "code="),
        ("Observation", "date=2023-02-30"),
        ("Observation", "date=xx2023"),
        ("Observation", "date=yesterday"),
        ("Patient", "family="),
        ("Patient", "_id=../pat-003"),
        ("Patient", "_id=pat-003,a/b"),
        ("Patient", "_id=x|pat-003"),
        ("Patient", "name=%zz"),
        ("Patient", "name=%FF"),
    ] {
        let e = err(ty, q);
        assert_eq!(e.status(), 400, "{ty}?{q}: {e:?}");
        assert!(
            matches!(e, FhirError::InvalidParameter { .. }),
            "{ty}?{q}: {e:?}"
        );
    }
}

#[test]
fn unsupported_modifiers_and_prefixes_are_400_not_supported() {
    for (ty, q) in [
        ("Observation", "code:text=heart"),
        ("Observation", "code:not=8867-4"),
        ("Observation", "date:missing=true"),
        ("Observation", "date=sa2023"),
        ("Observation", "date=ap2023"),
        ("Observation", "patient:identifier=x"),
        ("Observation", "patient:Group=x"),
        ("Patient", "name:phonetic=x"),
        ("Observation", "_include=*"),
        ("Observation", "_include:iterate=Observation:subject"),
        ("Observation", "_count:x=1"),
    ] {
        let e = err(ty, q);
        assert_eq!(
            (e.status(), e.issue_type()),
            (400, "not-supported"),
            "{ty}?{q}: {e:?}"
        );
    }
}

#[test]
fn unknown_type_is_404() {
    let e = err("Observations", "");
    assert_eq!((e.status(), e.issue_type()), (404, "not-supported"));
}

#[test]
fn types_without_rows_support_the_common_parameters() {
    let mut store = builtin();
    let w = store
        .create(
            "Location",
            json!({ "resourceType": "Location", "name": "Ward 1" }),
            LATER,
        )
        .unwrap();
    assert_eq!(
        ids(&store, "Location", &format!("_id={}", w.version.id)),
        strs(&[w.version.id.as_str()])
    );
    assert_eq!(
        run(&store, "Location", "name=Ward").ignored,
        strs(&["name"])
    );
    assert_eq!(supported_params("Location"), ["_id", "_lastUpdated"]);
    assert_eq!(
        supported_params("Immunization"),
        [
            "_id",
            "_lastUpdated",
            "patient",
            "performer",
            "date",
            "status",
            "vaccine-code",
            "identifier"
        ]
    );
}
