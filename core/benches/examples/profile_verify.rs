//! A fixed amount of JWT verification work for a profiler (`valgrind --tool=callgrind`):
//! `profile_verify <ours|peer> <es256|rs256> [iterations]`. Instruction counts do not
//! depend on machine load, so this splits signature math from JOSE overhead reliably.

use smartgate_bench::{es256, peer_key, peer_validation, rs256, validation};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt;
use smartgate_core::provider::rustcrypto::RustCrypto;
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let who = args.get(1).map(String::as_str).unwrap_or("ours");
    let alg = args.get(2).map(String::as_str).unwrap_or("es256");
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    let (f, ours_alg, peer_alg) = match alg {
        "rs256" => (rs256(), Algorithm::Rs256, jsonwebtoken::Algorithm::RS256),
        _ => (es256(), Algorithm::Es256, jsonwebtoken::Algorithm::ES256),
    };
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let (ours, peer, peer_val) = (
        validation(ours_alg),
        peer_key(&f),
        peer_validation(peer_alg),
    );
    for _ in 0..n {
        if who == "peer" {
            black_box(
                jsonwebtoken::decode::<serde_json::Value>(black_box(&f.token), &peer, &peer_val)
                    .is_ok(),
            );
        } else {
            black_box(jwt::verify(black_box(&f.token), &f.keys, &ours, &RustCrypto, f.now).is_ok());
        }
    }
}
