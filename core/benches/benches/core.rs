//! PKCE S256 and JWKS parsing.

use criterion::{Criterion, criterion_group, criterion_main};
use smartgate_core::jwk::JwkSet;
use smartgate_core::pkce::{self, Method, PlainPolicy};
use std::hint::black_box;

fn core(c: &mut Criterion) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = pkce::challenge_s256(verifier);
    c.bench_function("pkce_s256_verify", |b| {
        b.iter(|| {
            pkce::verify(
                black_box(verifier),
                &challenge,
                Method::S256,
                PlainPolicy::Refuse,
            )
        })
    });
    // A JWKS as EHRs publish it: two EC keys and two RSA keys.
    let es = smartgate_bench::es256();
    let rs = smartgate_bench::rs256();
    let mut keys = Vec::new();
    for (i, k) in [&es.jwk, &rs.jwk, &es.jwk, &rs.jwk].into_iter().enumerate() {
        let mut k = k.clone();
        k["kid"] = format!("k{i}").into();
        keys.push(k);
    }
    let jwks = serde_json::json!({ "keys": keys }).to_string();
    c.bench_function("jwks_parse_2ec_2rsa", |b| {
        b.iter(|| JwkSet::from_json(black_box(&jwks)))
    });
}

criterion_group!(benches, core);
criterion_main!(benches);
