//! The request's headers: none, malformed, huge; the request URL; what `Debug` shows.

use super::*;

#[test]
fn no_credentials() {
    for (mode, www) in [
        (
            DpopMode::Allowed,
            format!("Bearer, DPoP algs=\"{ALL_ALGS}\""),
        ),
        (DpopMode::Required, format!("DPoP algs=\"{ALL_ALGS}\"")),
        (DpopMode::Off, "Bearer".into()),
    ] {
        for auth in [None, Some(""), Some("   "), Some("\t")] {
            let r = rejected(run(&guard(mode), auth, None));
            assert_rejection(&r, 401, None, "ERR_GUARD_NO_CREDENTIALS");
            assert_eq!(r.www_authenticate, www);
            assert_eq!(r.dpop_nonce, None);
        }
    }
}

/// Malformed `Authorization` headers: each has a defined answer.
#[test]
fn malformed_authorization() {
    let key = client();
    let t = bound(&key);
    let p = proof_for(&key, &t, 1);
    let g = guard(DpopMode::Allowed);
    let both = |d: &str| {
        format!(
            "Bearer error=\"invalid_request\", error_description=\"{d}\", DPoP error=\"invalid_request\", error_description=\"{d}\", algs=\"{ALL_ALGS}\""
        )
    };
    // Two schemes (two fields joined, or a list): 400 invalid_request, error in both.
    for auth in [
        format!("Bearer {t}, DPoP {t}"),
        format!("DPoP {t},Bearer {t}"),
        format!("Bearer {t}, Bearer {t}"),
        "Basic dXNlcjpwdw==, Bearer abc".into(),
    ] {
        let r = rejected(run(&g, Some(&auth), Some(&p)));
        assert_rejection(
            &r,
            400,
            Some("invalid_request"),
            "ERR_GUARD_MULTIPLE_CREDENTIALS",
        );
        assert_eq!(
            r.www_authenticate,
            both("Multiple methods used to include access token")
        );
    }
    // Empty token, token with spaces, not token68, control or non-ASCII bytes.
    for (auth, description) in [
        ("Bearer".to_string(), "Authorization header has no token"),
        ("Bearer ".into(), "Authorization header has no token"),
        ("DPoP    ".into(), "Authorization header has no token"),
        (
            format!("Bearer {t} x"),
            "Authorization header token contains spaces",
        ),
        (
            format!("DPoP {} {}", &t[..10], &t[10..]),
            "Authorization header token contains spaces",
        ),
        (
            "Bearer a\"b".into(),
            "Authorization header token is not token68",
        ),
        (
            "Bearer ==".into(),
            "Authorization header token is not token68",
        ),
        (
            "Bearer a=b".into(),
            "Authorization header token is not token68",
        ),
        (
            "Bearer\tabc".into(),
            "Authorization header holds bytes that are not visible ASCII",
        ),
        (
            "Bearer a\u{0}b".into(),
            "Authorization header holds bytes that are not visible ASCII",
        ),
        (
            "Bearer tökén".into(),
            "Authorization header holds bytes that are not visible ASCII",
        ),
    ] {
        let r = rejected(run(&g, Some(&auth), Some(&p)));
        assert_rejection(
            &r,
            400,
            Some("invalid_request"),
            "ERR_GUARD_AUTHORIZATION_MALFORMED",
        );
        assert_eq!(r.description, description, "{auth:?}");
        assert_eq!(r.www_authenticate, both(description));
    }
    // Scheme names are case-insensitive (RFC 9110 section 11.1): accepted.
    for scheme in ["dpop", "DPOP", "dPoP"] {
        let p = proof_for(&key, &t, 2);
        let ok = run(&g, Some(&format!("{scheme} {t}")), Some(&p)).unwrap();
        assert_eq!(ok.jkt.as_deref(), Some(key.thumbprint()));
    }
    let bearer = at(json!({}));
    for scheme in ["bearer", "BEARER"] {
        run(&g, Some(&format!("{scheme} {bearer}")), None).unwrap();
    }
    // Several spaces between scheme and token (1*SP), and surrounding whitespace.
    run(&g, Some(&format!("Bearer    {bearer}")), None).unwrap();
    run(&g, Some(&format!(" \tBearer {bearer}\t ")), None).unwrap();
    // Other schemes: no usable credentials, no error code.
    for auth in ["Basic dXNlcjpwdw==", "Negotiate abc", "Bearer-x abc", "abc"] {
        let r = rejected(run(&g, Some(auth), None));
        assert_rejection(&r, 401, None, "ERR_GUARD_SCHEME_UNSUPPORTED");
        assert_eq!(
            r.www_authenticate,
            format!("Bearer, DPoP algs=\"{ALL_ALGS}\"")
        );
    }
}

#[test]
fn request_url_is_the_callers() {
    let key = client();
    let t = bound(&key);
    let auth = format!("DPoP {t}");
    let p = proof_for(&key, &t, 1);
    let req = Request::new("GET", "/fhir/Observation", NOW)
        .authorization(&auth)
        .dpop(&p);
    let r = guard(DpopMode::Allowed)
        .check(&req, &RustCrypto, &MemoryReplayCache::new())
        .unwrap_err();
    assert_rejection(&r, 400, Some("invalid_request"), "ERR_INVALID_ARGUMENT");
}

#[test]
fn huge_headers_are_rejections() {
    let g = guard(DpopMode::Allowed);
    let big = "A".repeat(4 << 20);
    for (auth, dpop) in [
        (format!("Bearer {big}"), None),
        (format!("DPoP {big}"), Some(big.as_str())),
        (big.clone(), None),
        (format!("Bearer {}", ",".repeat(1 << 20)), None),
        (format!("DPoP {}", at(json!({}))), Some(big.as_str())),
    ] {
        let r = rejected(run(&g, Some(&auth), dpop));
        assert!(
            r.www_authenticate.len() < 400,
            "{}",
            r.www_authenticate.len()
        );
    }
}

mod props {
    use proptest::prelude::*;

    use super::*;

    fn header() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,200}",
            "(Bearer|DPoP|bearer|Basic) [ -~]{0,200}",
            "(Bearer|DPoP) [A-Za-z0-9._~+/=-]{0,300}",
            "(Bearer|DPoP) eyJ[A-Za-z0-9._-]{0,300}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any headers: a rejection (never a panic), whose header values are printable
        /// ASCII with no quote that could break out of a parameter.
        #[test]
        fn any_headers_give_a_rejection(auth in prop::option::of(header()), dpop in prop::option::of(".{0,300}"), method in "[A-Za-z]{0,6}") {
            for mode in [DpopMode::Allowed, DpopMode::Required, DpopMode::Off] {
                let mut req = Request::new(&method, URL, NOW);
                if let Some(a) = &auth { req = req.authorization(a); }
                if let Some(d) = &dpop { req = req.dpop(d); }
                let r = guard(mode).check(&req, &RustCrypto, &MemoryReplayCache::new()).unwrap_err();
                prop_assert!(matches!(r.status, 400 | 401));
                prop_assert!(r.www_authenticate.bytes().all(|b| (0x20..0x7f).contains(&b)));
                prop_assert!(!r.description.contains('"') && !r.description.contains('\\'));
                let quotes = r.www_authenticate.matches('"').count();
                prop_assert_eq!(quotes % 2, 0);
            }
        }
    }
}

#[test]
fn request_debug_leaves_out_credentials() {
    let req = Request::new("GET", URL, NOW)
        .authorization("Bearer secret-token")
        .dpop("secret-proof");
    let s = format!("{req:?}");
    assert!(!s.contains("secret"), "{s}");
    assert!(s.contains("GET"));
}
