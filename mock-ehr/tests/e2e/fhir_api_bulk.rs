//! Bulk Data export end to end: a SMART Backend Services token from the mock's token
//! endpoint, kick-off, polling, the manifest, downloads, NDJSON parsing, and counts
//! equal to the data set's.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fhir_api_support::*;
use crate::support::{Ehr, Resp};

/// The built-in data set's resources per type (DATASET).
fn builtin_counts() -> BTreeMap<String, usize> {
    [
        ("AllergyIntolerance", 12),
        ("Condition", 36),
        ("Encounter", 48),
        ("Group", 1),
        ("Immunization", 38),
        ("MedicationRequest", 36),
        ("Observation", 264),
        ("Organization", 1),
        ("Patient", 24),
        ("Practitioner", 4),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_string(), n))
    .collect()
}

fn without(counts: &BTreeMap<String, usize>, drop: &[&str]) -> BTreeMap<String, usize> {
    let mut c = counts.clone();
    for d in drop {
        c.remove(*d);
    }
    c
}

async fn kickoff(ehr: &Ehr, token: &str, path: &str) -> Resp {
    Call::get(path)
        .bearer(token)
        .header("accept", "application/fhir+json")
        .header("prefer", "respond-async")
        .send(ehr)
        .await
}

/// The path of the status URL, relative to `/fhir/`.
fn status_path(res: &Resp) -> String {
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    res.header("content-location")
        .unwrap()
        .strip_prefix("http://127.0.0.1:8080/fhir/")
        .unwrap()
        .to_string()
}

/// Polls until the manifest; returns it and how many 202s came first.
async fn poll(ehr: &Ehr, token: &str, status: &str) -> (Value, usize) {
    for waited in 0..10 {
        let res = get(ehr, token, status).await;
        match res.status {
            StatusCode::ACCEPTED => {
                assert_eq!(res.header("retry-after"), Some("1"));
                assert!(res.header("x-progress").unwrap().starts_with("in progress"));
            }
            StatusCode::OK => {
                assert_eq!(res.header("content-type"), Some("application/json"));
                return (res.json(), waited);
            }
            s => panic!("poll: {s}: {}", res.text()),
        }
    }
    panic!("the export never completed")
}

/// Downloads every output file: the resources per type, each line parsed, each
/// resource of the file's type, and the count the manifest gave.
async fn download(ehr: &Ehr, token: &str, manifest: &Value) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    for o in manifest["output"].as_array().unwrap() {
        let ty = o["type"].as_str().unwrap();
        let url = o["url"].as_str().unwrap();
        let path = url.strip_prefix("http://127.0.0.1:8080/fhir/").unwrap();
        let res = Call::get(path)
            .bearer(token)
            .header("accept", "application/fhir+ndjson")
            .send(ehr)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{url}: {}", res.text());
        assert_eq!(res.header("content-type"), Some("application/fhir+ndjson"));
        let text = res.text();
        let resources: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect();
        assert!(text.ends_with('\n'));
        assert_eq!(resources.len() as u64, o["count"].as_u64().unwrap(), "{ty}");
        assert!(resources.iter().all(|r| r["resourceType"] == ty), "{ty}");
        out.insert(ty.to_string(), resources);
    }
    out
}

fn counts(files: &BTreeMap<String, Vec<Value>>) -> BTreeMap<String, usize> {
    files.iter().map(|(t, r)| (t.clone(), r.len())).collect()
}

#[tokio::test]
async fn system_export_end_to_end_with_polling() {
    let ehr = ehr_from(builder().export_polls(2));
    let token = backend_access(&ehr, "system/*.read").await;
    let res = kickoff(
        &ehr,
        &token,
        "$export?_outputFormat=application/fhir%2Bndjson",
    )
    .await;
    let status = status_path(&res);
    assert_eq!(res.json()["resourceType"], "OperationOutcome");
    let (manifest, waited) = poll(&ehr, &token, &status).await;
    assert_eq!(waited, 2, "the client really polls");
    assert_eq!(manifest["transactionTime"], "2023-11-14T22:13:20Z");
    assert_eq!(
        manifest["request"],
        "http://127.0.0.1:8080/fhir/$export?_outputFormat=application/fhir%2Bndjson"
    );
    assert_eq!(manifest["requiresAccessToken"], true);
    assert_eq!(manifest["error"], json!([]));
    let files = download(&ehr, &token, &manifest).await;
    assert_eq!(counts(&files), builtin_counts());
    let ids: Vec<&str> = files["Patient"]
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, all_patients());

    // Deleting the job: 202, then its status and files are gone.
    let res = Call::new(Method::DELETE, &status)
        .bearer(&token)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    assert_outcome(&get(&ehr, &token, &status).await, 404, "not-found");
    let file = format!("{status}/Patient.ndjson");
    assert_outcome(&get(&ehr, &token, &file).await, 404, "not-found");
}

#[tokio::test]
async fn patient_and_group_exports_hold_the_patient_compartment() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    let compartment = without(
        &builtin_counts(),
        &["Group", "Practitioner", "Organization"],
    );
    for path in ["Patient/$export", "Group/all-patients/$export"] {
        let status = status_path(&kickoff(&ehr, &token, path).await);
        let (manifest, _) = poll(&ehr, &token, &status).await;
        let files = download(&ehr, &token, &manifest).await;
        assert_eq!(counts(&files), compartment, "{path}");
    }
    // A Group of two members: their resources only.
    let group = json!({
        "resourceType": "Group", "type": "person", "actual": true,
        "member": [{ "entity": { "reference": "Patient/pat-002" } },
                   { "entity": { "reference": "Patient/pat-012" } }],
    });
    let writer = backend_access(&ehr, "system/*.cruds").await;
    let res = Call::new(Method::PUT, "Group/two")
        .bearer(&writer)
        .json(&{
            let mut g = group.clone();
            g["id"] = "two".into();
            g
        })
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let status = status_path(
        &kickoff(
            &ehr,
            &token,
            "Group/two/$export?_type=Observation,Immunization,Patient",
        )
        .await,
    );
    let (manifest, _) = poll(&ehr, &token, &status).await;
    let files = download(&ehr, &token, &manifest).await;
    let ids = |ty: &str| -> Vec<String> {
        let mut v: Vec<String> = files[ty]
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids("Patient"), ["pat-002", "pat-012"]);
    let mut obs = observations(2);
    obs.extend(observations(12));
    obs.sort();
    assert_eq!(ids("Observation"), obs);
    let mut imm = immunizations(2);
    imm.extend(immunizations(12));
    imm.sort();
    assert_eq!(ids("Immunization"), imm);
    // An unknown Group is 404; Group itself is not exported at the Patient level.
    assert_outcome(
        &kickoff(&ehr, &token, "Group/nope/$export").await,
        404,
        "not-found",
    );
    assert_outcome(
        &kickoff(&ehr, &token, "Patient/$export?_type=Group").await,
        400,
        "invalid",
    );
    assert_outcome(
        &kickoff(&ehr, &token, "Patient/$export?_type=Practitioner").await,
        400,
        "invalid",
    );
}

#[tokio::test]
async fn type_and_since_select_what_is_exported() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.cruds").await;
    let status = status_path(
        &kickoff(
            &ehr,
            &token,
            "$export?_type=Patient,Observation&_type=Group",
        )
        .await,
    );
    let (manifest, _) = poll(&ehr, &token, &status).await;
    let files = download(&ehr, &token, &manifest).await;
    let want: BTreeMap<String, usize> = [("Group", 1), ("Observation", 264), ("Patient", 24)]
        .map(|(t, n)| (t.to_string(), n))
        .into();
    assert_eq!(counts(&files), want);

    // Only what changed after _since: a new Observation, written once the clock is
    // past the built-in data's lastUpdated (2024-06-01).
    ehr.post_json("/_admin/clock", json!({ "advance_secs": 20_000_000 }))
        .await;
    let token = backend_access(&ehr, "system/*.cruds").await;
    let res = Call::new(Method::POST, "Observation")
        .bearer(&token)
        .json(&new_observation("pat-004", "vital-signs"))
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let id = res.json()["id"].as_str().unwrap().to_string();
    let status = status_path(&kickoff(&ehr, &token, "$export?_since=2024-06-01T00:00:00Z").await);
    let (manifest, _) = poll(&ehr, &token, &status).await;
    let files = download(&ehr, &token, &manifest).await;
    assert_eq!(files.keys().collect::<Vec<_>>(), ["Observation"]);
    assert_eq!(files["Observation"].len(), 1);
    assert_eq!(files["Observation"][0]["id"], id.as_str());
    // _since with a zone written with '+', encoded.
    let status =
        status_path(&kickoff(&ehr, &token, "$export?_since=2024-06-01T02:00:00%2B02:00").await);
    let (manifest, _) = poll(&ehr, &token, &status).await;
    assert_eq!(manifest["output"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn kickoff_refusals() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    // No Prefer: respond-async.
    let res = get(&ehr, &token, "$export").await;
    assert_outcome(&res, 400, "invalid");
    for (path, code) in [
        ("$export?_outputFormat=text/csv", "invalid"),
        ("$export?_type=Frobnicator", "invalid"),
        ("$export?_type=Basic", "invalid"),
        ("$export?_since=last-week", "invalid"),
        (
            "$export?_typeFilter=Observation%3Fstatus%3Dfinal",
            "not-supported",
        ),
        ("$export?_elements=id", "not-supported"),
    ] {
        assert_outcome(&kickoff(&ehr, &token, path).await, 400, code);
    }
    // handling=lenient ignores what is not supported.
    let res = Call::get("$export?_elements=id")
        .bearer(&token)
        .header("prefer", "respond-async, handling=lenient")
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    // Other methods; no token.
    let res = Call::new(Method::POST, "$export")
        .bearer(&token)
        .send(&ehr)
        .await;
    assert_outcome(&res, 405, "not-supported");
    let res = Call::get("$export")
        .header("prefer", "respond-async")
        .send(&ehr)
        .await;
    assert_outcome(&res, 401, "security");
}

#[tokio::test]
async fn export_needs_backend_system_scopes_for_each_type() {
    let ehr = ehr();
    // A user-facing token, even with wide scopes: 403.
    let user = app_access(&ehr, "user/*.rs", None).await;
    assert_outcome(&kickoff(&ehr, &user, "$export").await, 403, "forbidden");
    let patient = app_access(&ehr, "launch/patient patient/*.rs", None).await;
    assert_outcome(
        &kickoff(&ehr, &patient, "Patient/$export").await,
        403,
        "forbidden",
    );

    // system/Observation.rs asking for Patient: the kick-off fails, naming the scope.
    let obs_only = backend_access(&ehr, "system/Observation.rs").await;
    let res = kickoff(&ehr, &obs_only, "$export?_type=Patient,Observation").await;
    assert_outcome(&res, 403, "forbidden");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("scope=\"system/Patient.rs\""),
        "{:?}",
        res.header("www-authenticate")
    );
    // Without _type: Observation only, and the error file names what was skipped.
    let status = status_path(&kickoff(&ehr, &obs_only, "$export").await);
    let (manifest, _) = poll(&ehr, &obs_only, &status).await;
    let files = download(&ehr, &obs_only, &manifest).await;
    assert_eq!(
        counts(&files),
        without(
            &builtin_counts(),
            &[
                "AllergyIntolerance",
                "Condition",
                "Encounter",
                "Group",
                "Immunization",
                "MedicationRequest",
                "Organization",
                "Patient",
                "Practitioner",
            ]
        )
    );
    let errors = manifest["error"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["type"], "OperationOutcome");
    assert_eq!(errors[0]["count"], 9);
    let path = errors[0]["url"]
        .as_str()
        .unwrap()
        .strip_prefix("http://127.0.0.1:8080/fhir/")
        .unwrap();
    let text = get(&ehr, &obs_only, path).await.text();
    assert_eq!(text.lines().count(), 9);
    assert!(text.contains("Patient was not exported"));

    // A scope's query filters the output: the laboratory results only.
    let labs_only = backend_access(
        &ehr,
        "system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
    )
    .await;
    let status = status_path(&kickoff(&ehr, &labs_only, "$export?_type=Observation").await);
    let (manifest, _) = poll(&ehr, &labs_only, &status).await;
    let files = download(&ehr, &labs_only, &manifest).await;
    let mut ids: Vec<String> = files["Observation"]
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut want: Vec<String> = (1..=PATIENTS).flat_map(labs).collect();
    want.sort();
    assert_eq!(ids, want);

    // A Group export needs read on the Group too.
    assert_outcome(
        &kickoff(
            &ehr,
            &obs_only,
            "Group/all-patients/$export?_type=Observation",
        )
        .await,
        403,
        "forbidden",
    );
}

#[tokio::test]
async fn status_and_files_belong_to_the_client_that_started_the_export() {
    let ehr = ehr();
    let token = backend_access(&ehr, "system/*.rs").await;
    let status = status_path(&kickoff(&ehr, &token, "$export?_type=Patient").await);
    let (manifest, _) = poll(&ehr, &token, &status).await;
    let url = manifest["output"][0]["url"].as_str().unwrap();
    let file = url.strip_prefix("http://127.0.0.1:8080/fhir/").unwrap();
    // No token: 401. Another client (the built-in demo-backend, via /_admin): 404.
    assert_outcome(&Call::get(file).send(&ehr).await, 401, "security");
    let res = ehr
        .post_json(
            "/_admin/tokens",
            json!({ "client_id": "demo-backend", "scope": "system/*.rs" }),
        )
        .await;
    let other = res.json()["access_token"].as_str().unwrap().to_string();
    assert_outcome(&get(&ehr, &other, file).await, 404, "not-found");
    assert_outcome(&get(&ehr, &other, &status).await, 404, "not-found");
    let res = Call::new(Method::DELETE, &status)
        .bearer(&other)
        .send(&ehr)
        .await;
    assert_outcome(&res, 404, "not-found");
    // Still there for its owner.
    assert_eq!(get(&ehr, &token, file).await.status, StatusCode::OK);
    assert_outcome(
        &get(&ehr, &token, &format!("{status}/Nope.ndjson")).await,
        404,
        "not-found",
    );
    assert_outcome(&get(&ehr, &token, "bulk/0123").await, 404, "not-found");
}

#[tokio::test]
async fn files_wait_for_completion_and_jobs_are_bounded() {
    let ehr = ehr_from(builder().export_polls(3));
    let token = backend_access(&ehr, "system/*.rs").await;
    let status = status_path(&kickoff(&ehr, &token, "$export?_type=Patient").await);
    // Not complete yet: no file.
    assert_outcome(
        &get(&ehr, &token, &format!("{status}/Patient.ndjson")).await,
        404,
        "not-found",
    );
    for _ in 1..16 {
        status_path(&kickoff(&ehr, &token, "$export?_type=Patient").await);
    }
    let res = kickoff(&ehr, &token, "$export?_type=Patient").await;
    assert_outcome(&res, 429, "throttled");
    assert!(res.header("retry-after").is_some());
    // Deleting one makes room.
    Call::new(Method::DELETE, &status)
        .bearer(&token)
        .send(&ehr)
        .await;
    status_path(&kickoff(&ehr, &token, "$export?_type=Patient").await);
}
