//! The sans-IO steps (`prepare`, `finish`, `complete`) and the `cnf.jkt` binding.

use super::*;

#[test]
fn sans_io_steps() {
    let key = client();
    let p = key
        .proof_with_jti("POST", URL, Some("tok"), None, NOW, "jti-7")
        .unwrap();
    let req = ProofRequest::new("POST", URL).access_token("tok");
    let v = DpopValidation::default();
    let unverified = dpop::prepare(&p, &req, &v, NOW).unwrap();
    let check = unverified.signature_check();
    assert_eq!(check.alg, Algorithm::Es256);
    assert_eq!(check.key.thumbprint(), key.thumbprint());
    let parts: Vec<&str> = p.split('.').collect();
    assert_eq!(
        check.message,
        format!("{}.{}", parts[0], parts[1]).as_bytes()
    );
    assert_eq!(
        check.signature,
        base64url::decode(parts[2].as_bytes()).unwrap()
    );
    // The provider's verdict is what finish takes.
    assert_eq!(
        code(
            unverified
                .clone()
                .finish(Err(JwsError::SignatureInvalid.into()))
        ),
        "ERR_JWS_SIGNATURE_INVALID"
    );
    let signature = unverified.signature_check().verify(&RustCrypto);
    let replay = unverified.finish(signature).unwrap();
    assert_eq!(replay.key(), dpop::replay_key(key.thumbprint(), "jti-7"));
    assert_eq!(replay.key().len(), 43);
    assert_eq!(replay.expires_at(), NOW + 60);
    assert_eq!(replay.proof().jti(), "jti-7");
    assert_eq!(code(replay.clone().complete(Ok(false))), "ERR_DPOP_REPLAY");
    assert_eq!(
        code(
            replay
                .clone()
                .complete(Err(DpopError::ReplayCacheFull.into()))
        ),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    let done = replay.complete(Ok(true)).unwrap();
    assert_eq!(done.jkt(), key.thumbprint());
    assert_eq!(done.iat(), NOW);
    assert_eq!(done.jwk().thumbprint(), key.thumbprint());
    // The replay window follows max_age and leeway.
    let v = DpopValidation::new().max_age(30).leeway(5);
    assert_eq!(v.replay_window(), 35);
    let unverified = dpop::prepare(&p, &req, &v, NOW).unwrap();
    let sig = unverified.signature_check().verify(&RustCrypto);
    assert_eq!(unverified.finish(sig).unwrap().expires_at(), NOW + 35);
}

#[test]
fn binding() {
    let ok = verify(&proof("GET", URL), "GET", URL).unwrap();
    let claims = |c: Value| Claims::from_json(c.to_string().as_bytes()).unwrap();
    dpop::check_binding(&claims(json!({"cnf": {"jkt": ok.jkt()}})), &ok).unwrap();
    assert_eq!(
        code(dpop::check_binding(
            &claims(json!({"cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}})),
            &ok
        )),
        "ERR_DPOP_JKT_MISMATCH"
    );
    for not_bound in [
        json!({}),
        json!({"cnf": {}}),
        json!({"cnf": {"x5t#S256": "x"}}),
    ] {
        assert_eq!(
            code(dpop::check_binding(&claims(not_bound), &ok)),
            "ERR_DPOP_TOKEN_NOT_BOUND"
        );
    }
    for bad in [
        json!({"cnf": "x"}),
        json!({"cnf": {"jkt": 1}}),
        json!({"cnf": []}),
    ] {
        assert_eq!(
            code(dpop::check_binding(&claims(bad), &ok)),
            "ERR_DPOP_CNF_INVALID"
        );
    }
    assert_eq!(DpopError::JktMismatch.oauth_error(), "invalid_token");
    assert_eq!(DpopError::HtuMismatch.oauth_error(), "invalid_dpop_proof");
}
