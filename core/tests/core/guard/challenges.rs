//! `WWW-Authenticate`: RFC 9449's challenge figures, `insufficient_scope` and `realm`.

use super::*;

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
