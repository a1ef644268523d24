//! The built-in synthetic data set, generated in code from a fixed seed: the same
//! resources, ids and bytes on every call, on every machine. All people and numbers
//! are invented.
//!
//! Shape (patient `n` = 1..=[`PATIENT_COUNT`], `NNN` its three-digit number):
//! - `Organization/org-001`, `Practitioner/prac-001`..`prac-004` (two family doctors,
//!   a laboratory physician, a nurse), `Group/all-patients` (`actual` = true, every
//!   patient a member).
//! - `Patient/pat-NNN`: MRN identifier, official name, gender, birth date,
//!   `generalPractitioner` prac-001 (odd `n`) or prac-002 (even `n`).
//! - `Encounter/enc-NNN-j`, j = 1..=1 + n % 3: finished ambulatory check-ups.
//! - `Observation/obs-NNN-j-{hr,sbp,wt,ht}` at every encounter (vital signs: LOINC
//!   8867-4, 8480-6, 29463-7, 8302-2; `performer` the family doctor, except height,
//!   which has none) and `obs-NNN-1-{glu,hgb,cre}` at the first (laboratory: LOINC
//!   2339-0, 718-7, 2160-0; `performer` prac-003).
//! - `Condition/cond-NNN-j`, j = 1..=1 + n % 2 (SNOMED CT), each with a
//!   `MedicationRequest/medreq-NNN-j` (RxNorm) that treats it.
//! - `AllergyIntolerance/allergy-NNN-1` for even `n` only (SNOMED CT).
//! - `Immunization/imm-NNN-flu` for everyone, `imm-NNN-covid` when 3 divides `n`,
//!   `imm-NNN-tdap` when 4 divides `n` (CVX).

use serde_json::{Value, json};

use crate::fhir::date::{civil_from_days, days_from_civil};

/// How many patients the data set has.
pub const PATIENT_COUNT: usize = 24;
/// The seed of the generator.
pub const SEED: u64 = 0x5EED_F41E_2024_0601;
/// `meta.lastUpdated` of every built-in resource: 2024-06-01T00:00:00Z, in seconds
/// since the Unix epoch.
pub const GENERATED_AT: i64 = 1_717_200_000;
/// The id of the Group that lists every patient.
pub const ALL_PATIENTS_GROUP: &str = "all-patients";

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const CVX: &str = "http://hl7.org/fhir/sid/cvx";
const UCUM: &str = "http://unitsofmeasure.org";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const MRN_SYSTEM: &str = "https://smartgate.example/fhir/sid/mrn";
const STAFF_SYSTEM: &str = "https://smartgate.example/fhir/sid/staff";

/// The splitmix64 generator: small, fast and fully determined by its seed (test data,
/// not cryptography).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo + 1).unwrap_or(1).max(1);
        lo + i64::try_from(self.next() % span).unwrap_or(0)
    }

    fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let i = self.range(0, items.len() as i64 - 1);
        items
            .get(usize::try_from(i).unwrap_or(0))
            .copied()
            .unwrap_or_default()
    }
}

const FAMILY: &[&str] = &[
    "Abara",
    "Bergstrom",
    "Castellanos",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Gallagher",
    "Haddad",
    "Ito",
    "Jankowski",
    "Kowalczyk",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okonkwo",
    "Petrov",
    "Quintero",
    "Rasmussen",
    "Santos",
    "Tanaka",
    "Ueda",
    "Valdez",
    "Whitfield",
    "Xu",
    "Yilmaz",
    "Zielinski",
];
const GIVEN_FEMALE: &[&str] = &[
    "Amara", "Beatriz", "Chloe", "Daria", "Elena", "Fatima", "Grace", "Hana", "Ingrid", "Julia",
    "Keiko", "Lucia", "Maya", "Nadia", "Olivia", "Priya",
];
const GIVEN_MALE: &[&str] = &[
    "Adrian", "Bruno", "Carlos", "Dmitri", "Emil", "Felix", "Gabriel", "Hugo", "Ivan", "Jonas",
    "Kenji", "Lars", "Mateo", "Noah", "Omar", "Pavel",
];

/// (LOINC code, display, id suffix, UCUM code, unit text).
type VitalSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);
const HEART_RATE: VitalSpec = ("8867-4", "Heart rate", "hr", "/min", "beats/minute");
const SYSTOLIC: VitalSpec = ("8480-6", "Systolic blood pressure", "sbp", "mm[Hg]", "mmHg");
const WEIGHT: VitalSpec = ("29463-7", "Body weight", "wt", "kg", "kg");
const HEIGHT: VitalSpec = ("8302-2", "Body height", "ht", "cm", "cm");
const GLUCOSE: VitalSpec = (
    "2339-0",
    "Glucose [Mass/volume] in Blood",
    "glu",
    "mg/dL",
    "mg/dL",
);
const HEMOGLOBIN: VitalSpec = (
    "718-7",
    "Hemoglobin [Mass/volume] in Blood",
    "hgb",
    "g/dL",
    "g/dL",
);
const CREATININE: VitalSpec = (
    "2160-0",
    "Creatinine [Mass/volume] in Serum or Plasma",
    "cre",
    "mg/dL",
    "mg/dL",
);

/// (SNOMED code, display, RxNorm code, drug display, dosage text).
type Problem = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);
const PROBLEMS: &[Problem] = &[
    (
        "44054006",
        "Diabetes mellitus type 2",
        "860975",
        "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
        "1 tablet by mouth once daily with the evening meal",
    ),
    (
        "38341003",
        "Hypertensive disorder, systemic arterial",
        "314076",
        "Lisinopril 10 MG Oral Tablet",
        "1 tablet by mouth once daily",
    ),
    (
        "55822004",
        "Hyperlipidemia",
        "259255",
        "Atorvastatin 80 MG Oral Tablet",
        "1 tablet by mouth once daily at bedtime",
    ),
    (
        "195967001",
        "Asthma",
        "895994",
        "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
        "2 puffs inhaled twice daily",
    ),
    (
        "35489007",
        "Depressive disorder",
        "312938",
        "Sertraline 100 MG Oral Tablet",
        "1 tablet by mouth once daily",
    ),
];

/// (SNOMED code, display, category).
const ALLERGIES: &[(&str, &str, &str)] = &[
    ("91936005", "Allergy to penicillin", "medication"),
    ("91935009", "Allergy to peanuts", "food"),
    ("300916003", "Latex allergy", "environment"),
    ("418689008", "Allergy to grass pollen", "environment"),
];

/// (key, CVX code, display).
const FLU: (&str, &str, &str) = (
    "flu",
    "140",
    "Influenza, seasonal, injectable, preservative free",
);
const COVID: (&str, &str, &str) = (
    "covid",
    "208",
    "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose",
);
const TDAP: (&str, &str, &str) = (
    "tdap",
    "115",
    "Tetanus toxoid, reduced diphtheria toxoid, and acellular pertussis vaccine, adsorbed",
);

/// (id, family, given, role).
const PRACTITIONERS: &[(&str, &str, &str, &str)] = &[
    ("prac-001", "Okafor", "Adaeze", "Family medicine"),
    ("prac-002", "Lindgren", "Tomas", "Family medicine"),
    ("prac-003", "Marchetti", "Giulia", "Laboratory medicine"),
    ("prac-004", "Osei", "Kwame", "Nursing"),
];

fn reference(ty: &str, id: &str) -> Value {
    json!({ "reference": format!("{ty}/{id}") })
}

fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code, "display": display }], "text": display })
}

fn date_string(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The whole data set, in a fixed order: Organization, Practitioners, then each
/// patient with its records, then the Group. No `meta`: the store adds it.
pub fn generate() -> Vec<Value> {
    let mut rng = Rng(SEED);
    let mut out = vec![organization()];
    out.extend(PRACTITIONERS.iter().map(|p| practitioner(*p)));

    // Distinct family names: a seeded shuffle of the list.
    let mut families: Vec<&str> = FAMILY.to_vec();
    for i in (1..families.len()).rev() {
        let j = usize::try_from(rng.range(0, i as i64)).unwrap_or(0);
        families.swap(i, j);
    }
    for n in 1..=PATIENT_COUNT {
        let family = families.get(n - 1).copied().unwrap_or("Doe");
        patient_records(&mut rng, n, family, &mut out);
    }
    out.push(group());
    out
}

fn organization() -> Value {
    json!({
        "resourceType": "Organization",
        "id": "org-001",
        "active": true,
        "identifier": [{ "system": STAFF_SYSTEM, "value": "ORG-001" }],
        "type": [concept(
            "http://terminology.hl7.org/CodeSystem/organization-type",
            "prov",
            "Healthcare Provider",
        )],
        "name": "Smartgate General Hospital",
        "telecom": [{ "system": "phone", "value": "555-0100", "use": "work" }],
        "address": [{ "line": ["1 Example Way"], "city": "Springfield", "postalCode": "00000", "country": "US" }],
    })
}

fn practitioner((id, family, given, role): (&str, &str, &str, &str)) -> Value {
    json!({
        "resourceType": "Practitioner",
        "id": id,
        "active": true,
        "identifier": [{ "system": STAFF_SYSTEM, "value": id.to_uppercase() }],
        "name": [{ "use": "official", "family": family, "given": [given] }],
        "qualification": [{ "code": { "text": role } }],
    })
}

fn group() -> Value {
    let members: Vec<Value> = (1..=PATIENT_COUNT)
        .map(|n| json!({ "entity": reference("Patient", &format!("pat-{n:03}")) }))
        .collect();
    json!({
        "resourceType": "Group",
        "id": ALL_PATIENTS_GROUP,
        "type": "person",
        "actual": true,
        "name": "All synthetic patients",
        "quantity": PATIENT_COUNT,
        "managingEntity": reference("Organization", "org-001"),
        "member": members,
    })
}

fn patient_records(rng: &mut Rng, n: usize, family: &str, out: &mut Vec<Value>) {
    let nnn = format!("{n:03}");
    let pat = format!("pat-{nnn}");
    let female = rng.range(0, 1) == 0;
    let given = rng.pick(if female { GIVEN_FEMALE } else { GIVEN_MALE });
    let birth = rng.range(days_from_civil(1940, 1, 1), days_from_civil(2004, 12, 31));
    let gp = if n % 2 == 1 { "prac-001" } else { "prac-002" };
    out.push(json!({
        "resourceType": "Patient",
        "id": pat,
        "active": true,
        "identifier": [{
            "use": "usual",
            "type": concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number"),
            "system": MRN_SYSTEM,
            "value": format!("MRN{}", 100_000 + n),
        }],
        "name": [{ "use": "official", "family": family, "given": [given] }],
        "telecom": [{ "system": "phone", "value": format!("555-01{:02}", n), "use": "home" }],
        "gender": if female { "female" } else { "male" },
        "birthDate": date_string(birth),
        "generalPractitioner": [reference("Practitioner", gp)],
        "managingOrganization": reference("Organization", "org-001"),
    }));

    // Per-patient baselines, so repeated vitals look like the same person.
    let height = rng.range(150, 195);
    let weight_tenths = rng.range(480, 1100);
    let mut day = days_from_civil(2023, 1, 9) + rng.range(0, 120);
    let encounters = 1 + n % 3;
    let mut first_start = String::new();
    for j in 1..=encounters {
        let minutes = rng.range(16, 32) * 30; // 08:00 to 16:00
        let start = format!(
            "{}T{:02}:{:02}:00Z",
            date_string(day),
            minutes / 60,
            minutes % 60
        );
        let end = format!(
            "{}T{:02}:{:02}:00Z",
            date_string(day),
            (minutes + 30) / 60,
            (minutes + 30) % 60
        );
        let enc = format!("enc-{nnn}-{j}");
        out.push(json!({
            "resourceType": "Encounter",
            "id": enc,
            "status": "finished",
            "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory" },
            "type": [concept(SNOMED, "185349003", "Encounter for check up (procedure)")],
            "subject": reference("Patient", &pat),
            "participant": [{ "individual": reference("Practitioner", gp) }],
            "period": { "start": start, "end": end },
            "serviceProvider": reference("Organization", "org-001"),
        }));
        let ctx = ObsContext {
            pat: &pat,
            enc: &enc,
            when: &start,
            nnn: &nnn,
            j,
        };
        out.push(ctx.observation(
            HEART_RATE,
            "vital-signs",
            Some(gp),
            json!(rng.range(55, 100)),
        ));
        out.push(ctx.observation(
            SYSTOLIC,
            "vital-signs",
            Some(gp),
            json!(rng.range(100, 160)),
        ));
        let weight = weight_tenths + rng.range(-20, 20);
        out.push(ctx.observation(WEIGHT, "vital-signs", Some(gp), tenths(weight)));
        out.push(ctx.observation(HEIGHT, "vital-signs", None, json!(height)));
        if j == 1 {
            out.push(ctx.observation(
                GLUCOSE,
                "laboratory",
                Some("prac-003"),
                json!(rng.range(70, 180)),
            ));
            out.push(ctx.observation(
                HEMOGLOBIN,
                "laboratory",
                Some("prac-003"),
                tenths(rng.range(110, 170)),
            ));
            out.push(ctx.observation(
                CREATININE,
                "laboratory",
                Some("prac-003"),
                tenths(rng.range(6, 14)),
            ));
            first_start = start;
        }
        day += rng.range(30, 120);
    }
    let first_day = first_start.get(..10).unwrap_or_default().to_string();
    let first_enc = format!("enc-{nnn}-1");

    let start = rng.range(0, PROBLEMS.len() as i64 - 1);
    for j in 1..=1 + n % 2 {
        let index = usize::try_from(start + j as i64 - 1).unwrap_or(0) % PROBLEMS.len();
        let Some(&(snomed, problem, rxnorm, drug, dosage)) = PROBLEMS.get(index) else {
            continue;
        };
        let onset = days_from_civil(2023, 1, 1) - rng.range(200, 3650);
        let cond = format!("cond-{nnn}-{j}");
        out.push(json!({
            "resourceType": "Condition",
            "id": cond,
            "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
            "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"),
            "category": [concept("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")],
            "code": concept(SNOMED, snomed, problem),
            "subject": reference("Patient", &pat),
            "encounter": reference("Encounter", &first_enc),
            "onsetDateTime": date_string(onset),
            "recordedDate": first_day,
            "asserter": reference("Practitioner", gp),
        }));
        out.push(json!({
            "resourceType": "MedicationRequest",
            "id": format!("medreq-{nnn}-{j}"),
            "status": if (n + j).is_multiple_of(5) { "stopped" } else { "active" },
            "intent": "order",
            "medicationCodeableConcept": concept(RXNORM, rxnorm, drug),
            "subject": reference("Patient", &pat),
            "encounter": reference("Encounter", &first_enc),
            "authoredOn": first_start,
            "requester": reference("Practitioner", gp),
            "reasonReference": [reference("Condition", &cond)],
            "dosageInstruction": [{ "text": dosage }],
        }));
    }

    if n.is_multiple_of(2) {
        let (code, display, category) = rng.pick(ALLERGIES);
        out.push(json!({
            "resourceType": "AllergyIntolerance",
            "id": format!("allergy-{nnn}-1"),
            "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"),
            "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"),
            "type": "allergy",
            "category": [category],
            "criticality": if rng.range(0, 2) == 0 { "high" } else { "low" },
            "code": concept(SNOMED, code, display),
            "patient": reference("Patient", &pat),
            "recordedDate": first_day,
            "recorder": reference("Practitioner", gp),
        }));
    }

    let mut vaccines = vec![FLU];
    if n.is_multiple_of(3) {
        vaccines.push(COVID);
    }
    if n.is_multiple_of(4) {
        vaccines.push(TDAP);
    }
    for (key, cvx, display) in vaccines {
        out.push(json!({
            "resourceType": "Immunization",
            "id": format!("imm-{nnn}-{key}"),
            "status": "completed",
            "vaccineCode": concept(CVX, cvx, display),
            "patient": reference("Patient", &pat),
            "encounter": reference("Encounter", &first_enc),
            "occurrenceDateTime": first_start,
            "primarySource": true,
            "lotNumber": format!("LOT-{:05}", rng.range(10_000, 99_999)),
            "performer": [{ "actor": reference("Practitioner", "prac-004") }],
        }));
    }
}

fn tenths(value: i64) -> Value {
    json!(value as f64 / 10.0)
}

struct ObsContext<'a> {
    pat: &'a str,
    enc: &'a str,
    when: &'a str,
    nnn: &'a str,
    j: usize,
}

impl ObsContext<'_> {
    fn observation(
        &self,
        spec: VitalSpec,
        category: &str,
        performer: Option<&str>,
        value: Value,
    ) -> Value {
        let (loinc, display, key, ucum, unit) = spec;
        let category_display = if category == "laboratory" {
            "Laboratory"
        } else {
            "Vital Signs"
        };
        let mut obs = json!({
            "resourceType": "Observation",
            "id": format!("obs-{}-{}-{key}", self.nnn, self.j),
            "status": "final",
            "category": [concept(OBS_CATEGORY, category, category_display)],
            "code": concept(LOINC, loinc, display),
            "subject": reference("Patient", self.pat),
            "encounter": reference("Encounter", self.enc),
            "effectiveDateTime": self.when,
            "valueQuantity": { "value": value, "unit": unit, "system": UCUM, "code": ucum },
        });
        if let (Some(p), Some(o)) = (performer, obs.as_object_mut()) {
            o.insert("performer".into(), json!([reference("Practitioner", p)]));
        }
        obs
    }
}
