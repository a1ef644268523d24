//! The `guard_headers` target.

use alloc::format;
use alloc::vec;

use super::{AUD, FIXED_JWK, ISS, NOW, SeenOnce, must};
use crate::dpop::{self, RotatingNonce};
use crate::guard::{Authorized, DpopMode, Guard, Rejection, Request};
use crate::jwk::{Jwk, JwkSet};
use crate::jwt::Validation;
use crate::provider::rustcrypto::RustCrypto;
use crate::scope::{self, Interaction, ResourceType, ScopeSet};

/// The authorization server key of `core/tests/data/dpop_jwcrypto.json` (tokens and
/// proofs made by jwcrypto, a JOSE library nobody here wrote), and its issuer and
/// audience.
const AS1_JWK: &str = r#"{"kty":"EC","kid":"as-1","crv":"P-256","x":"dQ0c0WkqmJ7m2l_Ekok2bXUvT-_C_vK4ZzkVxKwtvxA","y":"qUMe96fsJcs4dv6ubUNb6ReelZmZLf19-1sh9xx1cR8","alg":"ES256","use":"sig"}"#;
const AS1_ISS: &str = "https://as.example.org";
const AS1_AUD: &str = "https://fhir.example.org/r4";
/// The request of that file's guard case.
const METHOD: &str = "GET";
const URL: &str = "https://fhir.example.org/r4/Observation?patient=123";

fn guard(mode: DpopMode) -> Guard {
    let keys = vec![
        must(Jwk::from_json(FIXED_JWK), "fixed key"),
        must(Jwk::from_json(AS1_JWK), "jwcrypto key"),
    ];
    let validation = Validation::new([ISS, AS1_ISS], [AUD, AS1_AUD]);
    Guard::new(must(JwkSet::new(keys), "guard keys"), validation).dpop(mode)
}

/// The resource-server guard's headers. The input is lines: the `Authorization` value,
/// the `DPoP` value (absent without a second line), method, URL, client-certificate
/// thumbprint; missing lines take the defaults of the jwcrypto guard case. Checked with
/// [`DpopMode::Allowed`] (and a FHIR search that the token's scopes must grant),
/// [`DpopMode::Required`] (with a server nonce) and [`DpopMode::Off`]:
///
/// - a rejection is well-formed: status 400, 401 or 403 matching its OAuth error, no
///   error exactly for missing or unsupported credentials (401) and a replay store
///   that cannot record the proof (503), a `WWW-Authenticate` value
///   of visible ASCII only (nothing the client sent can split the header) that names the
///   error, a sanitised description, `DPoP-Nonce` only with `use_dpop_nonce`;
/// - an authorized request carries a token the configuration accepts, its parsed
///   scopes, and a `jkt` exactly when the token is DPoP-bound (never in
///   [`DpopMode::Off`]); its DPoP proof, sent again, is a replay;
/// - spaces and tabs around the `Authorization` value change nothing, and a `,` added
///   to a non-blank value is always refused as multiple credentials.
pub fn guard_headers(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let authorization = lines.next().unwrap_or_default();
    let proof = lines.next();
    let method = lines.next().unwrap_or(METHOD);
    let url = lines.next().unwrap_or(URL);
    let certificate = lines.next();

    let params = [("patient", "123")];
    let search =
        scope::Request::new(ResourceType::Observation, Interaction::Search).with_params(&params);
    let nonce = must(RotatingNonce::new([9; 32], 300), "nonce policy");
    let configurations = [
        (guard(DpopMode::Allowed), true),
        (guard(DpopMode::Required).nonce(nonce), false),
        (guard(DpopMode::Off), false),
    ];
    for (guard, fhir) in &configurations {
        let mut r = headers(method, url, Some(authorization), proof, certificate);
        if *fhir {
            r = r.fhir(search);
        }
        let cache = SeenOnce::default();
        let outcome = guard.check(&r, &RustCrypto, &cache);
        check_outcome(guard, &outcome);
        if let Ok(authorized) = &outcome
            && authorized.jkt.is_some()
        {
            let again = guard.check(&r, &RustCrypto, &cache);
            assert_eq!(
                again.as_ref().err().map(|r| r.code),
                Some("ERR_DPOP_REPLAY"),
                "a DPoP proof accepted twice"
            );
        }
    }

    let (guard, _) = &configurations[2];
    let code = |a: Option<&str>| {
        let cache = SeenOnce::default();
        guard
            .check(
                &headers(method, url, a, proof, certificate),
                &RustCrypto,
                &cache,
            )
            .err()
            .map(|r| r.code)
    };
    let trimmed = authorization.trim_matches([' ', '\t']);
    if trimmed.len() != authorization.len() {
        assert_eq!(
            code(Some(trimmed)),
            code(Some(authorization)),
            "padding mattered"
        );
    }
    assert_eq!(code(None), Some("ERR_GUARD_NO_CREDENTIALS"));
    if !trimmed.is_empty() {
        let two = format!("{authorization}, Bearer x");
        assert_eq!(code(Some(&two)), Some("ERR_GUARD_MULTIPLE_CREDENTIALS"));
    }
}

/// The guard request: method, URL, [`NOW`], and the headers that are present.
fn headers<'a>(
    method: &'a str,
    url: &'a str,
    authorization: Option<&'a str>,
    proof: Option<&'a str>,
    certificate: Option<&'a str>,
) -> Request<'a> {
    let mut r = Request::new(method, url, NOW);
    if let Some(a) = authorization {
        r = r.authorization(a);
    }
    if let Some(p) = proof {
        r = r.dpop(p);
    }
    if let Some(c) = certificate {
        r = r.client_certificate_thumbprint(c);
    }
    r
}

fn check_outcome(guard: &Guard, outcome: &Result<Authorized, Rejection>) {
    let mode = guard.mode();
    match outcome {
        Ok(a) => {
            assert!(matches!(a.claims.iss(), Some(ISS | AS1_ISS)));
            assert!(a.claims.aud().iter().any(|x| x == AUD || x == AS1_AUD));
            assert!(a.claims.exp().is_some_and(|exp| NOW < exp));
            assert_eq!(a.subject.as_deref(), a.claims.sub());
            assert_eq!(
                a.scopes,
                must(ScopeSet::parse_lenient(&a.scope), "scopes").scopes
            );
            let bound = must(dpop::bound_jkt(&a.claims), "cnf of an authorized token");
            assert_eq!(a.jkt.as_deref(), bound, "jkt is not the token's cnf.jkt");
            match mode {
                DpopMode::Off => assert!(a.jkt.is_none(), "DPoP accepted with DPoP off"),
                DpopMode::Required => {
                    assert!(a.jkt.is_some(), "Bearer accepted with DPoP required")
                }
                DpopMode::Allowed => {}
            }
        }
        Err(r) => {
            let server_fault = matches!(
                r.code,
                "ERR_DPOP_REPLAY_CACHE_FULL" | "ERR_DPOP_REPLAY_STORE_UNAVAILABLE"
            );
            let expected_status = match r.error {
                None if server_fault => 503,
                None => 401,
                Some("invalid_request") => 400,
                Some("insufficient_scope") => 403,
                Some("invalid_token" | "invalid_dpop_proof" | "use_dpop_nonce") => 401,
                Some(other) => panic!("unknown OAuth error {other}"),
            };
            assert_eq!(r.status, expected_status, "{r}");
            assert_eq!(
                r.error.is_none(),
                server_fault
                    || matches!(
                        r.code,
                        "ERR_GUARD_NO_CREDENTIALS" | "ERR_GUARD_SCHEME_UNSUPPORTED"
                    ),
                "{r}"
            );
            assert!(
                r.www_authenticate
                    .bytes()
                    .all(|b| (0x20..0x7f).contains(&b)),
                "WWW-Authenticate holds a byte a header cannot: {:?}",
                r.www_authenticate
            );
            assert!(
                r.description
                    .bytes()
                    .all(|b| matches!(b, 0x20 | 0x21 | 0x23..=0x5b | 0x5d..=0x7e)),
                "description not sanitised: {:?}",
                r.description
            );
            let first = if mode == DpopMode::Required {
                "DPoP"
            } else {
                "Bearer"
            };
            assert!(
                r.www_authenticate.starts_with(first),
                "{}",
                r.www_authenticate
            );
            if let Some(error) = r.error {
                assert!(r.www_authenticate.contains(&format!("error=\"{error}\"")));
            }
            assert_eq!(r.dpop_nonce.is_some(), r.error == Some("use_dpop_nonce"));
        }
    }
}
