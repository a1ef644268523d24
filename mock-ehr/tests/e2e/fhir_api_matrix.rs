//! The scope-enforcement matrix: for each (scopes, user or patient, request), the exact
//! set of resources returned, or the exact refusal. Tokens come from the mock's own
//! authorization server (auto-approved code flow, or SMART Backend Services), so a
//! widening of access anywhere between the token endpoint and the data layer fails
//! here.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::fhir_api_support::*;
use crate::support::Ehr;

/// Who asks: a user-facing token (scope, login hint) or a backend token.
#[derive(Debug, Clone)]
enum Who {
    /// Code flow for dr.smith (a practitioner); with `launch/patient`, patient pat-001.
    App(String),
    /// Code flow with a `login_hint`: `jane.doe` (a patient user, pat-001) or
    /// `Patient/pat-NNN` (dr.smith with that patient).
    AppAs(String, &'static str),
    /// client_credentials.
    System(String),
}

#[allow(non_snake_case)]
fn App(scope: &str) -> Who {
    Who::App(scope.to_string())
}

#[allow(non_snake_case)]
fn AppAs(scope: &str, hint: &'static str) -> Who {
    Who::AppAs(scope.to_string(), hint)
}

#[allow(non_snake_case)]
fn System(scope: &str) -> Who {
    Who::System(scope.to_string())
}

#[derive(Debug)]
enum Ask {
    Get(String),
    Write(Method, &'static str, Option<Value>),
}

#[derive(Debug)]
enum Want {
    /// Exactly these `Type/id`s (every page).
    Refs(Vec<String>),
    /// This status and OperationOutcome issue code.
    Refused(u16, &'static str),
    /// This status of a successful write.
    Written(u16),
}

struct Case {
    who: Who,
    ask: Ask,
    want: Want,
}

fn ask(path: &str) -> Ask {
    Ask::Get(path.to_string())
}

fn obs(ids: Vec<String>) -> Want {
    Want::Refs(refs("Observation", &ids))
}

fn one(r: &str) -> Want {
    Want::Refs(vec![r.to_string()])
}

fn refused(status: u16, code: &'static str) -> Want {
    Want::Refused(status, code)
}

async fn token(ehr: &Ehr, who: &Who) -> String {
    match who {
        Who::App(scope) => app_access(ehr, scope, None).await,
        Who::AppAs(scope, hint) => app_access(ehr, scope, Some(hint)).await,
        Who::System(scope) => backend_access(ehr, scope).await,
    }
}

const LAB_SCOPE: &str = "launch/patient patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

fn cases() -> Vec<Case> {
    let all_labs: Vec<String> = (1..=PATIENTS).flat_map(labs).collect();
    let mut c = vec![
        // patient/ v2 scope with a query: that patient's lab results, nothing else.
        Case {
            who: App(LAB_SCOPE),
            ask: ask("Observation"),
            want: obs(labs(1)),
        },
        Case {
            who: App(LAB_SCOPE),
            ask: ask(&format!("Observation?category={}", LAB.replace('|', "%7C"))),
            want: obs(labs(1)),
        },
        Case {
            who: App(LAB_SCOPE),
            ask: ask("Observation?patient=pat-002"),
            want: obs(vec![]),
        },
        Case {
            who: App(LAB_SCOPE),
            ask: ask("Observation?category=vital-signs"),
            want: obs(vec![]),
        },
        Case {
            who: App(LAB_SCOPE),
            ask: ask("Observation/obs-001-1-glu"),
            want: one("Observation/obs-001-1-glu"),
        },
        Case {
            who: App(LAB_SCOPE),
            ask: ask("Observation/obs-001-1-hr"),
            want: refused(404, "not-found"),
        },
        Case {
            who: App(LAB_SCOPE),
            ask: ask("Observation/obs-002-1-glu"),
            want: refused(404, "not-found"),
        },
        Case {
            who: App(LAB_SCOPE),
            ask: ask("Condition"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: AppAs(LAB_SCOPE, "Patient/pat-003"),
            ask: ask("Observation"),
            want: obs(labs(3)),
        },
        // v1 patient/*.read.
        Case {
            who: App("launch/patient patient/*.read"),
            ask: ask("Observation"),
            want: obs(observations(1)),
        },
        Case {
            who: App("launch/patient patient/*.read"),
            ask: ask("Condition"),
            want: Want::Refs(refs("Condition", &conditions(1))),
        },
        Case {
            who: App("launch/patient patient/*.read"),
            ask: ask("Patient"),
            want: one("Patient/pat-001"),
        },
        Case {
            who: App("launch/patient patient/*.read"),
            ask: ask("Patient/pat-002"),
            want: refused(404, "not-found"),
        },
        Case {
            who: App("launch/patient patient/*.read"),
            ask: ask("Group"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/Group.rs"),
            ask: ask("Group/all-patients"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/*.read"),
            ask: ask("Practitioner"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/*.read"),
            ask: ask("Encounter?_id=enc-002-1"),
            want: Want::Refs(vec![]),
        },
        Case {
            who: AppAs("launch/patient patient/*.read", "Patient/pat-012"),
            ask: ask("Immunization"),
            want: Want::Refs(refs("Immunization", &immunizations(12))),
        },
        // A patient/ scope without a patient in context grants nothing.
        Case {
            who: App("patient/*.rs"),
            ask: ask("Observation"),
            want: refused(403, "forbidden"),
        },
        // Unions.
        Case {
            who: App(&format!("{LAB_SCOPE} patient/Observation.rs")),
            ask: ask("Observation"),
            want: obs(observations(1)),
        },
        Case {
            who: App(&format!(
                "{LAB_SCOPE} patient/Observation.rs?category={VITALS}"
            )),
            ask: ask("Observation"),
            want: obs(observations(1)),
        },
        Case {
            who: App("launch/patient patient/Observation.r"),
            ask: ask("Observation"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/Observation.r"),
            ask: ask("Observation/obs-001-1-hr"),
            want: one("Observation/obs-001-1-hr"),
        },
        Case {
            who: App("launch/patient patient/Observation.s"),
            ask: ask("Observation/obs-001-1-hr"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/Observation.s"),
            ask: ask("Observation"),
            want: obs(observations(1)),
        },
        // user/ scopes: a practitioner sees every patient...
        Case {
            who: App("user/*.rs"),
            ask: ask("Observation?patient=pat-002"),
            want: obs(observations(2)),
        },
        Case {
            who: App("user/*.rs"),
            ask: ask("Group"),
            want: one("Group/all-patients"),
        },
        Case {
            who: App("user/*.rs"),
            ask: ask("Practitioner"),
            want: Want::Refs(refs(
                "Practitioner",
                &["prac-001", "prac-002", "prac-003", "prac-004"].map(String::from),
            )),
        },
        Case {
            who: App("user/Patient.rs"),
            ask: ask("Observation"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App(
                "user/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
            ),
            ask: ask("Observation?patient=pat-005"),
            want: obs(labs(5)),
        },
        Case {
            who: App(
                "user/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
            ),
            ask: ask("Observation?_count=1000"),
            want: obs(all_labs),
        },
        // ... a patient user sees their own compartment only, whatever the scope.
        Case {
            who: AppAs("user/*.rs", "jane.doe"),
            ask: ask("Observation"),
            want: obs(observations(1)),
        },
        Case {
            who: AppAs("user/*.rs", "jane.doe"),
            ask: ask("Observation?patient=pat-002"),
            want: obs(vec![]),
        },
        Case {
            who: AppAs("user/*.rs", "jane.doe"),
            ask: ask("Patient"),
            want: one("Patient/pat-001"),
        },
        Case {
            who: AppAs("user/*.rs", "jane.doe"),
            ask: ask("Condition/cond-002-1"),
            want: refused(404, "not-found"),
        },
        Case {
            who: AppAs("user/*.rs", "jane.doe"),
            ask: ask("Group"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: AppAs("user/*.rs", "jane.doe"),
            ask: ask("Practitioner/prac-003"),
            want: one("Practitioner/prac-003"),
        },
        // system/ scopes: everything, within the scope's query.
        Case {
            who: System("system/*.rs"),
            ask: ask("Observation?patient=pat-007"),
            want: obs(observations(7)),
        },
        Case {
            who: System("system/*.rs"),
            ask: ask("Group"),
            want: one("Group/all-patients"),
        },
        Case {
            who: System("system/Observation.rs"),
            ask: ask("Patient"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: System(
                "system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
            ),
            ask: ask("Observation?patient=pat-010"),
            want: obs(labs(10)),
        },
        Case {
            who: System("system/*.read"),
            ask: ask("Condition?patient=pat-003"),
            want: Want::Refs(refs("Condition", &conditions(3))),
        },
        // _include across types: each included type needs its own read grant.
        Case {
            who: App("launch/patient patient/*.rs"),
            ask: ask(
                "Observation?code=2339-0&_include=Observation:subject&_include=Observation:performer",
            ),
            want: Want::Refs(vec![
                "Observation/obs-001-1-glu".into(),
                "Patient/pat-001".into(),
            ]),
        },
        Case {
            who: App("launch/patient patient/Observation.rs"),
            ask: ask("Observation?code=2339-0&_include=Observation:subject"),
            want: one("Observation/obs-001-1-glu"),
        },
        Case {
            who: App("user/*.rs"),
            ask: ask("Observation?patient=pat-002&code=2339-0&_include=Observation:performer"),
            want: Want::Refs(vec![
                "Observation/obs-002-1-glu".into(),
                "Practitioner/prac-003".into(),
            ]),
        },
        Case {
            who: App(LAB_SCOPE),
            ask: ask("Observation?_include=Observation:subject&_include=Observation:encounter"),
            want: obs(labs(1)),
        },
    ];
    // Writes need c, u or d; the stored and the new content must be the token's.
    let own = new_observation("pat-001", "vital-signs");
    let theirs = new_observation("pat-002", "vital-signs");
    let mut amended = own.clone();
    amended["id"] = "obs-001-1-hr".into();
    amended["category"][0]["coding"][0]["code"] = "vital-signs".into();
    amended["status"] = "amended".into();
    let mut moved = amended.clone();
    moved["subject"]["reference"] = "Patient/pat-002".into();
    let mut other = amended.clone();
    other["id"] = "obs-002-1-hr".into();
    other["subject"]["reference"] = "Patient/pat-002".into();
    let w = |m: Method, p: &'static str, b: Option<&Value>| Ask::Write(m, p, b.cloned());
    c.extend([
        Case {
            who: App("launch/patient patient/Observation.rs"),
            ask: w(Method::POST, "Observation", Some(&own)),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/Observation.c"),
            ask: w(Method::POST, "Observation", Some(&own)),
            want: Want::Written(201),
        },
        Case {
            who: App("launch/patient patient/Observation.c"),
            ask: w(Method::POST, "Observation", Some(&theirs)),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/Observation.c"),
            ask: w(Method::PUT, "Observation/obs-001-1-hr", Some(&amended)),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/Observation.u"),
            ask: w(Method::PUT, "Observation/obs-001-1-hr", Some(&amended)),
            want: Want::Written(200),
        },
        Case {
            who: App("launch/patient patient/Observation.u"),
            ask: w(Method::PUT, "Observation/obs-001-1-hr", Some(&moved)),
            want: refused(403, "forbidden"),
        },
        Case {
            who: App("launch/patient patient/Observation.u"),
            ask: w(Method::PUT, "Observation/obs-002-1-hr", Some(&other)),
            want: refused(404, "not-found"),
        },
        Case {
            who: App("launch/patient patient/Observation.d"),
            ask: w(Method::DELETE, "Observation/obs-001-1-hr", None),
            want: Want::Written(204),
        },
        Case {
            who: App("launch/patient patient/Observation.d"),
            ask: w(Method::DELETE, "Observation/obs-002-1-hr", None),
            want: refused(404, "not-found"),
        },
        Case {
            who: App("launch/patient patient/*.write"),
            ask: w(Method::DELETE, "Observation/obs-001-1-hr", None),
            want: Want::Written(204),
        },
        Case {
            who: App("launch/patient patient/*.write"),
            ask: ask("Observation/obs-001-1-hr"),
            want: refused(403, "forbidden"),
        },
        Case {
            who: AppAs("user/*.cruds", "jane.doe"),
            ask: w(Method::PUT, "Observation/obs-002-1-hr", Some(&other)),
            want: refused(404, "not-found"),
        },
        Case {
            who: AppAs("user/*.cruds", "jane.doe"),
            ask: w(Method::POST, "Observation", Some(&theirs)),
            want: refused(403, "forbidden"),
        },
        Case {
            who: System("system/*.rs"),
            ask: w(Method::POST, "Observation", Some(&theirs)),
            want: refused(403, "forbidden"),
        },
        Case {
            who: System("system/*.cruds"),
            ask: w(Method::POST, "Observation", Some(&theirs)),
            want: Want::Written(201),
        },
    ]);
    c
}

#[tokio::test]
async fn scope_enforcement_matrix() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        // A fresh server per case: writes of one case never change another's answer.
        let ehr = ehr();
        let token = token(&ehr, &case.who).await;
        let observations_before = all_observations(&ehr).await;
        let res = match &case.ask {
            Ask::Get(path) => get_req(&ehr, &token, path).await,
            Ask::Write(method, path, body) => {
                let mut call = Call::new(method.clone(), path).bearer(&token);
                if let Some(b) = body {
                    call = call.json(b);
                }
                let res = call.send(&ehr).await;
                Err((res.status.as_u16(), issue_code(&res), res.text()))
            }
        };
        let label = format!("case {i}: {:?} {:?}", case.who, case.ask);
        let got: Result<(), String> = match (&case.want, &res) {
            (Want::Refs(want), Ok(got)) if got == want => Ok(()),
            (Want::Refs(want), Ok(got)) => Err(format!("want {want:?}, got {got:?}")),
            (Want::Refused(status, code), Err((s, c, _))) if s == status && c == code => Ok(()),
            (Want::Written(status), Err((s, _, _))) if s == status => Ok(()),
            (want, got) => Err(format!("want {want:?}, got {got:?}")),
        };
        if let Err(e) = got {
            failures.push(format!("{label}: {e}"));
        }
        // A refused write changes nothing.
        if matches!((&case.ask, &case.want), (Ask::Write(..), Want::Refused(..))) {
            let after = all_observations(&ehr).await;
            if after != observations_before {
                failures.push(format!("{label}: a refused write changed the data"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `Ok(Type/id list)` for a 200 (a Bundle's entries across pages, or one resource),
/// `Err((status, issue code, body))` otherwise.
async fn get_req(ehr: &Ehr, token: &str, path: &str) -> Result<Vec<String>, (u16, String, String)> {
    let res = get(ehr, token, path).await;
    match res.status {
        StatusCode::OK => {
            let body = res.json();
            if body["resourceType"] == "Bundle" {
                Ok(search_all(ehr, token, path).await)
            } else {
                Ok(vec![format!(
                    "{}/{}",
                    body["resourceType"].as_str().unwrap(),
                    body["id"].as_str().unwrap()
                )])
            }
        }
        s => Err((s.as_u16(), issue_code(&res), res.text())),
    }
}

/// The OperationOutcome issue code of a response, or "".
fn issue_code(res: &crate::support::Resp) -> String {
    serde_json::from_slice::<Value>(&res.body)
        .ok()
        .and_then(|b| b["issue"][0]["code"].as_str().map(String::from))
        .unwrap_or_default()
}

/// Every Observation with its version, as a system client sees them.
async fn all_observations(ehr: &Ehr) -> Vec<(String, String)> {
    let token = backend_access(ehr, "system/*.rs").await;
    let res = get(ehr, &token, "Observation?_count=1000").await;
    res.json()["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["resource"]["id"].as_str().unwrap().to_string(),
                e["resource"]["meta"]["versionId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

/// Across every served type, a `patient/*.rs` token sees exactly its patient's
/// compartment; the types outside it (and Group) are refused.
#[tokio::test]
async fn a_patient_token_sees_exactly_its_compartment_across_all_types() {
    for (n, hint) in [(1, "Patient/pat-001"), (12, "Patient/pat-012")] {
        let ehr = ehr();
        let token = app_access(&ehr, "launch/patient patient/*.rs", Some(hint)).await;
        let m = ehr.get("/fhir/metadata").await.json();
        let mut seen = Vec::new();
        for r in m["rest"][0]["resource"].as_array().unwrap() {
            let ty = r["type"].as_str().unwrap();
            let res = get(&ehr, &token, ty).await;
            match ty {
                // patient/ scopes never see the audit trail.
                "Group" | "Practitioner" | "Organization" | "AuditEvent" => {
                    assert_eq!(res.status, StatusCode::FORBIDDEN, "{ty}")
                }
                _ => seen.extend(search_all(&ehr, &token, ty).await),
            }
        }
        seen.sort();
        assert_eq!(seen, compartment(n), "pat-{n:03}");
        let e = encounters(n);
        assert!(!e.is_empty() && medreqs(n).len() == conditions(n).len());
        assert_eq!(allergies(n).len(), usize::from(n.is_multiple_of(2)));
    }
}
