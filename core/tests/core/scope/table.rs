//! The decision table: (scopes, request, expected decision), from the examples of SMART
//! App Launch 2.x "Scopes and Launch Context", Bulk Data Access "Authorization", the R4
//! Patient CompartmentDefinition, and edge cases. `describe` (in `../scope.rs`) gives the
//! notation of the last column.

use smartgate_core::scope::eval::MAX_COMBINED_ALTERNATIVES;
use smartgate_core::scope::{Context, Interaction, Request, ResourceType, ScopeSet};

use Interaction::*;
use ResourceType::*;

const P: Option<Context> = Some(Context::Patient);
const U: Option<Context> = Some(Context::User);
const S: Option<Context> = Some(Context::System);
const N: Option<Context> = None;

const LAB: &str = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
const VITALS: &str = "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs";

type Row = (
    &'static str,
    Option<Context>,
    ResourceType,
    Interaction,
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // --- Quick Start table ---
    // `patient/*.rs`: "read and search any resource for the current patient".
    ("patient/*.rs", P, Observation, Read, &[], "check compartment(subject,performer)"),
    ("patient/*.rs", P, Condition, Search, &[], "filter compartment(patient,asserter)"),
    ("patient/*.rs", P, Observation, Create, &[], "deny patient/Observation.c"),
    // `user/*.cruds`: "read and write all resources that the current user can access".
    ("user/*.cruds", U, Appointment, Delete, &[], "allow"),
    ("user/*.cruds", N, Observation, Create, &[], "allow"),
    // `openid fhirUser`, `launch`, `launch/patient`: identity and context, no FHIR access.
    ("openid fhirUser launch launch/patient offline_access", N, Patient, Read, &[],
        "deny patient/Patient.r user/Patient.r system/Patient.r"),

    // --- Patient-specific scopes ---
    ("patient/Observation.rs", P, Observation, Search, &[], "filter compartment(subject,performer)"),
    ("patient/Observation.rs", P, Observation, Vread, &[], "check compartment(subject,performer)"),
    ("patient/Observation.rs", P, Observation, History, &[], "check compartment(subject,performer)"),
    ("patient/Observation.rs", P, Observation, HistoryType, &[], "check compartment(subject,performer)"),
    ("patient/Observation.rs", P, Observation, Update, &[], "deny patient/Observation.u"),
    // "Read demographics about a patient": `patient/Patient.r`; the patient by id, or by link.
    ("patient/Patient.r", P, Patient, Read, &[], "check compartment(_id,link)"),
    ("patient/Patient.r", P, Patient, Search, &[], "deny patient/Patient.s"),
    // "Add new blood pressure readings": `patient/Observation.c`; "write access does not
    // imply read access".
    ("patient/Observation.c", P, Observation, Create, &[], "check compartment(subject,performer)"),
    ("patient/Observation.c", P, Observation, Read, &[], "deny patient/Observation.r"),
    ("patient/*.cruds", P, Condition, Delete, &[], "check compartment(patient,asserter)"),
    ("patient/*.cruds", P, MedicationRequest, Patch, &[], "check compartment(subject)"),

    // --- Compartment types with several links, and the R4 table ---
    ("patient/*.rs", P, AllergyIntolerance, Search, &[], "filter compartment(patient,recorder,asserter)"),
    ("patient/*.rs", P, Encounter, Search, &[], "filter compartment(patient)"),
    ("patient/*.rs", P, Immunization, Read, &[], "check compartment(patient)"),
    ("patient/*.rs", P, CommunicationRequest, Search, &[], "filter compartment(subject,sender,recipient,requester)"),
    ("patient/*.rs", P, Coverage, Search, &[], "filter compartment(policy-holder,subscriber,beneficiary,payor)"),
    ("patient/*.rs", P, Group, Search, &[], "filter compartment(member)"),

    // --- Resources outside the Patient compartment ---
    ("patient/*.rs", P, Practitioner, Read, &[], "deny"),
    ("patient/*.cruds", P, Organization, Read, &[], "deny"),
    ("patient/Medication.rs", P, Medication, Read, &[], "deny"),
    ("patient/*.rs", N, Practitioner, Read, &[], "deny user/Practitioner.r system/Practitioner.r"),
    ("patient/*.rs user/Practitioner.r", N, Practitioner, Read, &[], "allow"),
    ("patient/*.rs user/Practitioner.r", P, Practitioner, Read, &[], "deny"),

    // --- User-level scopes ---
    // "Read a feed of all new lab observations across a patient population".
    ("user/Observation.rs", U, Observation, Search, &[], "allow"),
    ("user/Appointment.cruds", U, Appointment, Patch, &[], "allow"),
    // "Select a patient".
    ("user/Patient.rs", U, Patient, Search, &[], "allow"),

    // --- System-level scopes ---
    ("system/Observation.rs", S, Observation, Search, &[], "allow"),
    ("system/Observation.rs", S, Observation, Create, &[], "deny system/Observation.c"),
    // "System-level bridge, turning a V2 ADT feed into FHIR Encounter resources".
    ("system/Encounter.cud", S, Encounter, Update, &[], "allow"),
    ("system/Encounter.cud", S, Encounter, Read, &[], "deny system/Encounter.r"),

    // --- Contexts never substitute for one another ---
    ("patient/Observation.rs", U, Observation, Read, &[], "deny user/Observation.r"),
    ("patient/*.cruds", S, Observation, Read, &[], "deny system/Observation.r"),
    ("user/Observation.rs", P, Observation, Search, &[], "deny patient/Observation.s"),
    ("system/*.cruds", U, Observation, Read, &[], "deny user/Observation.r"),
    // Without context, the least restrictive covering scope wins.
    ("patient/Observation.rs user/Observation.rs", N, Observation, Read, &[], "allow"),
    ("user/Observation.rs patient/Observation.rs", N, Observation, Search, &[], "allow"),
    ("patient/Observation.rs system/Observation.rs", P, Observation, Read, &[], "check compartment(subject,performer)"),
    ("patient/Observation.rs system/Observation.rs", N, Observation, Read, &[], "allow"),

    // --- Wildcard scopes: the AllergyIntolerance example ---
    ("patient/AllergyIntolerance.rs patient/AllergyIntolerance.cud", P, AllergyIntolerance, Update, &[],
        "check compartment(patient,recorder,asserter)"),
    ("patient/AllergyIntolerance.cud", P, AllergyIntolerance, Read, &[], "deny patient/AllergyIntolerance.r"),
    ("patient/Observation.rs", P, AllergyIntolerance, Read, &[], "deny patient/AllergyIntolerance.r"),
    ("", N, AllergyIntolerance, Read, &[],
        "deny patient/AllergyIntolerance.r user/AllergyIntolerance.r system/AllergyIntolerance.r"),

    // --- v1 scopes and v1/v2 mixtures (`read` = `rs`, `write` = `cud`, `*` = `cruds`) ---
    ("patient/Observation.read", P, Observation, Search, &[], "filter compartment(subject,performer)"),
    ("patient/Observation.read", P, Observation, Create, &[], "deny patient/Observation.c"),
    ("patient/Observation.write", P, Observation, Delete, &[], "check compartment(subject,performer)"),
    ("patient/Observation.write", P, Observation, Read, &[], "deny patient/Observation.r"),
    ("user/*.*", U, Observation, Delete, &[], "allow"),
    ("patient/Observation.read patient/Observation.cu", P, Observation, Update, &[], "check compartment(subject,performer)"),
    ("patient/Observation.read patient/Observation.cu", P, Observation, Delete, &[], "deny patient/Observation.d"),
    ("user/*.read user/Observation.c", U, Observation, Create, &[], "allow"),
    // Two spellings of one scope give one alternative, not none.
    ("patient/Observation.read patient/Observation.rs", P, Observation, Read, &[], "check compartment(subject,performer)"),
    ("user/Observation.rs?category=lab user/Observation.r?category=lab", U, Observation, Read, &[], "check query(category=lab)"),
    ("user/Observation.rs?category=lab&code=x user/Observation.rs?code=x&category=lab", U, Observation, Search, &[],
        "filter query(category=lab&code=x)"),
    // A scope holding both permissions makes combinations with it redundant.
    ("user/Observation.rs user/Observation.r?a=1 user/Observation.s?b=2", U, Observation, Export, &[], "allow"),
    ("user/Observation.rs?category=lab user/Observation.r?a=1 user/Observation.s?b=2", U, Observation, Export, &[],
        "filter query(category=lab) | query(a=1&b=2)"),
    // Scope Equivalence: `Observation.rs` is `Observation.r Observation.s`.
    ("patient/*.r patient/Observation.s", P, Observation, Search, &[], "filter compartment(subject,performer)"),
    ("patient/*.r patient/Observation.s", P, Condition, Search, &[], "deny patient/Condition.s"),
    // Instance history needs `r`, type history needs `s`.
    ("user/Observation.r", U, Observation, HistoryType, &[], "deny user/Observation.s"),
    ("user/Observation.s", U, Observation, History, &[], "deny user/Observation.r"),

    // --- $export (Bulk Data Access) ---
    // "Perform bulk data export across all available data": `system/*.rs`.
    ("system/*.rs", S, Patient, Export, &[], "allow"),
    ("system/*.read", S, Observation, Export, &[], "allow"),
    // "a client asks for Observation resources (_type=Observation) but has scopes that only
    // permit system/Patient.read. In this case a server SHOULD respond with a failure".
    ("system/Patient.read", S, Observation, Export, &[], "deny system/Observation.rs"),
    // The worked example's "system/*.read system/CommunicationRequest.write".
    ("system/*.read system/CommunicationRequest.write", S, CommunicationRequest, Create, &[], "allow"),
    ("system/*.read system/CommunicationRequest.write", S, Observation, Update, &[], "deny system/Observation.u"),
    ("patient/Observation.r", N, Observation, Export, &[],
        "deny patient/Observation.s user/Observation.s system/Observation.s"),
    ("system/Observation.r system/Observation.s", S, Observation, Export, &[], "allow"),
    ("patient/*.rs", P, Observation, Export, &[], "filter compartment(subject,performer)"),

    // --- Finer-grained resource constraints using search parameters ---
    // "read and search access to laboratory observations but not other observations".
    ("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        P, Observation, Search, &[],
        "filter compartment(subject,performer)+query(category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory)"),
    ("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        P, Observation, Search, &[("category", LAB)], "filter compartment(subject,performer)"),
    ("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        P, Observation, Search, &[("category", VITALS)],
        "filter compartment(subject,performer)+query(category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory)"),
    ("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        P, Observation, Read, &[],
        "check compartment(subject,performer)+query(category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory)"),
    ("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        P, Observation, Create, &[], "deny patient/Observation.c"),
    ("user/Observation.rs?category=lab", U, Observation, Search, &[("category", "lab")], "allow"),
    ("user/Observation.rs?category=lab", U, Observation, Search, &[("code", "x")], "filter query(category=lab)"),
    // A query-restricted scope never widens, nor narrows, an unrestricted one.
    ("user/Observation.rs?category=lab user/Observation.rs", U, Observation, Search, &[], "allow"),
    ("user/Observation.rs user/Observation.rs?category=lab", U, Observation, Read, &[], "allow"),
    ("patient/Observation.rs patient/Observation.rs?category=lab", P, Observation, Search, &[],
        "filter compartment(subject,performer)"),
    ("user/Observation.rs?category=lab&code=x", U, Observation, Search, &[("category", "lab")], "filter query(code=x)"),
    ("user/Observation.rs?category=lab user/Observation.rs?category=lab&code=x", U, Observation, Search, &[],
        "filter query(category=lab)"),
    ("user/Observation.rs?category=lab user/Observation.rs?category=vital-signs", U, Observation, Search, &[],
        "filter query(category=lab) | query(category=vital-signs)"),
    ("user/Observation.cu?category=lab", U, Observation, Create, &[], "check query(category=lab)"),
    ("user/Observation.rs?category=lab", U, Observation, HistoryType, &[("category", "lab")], "check query(category=lab)"),
    // Percent-decoding: the scope's value is compared decoded.
    ("user/Observation.rs?category=http%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fobservation-category%7Claboratory",
        U, Observation, Search, &[("category", LAB)], "allow"),
    // Experimental: modifiers are names like any other.
    ("user/Observation.rs?code:in=http://valueset.example.org/ValueSet/diabetes-codes", U, Observation, Search, &[],
        "filter query(code:in=http://valueset.example.org/ValueSet/diabetes-codes)"),
    // Two permissions from two query scopes: the constraints combine.
    ("user/Observation.r?category=lab user/Observation.s", U, Observation, Export, &[], "filter query(category=lab)"),
    ("user/Observation.r?category=lab user/Observation.s?code=x", U, Observation, Export, &[],
        "filter query(category=lab&code=x)"),
    // Without context: incomparable alternatives are both returned.
    ("patient/Observation.rs user/Observation.rs?category=lab", N, Observation, Search, &[],
        "filter compartment(subject,performer) | query(category=lab)"),
    ("patient/Observation.rs user/Observation.rs?category=lab", N, Observation, Search, &[("category", "lab")], "allow"),

    // --- Opaque and context scopes never grant FHIR access ---
    ("__profilePhoto.manage https://ehr.example.org/scopes/profilePhoto.manage launch/encounter", N, Encounter, Read, &[],
        "deny patient/Encounter.r user/Encounter.r system/Encounter.r"),
    ("launch/observation", U, Observation, Read, &[], "deny user/Observation.r"),
];

fn request(row: &Row) -> Request<'static> {
    let (_, context, resource_type, interaction, params, _) = *row;
    let r = Request::new(resource_type, interaction).with_params(params);
    match context {
        Some(c) => r.in_context(c),
        None => r,
    }
}

#[test]
fn table_has_at_least_60_rows() {
    assert!(ROWS.len() >= 60, "{}", ROWS.len());
}

#[test]
fn decision_table() {
    let mut failures = Vec::new();
    for row in ROWS {
        let set = ScopeSet::parse(row.0).unwrap();
        let req = request(row);
        let got = super::describe(&set.authorize(&req));
        if got != row.5 {
            failures.push(format!(
                "{:?} {:?}:\n   want {}\n    got {}",
                row.0, req, row.5, got
            ));
        }
        // permits is the yes/no of authorize.
        assert_eq!(set.permits(&req), !row.5.starts_with("deny"), "{row:?}");
        // The lenient parser, the v2 rendering and a re-parse decide the same.
        assert_eq!(ScopeSet::parse_lenient(row.0).unwrap().scopes, set);
        let v2 = ScopeSet::parse(&set.to_v2()).unwrap();
        assert_eq!(
            super::describe(&v2.authorize(&req)),
            row.5,
            "to_v2 of {:?}",
            row.0
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}

#[test]
fn denial_message_names_the_missing_scope() {
    let set = ScopeSet::parse("patient/Observation.rs").unwrap();
    let req = Request::new(Observation, Create).in_context(Context::Patient);
    let denied = set.authorize(&req).unwrap_err();
    assert_eq!(denied.missing().to_string(), "c");
    assert_eq!(
        denied.to_string(),
        "no granted scope permits create on Observation in patient context; it needs patient/Observation.c"
    );
    let outside = set
        .authorize(&Request::new(Practitioner, Read).in_context(Context::Patient))
        .unwrap_err();
    assert!(outside.outside_patient_compartment());
    assert_eq!(
        outside.to_string(),
        "no granted scope permits read on Practitioner in patient context; Practitioner is not in the patient compartment"
    );
    let any = set.authorize(&Request::new(Condition, Search)).unwrap_err();
    assert_eq!(
        any.to_string(),
        "no granted scope permits search on Condition; it needs one of patient/Condition.s, user/Condition.s, system/Condition.s"
    );
}

#[test]
fn interaction_names_round_trip() {
    for i in Interaction::ALL {
        assert_eq!(Interaction::parse(i.as_str()).unwrap(), i);
    }
    assert_eq!(Export.required().to_string(), "rs");
    assert_eq!(Patch.required().to_string(), "u");
}

/// `count` distinct scopes of `prefix` (`user/Observation.rs`, ...) with 16 query
/// parameters each, as many as fit the 16 KiB cap of a scope string.
fn maximal_query_scopes(prefixes: &[&str]) -> String {
    let mut scopes: Vec<String> = Vec::new();
    for i in 0.. {
        let prefix = prefixes[i % prefixes.len()];
        let params: Vec<String> = (0..16).map(|p| format!("{p:x}={i:x}")).collect();
        let scope = format!("{prefix}?{}", params.join("&"));
        if scopes.iter().map(|s| s.len() + 1).sum::<usize>() + scope.len() > 16 * 1024 {
            break;
        }
        scopes.push(scope);
    }
    scopes.join(" ")
}

/// Found by the `scope` fuzz target: `$export` needs `r` and `s`, and combining every
/// scope's constraint for one with every scope's for the other built 47,089 alternatives
/// (50 MB, 60 ms) for a 16 KiB scope string. A scope holding both is one alternative.
#[test]
fn export_under_a_maximal_scope_string_has_one_alternative_per_scope() {
    let text = maximal_query_scopes(&["user/Observation.rs"]);
    let set = ScopeSet::parse(&text).unwrap();
    assert!(set.len() > 150, "{}", set.len());
    let grant = set
        .authorize(&Request::new(Observation, Export).in_context(Context::User))
        .unwrap();
    assert_eq!(grant.constraints().len(), set.len());
    assert!(grant.constraints().iter().all(|c| c.query().len() == 16));
}

/// Scopes holding only `r` or only `s` must be combined pairwise; past
/// `MAX_COMBINED_ALTERNATIVES` the rest are left out, and every alternative kept is a
/// real combination (never wider than an `r` scope and an `s` scope together).
#[test]
fn export_combinations_of_partial_scopes_are_capped_and_never_widen() {
    let text = maximal_query_scopes(&["user/Observation.r", "user/Observation.s"]);
    let set = ScopeSet::parse(&text).unwrap();
    let queries = |suffix: &str| -> Vec<Vec<(String, String)>> {
        set.iter()
            .filter(|s| {
                s.to_string()
                    .starts_with(&format!("user/Observation.{suffix}?"))
            })
            .map(|s| {
                let text = s.to_string();
                let query = text.split_once('?').unwrap().1.to_string();
                query
                    .split('&')
                    .map(|p| {
                        let (n, v) = p.split_once('=').unwrap();
                        (n.to_string(), v.to_string())
                    })
                    .collect()
            })
            .collect()
    };
    let (reads, searches) = (queries("r"), queries("s"));
    assert!(reads.len() * searches.len() > MAX_COMBINED_ALTERNATIVES);
    let grant = set
        .authorize(&Request::new(Observation, Export).in_context(Context::User))
        .unwrap();
    assert_eq!(grant.constraints().len(), MAX_COMBINED_ALTERNATIVES);
    let within = |c: &smartgate_core::scope::Constraint<'_>, scope: &Vec<(String, String)>| {
        scope
            .iter()
            .all(|(n, v)| c.query().contains(&(n.as_str(), v.as_str())))
    };
    for c in grant.constraints() {
        assert!(reads.iter().any(|r| within(c, r)), "{c:?}");
        assert!(searches.iter().any(|s| within(c, s)), "{c:?}");
    }
}
