//! The `Bearer` and `DPoP` schemes in each DPoP mode: bound and unbound tokens, each
//! with the scheme it takes and the other one.

use super::*;

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
