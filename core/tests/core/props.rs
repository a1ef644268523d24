//! Property tests: sign-then-verify round trips, and any single-byte change anywhere in
//! a signed token makes verification fail.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::{self, Validation};
use smartgate_core::provider::Signer;
use smartgate_core::provider::rustcrypto::RustCrypto;

use crate::common::*;

fn claims_strategy() -> impl Strategy<Value = Map<String, Value>> {
    (any::<String>(), proptest::collection::vec("[a-z/.*]{1,20}", 0..5), 1i64..100_000, any::<Option<u32>>()).prop_map(
        |(sub, scopes, ttl, extra)| {
            let mut c = json!({"iss": ISS, "aud": AUD, "sub": sub, "exp": NOW + ttl, "scope": scopes.join(" ")});
            if let Some(x) = extra {
                c["extra"] = json!(x);
            }
            c.as_object().unwrap().clone()
        },
    )
}

fn signer_for(i: u8) -> Box<dyn Signer> {
    match i % 3 {
        0 => Box::new(es256()),
        1 => Box::new(es384()),
        _ => Box::new(rsa(Algorithm::Ps256)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_then_verify(claims in claims_strategy(), which in 0u8..3) {
        let signer = signer_for(which);
        let keys = set(vec![jwk_of(signer.as_ref(), Some("k"))]);
        let t = token(&claims, signer.as_ref(), Some("k"), json!({"typ": "at+jwt"}));
        let v = jwt::verify(&t, &keys, &Validation::new([ISS], [AUD]).typ("at+jwt"), &RustCrypto, NOW).unwrap();
        prop_assert_eq!(v.claims.raw(), &claims);
    }

    #[test]
    fn any_single_byte_change_fails(claims in claims_strategy(), which in 0u8..2, pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let signer = signer_for(which);
        let keys = set(vec![jwk_of(signer.as_ref(), None)]);
        let t = token(&claims, signer.as_ref(), None, json!({}));
        let mut bytes = t.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let Ok(mutated) = String::from_utf8(bytes) else { return Ok(()) };
        let r = jwt::verify(&mutated, &keys, &Validation::new([ISS], [AUD]), &RustCrypto, NOW);
        prop_assert!(r.is_err(), "mutation at {} accepted", i);
    }
}
