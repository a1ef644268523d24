//! Every refusal of a proof by code: header, algorithm, signature, claims, `htm`,
//! `iat` window, `ath`, nonce, and two proofs in one header.

use super::*;

#[test]
fn header_refusals() {
    assert_eq!(
        refused(json!({"typ": "JWT"}), json!({})),
        "ERR_DPOP_TYP_MISMATCH"
    );
    assert_eq!(
        refused(json!({"typ": null}), json!({})),
        "ERR_DPOP_TYP_MISMATCH"
    );
    assert_eq!(
        refused(json!({"typ": "at+jwt"}), json!({})),
        "ERR_DPOP_TYP_MISMATCH"
    );
    // typ is a media type (RFC 7515 section 4.1.9): case and the application/ prefix
    // do not matter.
    ok(json!({"typ": "application/DPoP+JWT"}), json!({}));
    assert_eq!(
        refused(json!({"jwk": null}), json!({})),
        "ERR_DPOP_JWK_MISSING"
    );
    assert_eq!(
        refused(json!({"jwk": "not an object"}), json!({})),
        "ERR_DPOP_JWK_MISSING"
    );
    // A private key in the header: the EC d, and a symmetric key.
    let mut with_d = client_signer().public_key().to_jwk_members();
    with_d.insert("d".into(), base64url::encode(&[0x11; 32]).into());
    assert_eq!(
        refused(json!({ "jwk": with_d }), json!({})),
        "ERR_JWK_PRIVATE_KEY"
    );
    assert_eq!(
        refused(json!({"jwk": {"kty": "oct", "k": "c2VjcmV0"}}), json!({})),
        "ERR_JWK_PRIVATE_KEY"
    );
    // A P-384 key under ES256.
    assert_eq!(
        refused(
            json!({"jwk": es384().public_key().to_jwk_members()}),
            json!({})
        ),
        "ERR_JWS_KEY_ALG_MISMATCH"
    );
    assert_eq!(
        refused(json!({"crit": ["exp"]}), json!({})),
        "ERR_JWS_CRIT_UNSUPPORTED"
    );
}

#[test]
fn alg_refusals() {
    let jwk = Value::Object(client_signer().public_key().to_jwk_members());
    let claims = json!({"jti": "j", "htm": "GET", "htu": URL, "iat": NOW}).to_string();
    for (alg, expected) in [
        ("none", "ERR_JWS_ALG_NONE"),
        ("HS256", "ERR_JWS_ALG_SYMMETRIC"),
        ("HS512", "ERR_JWS_ALG_SYMMETRIC"),
        ("EdDSA", "ERR_JWS_ALG_UNSUPPORTED"),
    ] {
        let header = json!({"typ": "dpop+jwt", "alg": alg, "jwk": jwk}).to_string();
        for sig in [&b""[..], &[1u8; 32], &[1u8; 64]] {
            assert_eq!(
                code(verify(&raw_jws(&header, &claims, sig), "GET", URL)),
                expected
            );
        }
    }
    // An allowed list without ES256.
    let p = proof("GET", URL);
    let v = DpopValidation::new().algorithms(&[Algorithm::Es384, Algorithm::Ps256]);
    assert_eq!(
        code(dpop::verify(
            &p,
            &ProofRequest::new("GET", URL),
            &v,
            &RustCrypto,
            &MemoryReplayCache::new(),
            NOW
        )),
        "ERR_JWS_ALG_NOT_ALLOWED"
    );
    // RSA proofs verify when allowed (PS256 with the RFC 7515 A.2 key).
    let rsa_proof = custom(&rsa(Algorithm::Ps256), json!({}), json!({}));
    verify(&rsa_proof, "GET", URL).unwrap();
}

#[test]
fn signature_refusals() {
    // Signed by another key than the header's jwk.
    let forged = custom(
        &es256_other(),
        json!({"jwk": client_signer().public_key().to_jwk_members()}),
        json!({}),
    );
    assert_eq!(
        code(verify(&forged, "GET", URL)),
        "ERR_JWS_SIGNATURE_INVALID"
    );
    // A changed payload under the original signature.
    let p = proof("GET", URL);
    let parts: Vec<&str> = p.split('.').collect();
    let payload = base64url::encode(
        json!({"jti": "other", "htm": "GET", "htu": URL, "iat": NOW})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        code(verify(
            &format!("{}.{payload}.{}", parts[0], parts[2]),
            "GET",
            URL
        )),
        "ERR_JWS_SIGNATURE_INVALID"
    );
    // r = s = 0 (CVE-2022-21449) and a short signature never reach the provider.
    for sig in [vec![0u8; 64], vec![1u8; 63]] {
        let p = format!("{}.{}.{}", parts[0], parts[1], base64url::encode(&sig));
        assert_eq!(code(verify(&p, "GET", URL)), "ERR_JWS_SIGNATURE_MALFORMED");
    }
}

#[test]
fn claim_refusals() {
    for name in ["jti", "htm", "htu", "iat"] {
        let e = verify(
            &custom(&client_signer(), json!({}), json!({ name: null })),
            "GET",
            URL,
        )
        .unwrap_err();
        assert_eq!(e.code(), "ERR_DPOP_CLAIM_MISSING", "{name}");
        assert!(e.to_string().contains(name), "{e}");
    }
    for (name, value) in [
        ("jti", json!(7)),
        ("jti", json!("")),
        ("jti", json!("x".repeat(257))),
        ("htm", json!(["GET"])),
        (
            "htu",
            json!(null).as_object().map_or(json!(1), |_| json!(1)),
        ),
        ("iat", json!("1700000000")),
        ("ath", json!(1)),
        ("nonce", json!({})),
        ("exp", json!("soon")),
    ] {
        assert_eq!(
            refused(json!({}), json!({ name: value })),
            "ERR_DPOP_CLAIM_INVALID",
            "{name}"
        );
    }
    ok(json!({}), json!({"jti": "x".repeat(256)}));
    // A fractional iat is a NumericDate.
    assert_eq!(ok(json!({}), json!({"iat": NOW as f64 + 0.75})).iat(), NOW);
    // A payload that is not a JSON object.
    let signer = client_signer();
    let mut h = Map::new();
    h.insert("typ".into(), "dpop+jwt".into());
    h.insert(
        "jwk".into(),
        Value::Object(signer.public_key().to_jwk_members()),
    );
    for payload in [&b"[1]"[..], b"not json", b""] {
        let p = sign_compact(&h, payload, &signer).unwrap();
        assert_eq!(code(verify(&p, "GET", URL)), "ERR_DPOP_MALFORMED");
    }
}

/// Methods are case-sensitive (RFC 9110 section 9.1), so `htm` is compared exactly.
#[test]
fn htm_is_case_sensitive() {
    verify(&proof("GET", URL), "GET", URL).unwrap();
    for (htm, method) in [
        ("GET", "get"),
        ("get", "GET"),
        ("POST", "GET"),
        ("GET", "GET "),
        ("PATCH", "PUT"),
    ] {
        let p = custom(&client_signer(), json!({}), json!({ "htm": htm }));
        assert_eq!(code(verify(&p, method, URL)), "ERR_DPOP_HTM_MISMATCH");
    }
    // An extension method, exactly as sent.
    let p = custom(&client_signer(), json!({}), json!({"htm": "PROPFIND"}));
    verify(&p, "PROPFIND", URL).unwrap();
}

#[test]
fn iat_window() {
    let at = |iat: i64, v: &DpopValidation| {
        let p = custom(&client_signer(), json!({}), json!({ "iat": iat }));
        dpop::verify(
            &p,
            &ProofRequest::new("GET", URL),
            v,
            &RustCrypto,
            &MemoryReplayCache::new(),
            NOW,
        )
    };
    let d = DpopValidation::default();
    at(NOW - 60, &d).unwrap();
    assert_eq!(code(at(NOW - 61, &d)), "ERR_DPOP_IAT_STALE");
    at(NOW + 5, &d).unwrap();
    assert_eq!(code(at(NOW + 6, &d)), "ERR_DPOP_IAT_FUTURE");
    let l = DpopValidation::new().leeway(10);
    at(NOW - 70, &l).unwrap();
    assert_eq!(code(at(NOW - 71, &l)), "ERR_DPOP_IAT_STALE");
    at(NOW + 15, &l).unwrap();
    assert_eq!(code(at(NOW + 16, &l)), "ERR_DPOP_IAT_FUTURE");
    let tight = DpopValidation::new().max_age(10).max_future(0);
    at(NOW - 10, &tight).unwrap();
    assert_eq!(code(at(NOW - 11, &tight)), "ERR_DPOP_IAT_STALE");
    assert_eq!(code(at(NOW + 1, &tight)), "ERR_DPOP_IAT_FUTURE");
    // Extreme values saturate.
    assert_eq!(code(at(i64::MIN, &d)), "ERR_DPOP_IAT_STALE");
    assert_eq!(code(at(i64::MAX, &d)), "ERR_DPOP_IAT_FUTURE");
    at(
        NOW - 100,
        &DpopValidation::new().max_age(u64::MAX).leeway(u64::MAX),
    )
    .unwrap();
}

#[test]
fn ath() {
    let token = "eyJhbGciOiJFUzI1NiJ9.e30.sig";
    let key = client();
    let with_ath = key
        .proof("GET", URL, Some(token), None, NOW, &mut TestRng(1))
        .unwrap();
    verify_at(
        &with_ath,
        &ProofRequest::new("GET", URL).access_token(token),
        NOW,
    )
    .unwrap();
    let without = key
        .proof("GET", URL, None, None, NOW, &mut TestRng(2))
        .unwrap();
    assert_eq!(
        code(verify_at(
            &without,
            &ProofRequest::new("GET", URL).access_token(token),
            NOW
        )),
        "ERR_DPOP_ATH_MISSING"
    );
    assert_eq!(
        code(verify_at(
            &with_ath,
            &ProofRequest::new("GET", URL).access_token("eyJhbGciOiJFUzI1NiJ9.e30.sih"),
            NOW
        )),
        "ERR_DPOP_ATH_MISMATCH"
    );
    // ath is of the exact token bytes: the hash of a differently-encoded token differs.
    assert_ne!(
        dpop::access_token_hash("abc"),
        dpop::access_token_hash("abc=")
    );
}

#[test]
fn nonce() {
    let key = client();
    let policy = Fixed("n-1");
    let req = ProofRequest::new("GET", URL).nonce(&policy);
    let missing = key
        .proof("GET", URL, None, None, NOW, &mut TestRng(1))
        .unwrap();
    let e = verify_at(&missing, &req, NOW).unwrap_err();
    assert_eq!(e.code(), "ERR_DPOP_NONCE_MISSING");
    let Error::Dpop(d) = &e else { panic!() };
    assert_eq!(d.nonce(), Some("n-1"));
    assert_eq!(d.oauth_error(), "use_dpop_nonce");
    let old = key
        .proof("GET", URL, None, Some("n-0"), NOW, &mut TestRng(2))
        .unwrap();
    let e = verify_at(&old, &req, NOW).unwrap_err();
    assert_eq!(e.code(), "ERR_DPOP_NONCE_INVALID");
    assert_eq!(e, Error::Dpop(DpopError::NonceInvalid("n-1".into())));
    let good = key
        .proof("GET", URL, None, Some("n-1"), NOW, &mut TestRng(3))
        .unwrap();
    assert_eq!(verify_at(&good, &req, NOW).unwrap().nonce(), Some("n-1"));
    // Without a policy the nonce is not checked.
    verify(&old, "GET", URL).unwrap();

    // The rotating policy: the current nonce and the previous one.
    let rotating = RotatingNonce::new([5; 32], 120).unwrap();
    let n = rotating.current(NOW);
    let req = ProofRequest::new("GET", URL).nonce(&rotating);
    let p = key
        .proof("GET", URL, None, Some(&n), NOW, &mut TestRng(4))
        .unwrap();
    verify_at(&p, &req, NOW).unwrap();
    let later = key
        .proof("GET", URL, None, Some(&n), NOW + 50, &mut TestRng(5))
        .unwrap();
    let later_nonce = rotating.current(NOW + 240);
    let e = verify_at(&later, &req, NOW + 50);
    if rotating.accepts(&n, NOW + 50) {
        e.unwrap();
    }
    let Error::Dpop(d) = verify_at(
        &key.proof("GET", URL, None, Some(&n), NOW + 240, &mut TestRng(6))
            .unwrap(),
        &req,
        NOW + 240,
    )
    .unwrap_err() else {
        panic!()
    };
    assert_eq!(d.code(), "ERR_DPOP_NONCE_INVALID");
    assert_eq!(d.nonce(), Some(later_nonce.as_str()));
}

#[test]
fn more_than_one_proof_header() {
    let a = proof("GET", URL);
    let b = client()
        .proof("GET", URL, None, None, NOW, &mut TestRng(77))
        .unwrap();
    for joined in [format!("{a}, {b}"), format!("{a},{b}"), format!("{a},")] {
        assert_eq!(code(verify(&joined, "GET", URL)), "ERR_DPOP_MALFORMED");
    }
}
