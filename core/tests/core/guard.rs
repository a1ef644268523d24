//! The resource-server guard: every decision of its table, by status, OAuth error,
//! code and exact `WWW-Authenticate` value; RFC 9449's challenge figures; the
//! sans-IO steps; tokens and proofs from jwcrypto; bad headers.

use serde_json::{Map, Value, json};
use smartgate_core::dpop::{
    DpopError, DpopKey, DpopValidation, MemoryReplayCache, NoncePolicy, ReplayCache, RotatingNonce,
};
use smartgate_core::guard::{Authorized, Checked, DpopMode, Guard, Rejection, Request};
use smartgate_core::jwk::JwkSet;
use smartgate_core::jws::{Algorithm, JwsError};
use smartgate_core::jwt::Validation;
use smartgate_core::provider::rustcrypto::RustCrypto;

use crate::common::*;
use crate::dpop::{DownStore, client};

const URL: &str = "https://ehr.example.org/fhir/Observation?patient=123";
const ALL_ALGS: &str = "ES256 ES384 RS256 RS384 RS512 PS256 PS384";

fn guard(mode: DpopMode) -> Guard {
    let keys = set(vec![jwk_of(&es256(), Some("as"))]);
    Guard::new(keys, Validation::new([ISS], [AUD]).typ("at+jwt")).dpop(mode)
}

fn at(changes: Value) -> String {
    let mut c = claims();
    c.insert("client_id".into(), "app-1".into());
    c.insert("patient".into(), "123".into());
    c.insert("encounter".into(), "E-9".into());
    c.insert("fhirUser".into(), "Practitioner/1".into());
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.remove(k);
        } else {
            c.insert(k.clone(), v.clone());
        }
    }
    token(&c, &es256(), Some("as"), json!({"typ": "at+jwt"}))
}

fn bound(key: &DpopKey) -> String {
    at(json!({"cnf": {"jkt": key.thumbprint()}}))
}

fn proof_for(key: &DpopKey, token: &str, seed: u64) -> String {
    key.proof("GET", URL, Some(token), None, NOW, &mut TestRng(seed))
        .unwrap()
}

fn run(
    g: &Guard,
    authorization: Option<&str>,
    dpop: Option<&str>,
) -> Result<Authorized, Rejection> {
    let mut req = Request::new("GET", URL, NOW);
    if let Some(a) = authorization {
        req = req.authorization(a);
    }
    if let Some(d) = dpop {
        req = req.dpop(d);
    }
    g.check(&req, &RustCrypto, &MemoryReplayCache::new())
}

fn rejected(r: Result<Authorized, Rejection>) -> Rejection {
    r.expect_err("expected a rejection")
}

#[track_caller]
fn assert_rejection(r: &Rejection, status: u16, error: Option<&str>, code: &str) {
    assert_eq!((r.status, r.error, r.code), (status, error, code), "{r:?}");
}

#[test]
fn dpop_bound_token_with_proof() {
    let key = client();
    let t = bound(&key);
    for mode in [DpopMode::Allowed, DpopMode::Required] {
        for (name, p) in providers() {
            let ok = guard(mode)
                .check(
                    &Request::new("GET", URL, NOW)
                        .authorization(&format!("DPoP {t}"))
                        .dpop(&proof_for(&key, &t, 1)),
                    p.as_ref(),
                    &MemoryReplayCache::new(),
                )
                .unwrap_or_else(|r| panic!("{name}: {r}"));
            assert_eq!(ok.jkt.as_deref(), Some(key.thumbprint()));
            assert_eq!(ok.subject.as_deref(), Some("Practitioner/1"));
            assert_eq!(ok.client_id.as_deref(), Some("app-1"));
            assert_eq!(ok.patient.as_deref(), Some("123"));
            assert_eq!(ok.encounter.as_deref(), Some("E-9"));
            assert_eq!(ok.fhir_user.as_deref(), Some("Practitioner/1"));
            assert_eq!(ok.scope, "patient/Observation.rs");
            assert_eq!(ok.claims.iss(), Some(ISS));
        }
    }
}

#[test]
fn bearer_token() {
    let t = at(json!({"client_id": null, "azp": "app-azp", "scope": null, "patient": null}));
    for mode in [DpopMode::Allowed, DpopMode::Off] {
        let ok = run(&guard(mode), Some(&format!("Bearer {t}")), None).unwrap();
        assert_eq!(ok.jkt, None);
        assert_eq!(ok.client_id.as_deref(), Some("app-azp"));
        assert_eq!(ok.scope, "");
        assert_eq!(ok.patient, None);
    }
    // A DPoP header next to the Bearer scheme is ignored.
    let ok = run(
        &guard(DpopMode::Allowed),
        Some(&format!("Bearer {t}")),
        Some("junk"),
    )
    .unwrap();
    assert_eq!(ok.jkt, None);
    // Claims with the wrong type are an invalid token.
    for claim in ["client_id", "patient", "encounter", "fhirUser", "scope"] {
        let t = at(json!({ claim: 5 }));
        let r = rejected(run(
            &guard(DpopMode::Off),
            Some(&format!("Bearer {t}")),
            None,
        ));
        assert_rejection(&r, 401, Some("invalid_token"), "ERR_JWT_CLAIM_INVALID");
    }
}

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
fn dpop_token_sent_as_bearer() {
    let key = client();
    let t = bound(&key);
    let p = proof_for(&key, &t, 1);
    let description = "DPoP-bound access token presented with the Bearer scheme";
    for (mode, www) in [
        (
            DpopMode::Allowed,
            format!(
                "Bearer error=\"invalid_token\", error_description=\"{description}\", DPoP algs=\"{ALL_ALGS}\""
            ),
        ),
        (
            DpopMode::Off,
            format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
        ),
    ] {
        for dpop in [None, Some(p.as_str())] {
            let r = rejected(run(&guard(mode), Some(&format!("Bearer {t}")), dpop));
            assert_rejection(
                &r,
                401,
                Some("invalid_token"),
                "ERR_GUARD_DPOP_TOKEN_AS_BEARER",
            );
            assert_eq!(r.www_authenticate, www);
        }
    }
    // Required: the Bearer scheme itself is not taken.
    let r = rejected(run(
        &guard(DpopMode::Required),
        Some(&format!("Bearer {t}")),
        Some(&p),
    ));
    assert_rejection(&r, 401, None, "ERR_GUARD_SCHEME_UNSUPPORTED");
    assert_eq!(r.www_authenticate, format!("DPoP algs=\"{ALL_ALGS}\""));
}

#[test]
fn bearer_token_sent_with_dpop_scheme() {
    let key = client();
    let t = at(json!({}));
    let p = proof_for(&key, &t, 1);
    // DPoP off: the DPoP scheme is not taken.
    let r = rejected(run(
        &guard(DpopMode::Off),
        Some(&format!("DPoP {t}")),
        Some(&p),
    ));
    assert_rejection(&r, 401, None, "ERR_GUARD_SCHEME_UNSUPPORTED");
    assert_eq!(r.www_authenticate, "Bearer");
    // Allowed or required: the token is not bound.
    for mode in [DpopMode::Allowed, DpopMode::Required] {
        let r = rejected(run(&guard(mode), Some(&format!("DPoP {t}")), Some(&p)));
        assert_rejection(&r, 401, Some("invalid_token"), "ERR_DPOP_TOKEN_NOT_BOUND");
        assert!(
            r.www_authenticate.contains("DPoP error=\"invalid_token\""),
            "{}",
            r.www_authenticate
        );
    }
}

#[test]
fn dpop_scheme_needs_a_proof() {
    let key = client();
    let t = bound(&key);
    let r = rejected(run(
        &guard(DpopMode::Required),
        Some(&format!("DPoP {t}")),
        None,
    ));
    assert_rejection(
        &r,
        401,
        Some("invalid_dpop_proof"),
        "ERR_GUARD_DPOP_PROOF_MISSING",
    );
    assert_eq!(
        r.www_authenticate,
        format!(
            "DPoP error=\"invalid_dpop_proof\", error_description=\"DPoP scheme used without a DPoP proof header\", algs=\"{ALL_ALGS}\""
        )
    );
}

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
fn rfc9449_challenge_figures() {
    let v = data("rfc9449_examples.json");
    let es_ps = DpopValidation::new().algorithms(&[Algorithm::Es256, Algorithm::Ps256]);
    // Figure 15: DPoP only, no credentials.
    let r = rejected(run(
        &guard(DpopMode::Required).dpop_validation(es_ps.clone()),
        None,
        None,
    ));
    assert_eq!(
        r.www_authenticate,
        v["section_7_1_figure_15"].as_str().unwrap()
    );
    // Figure 17: Bearer and DPoP, no credentials.
    let g = guard(DpopMode::Allowed).dpop_validation(es_ps.clone());
    let r = rejected(run(&g, None, None));
    assert_eq!(
        r.www_authenticate,
        v["section_7_2_figure_17"].as_str().unwrap()
    );
    // Figure 18: an invalid Bearer token; our description names the reason.
    let r = rejected(run(&g, Some("Bearer INVALID_TOKEN"), None));
    assert_rejection(&r, 401, Some("invalid_token"), "ERR_JWS_MALFORMED");
    let fig18 = v["section_7_2_figure_18"]
        .as_str()
        .unwrap()
        .replace("Invalid token", &r.description);
    assert_eq!(r.www_authenticate, fig18);
    // Figure 19: the same parameters; the RFC lists the DPoP challenge's algs first,
    // we put it last (auth-param order carries no meaning, RFC 9110 section 11.2).
    let t = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    let r = rejected(run(&g, Some(&format!("Bearer {t}, DPoP {t}")), None));
    assert_rejection(
        &r,
        400,
        Some("invalid_request"),
        "ERR_GUARD_MULTIPLE_CREDENTIALS",
    );
    let fig19 = v["section_7_2_figure_19"].as_str().unwrap();
    assert_eq!(
        r.www_authenticate,
        fig19.replace(
            "DPoP algs=\"ES256 PS256\", error=\"invalid_request\", error_description=\"Multiple methods used to include access token\"",
            "DPoP error=\"invalid_request\", error_description=\"Multiple methods used to include access token\", algs=\"ES256 PS256\""
        )
    );
    // Figure 24: use_dpop_nonce, plus the algs RFC 9449 section 7.1 says to include.
    let key = client();
    let token = bound(&key);
    let g = guard(DpopMode::Required)
        .dpop_validation(DpopValidation::new().algorithms(&[Algorithm::Es256]))
        .nonce(crate::dpop::Fixed("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
    let r = rejected(run(
        &g,
        Some(&format!("DPoP {token}")),
        Some(&proof_for(&key, &token, 1)),
    ));
    assert_rejection(&r, 401, Some("use_dpop_nonce"), "ERR_DPOP_NONCE_MISSING");
    let fig24 = &v["section_9_figure_24"];
    assert_eq!(
        r.www_authenticate,
        format!(
            "{}, algs=\"ES256\"",
            fig24["www_authenticate"].as_str().unwrap()
        )
    );
    assert_eq!(r.dpop_nonce.as_deref(), fig24["dpop_nonce"].as_str());
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
fn insufficient_scope_and_realm() {
    let key = client();
    let t = bound(&key);
    let g = guard(DpopMode::Allowed).realm("FHIR \"prod\"");
    let ok = run(
        &g,
        Some(&format!("DPoP {t}")),
        Some(&proof_for(&key, &t, 1)),
    )
    .unwrap();
    let r = g.insufficient_scope(&ok, Some("patient/Observation.rs \"x\""));
    assert_rejection(
        &r,
        403,
        Some("insufficient_scope"),
        "ERR_GUARD_INSUFFICIENT_SCOPE",
    );
    assert_eq!(
        r.www_authenticate,
        format!(
            "Bearer realm=\"FHIR 'prod'\", DPoP realm=\"FHIR 'prod'\", error=\"insufficient_scope\", error_description=\"access token does not grant the scope this request needs\", scope=\"patient/Observation.rs 'x'\", algs=\"{ALL_ALGS}\""
        )
    );
    let bearer = run(&g, Some(&format!("Bearer {}", at(json!({})))), None).unwrap();
    let r = g.insufficient_scope(&bearer, None);
    assert!(
        r.www_authenticate
            .starts_with("Bearer realm=\"FHIR 'prod'\", error=\"insufficient_scope\"")
    );
    let r = rejected(run(&g, None, None));
    assert_eq!(
        r.www_authenticate,
        format!("Bearer realm=\"FHIR 'prod'\", DPoP realm=\"FHIR 'prod'\", algs=\"{ALL_ALGS}\"")
    );
}

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

#[allow(dead_code)]
fn _object(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[allow(dead_code)]
fn _nonce_policy_is_object_safe(p: &dyn NoncePolicy) -> String {
    p.current(NOW)
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
