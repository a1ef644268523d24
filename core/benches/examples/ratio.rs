//! Interleaved, load-robust ratios for the JWT verification goals of issue 2.
//!
//! Criterion runs one contender after another, so on a shared machine a burst of
//! load can land on one side. This runs both contenders in alternating short rounds
//! and compares the best round of each (the round least disturbed by other work),
//! plus the median. `cargo run --release --example ratio [rounds]`.

use smartgate_bench::{Fixture, es256, peer_key, peer_validation, rs256, validation};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt;
use smartgate_core::provider::Verifier;
use smartgate_core::provider::ring::Ring;
use smartgate_core::provider::rustcrypto::RustCrypto;
use std::hint::black_box;
use std::time::Instant;

const PER_ROUND: usize = 40;

fn round(mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..PER_ROUND {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64
}

fn compare(label: &str, rounds: usize, mut ours: impl FnMut(), mut peer: impl FnMut()) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        // Alternate which goes first, so neither always follows the other.
        if i % 2 == 0 {
            a.push(round(&mut ours));
            b.push(round(&mut peer));
        } else {
            b.push(round(&mut peer));
            a.push(round(&mut ours));
        }
    }
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (amin, bmin, amed, bmed) = (a[0], b[0], a[a.len() / 2], b[b.len() / 2]);
    println!(
        "{label:<44} ours {amin:8.2} µs (median {amed:8.2})  peer {bmin:8.2} µs (median {bmed:8.2})  ours/peer ops/s: best {:.2}x, median {:.2}x",
        bmin / amin,
        bmed / amed
    );
}

fn jwt_case(
    label: &str,
    rounds: usize,
    f: &Fixture,
    alg: Algorithm,
    peer_alg: jsonwebtoken::Algorithm,
    v: &dyn Verifier,
) {
    let (ours, peer, pv) = (validation(alg), peer_key(f), peer_validation(peer_alg));
    jwt::verify(&f.token, &f.keys, &ours, v, f.now).expect("ours accepts");
    jsonwebtoken::decode::<serde_json::Value>(&f.token, &peer, &pv).expect("peer accepts");
    compare(
        label,
        rounds,
        || {
            black_box(jwt::verify(black_box(&f.token), &f.keys, &ours, v, f.now).is_ok());
        },
        || {
            black_box(
                jsonwebtoken::decode::<serde_json::Value>(black_box(&f.token), &peer, &pv).is_ok(),
            );
        },
    );
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let backend = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "rust_crypto".into());
    let (es, rs) = (es256(), rs256());
    if backend == "aws_lc_rs" {
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        jwt_case(
            "ES256 smartgate+ring vs jsonwebtoken+aws_lc_rs",
            rounds,
            &es,
            Algorithm::Es256,
            jsonwebtoken::Algorithm::ES256,
            &Ring,
        );
        jwt_case(
            "RS256 smartgate+ring vs jsonwebtoken+aws_lc_rs",
            rounds,
            &rs,
            Algorithm::Rs256,
            jsonwebtoken::Algorithm::RS256,
            &Ring,
        );
    } else {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        jwt_case(
            "ES256 smartgate+rustcrypto vs jsonwebtoken+rust_crypto",
            rounds,
            &es,
            Algorithm::Es256,
            jsonwebtoken::Algorithm::ES256,
            &RustCrypto,
        );
        jwt_case(
            "RS256 smartgate+rustcrypto vs jsonwebtoken+rust_crypto",
            rounds,
            &rs,
            Algorithm::Rs256,
            jsonwebtoken::Algorithm::RS256,
            &RustCrypto,
        );
    }
}
