//! SMART scopes: parsing a 20-scope string, and `permits` / `authorize` on a 20-scope set.
//!
//! Goal (issue 4): at least 5 million `permits` decisions per second per core.
//!
//! Also the worst case the fuzzer found: `$export` (needs `r` and `s`) under a 16 KiB
//! string of query scopes with 16 parameters each, against parsing that same string (the
//! work every request carrying it already does).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smartgate_core::scope::{Context, Interaction, Request, ResourceType, ScopeSet};

/// 20 scopes as a patient-facing app might hold them: identity and launch scopes, v1 and
/// v2 clinical scopes, one with the specification's laboratory query, a few `user/` ones.
const SCOPES_20: &str = "openid fhirUser launch launch/patient offline_access patient/Patient.r \
    patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory \
    patient/Condition.rs patient/AllergyIntolerance.rs patient/MedicationRequest.rs patient/Immunization.read \
    patient/Encounter.rs patient/DiagnosticReport.rs patient/Procedure.rs patient/CarePlan.rs \
    patient/DocumentReference.rs patient/Observation.cu user/Practitioner.rs user/Organization.r user/Location.read";

const LAB: &str = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

fn requests() -> Vec<Request<'static>> {
    use Interaction::*;
    use ResourceType::*;
    const PARAMS: &[(&str, &str)] = &[("category", LAB)];
    vec![
        Request::new(Observation, Search)
            .in_context(Context::Patient)
            .with_params(PARAMS),
        Request::new(Condition, Read).in_context(Context::Patient),
        Request::new(Observation, Create).in_context(Context::Patient),
        Request::new(Location, Search).in_context(Context::User),
        Request::new(Practitioner, Read),
        // Refusals scan every scope: the slow path.
        Request::new(Observation, Delete).in_context(Context::Patient),
        Request::new(Medication, Read).in_context(Context::Patient),
        Request::new(Claim, Export),
    ]
}

fn bench(c: &mut Criterion) {
    // A parse error would leave the set empty and fail the assertion.
    let set = ScopeSet::parse(SCOPES_20).unwrap_or_default();
    assert_eq!(set.len(), 20, "the bench's scopes must parse");
    let requests = requests();

    let mut g = c.benchmark_group("scope");
    g.throughput(Throughput::Bytes(SCOPES_20.len() as u64));
    g.bench_function("parse_20_scopes", |b| {
        b.iter(|| ScopeSet::parse(black_box(SCOPES_20)))
    });
    g.throughput(Throughput::Elements(requests.len() as u64));
    g.bench_function("permits_20_scopes_x8_requests", |b| {
        b.iter(|| {
            let set = black_box(&set);
            requests
                .iter()
                .filter(|r| set.permits(black_box(r)))
                .count()
        })
    });
    g.bench_function("authorize_20_scopes_x8_requests", |b| {
        b.iter(|| {
            let set = black_box(&set);
            requests
                .iter()
                .filter(|r| set.authorize(black_box(r)).is_ok())
                .count()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("scope_maximal");
    for (name, prefixes) in [
        ("rs", &["user/Observation.rs"][..]),
        ("r_and_s", &["user/Observation.r", "user/Observation.s"][..]),
    ] {
        let text = maximal_query_scopes(prefixes);
        let set = ScopeSet::parse(&text).unwrap_or_default();
        assert!(set.len() > 150, "the maximal scope string must parse");
        let export = Request::new(ResourceType::Observation, Interaction::Export)
            .in_context(Context::User);
        g.bench_function(format!("parse_{name}"), |b| {
            b.iter(|| ScopeSet::parse(black_box(&text)))
        });
        g.bench_function(format!("authorize_export_{name}"), |b| {
            b.iter(|| black_box(&set).authorize(black_box(&export)).is_ok())
        });
    }
    g.finish();
}

/// Distinct query scopes with 16 parameters each (cycling through `prefixes`), as many as
/// fit the 16 KiB cap of a scope string (the same as the core's test of this case).
fn maximal_query_scopes(prefixes: &[&str]) -> String {
    let mut scopes: Vec<String> = Vec::new();
    let mut used = 0;
    for (i, prefix) in prefixes.iter().cycle().enumerate() {
        let params: Vec<String> = (0..16).map(|p| format!("{p:x}={i:x}")).collect();
        let scope = format!("{prefix}?{}", params.join("&"));
        if used + scope.len() > 16 * 1024 {
            break;
        }
        used += scope.len() + 1;
        scopes.push(scope);
    }
    scopes.join(" ")
}

criterion_group!(benches, bench);
criterion_main!(benches);
