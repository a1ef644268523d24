//! The built-in data set: determinism, shape, validity, referential integrity.

use alloc::collections::{BTreeMap, BTreeSet};

use mock_ehr::fhir::data::{self, ALL_PATIENTS_GROUP, GENERATED_AT, PATIENT_COUNT};
use mock_ehr::fhir::validate_resource;
use mock_ehr::fhir::{Store, parse_local_reference, valid_id};
use serde_json::Value;

/// FNV-1a, 64 bit: a stable digest of the serialized data set (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn counts(resources: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in resources {
        *counts
            .entry(r["resourceType"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

#[test]
fn two_generations_are_byte_identical() {
    let a = serde_json::to_string(&data::generate()).unwrap();
    let b = serde_json::to_string(&data::generate()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn two_builtin_stores_are_equal() {
    assert_eq!(Store::builtin(), Store::builtin());
}

/// A snapshot: changing the generator changes this digest. Update it knowingly, and
/// the data summary in the README with it.
#[test]
fn snapshot_digest_and_size() {
    let text = serde_json::to_string(&data::generate()).unwrap();
    assert_eq!(text.len(), EXPECTED_LEN, "serialized size changed");
    assert_eq!(fnv1a(text.as_bytes()), EXPECTED_DIGEST, "content changed");
}
const EXPECTED_LEN: usize = 295_126;
const EXPECTED_DIGEST: u64 = 0xff6d_b876_3f16_adcb;

#[test]
fn snapshot_counts_per_type() {
    let got = counts(&data::generate());
    let want: BTreeMap<String, usize> = [
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
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn per_patient_counts_follow_the_documented_rules() {
    let all = data::generate();
    for n in 1..=PATIENT_COUNT {
        let pat = format!("Patient/pat-{n:03}");
        let of = |ty: &str, field: &str| {
            all.iter()
                .filter(|r| r["resourceType"] == ty && r[field]["reference"] == pat.as_str())
                .count()
        };
        let encounters = 1 + n % 3;
        assert_eq!(of("Encounter", "subject"), encounters, "{pat}");
        assert_eq!(of("Observation", "subject"), 4 * encounters + 3, "{pat}");
        assert_eq!(of("Condition", "subject"), 1 + n % 2, "{pat}");
        assert_eq!(of("MedicationRequest", "subject"), 1 + n % 2, "{pat}");
        assert_eq!(
            of("AllergyIntolerance", "patient"),
            usize::from(n % 2 == 0),
            "{pat}"
        );
        let imms = 1 + usize::from(n % 3 == 0) + usize::from(n % 4 == 0);
        assert_eq!(of("Immunization", "patient"), imms, "{pat}");
    }
}

#[test]
fn ids_are_valid_unique_and_patients_numbered() {
    let all = data::generate();
    let mut seen = BTreeSet::new();
    for r in &all {
        let key = format!(
            "{}/{}",
            r["resourceType"].as_str().unwrap(),
            r["id"].as_str().unwrap()
        );
        assert!(valid_id(r["id"].as_str().unwrap()), "{key}");
        assert!(seen.insert(key.clone()), "duplicate {key}");
    }
    let patients: Vec<&str> = all
        .iter()
        .filter(|r| r["resourceType"] == "Patient")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (1..=PATIENT_COUNT).map(|n| format!("pat-{n:03}")).collect();
    assert_eq!(patients, want);
}

#[test]
fn every_resource_passes_write_validation() {
    for r in data::generate() {
        let ty = r["resourceType"].as_str().unwrap();
        validate_resource(ty, &r).unwrap_or_else(|e| panic!("{ty}/{}: {e}", r["id"]));
    }
}

#[test]
fn every_reference_resolves_to_a_generated_resource() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(o) => {
                for (k, child) in o {
                    match (k.as_str(), child) {
                        ("reference", Value::String(s)) => out.push(s),
                        _ => refs(child, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
            _ => {}
        }
    }
    let all = data::generate();
    let keys: BTreeSet<String> = all
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            )
        })
        .collect();
    let mut found = Vec::new();
    for r in &all {
        refs(r, &mut found);
    }
    assert!(found.len() > 1000);
    for reference in found {
        assert!(parse_local_reference(reference).is_some(), "{reference}");
        assert!(keys.contains(reference), "dangling {reference}");
    }
}

#[test]
fn observations_carry_loinc_category_ucum_and_final_status() {
    const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
    let expected: BTreeMap<&str, (&str, &str)> = [
        ("8867-4", ("vital-signs", "/min")),
        ("8480-6", ("vital-signs", "mm[Hg]")),
        ("29463-7", ("vital-signs", "kg")),
        ("8302-2", ("vital-signs", "cm")),
        ("2339-0", ("laboratory", "mg/dL")),
        ("718-7", ("laboratory", "g/dL")),
        ("2160-0", ("laboratory", "mg/dL")),
    ]
    .into_iter()
    .collect();
    let mut seen = BTreeSet::new();
    for obs in data::generate()
        .iter()
        .filter(|r| r["resourceType"] == "Observation")
    {
        let coding = &obs["code"]["coding"][0];
        assert_eq!(coding["system"], "http://loinc.org");
        let code = coding["code"].as_str().unwrap();
        let (category, unit) = expected[code];
        assert_eq!(obs["category"][0]["coding"][0]["system"], CATEGORY);
        assert_eq!(obs["category"][0]["coding"][0]["code"], category);
        assert_eq!(obs["valueQuantity"]["system"], "http://unitsofmeasure.org");
        assert_eq!(obs["valueQuantity"]["code"], unit);
        assert!(obs["valueQuantity"]["value"].is_number());
        assert_eq!(obs["status"], "final");
        assert!(obs["effectiveDateTime"].is_string());
        assert!(
            obs["encounter"]["reference"]
                .as_str()
                .unwrap()
                .starts_with("Encounter/enc-")
        );
        seen.insert(code.to_string());
    }
    assert_eq!(seen.len(), expected.len());
}

#[test]
fn laboratory_results_have_a_practitioner_performer_and_height_has_none() {
    for obs in data::generate()
        .iter()
        .filter(|r| r["resourceType"] == "Observation")
    {
        let id = obs["id"].as_str().unwrap();
        let performer = obs["performer"][0]["reference"].as_str();
        if id.ends_with("-ht") {
            assert!(obs.get("performer").is_none(), "{id}");
        } else if ["-glu", "-hgb", "-cre"].iter().any(|s| id.ends_with(s)) {
            assert_eq!(performer, Some("Practitioner/prac-003"), "{id}");
        } else {
            assert!(
                matches!(
                    performer,
                    Some("Practitioner/prac-001" | "Practitioner/prac-002")
                ),
                "{id}"
            );
        }
    }
}

#[test]
fn code_systems_of_the_other_clinical_resources() {
    let all = data::generate();
    let system = |r: &Value, field: &str| {
        r[field]["coding"][0]["system"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for r in &all {
        match r["resourceType"].as_str().unwrap() {
            "Condition" | "AllergyIntolerance" => {
                assert_eq!(system(r, "code"), "http://snomed.info/sct")
            }
            "MedicationRequest" => assert_eq!(
                system(r, "medicationCodeableConcept"),
                "http://www.nlm.nih.gov/research/umls/rxnorm"
            ),
            "Immunization" => assert_eq!(system(r, "vaccineCode"), "http://hl7.org/fhir/sid/cvx"),
            _ => {}
        }
    }
}

#[test]
fn group_lists_every_patient_and_is_actual() {
    let all = data::generate();
    let group = all.iter().find(|r| r["resourceType"] == "Group").unwrap();
    assert_eq!(group["id"], ALL_PATIENTS_GROUP);
    assert_eq!(group["actual"], true);
    assert_eq!(group["type"], "person");
    let members: Vec<&str> = group["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["entity"]["reference"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (1..=PATIENT_COUNT)
        .map(|n| format!("Patient/pat-{n:03}"))
        .collect();
    assert_eq!(members, want);
    assert_eq!(group["quantity"], PATIENT_COUNT);
}

#[test]
fn builtin_store_stamps_version_1_at_the_fixed_time() {
    let store = Store::builtin();
    assert_eq!(GENERATED_AT, 1_717_200_000);
    let v = store.read("Patient", "pat-003").unwrap();
    assert_eq!(v.version_id, 1);
    assert_eq!(v.last_updated, GENERATED_AT);
    let r = v.resource.as_ref().unwrap();
    assert_eq!(r["meta"]["versionId"], "1");
    assert_eq!(r["meta"]["lastUpdated"], "2024-06-01T00:00:00Z");
    assert_eq!(r["name"][0]["family"], "Okonkwo");
    let total: usize = store.resource_types().iter().map(|t| store.count(t)).sum();
    assert_eq!(total, data::generate().len());
}
