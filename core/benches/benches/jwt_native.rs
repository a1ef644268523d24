//! Full JWT verification (parse + signature + claims, pre-parsed keys): smartgate+ring vs
//! jsonwebtoken+aws_lc_rs, on the same tokens, interleaved in one process.

use criterion::{Criterion, criterion_group, criterion_main};
use smartgate_bench::{Fixture, es256, peer_key, peer_validation, rs256, validation};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt;
use smartgate_core::provider::ring::Ring;
use std::hint::black_box;

fn bench(
    c: &mut Criterion,
    name: &str,
    f: &Fixture,
    alg: Algorithm,
    peer_alg: jsonwebtoken::Algorithm,
) {
    let ours = validation(alg);
    let peer = peer_key(f);
    let peer_val = peer_validation(peer_alg);
    // Both accept the token before anything is timed.
    jwt::verify(&f.token, &f.keys, &ours, &Ring, f.now).expect("ours accepts");
    jsonwebtoken::decode::<serde_json::Value>(&f.token, &peer, &peer_val).expect("peer accepts");
    let mut g = c.benchmark_group(name);
    g.bench_function("smartgate+ring", |b| {
        b.iter(|| jwt::verify(black_box(&f.token), &f.keys, &ours, &Ring, f.now).map(|v| v.claims))
    });
    g.bench_function("jsonwebtoken+aws_lc_rs", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&f.token), &peer, &peer_val)
                .map(|d| d.claims)
        })
    });
    g.finish();
}

fn jwt_verify(c: &mut Criterion) {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    bench(
        c,
        "es256_verify_native",
        &es256(),
        Algorithm::Es256,
        jsonwebtoken::Algorithm::ES256,
    );
    bench(
        c,
        "rs256_verify_native",
        &rs256(),
        Algorithm::Rs256,
        jsonwebtoken::Algorithm::RS256,
    );
}

criterion_group!(benches, jwt_verify);
criterion_main!(benches);
