//! The guard's SMART scope check (`Request::fhir`, `Guard::authorize`): 403
//! `insufficient_scope` naming a scope that would grant the request, the patient
//! context rule, and its place after the proof checks.

use serde_json::{Value, json};
use smartgate_core::dpop::{DpopKey, MemoryReplayCache};
use smartgate_core::guard::{Authorized, DpopMode, Guard, Rejection, Request};
use smartgate_core::jwt::Validation;
use smartgate_core::provider::rustcrypto::RustCrypto;
use smartgate_core::scope::{Interaction, Request as Fhir, ResourceType};

use crate::common::*;

const URL: &str = "https://ehr.example.org/fhir/Observation?category=laboratory";

fn guard() -> Guard {
    let keys = set(vec![jwk_of(&es256(), Some("as"))]);
    Guard::new(keys, Validation::new([ISS], [AUD])).dpop(DpopMode::Allowed)
}

fn token(changes: Value) -> String {
    let mut c = claims();
    c.insert("patient".into(), "pat-1".into());
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.remove(k);
        } else {
            c.insert(k.clone(), v.clone());
        }
    }
    crate::common::token(&c, &es256(), Some("as"), json!({}))
}

fn check(t: &str, fhir: Fhir<'_>) -> Result<Authorized, Rejection> {
    let auth = format!("Bearer {t}");
    let req = Request::new("GET", URL, NOW)
        .authorization(&auth)
        .fhir(fhir);
    guard().check(&req, &RustCrypto, &MemoryReplayCache::new())
}

fn search(t: ResourceType) -> Fhir<'static> {
    Fhir::new(t, Interaction::Search)
}

#[track_caller]
fn forbidden(r: Result<Authorized, Rejection>, scope: Option<&str>) {
    let r = r.expect_err("expected a 403");
    assert_eq!(
        (r.status, r.error, r.code),
        (
            403,
            Some("insufficient_scope"),
            "ERR_GUARD_INSUFFICIENT_SCOPE"
        ),
        "{r:?}"
    );
    match scope {
        Some(s) => assert!(
            r.www_authenticate.contains(&format!("scope=\"{s}\"")),
            "{}",
            r.www_authenticate
        ),
        None => assert!(
            !r.www_authenticate.contains("scope="),
            "{}",
            r.www_authenticate
        ),
    }
}

#[test]
fn a_granted_interaction_passes_and_returns_the_parsed_scopes() {
    let t = token(json!({"scope": "launch/patient patient/Observation.rs made-up/scope"}));
    let ok = check(&t, search(ResourceType::Observation)).unwrap();
    assert_eq!(
        ok.scopes.len(),
        3,
        "an unknown scope is kept, opaque (it grants nothing)"
    );
    // The FHIR server asks again for the constraint to apply: the patient compartment.
    let grant = guard()
        .authorize(&ok, &search(ResourceType::Observation))
        .unwrap();
    assert!(!grant.is_unrestricted());
    assert!(
        grant
            .constraints()
            .iter()
            .all(|c| c.patient_compartment().is_some())
    );
}

#[test]
fn a_missing_permission_names_a_scope_that_would_grant_it() {
    let t = token(json!({"scope": "patient/Observation.rs"}));
    forbidden(
        check(
            &t,
            Fhir::new(ResourceType::Observation, Interaction::Create),
        ),
        Some("patient/Observation.c"),
    );
    forbidden(
        check(&t, search(ResourceType::Condition)),
        Some("patient/Condition.s"),
    );
    // Without a patient in context the user/ form is named.
    let t = token(json!({"scope": "user/Observation.rs", "patient": null}));
    forbidden(
        check(&t, search(ResourceType::Condition)),
        Some("user/Condition.s"),
    );
    check(&t, search(ResourceType::Observation)).unwrap();
}

#[test]
fn patient_scopes_need_a_patient_in_context() {
    let t = token(json!({"scope": "patient/Observation.rs", "patient": null}));
    forbidden(check(&t, search(ResourceType::Observation)), None);
    // A user/ scope beside it grants without one.
    let t = token(json!({"scope": "patient/Observation.rs user/Observation.rs", "patient": null}));
    let ok = check(&t, search(ResourceType::Observation)).unwrap();
    assert!(
        guard()
            .authorize(&ok, &search(ResourceType::Observation))
            .unwrap()
            .is_unrestricted()
    );
}

#[test]
fn no_scope_claim_grants_nothing() {
    let t = token(json!({"scope": null}));
    forbidden(
        check(&t, Fhir::new(ResourceType::Patient, Interaction::Read)),
        Some("patient/Patient.r"),
    );
    // Without `fhir` the guard only authenticates.
    let auth = format!("Bearer {t}");
    let req = Request::new("GET", URL, NOW).authorization(&auth);
    guard()
        .check(&req, &RustCrypto, &MemoryReplayCache::new())
        .unwrap();
}

#[test]
fn a_bad_proof_is_a_401_whatever_the_scopes() {
    let key = DpopKey::from_bytes(&[9; 32]).unwrap();
    let other = DpopKey::from_bytes(&[10; 32]).unwrap();
    let t = token(json!({"scope": "patient/Condition.rs", "cnf": {"jkt": key.thumbprint()}}));
    let proof = other
        .proof("GET", URL, Some(&t), None, NOW, &mut TestRng(3))
        .unwrap();
    let auth = format!("DPoP {t}");
    let req = Request::new("GET", URL, NOW)
        .authorization(&auth)
        .dpop(&proof)
        .fhir(search(ResourceType::Observation));
    let r = guard()
        .check(&req, &RustCrypto, &MemoryReplayCache::new())
        .unwrap_err();
    assert_eq!((r.status, r.code), (401, "ERR_DPOP_JKT_MISMATCH"), "{r:?}");
    // With the right key the same request is a 403, and the proof is not spent.
    let proof = key
        .proof("GET", URL, Some(&t), None, NOW, &mut TestRng(4))
        .unwrap();
    let cache = MemoryReplayCache::new();
    let req = Request::new("GET", URL, NOW)
        .authorization(&auth)
        .dpop(&proof);
    forbidden(
        guard().check(
            &req.fhir(search(ResourceType::Observation)),
            &RustCrypto,
            &cache,
        ),
        Some("patient/Observation.s"),
    );
    assert!(cache.is_empty());
    guard()
        .check(
            &req.fhir(search(ResourceType::Condition)),
            &RustCrypto,
            &cache,
        )
        .unwrap();
}
