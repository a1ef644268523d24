//! RFC 9449's example proofs (section 4.1 figure 2, section 5 figure 7, section 7.1
//! figure 13; see the parent module for what of the RFC can be checked) and the proofs
//! made by jwcrypto.

use super::*;

#[test]
fn rfc9449_section_4_1_figure_2() {
    let v = data("rfc9449_examples.json");
    let ex = &v["section_4_1_figure_2"];
    let proof = ex["proof"].as_str().unwrap();
    for (name, p) in providers() {
        let ok = dpop::verify(
            proof,
            &ProofRequest::new("POST", ex["url"].as_str().unwrap()),
            &DpopValidation::default(),
            p.as_ref(),
            &MemoryReplayCache::new(),
            ex["now"].as_i64().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ok.jkt(), v["section_6_1_jkt"].as_str().unwrap());
        assert_eq!(ok.jti(), "-BwC3ESc6acc2lTc");
        assert_eq!(ok.iat(), 1_562_262_616);
        assert_eq!(ok.alg(), Algorithm::Es256);
    }
    // Figure 4 is its decoded content.
    let jws = Jws::parse(proof).unwrap();
    let fig4 = &ex["decoded_figure_4"];
    assert_eq!(&Value::Object(jws.header().raw().clone()), &fig4["header"]);
    assert_eq!(
        serde_json::from_slice::<Value>(jws.payload()).unwrap(),
        fig4["claims"]
    );
    // One second past the 60 s window it is stale; the RFC's now with another URL or
    // method is refused.
    let now = ex["now"].as_i64().unwrap();
    let req = ProofRequest::new("POST", "https://server.example.com/token");
    verify_at(proof, &req, now + 60).unwrap();
    assert_eq!(code(verify_at(proof, &req, now + 61)), "ERR_DPOP_IAT_STALE");
    assert_eq!(
        code(verify_at(
            proof,
            &ProofRequest::new("GET", "https://server.example.com/token"),
            now
        )),
        "ERR_DPOP_HTM_MISMATCH"
    );
    assert_eq!(
        code(verify_at(
            proof,
            &ProofRequest::new("POST", "https://server.example.com/token2"),
            now
        )),
        "ERR_DPOP_HTU_MISMATCH"
    );
}

/// Figure 7 reuses figure 2's key and `jti` 2680 s later: one replay cache accepts
/// both, because the first entry expired (iat + 60) long before.
#[test]
fn rfc9449_section_5_figure_7_same_jti_after_expiry() {
    let v = data("rfc9449_examples.json");
    let cache = MemoryReplayCache::new();
    let run = |ex: &Value| {
        let now = ex["now"].as_i64().unwrap();
        dpop::verify(
            ex["proof"].as_str().unwrap(),
            &ProofRequest::new("POST", ex["url"].as_str().unwrap()),
            &DpopValidation::default(),
            &RustCrypto,
            &cache,
            now,
        )
    };
    let a = run(&v["section_4_1_figure_2"]).unwrap();
    assert_eq!(
        code(run(&v["section_4_1_figure_2"])),
        "ERR_DPOP_REPLAY",
        "the same proof again"
    );
    let b = run(&v["section_5_figure_7"]).unwrap();
    assert_eq!(a.jti(), b.jti());
    assert_eq!(a.jkt(), b.jkt());
    assert_eq!(b.iat(), 1_562_265_296);
}

#[test]
fn rfc9449_section_7_1_figure_13_with_ath() {
    let v = data("rfc9449_examples.json");
    let ex = &v["section_7_1_figure_13"];
    let proof = ex["proof"].as_str().unwrap();
    let token = ex["access_token"].as_str().unwrap();
    let now = ex["now"].as_i64().unwrap();
    assert_eq!(dpop::access_token_hash(token), ex["ath"].as_str().unwrap());
    let req = ProofRequest::new("GET", ex["url"].as_str().unwrap());
    let ok = verify_at(proof, &req.access_token(token), now).unwrap();
    assert_eq!(ok.jkt(), v["section_6_1_jkt"].as_str().unwrap());
    assert_eq!(
        serde_json::to_value(ok.claims().raw()).unwrap(),
        ex["decoded_figure_14"]
    );
    assert_eq!(
        code(verify_at(proof, &req.access_token("another"), now)),
        "ERR_DPOP_ATH_MISMATCH"
    );
    // Without an access token, ath is not checked (a token-endpoint request).
    verify_at(proof, &req, now).unwrap();

    // Figure 8's payload (figure 9) binds this proof's key; its signature cannot be
    // checked (the authorization server's key is not in the RFC).
    let fig8 = &v["section_6_1_figure_8"];
    let at = Jws::parse(fig8["token"].as_str().unwrap()).unwrap();
    assert_eq!(at.header().kid(), Some("BeALkb"));
    let claims = Claims::from_json(at.payload()).unwrap();
    assert_eq!(
        serde_json::to_value(claims.raw()).unwrap(),
        fig8["claims_figure_9"]
    );
    dpop::check_binding(&claims, &ok).unwrap();
    assert_eq!(
        dpop::bound_jkt(&claims).unwrap(),
        v["section_6_1_jkt"].as_str()
    );
    let other = verify(&proof_for_other_key(), "GET", URL).unwrap();
    assert_eq!(
        code(dpop::check_binding(&claims, &other)),
        "ERR_DPOP_JKT_MISMATCH"
    );
}

fn proof_for_other_key() -> String {
    DpopKey::from_bytes(&[0x22; 32])
        .unwrap()
        .proof("GET", URL, None, None, NOW, &mut TestRng(3))
        .unwrap()
}

/// Proofs made by Python's jwcrypto (../data/make_dpop_fixtures.py): every valid one
/// verifies with every provider and has jwcrypto's thumbprint; every tampered one is
/// refused with the code the script names.
#[test]
fn jwcrypto_fixtures() {
    let v = data("dpop_jwcrypto.json");
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 25);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let nonce = case["server_nonce"]
            .as_str()
            .map(|n| Fixed(Box::leak(n.to_owned().into_boxed_str())));
        let mut req = ProofRequest::new(
            case["method"].as_str().unwrap(),
            case["url"].as_str().unwrap(),
        );
        if let Some(t) = case["access_token"].as_str() {
            req = req.access_token(t);
        }
        if let Some(n) = &nonce {
            req = req.nonce(n);
        }
        for (provider, p) in providers() {
            let r = dpop::verify(
                case["proof"].as_str().unwrap(),
                &req,
                &DpopValidation::default(),
                p.as_ref(),
                &MemoryReplayCache::new(),
                case["now"].as_i64().unwrap(),
            );
            match case["expect"].as_str().unwrap() {
                "ok" => {
                    let ok = r.unwrap_or_else(|e| panic!("{name} ({provider}): {e}"));
                    assert_eq!(ok.jkt(), case["jkt"].as_str().unwrap(), "{name}");
                }
                expected => assert_eq!(
                    r.map(|_| ()).map_err(|e| e.code()),
                    Err(expected),
                    "{name} ({provider})"
                ),
            }
        }
    }
}
