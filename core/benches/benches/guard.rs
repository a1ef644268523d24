//! The resource-server guard per request, and the replay cache at capacity.
//!
//! - `guard/dpop_es256/{rustcrypto,ring}`: one `Guard::check` of a DPoP-bound ES256
//!   access token with an ES256 proof (two signature verifications, claims, `htu`
//!   normalisation, `ath`, binding, replay insert). Each iteration gets a fresh proof
//!   (made outside the timing) and a `now` one second later, so the replay cache
//!   stays at its steady size of about 60 entries.
//! - `replay_cache/insert_at_100k`: a check-and-insert of a new key into a
//!   `MemoryReplayCache` holding 100,000 live entries, one of which expires per call
//!   (steady state: one eviction, one insert).
//! - `replay_cache/lookup_at_100k`: a check-and-insert of a key already held (a
//!   replay) among 100,000 live entries.
//!
//! Requests per second per core = 1 / the time of one `guard` iteration (the bench
//! runs on one thread).

use std::cell::Cell;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use smartgate_core::dpop::{
    DEFAULT_REPLAY_CAPACITY, DpopKey, MemoryReplayCache, ReplayCache, replay_key,
};
use smartgate_core::guard::{DpopMode, Guard, Request};
use smartgate_core::jwk::{Jwk, JwkSet};
use smartgate_core::jwt::{Claims, Validation};
use smartgate_core::provider::Signer;
use smartgate_core::provider::Verifier;
use smartgate_core::provider::ring::Ring;
use smartgate_core::provider::rustcrypto::{EcdsaP256Signer, RustCrypto};
use smartgate_core::sign::sign_jwt;

const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://ehr.example.org";
const AUD: &str = "https://ehr.example.org/fhir";
const URL: &str = "https://ehr.example.org/fhir/Observation?patient=123&category=vital-signs";

fn guard(c: &mut Criterion) {
    let issuer = EcdsaP256Signer::from_bytes(&[0x42; 32]).expect("AS key");
    let keys = JwkSet::new(vec![
        Jwk::new(issuer.public_key(), Some("as".into()), None).expect("jwk"),
    ])
    .expect("jwks");
    let client = DpopKey::from_bytes(&[0x11; 32]).expect("client key");
    let claims = format!(
        r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"Practitioner/1","client_id":"app-1",
            "patient":"123","scope":"patient/Observation.rs launch/patient",
            "iat":{NOW},"exp":{},"jti":"at-1","cnf":{{"jkt":"{}"}}}}"#,
        NOW + 1_000_000_000,
        client.thumbprint()
    );
    let claims = Claims::from_json(claims.as_bytes())
        .expect("claims")
        .into_raw();
    let token = sign_jwt(&claims, Some("at+jwt"), Some("as"), &issuer).expect("token");
    let authorization = format!("DPoP {token}");
    let guard =
        Guard::new(keys, Validation::new([ISS], [AUD]).typ("at+jwt")).dpop(DpopMode::Required);

    let mut group = c.benchmark_group("guard");
    let verifiers: [(&str, &dyn Verifier); 2] = [("rustcrypto", &RustCrypto), ("ring", &Ring)];
    for (name, verifier) in verifiers {
        let cache = MemoryReplayCache::new();
        let now = Cell::new(NOW);
        group.bench_function(format!("dpop_es256/{name}"), |b| {
            b.iter_batched(
                || {
                    let t = now.get() + 1;
                    now.set(t);
                    let proof = client
                        .proof_with_jti("GET", URL, Some(&token), None, t, &format!("jti-{t}"))
                        .expect("proof");
                    (t, proof)
                },
                |(t, proof)| {
                    let request = Request::new("GET", URL, t)
                        .authorization(&authorization)
                        .dpop(&proof);
                    black_box(guard.check(&request, verifier, &cache).expect("authorized"))
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn replay_cache(c: &mut Criterion) {
    let n = DEFAULT_REPLAY_CAPACITY as i64;
    let mut group = c.benchmark_group("replay_cache");

    // Entry i expires at n + i; at time t > n every call evicts the one entry that
    // expired and inserts a new one: always 100,000 live entries.
    let churn = MemoryReplayCache::new();
    for i in 0..n {
        churn
            .check_and_insert(&replay_key("jkt", &i.to_string()), n + i, 0)
            .expect("prefill");
    }
    let now = Cell::new(n);
    group.bench_function("insert_at_100k", |b| {
        b.iter_batched(
            || {
                let t = now.get() + 1;
                now.set(t);
                (t, replay_key("jkt-new", &t.to_string()))
            },
            |(t, key)| {
                let first = churn.check_and_insert(&key, t + n - 1, t).expect("insert");
                assert!(first);
            },
            BatchSize::SmallInput,
        );
    });

    let held = MemoryReplayCache::new();
    let keys: Vec<String> = (0..n).map(|i| replay_key("jkt", &i.to_string())).collect();
    for k in &keys {
        held.check_and_insert(k, i64::MAX, 0).expect("prefill");
    }
    let mut i = 0usize;
    group.bench_function("lookup_at_100k", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            let first = held
                .check_and_insert(&keys[i], i64::MAX, 1)
                .expect("lookup");
            assert!(!first);
        });
    });
    group.finish();
}

criterion_group!(benches, guard, replay_cache);
criterion_main!(benches);
