//! The sans-IO steps, and one guard shared by every thread.

use super::*;

#[test]
fn sans_io_steps() {
    let key = client();
    let t = bound(&key);
    let auth = format!("DPoP {t}");
    let p = proof_for(&key, &t, 1);
    // Two keys without kid match: two candidate checks, the right one second.
    let keys = JwkSet::new(vec![jwk_of(&es256_other(), None), jwk_of(&es256(), None)]).unwrap();
    let g = Guard::new(keys, Validation::new([ISS], [AUD]));
    let untagged = token(
        &{
            let mut c = claims();
            c.insert("cnf".into(), json!({"jkt": key.thumbprint()}));
            c
        },
        &es256(),
        None,
        json!({}),
    );
    let auth2 = format!("DPoP {untagged}");
    let p2 = proof_for(&key, &untagged, 2);
    let req = Request::new("GET", URL, NOW)
        .authorization(&auth2)
        .dpop(&p2);
    let pending = g.begin(&req).unwrap();
    let checks = pending.token_checks();
    assert_eq!(checks.len(), 2);
    assert_eq!(
        checks
            .iter()
            .map(|c| c.verify(&RustCrypto).is_ok())
            .collect::<Vec<_>>(),
        [false, true]
    );
    let proof_check = pending.proof_check().unwrap();
    assert_eq!(proof_check.key.thumbprint(), key.thumbprint());
    let proof_ok = proof_check.verify(&RustCrypto);
    let Checked::Replay(replay) = pending.finish(Ok(1), Some(proof_ok)).unwrap() else {
        panic!("a proof was checked")
    };
    assert_eq!(replay.expires_at(), NOW + 60);
    assert_eq!(replay.key().len(), 43);
    let r = g.begin(&req).unwrap().finish(Ok(1), Some(Ok(()))).unwrap();
    let Checked::Replay(again) = r else { panic!() };
    assert_eq!(again.key(), replay.key());
    let rej = again.complete(Ok(false)).unwrap_err();
    assert_rejection(&rej, 401, Some("invalid_dpop_proof"), "ERR_DPOP_REPLAY");
    let ok = replay.complete(Ok(true)).unwrap();
    assert_eq!(ok.jkt.as_deref(), Some(key.thumbprint()));

    // Outcomes a caller reports.
    let g1 = guard(DpopMode::Allowed);
    let req = Request::new("GET", URL, NOW).authorization(&auth).dpop(&p);
    let r = g1
        .begin(&req)
        .unwrap()
        .finish(Err(JwsError::SignatureInvalid.into()), Some(Ok(())));
    assert_rejection(
        &r.unwrap_err(),
        401,
        Some("invalid_token"),
        "ERR_JWS_SIGNATURE_INVALID",
    );
    let r = g1.begin(&req).unwrap().finish(Ok(5), Some(Ok(())));
    assert_rejection(
        &r.unwrap_err(),
        401,
        Some("invalid_token"),
        "ERR_JWS_SIGNATURE_INVALID",
    );
    let r = g1.begin(&req).unwrap().finish(Ok(0), None);
    assert_rejection(
        &r.unwrap_err(),
        401,
        Some("invalid_dpop_proof"),
        "ERR_JWS_SIGNATURE_INVALID",
    );
    let r = g1
        .begin(&req)
        .unwrap()
        .finish(Ok(0), Some(Err(JwsError::SignatureInvalid.into())));
    assert_rejection(
        &r.unwrap_err(),
        401,
        Some("invalid_dpop_proof"),
        "ERR_JWS_SIGNATURE_INVALID",
    );
    // A Bearer request needs no replay step.
    let bearer = format!("Bearer {}", at(json!({})));
    let req = Request::new("GET", URL, NOW).authorization(&bearer);
    let pending = g1.begin(&req).unwrap();
    assert!(pending.proof_check().is_none());
    let ok = pending.token_checks()[0].verify(&RustCrypto);
    assert!(matches!(
        pending.finish(ok.map(|()| 0), None).unwrap(),
        Checked::Authorized(_)
    ));
}

/// One guard and one replay cache serve every thread of a server.
#[test]
fn shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Guard>();
    send_sync::<MemoryReplayCache>();
    send_sync::<Rejection>();
    send_sync::<Authorized>();
    let g = guard(DpopMode::Allowed).nonce(RotatingNonce::new([1; 32], 60).unwrap());
    let cache = MemoryReplayCache::new();
    let key = client();
    let t = bound(&key);
    let auth = format!("DPoP {t}");
    let nonce = RotatingNonce::new([1; 32], 60).unwrap().current(NOW);
    let accepted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (g, cache, key, auth, nonce, t) = (&g, &cache, &key, &auth, &nonce, &t);
                s.spawn(move || {
                    (0..5u64)
                        .filter(|i| {
                            // Both threads send the same five proofs: each is accepted once.
                            let p = key
                                .proof_with_jti(
                                    "GET",
                                    URL,
                                    Some(t),
                                    Some(nonce),
                                    NOW,
                                    &format!("j{i}"),
                                )
                                .unwrap();
                            let req = Request::new("GET", URL, NOW).authorization(auth).dpop(&p);
                            g.check(&req, &RustCrypto, cache).is_ok()
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(accepted, 5);
}
