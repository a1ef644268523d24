//! `ScopeSet::narrow`: a server granting less than it is asked.

use smartgate_core::scope::{Narrowed, ScopeSet};

fn narrow(requested: &str, allowed: &str) -> (String, String, String) {
    let requested = ScopeSet::parse(requested).unwrap();
    let allowed = ScopeSet::parse(allowed).unwrap();
    let Narrowed {
        granted,
        narrowed,
        dropped,
    } = requested.narrow(&allowed);
    // What is granted always renders to a string that parses back to it.
    assert_eq!(ScopeSet::parse(&granted.to_string()).unwrap(), granted);
    let join = |v: Vec<smartgate_core::scope::Scope>| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    (granted.to_string(), join(narrowed), join(dropped))
}

/// The "Wildcard scopes" table: `patient/AllergyIntolerance.cruds` requested.
#[test]
fn smart_wildcard_scopes_allergy_example() {
    let req = "patient/AllergyIntolerance.cruds";
    let all = |g: &str| (g.to_string(), String::new(), String::new());
    let part = |g: &str| (g.to_string(), req.to_string(), String::new());
    assert_eq!(narrow(req, "patient/AllergyIntolerance.cruds"), all(req));
    assert_eq!(
        narrow(
            req,
            "patient/AllergyIntolerance.rs patient/AllergyIntolerance.cud"
        ),
        all(req)
    );
    assert_eq!(
        narrow(req, "patient/AllergyIntolerance.rs"),
        part("patient/AllergyIntolerance.rs")
    );
    assert_eq!(
        narrow(req, "patient/AllergyIntolerance.cud"),
        part("patient/AllergyIntolerance.cud")
    );
    assert_eq!(
        narrow(req, "patient/*.rs"),
        part("patient/AllergyIntolerance.rs")
    );
    assert_eq!(narrow(req, "patient/*.cruds"), all(req));
    assert_eq!(
        narrow(req, "patient/Observation.rs"),
        (String::new(), String::new(), req.to_string())
    );
    assert_eq!(
        narrow(req, ""),
        (String::new(), String::new(), req.to_string())
    );
}

#[test]
fn wildcard_request_split_into_allowed_types() {
    assert_eq!(
        narrow(
            "patient/*.cruds",
            "patient/Observation.rs patient/Condition.r patient/Observation.r"
        ),
        (
            "patient/Observation.rs patient/Condition.r".into(),
            "patient/*.cruds".into(),
            String::new()
        )
    );
}

#[test]
fn non_clinical_scopes_need_an_exact_match() {
    assert_eq!(
        narrow(
            "openid fhirUser launch/patient offline_access __x patient/*.read",
            "openid launch/patient online_access patient/Observation.read"
        ),
        (
            "openid launch/patient patient/Observation.read".into(),
            "patient/*.read".into(),
            "fhirUser offline_access __x".into()
        )
    );
}

#[test]
fn v1_parts_stay_v1_when_they_can() {
    assert_eq!(
        narrow("patient/*.read", "patient/Observation.rs").0,
        "patient/Observation.read"
    );
    assert_eq!(
        narrow("patient/*.read", "patient/Observation.r").0,
        "patient/Observation.r"
    );
    assert_eq!(narrow("user/*.*", "user/*.cud").0, "user/*.write");
    assert_eq!(narrow("user/*.*", "user/*.*").0, "user/*.*");
}

#[test]
fn queries_combine() {
    // An allowed query narrows the request...
    assert_eq!(
        narrow("user/Observation.rs", "user/Observation.rs?category=lab"),
        (
            "user/Observation.rs?category=lab".into(),
            "user/Observation.rs".into(),
            String::new()
        )
    );
    // ...a requested query already inside the allowance is granted as asked...
    assert_eq!(
        narrow(
            "patient/Observation.rs?category=lab",
            "patient/Observation.rs"
        )
        .0,
        "patient/Observation.rs?category=lab"
    );
    assert_eq!(
        narrow(
            "user/Observation.rs?category=lab&code=x",
            "user/*.rs?category=lab"
        )
        .1,
        ""
    );
    // ...and both queries apply when neither contains the other.
    assert_eq!(
        narrow("user/Observation.rs?code=x", "user/*.r?category=lab").0,
        "user/Observation.r?code=x&category=lab"
    );
}

#[test]
fn contexts_never_mix() {
    assert_eq!(
        narrow("patient/Observation.rs", "user/*.cruds system/*.cruds").2,
        "patient/Observation.rs"
    );
    assert_eq!(
        narrow("user/Observation.rs", "patient/*.cruds").2,
        "user/Observation.rs"
    );
}

#[test]
fn parts_that_would_break_the_limits_are_not_granted() {
    // Two queries of 12 parameters each would make a part with 24 (more than 16).
    let q = |p: &str| {
        (0..12)
            .map(|i| format!("{p}{i}=v"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let requested = format!("user/Observation.rs?{}", q("a"));
    let allowed = format!("user/*.r?{}", q("b"));
    let (granted, narrowed, dropped) = narrow(&requested, &allowed);
    assert_eq!((granted.as_str(), narrowed.as_str()), ("", ""));
    assert_eq!(dropped, requested);
}
