//! One signature check with no JOSE around it, per library: where the time of a JWT
//! verification goes. Inputs are the bench fixtures' own signing input and signature.

use criterion::{Criterion, criterion_group, criterion_main};
use smartgate_bench::{es256, rs256};
use smartgate_core::jwk::PublicKey;
use smartgate_core::jws::{Algorithm, Jws};
use smartgate_core::provider::Verifier;
use smartgate_core::provider::ring::Ring;
use smartgate_core::provider::rustcrypto::RustCrypto;
use std::hint::black_box;

fn raw(c: &mut Criterion) {
    for (name, f, alg) in [
        ("es256", es256(), Algorithm::Es256),
        ("rs256", rs256(), Algorithm::Rs256),
    ] {
        let jws = Jws::parse(&f.token).expect("parse");
        let msg = jws.signing_input().to_vec();
        let sig = jws.signature().to_vec();
        let key = f.keys.keys()[0].key().clone();
        let mut g = c.benchmark_group(format!("raw_{name}"));
        g.bench_function("ring", |b| {
            b.iter(|| Ring.verify(alg, &key, black_box(&msg), &sig))
        });
        g.bench_function("rustcrypto", |b| {
            b.iter(|| RustCrypto.verify(alg, &key, black_box(&msg), &sig))
        });
        match &key {
            PublicKey::Ec(k) => {
                let point = k.sec1_uncompressed().to_vec();
                g.bench_function("aws-lc-rs", |b| {
                    b.iter(|| {
                        aws_lc_rs::signature::UnparsedPublicKey::new(
                            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
                            &point,
                        )
                        .verify(black_box(&msg), &sig)
                    })
                });
            }
            PublicKey::Rsa(k) => {
                let (n, e) = (k.n().to_vec(), k.e().to_vec());
                g.bench_function("aws-lc-rs", |b| {
                    b.iter(|| {
                        aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }.verify(
                            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                            black_box(&msg),
                            &sig,
                        )
                    })
                });
            }
            _ => {}
        }
        g.bench_function("jws_parse_only", |b| {
            b.iter(|| Jws::parse(black_box(&f.token)).map(|j| j.payload().len()))
        });
        g.finish();
    }
}

criterion_group!(benches, raw);
criterion_main!(benches);
