//! Access tokens: certificate-bound (RFC 8705), `cnf` shapes, invalid tokens, and a
//! token and proof made by jwcrypto.

use super::*;

#[test]
fn certificate_bound_tokens() {
    let thumbprint = smartgate_core::base64url::encode(&[7u8; 32]);
    let other = smartgate_core::base64url::encode(&[8u8; 32]);
    let t = at(json!({"cnf": {"x5t#S256": thumbprint}}));
    let g = guard(DpopMode::Allowed);
    let with_cert = |cert: Option<&str>| {
        let auth = format!("Bearer {t}");
        let mut req = Request::new("GET", URL, NOW).authorization(&auth);
        if let Some(c) = cert {
            req = req.client_certificate_thumbprint(c);
        }
        g.check(&req, &RustCrypto, &MemoryReplayCache::new())
    };
    with_cert(Some(&thumbprint)).unwrap();
    // Hex, as some edge platforms report it, in either case.
    with_cert(Some(&"07".repeat(32))).unwrap();
    let hex_upper = hex::encode_upper([0xab; 32]);
    let t_ab = at(json!({"cnf": {"x5t#S256": smartgate_core::base64url::encode(&[0xab; 32])}}));
    let auth_ab = format!("Bearer {t_ab}");
    g.check(
        &Request::new("GET", URL, NOW)
            .authorization(&auth_ab)
            .client_certificate_thumbprint(&hex_upper),
        &RustCrypto,
        &MemoryReplayCache::new(),
    )
    .unwrap();
    for wrong in [
        "08".repeat(32),
        "0g".repeat(32),
        "07".repeat(31),
        format!("{thumbprint}A"),
    ] {
        let r = rejected(with_cert(Some(&wrong)));
        assert_rejection(
            &r,
            401,
            Some("invalid_token"),
            "ERR_GUARD_CERT_THUMBPRINT_MISMATCH",
        );
    }
    // A token whose x5t#S256 is not base64url of 32 bytes matches no certificate.
    let t_bad = at(json!({"cnf": {"x5t#S256": "abc"}}));
    let auth_bad = format!("Bearer {t_bad}");
    let r = g
        .check(
            &Request::new("GET", URL, NOW)
                .authorization(&auth_bad)
                .client_certificate_thumbprint("abc"),
            &RustCrypto,
            &MemoryReplayCache::new(),
        )
        .unwrap_err();
    assert_rejection(
        &r,
        401,
        Some("invalid_token"),
        "ERR_GUARD_CERT_THUMBPRINT_MISMATCH",
    );
    let r = rejected(with_cert(None));
    assert_rejection(
        &r,
        401,
        Some("invalid_token"),
        "ERR_GUARD_CERT_THUMBPRINT_MISSING",
    );
    let r = rejected(with_cert(Some(&other)));
    assert_rejection(
        &r,
        401,
        Some("invalid_token"),
        "ERR_GUARD_CERT_THUMBPRINT_MISMATCH",
    );
    let r = rejected(with_cert(Some("")));
    assert_rejection(
        &r,
        401,
        Some("invalid_token"),
        "ERR_GUARD_CERT_THUMBPRINT_MISMATCH",
    );
    // Both bindings at once: both must hold.
    let key = client();
    let both = at(json!({"cnf": {"jkt": key.thumbprint(), "x5t#S256": thumbprint}}));
    let auth = format!("DPoP {both}");
    let p = proof_for(&key, &both, 1);
    let req = Request::new("GET", URL, NOW).authorization(&auth).dpop(&p);
    let r = g
        .check(&req, &RustCrypto, &MemoryReplayCache::new())
        .unwrap_err();
    assert_rejection(
        &r,
        401,
        Some("invalid_token"),
        "ERR_GUARD_CERT_THUMBPRINT_MISSING",
    );
    let ok = g
        .check(
            &req.client_certificate_thumbprint(&thumbprint),
            &RustCrypto,
            &MemoryReplayCache::new(),
        )
        .unwrap();
    assert_eq!(ok.jkt.as_deref(), Some(key.thumbprint()));
}

#[test]
fn cnf_shapes() {
    let g = guard(DpopMode::Allowed);
    for (cnf, code) in [
        (json!("x"), "ERR_DPOP_CNF_INVALID"),
        (json!({"jkt": 5}), "ERR_DPOP_CNF_INVALID"),
        (json!({"x5t#S256": ["a"]}), "ERR_DPOP_CNF_INVALID"),
        (json!({"jwk": {"kty": "EC"}}), "ERR_GUARD_CNF_UNSUPPORTED"),
        (json!({"kid": "k"}), "ERR_GUARD_CNF_UNSUPPORTED"),
    ] {
        let t = at(json!({ "cnf": cnf }));
        let r = rejected(run(&g, Some(&format!("Bearer {t}")), None));
        assert_rejection(&r, 401, Some("invalid_token"), code);
    }
    // An empty cnf binds nothing.
    run(
        &g,
        Some(&format!("Bearer {}", at(json!({"cnf": {}})))),
        None,
    )
    .unwrap();
}

#[test]
fn invalid_tokens() {
    let key = client();
    let g = guard(DpopMode::Allowed);
    for (t, code) in [
        (at(json!({"exp": NOW - 1})), "ERR_JWT_EXPIRED"),
        (
            at(json!({"iss": "https://evil.example"})),
            "ERR_JWT_ISSUER_MISMATCH",
        ),
        (
            at(json!({"aud": "https://other.example"})),
            "ERR_JWT_AUDIENCE_MISMATCH",
        ),
        (
            token(&claims(), &es256(), Some("as"), json!({})),
            "ERR_JWT_TYP_MISMATCH",
        ),
        (
            token(&claims(), &es256(), Some("nope"), json!({"typ": "at+jwt"})),
            "ERR_JWS_KEY_NOT_FOUND",
        ),
        (
            token(
                &claims(),
                &es256_other(),
                Some("as"),
                json!({"typ": "at+jwt"}),
            ),
            "ERR_JWS_SIGNATURE_INVALID",
        ),
        (
            "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".into(),
            "ERR_JWS_MALFORMED",
        ),
        ("a".repeat(20_000), "ERR_INPUT_TOO_LARGE"),
    ] {
        let r = rejected(run(&g, Some(&format!("Bearer {t}")), None));
        assert_rejection(&r, 401, Some("invalid_token"), code);
        assert!(
            r.www_authenticate
                .starts_with("Bearer error=\"invalid_token\"")
        );
        // With the DPoP scheme, the error goes in the DPoP challenge.
        let p = key
            .proof("GET", URL, Some(&t), None, NOW, &mut TestRng(1))
            .unwrap();
        let r = rejected(run(&g, Some(&format!("DPoP {t}")), Some(&p)));
        assert_rejection(&r, 401, Some("invalid_token"), code);
        assert!(
            r.www_authenticate
                .starts_with("Bearer, DPoP error=\"invalid_token\""),
            "{}",
            r.www_authenticate
        );
    }
}

/// A DPoP-bound access token and its proof, both made by jwcrypto.
#[test]
fn jwcrypto_token_and_proof() {
    let v = data("dpop_jwcrypto.json");
    let f = &v["guard"];
    let keys = JwkSet::from_value(&f["jwks"]).unwrap();
    let g = Guard::new(
        keys,
        Validation::new(
            [f["issuer"].as_str().unwrap()],
            [f["audience"].as_str().unwrap()],
        )
        .typ("at+jwt"),
    )
    .dpop(DpopMode::Required);
    let req = Request::new(
        f["method"].as_str().unwrap(),
        f["url"].as_str().unwrap(),
        f["now"].as_i64().unwrap(),
    )
    .authorization(f["authorization"].as_str().unwrap())
    .dpop(f["dpop"].as_str().unwrap());
    for (name, p) in providers() {
        let ok = g
            .check(&req, p.as_ref(), &MemoryReplayCache::new())
            .unwrap_or_else(|r| panic!("{name}: {r}"));
        assert_eq!(ok.jkt.as_deref(), f["jkt"].as_str());
        assert_eq!(ok.patient.as_deref(), Some("123"));
        assert_eq!(ok.client_id.as_deref(), Some("app-1"));
        assert_eq!(ok.scope, "patient/Observation.rs launch/patient");
    }
    // As Bearer: refused, it is DPoP-bound.
    let bearer = format!("Bearer {}", f["access_token"].as_str().unwrap());
    let r = Guard::new(
        JwkSet::from_value(&f["jwks"]).unwrap(),
        Validation::new(
            [f["issuer"].as_str().unwrap()],
            [f["audience"].as_str().unwrap()],
        ),
    )
    .check(
        &Request::new("GET", f["url"].as_str().unwrap(), NOW).authorization(&bearer),
        &RustCrypto,
        &MemoryReplayCache::new(),
    )
    .unwrap_err();
    assert_eq!(r.code, "ERR_GUARD_DPOP_TOKEN_AS_BEARER");
}
