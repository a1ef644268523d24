//! Proofs through the guard: refusals, RFC 9449 figure 16, nonces, replays, and a
//! replay store that cannot record the proof (503).

use super::*;

#[test]
fn proof_refusals_through_the_guard() {
    let key = client();
    let t = bound(&key);
    let g = guard(DpopMode::Allowed);
    let auth = format!("DPoP {t}");
    let refused = |proof: &str| rejected(run(&g, Some(&auth), Some(proof)));
    let cases: Vec<(String, &str)> = vec![
        // Proof for another URL, method, token; without ath; stale; two headers.
        (
            key.proof(
                "GET",
                "https://ehr.example.org/fhir/Patient",
                Some(&t),
                None,
                NOW,
                &mut TestRng(1),
            )
            .unwrap(),
            "ERR_DPOP_HTU_MISMATCH",
        ),
        (
            key.proof("POST", URL, Some(&t), None, NOW, &mut TestRng(2))
                .unwrap(),
            "ERR_DPOP_HTM_MISMATCH",
        ),
        (
            key.proof("GET", URL, Some("other"), None, NOW, &mut TestRng(3))
                .unwrap(),
            "ERR_DPOP_ATH_MISMATCH",
        ),
        (
            key.proof("GET", URL, None, None, NOW, &mut TestRng(4))
                .unwrap(),
            "ERR_DPOP_ATH_MISSING",
        ),
        (
            key.proof("GET", URL, Some(&t), None, NOW - 61, &mut TestRng(5))
                .unwrap(),
            "ERR_DPOP_IAT_STALE",
        ),
        (
            key.proof("GET", URL, Some(&t), None, NOW + 6, &mut TestRng(6))
                .unwrap(),
            "ERR_DPOP_IAT_FUTURE",
        ),
        (
            format!("{}, {}", proof_for(&key, &t, 7), proof_for(&key, &t, 8)),
            "ERR_DPOP_MALFORMED",
        ),
        ("not.a.jwt".into(), "ERR_JWS_MALFORMED"),
        ("a".repeat(20_000), "ERR_INPUT_TOO_LARGE"),
    ];
    for (proof, code) in cases {
        let r = refused(&proof);
        assert_rejection(&r, 401, Some("invalid_dpop_proof"), code);
        assert!(
            r.www_authenticate
                .starts_with("Bearer, DPoP error=\"invalid_dpop_proof\", error_description=\""),
            "{}",
            r.www_authenticate
        );
    }
    // A proof signed by another key than its jwk: the signature.
    let mut parts: Vec<String> = proof_for(&key, &t, 9)
        .split('.')
        .map(String::from)
        .collect();
    parts[2] = proof_for(&DpopKey::from_bytes(&[0x33; 32]).unwrap(), &t, 9)
        .split('.')
        .nth(2)
        .unwrap()
        .into();
    let r = refused(&parts.join("."));
    assert_rejection(
        &r,
        401,
        Some("invalid_dpop_proof"),
        "ERR_JWS_SIGNATURE_INVALID",
    );
}

#[test]
fn jkt_mismatch_is_rfc9449_figure_16() {
    let key = client();
    let t = bound(&key);
    let other = DpopKey::from_bytes(&[0x22; 32]).unwrap();
    let g = guard(DpopMode::Required)
        .dpop_validation(DpopValidation::new().algorithms(&[Algorithm::Es256]));
    let r = rejected(run(
        &g,
        Some(&format!("DPoP {t}")),
        Some(&proof_for(&other, &t, 1)),
    ));
    assert_rejection(&r, 401, Some("invalid_token"), "ERR_DPOP_JKT_MISMATCH");
    let v = data("rfc9449_examples.json");
    assert_eq!(
        r.www_authenticate,
        v["section_7_1_figure_16"].as_str().unwrap()
    );
}

#[test]
fn nonces() {
    let key = client();
    let t = bound(&key);
    let policy = RotatingNonce::new([9; 32], 300).unwrap();
    let current = policy.current(NOW);
    let g = guard(DpopMode::Allowed).nonce(policy.clone());
    let auth = format!("DPoP {t}");
    let with = |nonce: Option<&str>, seed| {
        key.proof("GET", URL, Some(&t), nonce, NOW, &mut TestRng(seed))
            .unwrap()
    };
    let r = rejected(run(&g, Some(&auth), Some(&with(None, 1))));
    assert_rejection(&r, 401, Some("use_dpop_nonce"), "ERR_DPOP_NONCE_MISSING");
    assert_eq!(r.dpop_nonce.as_deref(), Some(current.as_str()));
    let r = rejected(run(&g, Some(&auth), Some(&with(Some("stale"), 2))));
    assert_rejection(&r, 401, Some("use_dpop_nonce"), "ERR_DPOP_NONCE_INVALID");
    assert_eq!(r.dpop_nonce.as_deref(), Some(current.as_str()));
    assert!(r.www_authenticate.contains("DPoP error=\"use_dpop_nonce\""));
    run(&g, Some(&auth), Some(&with(Some(&current), 3))).unwrap();
    // Bearer tokens need no nonce.
    run(&g, Some(&format!("Bearer {}", at(json!({})))), None).unwrap();
}

#[test]
fn replayed_proof() {
    let key = client();
    let t = bound(&key);
    let g = guard(DpopMode::Allowed);
    let cache = MemoryReplayCache::new();
    let auth = format!("DPoP {t}");
    let p = proof_for(&key, &t, 1);
    let req = Request::new("GET", URL, NOW).authorization(&auth).dpop(&p);
    g.check(&req, &RustCrypto, &cache).unwrap();
    let r = g.check(&req, &RustCrypto, &cache).unwrap_err();
    assert_rejection(&r, 401, Some("invalid_dpop_proof"), "ERR_DPOP_REPLAY");
}

#[test]
fn replay_store_failures_are_503() {
    let key = client();
    let t = bound(&key);
    let auth = format!("DPoP {t}");
    let p = proof_for(&key, &t, 1);
    let req = Request::new("GET", URL, NOW).authorization(&auth).dpop(&p);
    for (mode, challenge) in [
        (
            DpopMode::Allowed,
            format!("Bearer, DPoP algs=\"{ALL_ALGS}\""),
        ),
        (DpopMode::Required, format!("DPoP algs=\"{ALL_ALGS}\"")),
    ] {
        let g = guard(mode);
        // A full cache and a store that failed both fail closed, each with its code,
        // as a server error: 503, no OAuth error, the challenges without `error`.
        let full = MemoryReplayCache::with_capacity(0);
        for (store, code, description) in [
            (
                &full as &dyn ReplayCache,
                "ERR_DPOP_REPLAY_CACHE_FULL",
                "DPoP replay cache is full; proof refused until entries expire",
            ),
            (
                &DownStore,
                "ERR_DPOP_REPLAY_STORE_UNAVAILABLE",
                "DPoP replay store did not answer; proof refused",
            ),
        ] {
            let r = g.check(&req, &RustCrypto, store).unwrap_err();
            assert_rejection(&r, 503, None, code);
            assert_eq!(r.www_authenticate, challenge);
            assert_eq!(r.description, description);
            assert_eq!(r.dpop_nonce, None);
        }
        // The steps give the same answer for the store's error.
        let pending = g.begin(&req).unwrap();
        let token = pending
            .token_checks()
            .iter()
            .position(|c| c.verify(&RustCrypto).is_ok())
            .ok_or_else(|| JwsError::SignatureInvalid.into());
        let proof = pending.proof_check().map(|c| c.verify(&RustCrypto));
        let Checked::Replay(r) = pending.finish(token, proof).unwrap() else {
            panic!("a proof must go through the replay store");
        };
        let r = r
            .complete(Err(DpopError::ReplayStoreUnavailable.into()))
            .unwrap_err();
        assert_rejection(&r, 503, None, "ERR_DPOP_REPLAY_STORE_UNAVAILABLE");
        assert_eq!(r.www_authenticate, challenge);
    }
}
