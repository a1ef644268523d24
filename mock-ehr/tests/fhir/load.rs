//! Fixture loading: transaction and collection Bundles, NDJSON files and folders, and
//! refusals that name the file, the resource and the reason.

use std::fs;
use std::path::PathBuf;

use mock_ehr::fhir::load::{LoadError, load_bundle_str, load_ndjson_str, load_path};
use serde_json::{Value, json};

use super::{LATER, ids, strs};

/// A scratch folder unique to this test process and `name`, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smartgate-fhir-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

const UUID_P: &str = "urn:uuid:0b7e6c4e-1f0a-4c1e-9a57-6d2b1f3c9a01";
const UUID_O: &str = "urn:uuid:0b7e6c4e-1f0a-4c1e-9a57-6d2b1f3c9a02";
const UUID_D1: &str = "urn:uuid:0b7e6c4e-1f0a-4c1e-9a57-6d2b1f3c9a03";
const UUID_D2: &str = "urn:uuid:0b7e6c4e-1f0a-4c1e-9a57-6d2b1f3c9a04";

fn doctor() -> Value {
    json!({ "resourceType": "Practitioner", "identifier": [{ "system": "urn:npi", "value": "1234" }] })
}

fn transaction() -> Value {
    let post = |url: &str| json!({ "method": "POST", "url": url });
    let dedup = json!({ "method": "POST", "url": "Practitioner", "ifNoneExist": "identifier=urn:npi|1234" });
    json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            { "fullUrl": UUID_P, "resource": { "resourceType": "Patient", "id": "ignored", "name": [{ "family": "Fixture" }] }, "request": post("Patient") },
            { "fullUrl": UUID_O, "resource": {
                "resourceType": "Observation", "status": "final", "code": { "text": "x" },
                "subject": { "reference": UUID_P }, "performer": [{ "reference": UUID_D2 }] },
              "request": post("Observation") },
            { "fullUrl": UUID_D1, "resource": doctor(), "request": dedup.clone() },
            { "fullUrl": UUID_D2, "resource": doctor(), "request": dedup },
            { "resource": { "resourceType": "Organization", "id": "org-x", "name": "Fixture Org" },
              "request": { "method": "PUT", "url": "Organization/org-x" } },
        ],
    })
}

#[test]
fn transaction_bundle_posts_rewrite_urn_uuid_references() {
    let store = load_bundle_str("fixture.json", &transaction().to_string(), LATER).unwrap();
    let patient_id = UUID_P.trim_start_matches("urn:uuid:");
    let p = store.read("Patient", patient_id).unwrap();
    assert_eq!(p.version_id, 1);
    assert_eq!(
        p.resource.as_ref().unwrap()["meta"]["lastUpdated"],
        "2024-07-01T00:00:00Z"
    );
    let obs = store
        .read("Observation", UUID_O.trim_start_matches("urn:uuid:"))
        .unwrap();
    let obs = obs.resource.as_ref().unwrap();
    assert_eq!(obs["subject"]["reference"], format!("Patient/{patient_id}"));
    // The second doctor matched the first through ifNoneExist: one Practitioner, and
    // the reference to the second fullUrl points at the first.
    assert_eq!(store.count("Practitioner"), 1);
    let doctor_id = UUID_D1.trim_start_matches("urn:uuid:");
    assert_eq!(
        obs["performer"][0]["reference"],
        format!("Practitioner/{doctor_id}")
    );
    assert_eq!(
        store
            .read("Organization", "org-x")
            .unwrap()
            .resource
            .as_ref()
            .unwrap()["name"],
        "Fixture Org"
    );
    assert_eq!(
        ids(&store, "Observation", &format!("patient={patient_id}")).len(),
        1
    );
    assert_eq!(
        store.resource_types(),
        ["Observation", "Organization", "Patient", "Practitioner"]
    );
}

#[test]
fn collection_bundle_keeps_ids() {
    let bundle = json!({
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            { "fullUrl": "http://old.example/fhir/Patient/p1", "resource": { "resourceType": "Patient", "id": "p1" } },
            { "resource": { "resourceType": "Condition", "id": "c1",
                "subject": { "reference": "http://old.example/fhir/Patient/p1" } } },
        ],
    });
    let store = load_bundle_str("collection.json", &bundle.to_string(), LATER).unwrap();
    assert_eq!(ids(&store, "Patient", ""), strs(&["p1"]));
    let c = store
        .read("Condition", "c1")
        .unwrap()
        .resource
        .clone()
        .unwrap();
    assert_eq!(c["subject"]["reference"], "Patient/p1");
}

fn refusal(bundle: Value) -> LoadError {
    load_bundle_str("bad.json", &bundle.to_string(), LATER).unwrap_err()
}

fn collection(entries: Value) -> Value {
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}

#[test]
fn invalid_bundles_are_refused_with_file_resource_and_reason() {
    let e = refusal(collection(json!([
        { "resource": { "resourceType": "Patient", "id": "ok" } },
        { "resource": { "resourceType": "Observation", "id": "o1", "status": "final" } },
    ])));
    assert_eq!(e.file, "bad.json");
    assert_eq!(e.resource.as_deref(), Some("entry 1 (Observation/o1)"));
    assert_eq!(e.reason, "invalid resource: Observation.code is required");
    assert_eq!(
        e.to_string(),
        "bad.json: entry 1 (Observation/o1): invalid resource: Observation.code is required"
    );

    let cases: Vec<(Value, Option<&str>, &str)> = vec![
        (
            json!({ "resourceType": "Patient" }),
            None,
            "not a FHIR Bundle",
        ),
        (
            json!({ "resourceType": "Bundle", "type": "batch", "entry": [] }),
            None,
            "only 'transaction' and 'collection'",
        ),
        (collection(json!([])), None, "no entries"),
        (
            json!({ "resourceType": "Bundle", "type": "collection" }),
            None,
            "no entries",
        ),
        (
            collection(json!([{ "resource": { "resourceType": "Patient" } }])),
            Some("entry 0 (Patient)"),
            "needs an id",
        ),
        (
            collection(json!([{ "resource": { "resourceType": "Patient", "id": "../etc" } }])),
            Some("entry 0 (Patient/../etc)"),
            "invalid id",
        ),
        (
            collection(json!([{ "resource": { "resourceType": "Unicorn", "id": "u" } }])),
            Some("entry 0 (Unicorn/u)"),
            "not a FHIR R4 resource type",
        ),
        (
            collection(json!([{ "resource": { "id": "u" } }])),
            Some("entry 0"),
            "no resourceType",
        ),
        (
            collection(json!([{ "fullUrl": "x" }])),
            Some("entry 0"),
            "no resource",
        ),
        (
            collection(
                json!([{ "resource": { "resourceType": "Patient", "id": "p" } }, { "resource": { "resourceType": "Patient", "id": "p" } }]),
            ),
            Some("entry 1 (Patient/p)"),
            "Patient/p appears twice (first at entry 0 (Patient/p))",
        ),
    ];
    for (bundle, resource, reason) in cases {
        let e = refusal(bundle.clone());
        assert_eq!(e.resource.as_deref(), resource, "{bundle}");
        assert!(e.reason.contains(reason), "{bundle}: {}", e.reason);
    }
    let e = load_bundle_str("broken.json", "{ not json", LATER).unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.resource.as_deref()),
        ("broken.json", None)
    );
    assert!(e.reason.starts_with("not valid JSON"), "{}", e.reason);
}

#[test]
fn invalid_transaction_entries_are_refused() {
    let tx =
        |entry: Value| json!({ "resourceType": "Bundle", "type": "transaction", "entry": [entry] });
    let patient = json!({ "resourceType": "Patient", "id": "p1" });
    let cases = [
        (json!({ "resource": patient }), "needs a request"),
        (
            json!({ "resource": patient, "request": { "method": "DELETE", "url": "Patient/p1" } }),
            "method 'DELETE'",
        ),
        (
            json!({ "resource": patient, "request": { "method": "PUT", "url": "Patient/p2" } }),
            "must equal the id 'p2'",
        ),
        (
            json!({ "resource": patient, "request": { "method": "PUT", "url": "Patient?identifier=x" } }),
            "PUT needs the url",
        ),
        (
            json!({ "resource": patient, "request": { "method": "PUT", "url": "Group/p1" } }),
            "PUT needs the url",
        ),
        (
            json!({ "resource": patient, "request": { "method": "POST", "url": "Group" } }),
            "POST needs the url 'Patient'",
        ),
        (
            json!({ "resource": patient, "request": { "method": "POST", "url": "Patient", "ifNoneExist": "foo=bar" } }),
            "ifNoneExist",
        ),
    ];
    for (entry, reason) in cases {
        let e = refusal(tx(entry.clone()));
        assert_eq!(
            e.resource.as_deref(),
            Some("entry 0 (Patient/p1)"),
            "{entry}"
        );
        assert!(e.reason.contains(reason), "{entry}: {}", e.reason);
    }
}

#[test]
fn posts_without_uuid_get_server_ids() {
    let bundle = json!({ "resourceType": "Bundle", "type": "transaction", "entry": [
        { "resource": { "resourceType": "Patient" }, "request": { "method": "POST", "url": "Patient" } },
        { "resource": { "resourceType": "Patient" }, "request": { "method": "POST", "url": "Patient" } },
    ]});
    let store = load_bundle_str("t.json", &bundle.to_string(), LATER).unwrap();
    assert_eq!(ids(&store, "Patient", ""), strs(&["loaded-1", "loaded-2"]));
}

#[test]
fn ndjson_folder_loads_every_file_in_name_order() {
    let dir = scratch("folder");
    fs::write(
        dir.join("Patient.ndjson"),
        "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n\n{\"resourceType\":\"Patient\",\"id\":\"p2\"}\n",
    )
    .unwrap();
    fs::write(
        dir.join("Observation.ndjson"),
        "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p2\"}}\r\n",
    )
    .unwrap();
    fs::write(dir.join("README.txt"), "not data").unwrap();
    fs::create_dir(dir.join("nested")).unwrap();
    let store = load_path(&dir, LATER).unwrap();
    assert_eq!(ids(&store, "Patient", ""), strs(&["p1", "p2"]));
    assert_eq!(ids(&store, "Observation", "patient=p2"), strs(&["o1"]));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ndjson_errors_name_the_file_and_line() {
    let dir = scratch("badline");
    let file = dir.join("Observation.ndjson");
    fs::write(
        &file,
        "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n{\"resourceType\":\"Observation\",\"id\":\"o1\",\"code\":{\"text\":\"x\"}}\n",
    )
    .unwrap();
    let e = load_path(&dir, LATER).unwrap_err();
    assert_eq!(e.file, file.display().to_string());
    assert_eq!(e.resource.as_deref(), Some("line 2 (Observation/o1)"));
    assert_eq!(e.reason, "invalid resource: Observation.status is required");
    fs::remove_dir_all(&dir).unwrap();

    let cases = [
        (
            "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n[1,2",
            "line 2",
            "not valid JSON",
        ),
        (
            "{\"resourceType\":\"Patient\"}",
            "line 1 (Patient)",
            "has no id",
        ),
        (
            "{\"resourceType\":\"Patient\",\"id\":\"a/b\"}",
            "line 1 (Patient/a/b)",
            "invalid id",
        ),
        (
            "{\"resourceType\":\"Patient\",\"id\":7}",
            "line 1 (Patient)",
            "id is not a string",
        ),
        (
            "{\"resourceType\":\"Patient\",\"id\":\"p\"}\n{\"resourceType\":\"Patient\",\"id\":\"p\"}",
            "line 2 (Patient/p)",
            "appears twice",
        ),
    ];
    for (text, resource, reason) in cases {
        let e = load_ndjson_str("inline.ndjson", text, LATER).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.resource.as_deref()),
            ("inline.ndjson", Some(resource)),
            "{text}"
        );
        assert!(e.reason.contains(reason), "{text}: {}", e.reason);
    }
    let e = load_ndjson_str("empty.ndjson", "\n  \n", LATER).unwrap_err();
    assert_eq!(
        (e.resource, e.reason.as_str()),
        (None, "the file has no resources")
    );
}

#[test]
fn paths_that_cannot_be_loaded() {
    let dir = scratch("empty");
    let e = load_path(&dir, LATER).unwrap_err();
    assert_eq!(e.reason, "the folder has no *.ndjson files");
    assert_eq!(e.file, dir.display().to_string());

    let missing = dir.join("missing.json");
    let e = load_path(&missing, LATER).unwrap_err();
    assert_eq!(e.file, missing.display().to_string());
    assert!(e.reason.starts_with("cannot read the file"), "{}", e.reason);

    let bundle_file = dir.join("fixture.json");
    fs::write(&bundle_file, transaction().to_string()).unwrap();
    assert_eq!(load_path(&bundle_file, LATER).unwrap().count("Patient"), 1);

    let single = dir.join("one.ndjson");
    fs::write(&single, "{\"resourceType\":\"Patient\",\"id\":\"solo\"}").unwrap();
    assert_eq!(
        ids(&load_path(&single, LATER).unwrap(), "Patient", ""),
        strs(&["solo"])
    );

    let binary = dir.join("binary.json");
    fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    assert!(
        load_path(&binary, LATER)
            .unwrap_err()
            .reason
            .starts_with("cannot read the file")
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_round_trip_through_ndjson_keeps_the_builtin_data() {
    let builtin = super::builtin();
    let mut text = String::new();
    for ty in builtin.resource_types() {
        for r in builtin.current(ty) {
            text.push_str(&r.to_string());
            text.push('\n');
        }
    }
    let loaded =
        load_ndjson_str("export.ndjson", &text, mock_ehr::fhir::data::GENERATED_AT).unwrap();
    assert_eq!(loaded, builtin);
}
