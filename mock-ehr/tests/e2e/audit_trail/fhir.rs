//! The trail's entries as FHIR `AuditEvent`s: read, search by date, patient and
//! outcome, and who may see them.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{auditor, ehr, mint, search, some_flows};
use crate::fhir_api_support::{Call, get};
use crate::support::{BASE, Ehr, NOW};

fn ids(resources: &[Value]) -> Vec<String> {
    resources
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// The trail's entries for which `keep` holds, as AuditEvent ids.
async fn trail_ids(ehr: &Ehr, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    ehr.audit()
        .await
        .iter()
        .filter(|e| keep(e))
        .map(|e| format!("{:010}", e["seq"].as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn entries_read_as_fhir_audit_events() {
    let ehr = ehr();
    some_flows(&ehr).await;
    let token = auditor(&ehr).await;
    let trail = ehr.audit().await;
    let issued = trail
        .iter()
        .find(|e| e["event"] == "token" && e["patient"] == "pat-001")
        .unwrap();
    let id = format!("{:010}", issued["seq"].as_u64().unwrap());
    let res = get(&ehr, &token, &format!("AuditEvent/{id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let r = res.json();
    let recorded = mock_ehr::fhir::date::format_instant(NOW);
    assert_eq!(r["resourceType"], "AuditEvent");
    assert_eq!(r["id"], id.as_str());
    assert_eq!(
        r["type"],
        json!({ "system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110114", "display": "User Authentication" })
    );
    assert_eq!(
        r["subtype"],
        json!([{ "system": "urn:smartgate:mock-ehr:audit-event", "code": "token" }])
    );
    assert_eq!(r["action"], "E");
    assert_eq!(r["recorded"], recorded.as_str());
    assert_eq!(r["outcome"], "0");
    let agents = r["agent"].as_array().unwrap();
    assert_eq!(
        agents[0]["who"]["identifier"],
        json!({ "system": format!("{BASE}/clients"), "value": "demo-app" })
    );
    assert_eq!(agents[1]["who"]["reference"], "Practitioner/prac-001");
    assert_eq!(agents[1]["altId"], "dr.smith");
    assert_eq!(agents[1]["requestor"], true);
    assert_eq!(
        r["entity"][0]["what"],
        json!({ "reference": "Patient/pat-001" })
    );
    assert_eq!(r["entity"][0]["role"]["code"], "1");
    assert_eq!(
        r["entity"][1]["what"]["identifier"]["value"],
        issued["token_id"]
    );
    assert_eq!(r["source"]["observer"]["identifier"]["value"], BASE);
    assert_eq!(r["source"]["type"][0]["code"], "4");
    assert_eq!(r["extension"][0]["valueString"], issued["prev_hash"]);
    assert_eq!(r["extension"][1]["valueString"], issued["hash"]);

    // The refused exchange: outcome 4, its code in outcomeDesc.
    let refused = trail
        .iter()
        .find(|e| e["outcome"] == "invalid_grant")
        .unwrap();
    let res = get(
        &ehr,
        &token,
        &format!("AuditEvent/{:010}", refused["seq"].as_u64().unwrap()),
    )
    .await;
    let r = res.json();
    assert_eq!(r["outcome"], "4");
    assert!(
        r["outcomeDesc"]
            .as_str()
            .unwrap()
            .starts_with("invalid_grant"),
        "{r}"
    );

    // A FHIR request: type rest, action R for a read, E for a search.
    get(&ehr, &token, "AuditEvent?outcome=0").await;
    let found = search(&ehr, &token, "subtype=fhir&_sort=-date").await;
    assert_eq!(found[0]["type"]["code"], "rest");
    let actions: Vec<&str> = found
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"R") && actions.contains(&"E"),
        "{actions:?}"
    );

    // Ids are exact: no such event, or the id in another spelling.
    for bad in ["9999999999", "1", "abc"] {
        let res = get(&ehr, &token, &format!("AuditEvent/{bad}")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(res.json()["issue"][0]["code"], "not-found");
    }
}

#[tokio::test]
async fn audit_events_search_by_date_patient_and_outcome() {
    let ehr = ehr();
    some_flows(&ehr).await;
    let token = auditor(&ehr).await;
    let early = trail_ids(&ehr, |_| true).await;
    ehr.state.clock().advance(3600);
    ehr.tokens("launch/patient patient/*.rs").await;
    let all = trail_ids(&ehr, |_| true).await;
    let later: Vec<String> = all.iter().filter(|i| !early.contains(i)).cloned().collect();
    assert!(!later.is_empty());

    let instant = |secs: i64| mock_ehr::fhir::date::format_instant(secs).replace('+', "%2B");
    let got = ids(&search(
        &ehr,
        &token,
        &format!("date=ge{}&_count=1000", instant(NOW + 3600)),
    )
    .await);
    assert_eq!(got, later);
    let got = ids(&search(
        &ehr,
        &token,
        &format!("date=lt{}&_count=1000", instant(NOW + 3600)),
    )
    .await);
    assert_eq!(got, early);
    let got = ids(&search(
        &ehr,
        &token,
        &format!("date=gt{}&_count=1000", instant(NOW + 3600)),
    )
    .await);
    assert!(got.is_empty());

    let about_002 = trail_ids(&ehr, |e| e["patient"] == "pat-002").await;
    assert!(!about_002.is_empty());
    assert_eq!(
        ids(&search(&ehr, &token, "patient=Patient/pat-002&_count=1000").await),
        about_002
    );
    assert_eq!(
        ids(&search(&ehr, &token, "patient=pat-002&_count=1000").await),
        about_002
    );

    let refused = trail_ids(&ehr, |e| e["outcome"] != "success").await;
    assert!(!refused.is_empty());
    let found = search(&ehr, &token, "outcome=4&_count=1000").await;
    assert_eq!(ids(&found), refused);
    assert!(search(&ehr, &token, "outcome=8").await.is_empty());
    let ok = trail_ids(&ehr, |e| e["outcome"] == "success").await;
    assert_eq!(
        ids(&search(&ehr, &token, "outcome=0&_count=1000").await),
        ok
    );

    // Newest first, and paged.
    let res = get(&ehr, &token, "AuditEvent?_sort=-date&_count=2").await;
    let b = res.json();
    assert_eq!(b["entry"].as_array().unwrap().len(), 2);
    assert!(
        b["link"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["relation"] == "next"),
        "{b}"
    );
    assert!(b["total"].as_u64().unwrap() >= all.len() as u64);

    // A bad value and an unknown parameter are answered as on every other type.
    let res = get(&ehr, &token, "AuditEvent?date=yesterday").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    assert_eq!(res.json()["issue"][0]["code"], "invalid");
    let a = get(&ehr, &token, "AuditEvent?color=blue").await;
    let staff = mint(
        &ehr,
        json!({ "scope": "user/Patient.rs", "user": "dr.smith" }),
    )
    .await;
    let p = get(&ehr, &staff, "Patient?color=blue").await;
    assert_eq!(a.status, p.status);
    assert_eq!(a.json()["issue"], p.json()["issue"]);
}

#[tokio::test]
async fn only_user_and_system_audit_scopes_see_audit_events() {
    let ehr = ehr();
    some_flows(&ehr).await;
    let insufficient = |res: &crate::support::Resp| {
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
        let challenge = res.header("www-authenticate").unwrap();
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert_eq!(res.json()["issue"][0]["code"], "forbidden");
    };
    // patient/ scopes, wildcard or named: refused, read and search.
    for scope in ["patient/*.rs", "patient/AuditEvent.rs"] {
        let t = mint(
            &ehr,
            json!({ "scope": scope, "patient": "pat-001", "user": "dr.smith" }),
        )
        .await;
        insufficient(&get(&ehr, &t, "AuditEvent").await);
        insufficient(&get(&ehr, &t, "AuditEvent/0000000001").await);
    }
    // No AuditEvent scope at all.
    let t = mint(
        &ehr,
        json!({ "scope": "user/Patient.rs", "user": "dr.smith" }),
    )
    .await;
    insufficient(&get(&ehr, &t, "AuditEvent").await);
    // v2 user, v1 user, system: allowed.
    for body in [
        json!({ "scope": "user/AuditEvent.rs", "user": "dr.smith" }),
        json!({ "scope": "user/AuditEvent.read", "user": "dr.smith" }),
        json!({ "scope": "system/AuditEvent.rs" }),
    ] {
        let t = mint(&ehr, body.clone()).await;
        assert!(!search(&ehr, &t, "").await.is_empty(), "{body}");
        let res = get(&ehr, &t, "AuditEvent/0000000001").await;
        assert_eq!(res.status, StatusCode::OK, "{body}: {}", res.text());
    }
    // A scope's query filters.
    let t = mint(
        &ehr,
        json!({ "scope": "user/AuditEvent.rs?outcome=4", "user": "dr.smith" }),
    )
    .await;
    let seen = search(&ehr, &t, "_count=1000").await;
    assert!(!seen.is_empty() && seen.iter().all(|r| r["outcome"] == "4"));
    // A patient user sees the events about themselves only.
    let t = mint(
        &ehr,
        json!({ "scope": "user/AuditEvent.rs", "user": "jane.doe" }),
    )
    .await;
    let seen = search(&ehr, &t, "_count=1000").await;
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|r| r["entity"][0]["what"]["reference"] == "Patient/pat-001")
    );
    let other = trail_ids(&ehr, |e| e["patient"] == "pat-002").await;
    let res = get(&ehr, &t, &format!("AuditEvent/{}", other[0])).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Read-only, even with write scopes.
    let t = mint(
        &ehr,
        json!({ "scope": "user/AuditEvent.cruds", "user": "dr.smith" }),
    )
    .await;
    let res = Call::new(Method::POST, "AuditEvent")
        .bearer(&t)
        .json(&json!({ "resourceType": "AuditEvent" }))
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{}", res.text());
    let res = Call::new(Method::DELETE, "AuditEvent/0000000001")
        .bearer(&t)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    // The CapabilityStatement says what is served.
    let caps = ehr.get("/fhir/metadata").await.json();
    let audit = caps["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "AuditEvent")
        .unwrap()
        .clone();
    assert_eq!(
        audit["interaction"],
        json!([{ "code": "read" }, { "code": "search-type" }])
    );
    let names: Vec<&str> = audit["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["date", "patient", "outcome"] {
        assert!(names.contains(&name), "{names:?}");
    }
    // A system/AuditEvent scope grants nothing else.
    let backend = mint(&ehr, json!({ "scope": "system/AuditEvent.rs" })).await;
    insufficient(&get(&ehr, &backend, "Patient").await);
}
