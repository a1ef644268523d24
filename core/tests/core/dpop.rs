//! DPoP proofs (RFC 9449): the RFC's examples, proofs made by jwcrypto, every
//! refusal by code, `htu` normalisation both ways, the replay cache, and `DpopKey`.
//!
//! RFC 9449 examples (../data/rfc9449_examples.json) and what of them can be checked:
//! - section 4.1 figure 2 (= figure 5), section 5 figure 7 and section 7.1 figure 13
//!   are complete proofs: their public key is in their header and their `iat` is
//!   fixed, so they verify in full (signature, `htm`, `htu`, `iat`, `ath`) at that
//!   `now`; their thumbprint is the `jkt` of section 6.1.
//! - figures 4 and 14 are the decoded content of figures 2 and 13: compared as JSON.
//! - figure 8 is a JWT access token with `cnf.jkt`, signed by the authorization
//!   server's key `BeALkb`, which the RFC does not publish: its signature cannot be
//!   verified. Its payload is figure 9, and its `cnf.jkt` binds the example proofs.
//! - figure 21 (a payload with `nonce`) is unsigned content only: not verifiable.
//! - the access token of figure 6 (`Kz~8...gxU`) is opaque, so the guard (which takes
//!   JWT access tokens) cannot be run on the RFC's request; its `ath` is checked.
//! - the `WWW-Authenticate` figures are checked in guard.rs.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use smartgate_core::Error;
use smartgate_core::base64url;
use smartgate_core::dpop::{
    self, DpopError, DpopKey, DpopValidation, MemoryReplayCache, NoncePolicy, ProofRequest,
    ReplayCache, RotatingNonce, VerifiedProof,
};
use smartgate_core::jwk::Jwk;
use smartgate_core::jws::{Algorithm, Jws, JwsError};
use smartgate_core::jwt::Claims;
use smartgate_core::provider::Signer;
use smartgate_core::provider::rustcrypto::{EcdsaP256Signer, RustCrypto};
use smartgate_core::sign::sign_compact;

use crate::common::*;

const URL: &str = "https://ehr.example.org/fhir/Patient";

/// A nonce policy that accepts one fixed nonce.
pub struct Fixed(pub &'static str);

impl NoncePolicy for Fixed {
    fn accepts(&self, nonce: &str, _now: i64) -> bool {
        nonce == self.0
    }
    fn current(&self, _now: i64) -> String {
        self.0.into()
    }
}

pub fn client() -> DpopKey {
    DpopKey::from_bytes(&[0x11; 32]).unwrap()
}

fn verify_at(proof: &str, request: &ProofRequest<'_>, now: i64) -> Result<VerifiedProof, Error> {
    dpop::verify(
        proof,
        request,
        &DpopValidation::default(),
        &RustCrypto,
        &MemoryReplayCache::new(),
        now,
    )
}

fn verify(proof: &str, method: &str, url: &str) -> Result<VerifiedProof, Error> {
    verify_at(proof, &ProofRequest::new(method, url), NOW)
}

fn proof(method: &str, url: &str) -> String {
    client()
        .proof(method, url, None, None, NOW, &mut TestRng(9))
        .unwrap()
}

/// A proof signed by `signer` with header `{typ, jwk}` and claims `{jti, htm, htu,
/// iat}`, each then changed by the `header`/`claims` objects (null removes).
fn custom(signer: &dyn Signer, header: Value, claims: Value) -> String {
    let mut h = Map::new();
    h.insert("typ".into(), "dpop+jwt".into());
    h.insert(
        "jwk".into(),
        Value::Object(signer.public_key().to_jwk_members()),
    );
    let mut c = json!({"jti": "j-1", "htm": "GET", "htu": URL, "iat": NOW})
        .as_object()
        .unwrap()
        .clone();
    for (target, changes) in [(&mut h, header), (&mut c, claims)] {
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                target.remove(k);
            } else {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    sign_compact(&h, &serde_json::to_vec(&c).unwrap(), signer).unwrap()
}

fn client_signer() -> EcdsaP256Signer {
    EcdsaP256Signer::from_bytes(&[0x11; 32]).unwrap()
}

fn ok(header: Value, claims: Value) -> VerifiedProof {
    verify(&custom(&client_signer(), header, claims), "GET", URL).unwrap()
}

fn refused(header: Value, claims: Value) -> &'static str {
    code(verify(
        &custom(&client_signer(), header, claims),
        "GET",
        URL,
    ))
}

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

/// (htu in the proof, request URL) pairs that must match.
const HTU_MATCH: &[(&str, &str)] = &[
    ("https://ehr.example.org/fhir/Patient", URL),
    (
        "https://ehr.example.org/fhir/Patient",
        "https://ehr.example.org/fhir/Patient?name=x",
    ),
    (
        "https://ehr.example.org/fhir/Patient",
        "https://ehr.example.org/fhir/Patient#frag",
    ),
    (
        "https://ehr.example.org/fhir/Patient?a=1#b",
        "https://ehr.example.org/fhir/Patient?c=2",
    ),
    ("HTTPS://EHR.Example.ORG/fhir/Patient", URL),
    ("https://ehr.example.org:443/fhir/Patient", URL),
    ("https://ehr.example.org:/fhir/Patient", URL),
    ("https://ehr.example.org:0443/fhir/Patient", URL),
    ("http://ehr.example.org:80/", "http://ehr.example.org"),
    ("http://ehr.example.org", "http://ehr.example.org/"),
    ("https://ehr.example.org/fhir/%50atient", URL),
    (
        "https://ehr.example.org/fhir/%7euser",
        "https://ehr.example.org/fhir/~user",
    ),
    (
        "https://ehr.example.org/fhir/a%2fb",
        "https://ehr.example.org/fhir/a%2Fb",
    ),
    (
        "https://ehr.example.org/fhir/a%c3%a9",
        "https://ehr.example.org/fhir/a%C3%A9",
    ),
    (
        "https://ehr.example.org/fhir/a\u{e9}",
        "https://ehr.example.org/fhir/a%C3%A9",
    ),
    (
        "https://ehr.example.org/fhir/a b",
        "https://ehr.example.org/fhir/a%20b",
    ),
    ("https://ehr.example.org/fhir/./x/../Patient", URL),
    ("https://ehr.example.org/fhir/%2E%2E/fhir/Patient", URL),
    ("https://%65hr.example.org/fhir/Patient", URL),
    (
        "http://[::1]:8080/fhir",
        "http://[0:0:0:0:0:0:0:1]:8080/fhir",
    ),
    ("http://[::1]/fhir", "http://[::1]:80/fhir"),
    (
        "https://[2001:DB8::1]/",
        "https://[2001:db8:0:0:0:0:0:1]:443/",
    ),
    ("http://[::ffff:192.0.2.1]/", "http://[::ffff:c000:201]/"),
    ("http://127.0.0.1:80/x", "http://127.0.0.1/x"),
];

/// Pairs that must not match.
const HTU_MISMATCH: &[(&str, &str)] = &[
    ("http://ehr.example.org/fhir/Patient", URL),
    ("https://ehr.example.org:8443/fhir/Patient", URL),
    (
        "https://ehr.example.org:443/fhir/Patient",
        "http://ehr.example.org:443/fhir/Patient",
    ),
    ("https://ehr.example.org/fhir/patient", URL),
    ("https://ehr.example.org/FHIR/Patient", URL),
    ("https://ehr.example.org/fhir/Patient/", URL),
    ("https://ehr.example.org/fhir/Patient/1", URL),
    ("https://ehr.example.org/fhir", URL),
    (
        "https://ehr.example.org/fhir/a%2Fb",
        "https://ehr.example.org/fhir/a/b",
    ),
    (
        "https://ehr.example.org/fhir/~user",
        "https://ehr.example.org/fhir/%7Fuser",
    ),
    ("https://other.example.org/fhir/Patient", URL),
    ("https://ehr.example.org./fhir/Patient", URL),
    ("https://ehr.example.org/fhir//Patient", URL),
    ("http://[::1]/", "http://[::2]/"),
    ("http://[::1]/", "http://127.0.0.1/"),
    ("https://ehr.example.org/fhir/Patient;v=1", URL),
];

/// `htu` values that are not absolute http(s) URLs.
const HTU_INVALID: &[&str] = &[
    "",
    "/fhir/Patient",
    "ehr.example.org/fhir/Patient",
    "ftp://ehr.example.org/fhir/Patient",
    "wss://ehr.example.org/",
    "https:ehr.example.org/fhir",
    "https:/ehr.example.org/fhir",
    "https:///fhir",
    "https://",
    "https://user@ehr.example.org/fhir/Patient",
    "https://user:pw@ehr.example.org/",
    "https://ehr.example.org:99999/",
    "https://ehr.example.org:8a/",
    "https://ehr.example.org:-1/",
    "https://[::1/",
    "https://[fe80::1%25eth0]/",
    "https://[v1.x]/",
    "https://[::1]x/",
    "https://[1:2:3:4:5:6:7:8:9]/",
    "https://ehr example.org/",
    "https://ehr\"example.org/",
    "https://ehr.example.org/fhir/%zz",
    "https://ehr.example.org/fhir/%4",
    "https://ehr.example.org/fhir/%",
];

#[test]
fn htu_normalisation_must_match() {
    for &(htu, url) in HTU_MATCH {
        let a = dpop::normalize_htu(htu).unwrap_or_else(|e| panic!("{htu}: {e}"));
        let b = dpop::normalize_htu(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(a, b, "{htu} vs {url}");
        // And through a signed proof.
        let p = custom(&client_signer(), json!({}), json!({ "htu": htu }));
        verify(&p, "GET", url).unwrap_or_else(|e| panic!("{htu} vs {url}: {e}"));
    }
}

#[test]
fn htu_normalisation_must_not_match() {
    for &(htu, url) in HTU_MISMATCH {
        assert_ne!(
            dpop::normalize_htu(htu).unwrap(),
            dpop::normalize_htu(url).unwrap(),
            "{htu} vs {url}"
        );
        let p = custom(&client_signer(), json!({}), json!({ "htu": htu }));
        assert_eq!(
            code(verify(&p, "GET", url)),
            "ERR_DPOP_HTU_MISMATCH",
            "{htu} vs {url}"
        );
    }
}

#[test]
fn htu_invalid() {
    for &htu in HTU_INVALID {
        assert_eq!(
            code(dpop::normalize_htu(htu)),
            "ERR_DPOP_HTU_INVALID",
            "{htu}"
        );
        let p = custom(&client_signer(), json!({}), json!({ "htu": htu }));
        assert_eq!(
            code(verify(&p, "GET", URL)),
            "ERR_DPOP_HTU_INVALID",
            "{htu}"
        );
        // The same string as the request URL is the caller's error.
        assert_eq!(
            code(verify(&proof("GET", URL), "GET", htu)),
            "ERR_INVALID_ARGUMENT",
            "{htu}"
        );
    }
    let long = format!("https://ehr.example.org/{}", "a".repeat(dpop::MAX_URL_LEN));
    assert_eq!(code(dpop::normalize_htu(&long)), "ERR_DPOP_HTU_INVALID");
    assert_eq!(
        dpop::normalize_htu("HTTP://EHR.example.org:80/a/%7e/b/../c?q#f").unwrap(),
        "http://ehr.example.org/a/~/c"
    );
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

#[test]
fn replay() {
    let cache = MemoryReplayCache::new();
    let run = |p: &str, now: i64| {
        dpop::verify(
            p,
            &ProofRequest::new("GET", URL),
            &DpopValidation::default(),
            &RustCrypto,
            &cache,
            now,
        )
    };
    let p = proof("GET", URL);
    run(&p, NOW).unwrap();
    assert_eq!(code(run(&p, NOW)), "ERR_DPOP_REPLAY");
    assert_eq!(code(run(&p, NOW + 60)), "ERR_DPOP_REPLAY");
    assert_eq!(code(run(&p, NOW + 61)), "ERR_DPOP_IAT_STALE");
    // The same jti under another key is another proof.
    let other = DpopKey::from_bytes(&[0x22; 32])
        .unwrap()
        .proof_with_jti("GET", URL, None, None, NOW, "j-shared")
        .unwrap();
    let mine = client()
        .proof_with_jti("GET", URL, None, None, NOW, "j-shared")
        .unwrap();
    run(&other, NOW).unwrap();
    run(&mine, NOW).unwrap();
    // The same key and jti in a fresh proof (another URL) is a replay.
    let again = client()
        .proof_with_jti(
            "GET",
            "https://ehr.example.org/fhir/Patient",
            None,
            None,
            NOW + 1,
            "j-shared",
        )
        .unwrap();
    assert_eq!(code(run(&again, NOW + 1)), "ERR_DPOP_REPLAY");
}

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

#[test]
fn dpop_key() {
    let key = client();
    let jwk = Jwk::from_map(key.public_jwk()).unwrap();
    assert_eq!(jwk.thumbprint(), key.thumbprint());
    assert!(!key.public_jwk().contains_key("d"));
    let mut rng = TestRng(42);
    let a = key
        .proof(
            "GET",
            "https://ehr.example.org/fhir/Patient?x=1#y",
            Some("tok"),
            Some("n"),
            NOW,
            &mut rng,
        )
        .unwrap();
    let b = key.proof("GET", URL, None, None, NOW, &mut rng).unwrap();
    let jws = Jws::parse(&a).unwrap();
    assert_eq!(jws.header().typ(), Some("dpop+jwt"));
    assert_eq!(jws.header().alg(), Algorithm::Es256);
    assert_eq!(
        jws.header().raw()["jwk"],
        Value::Object(key.public_jwk().clone())
    );
    let claims: Value = serde_json::from_slice(jws.payload()).unwrap();
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["htu"], URL, "query and fragment dropped");
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["ath"], dpop::access_token_hash("tok"));
    assert_eq!(claims["nonce"], "n");
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(
        base64url::decode(jti.as_bytes()).unwrap().len(),
        16,
        "128 bits"
    );
    let jti_b: Value = serde_json::from_slice(Jws::parse(&b).unwrap().payload()).unwrap();
    assert_ne!(jti_b["jti"], claims["jti"]);
    assert!(jti_b.get("ath").is_none() && jti_b.get("nonce").is_none());
    // Generated keys differ and verify.
    let g = DpopKey::generate(&mut TestRng(5));
    assert_ne!(g.thumbprint(), key.thumbprint());
    let p = g.proof("DELETE", URL, None, None, NOW, &mut rng).unwrap();
    assert_eq!(verify(&p, "DELETE", URL).unwrap().jkt(), g.thumbprint());
    // Refusals.
    assert_eq!(code(DpopKey::from_bytes(&[0; 32])), "ERR_INVALID_ARGUMENT");
    assert_eq!(code(DpopKey::from_bytes(&[1; 31])), "ERR_INVALID_ARGUMENT");
    for bad_method in ["", "GE T", "GET\n", "GÉT"] {
        assert_eq!(
            code(key.proof_with_jti(bad_method, URL, None, None, NOW, "j")),
            "ERR_INVALID_ARGUMENT"
        );
    }
    assert_eq!(
        code(key.proof_with_jti("GET", URL, None, None, NOW, "")),
        "ERR_INVALID_ARGUMENT"
    );
    assert_eq!(
        code(key.proof_with_jti("GET", "/relative", None, None, NOW, "j")),
        "ERR_DPOP_HTU_INVALID"
    );
}

#[test]
fn memory_replay_cache_is_bounded_and_fails_closed() {
    let cache = MemoryReplayCache::with_capacity(2);
    assert_eq!(cache.capacity(), 2);
    assert!(cache.is_empty());
    assert!(cache.check_and_insert("a", 100, 10).unwrap());
    assert!(!cache.check_and_insert("a", 100, 10).unwrap());
    assert!(cache.check_and_insert("b", 50, 10).unwrap());
    // Full of live entries: refused, never accepted.
    assert_eq!(
        code(cache.check_and_insert("c", 100, 10)),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    assert_eq!(cache.len(), 2);
    // An entry is live up to and including its expiry.
    assert!(!cache.check_and_insert("b", 50, 50).unwrap());
    assert_eq!(
        code(cache.check_and_insert("c", 100, 50)),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    // After b expires it is evicted and c fits; b is new again.
    assert!(cache.check_and_insert("c", 100, 51).unwrap());
    assert_eq!(cache.len(), 2);
    assert!(!cache.check_and_insert("a", 100, 51).unwrap());
    // Everything expired: evicted on the next call.
    assert!(cache.check_and_insert("b", 200, 101).unwrap());
    assert_eq!(cache.len(), 1);
    // An entry already past its expiry is answered "first use" and not stored.
    assert!(cache.check_and_insert("old", 5, 101).unwrap());
    assert!(cache.check_and_insert("old", 5, 101).unwrap());
    assert_eq!(cache.len(), 1);
    // Zero capacity refuses everything live.
    assert_eq!(
        code(MemoryReplayCache::with_capacity(0).check_and_insert("a", 1, 0)),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    assert_eq!(
        MemoryReplayCache::new().capacity(),
        dpop::DEFAULT_REPLAY_CAPACITY
    );
}

/// A shared replay store that is down: every call fails, as a `ReplayCache`
/// implementation must (fail closed, with the dedicated code).
pub struct DownStore;

impl ReplayCache for DownStore {
    fn check_and_insert(&self, _key: &str, _expires_at: i64, _now: i64) -> Result<bool, Error> {
        Err(DpopError::ReplayStoreUnavailable.into())
    }
}

#[test]
fn replay_store_that_cannot_answer() {
    let p = proof("GET", URL);
    let request = ProofRequest::new("GET", URL);
    let with = |store: &dyn ReplayCache| {
        dpop::verify(
            &p,
            &request,
            &DpopValidation::default(),
            &RustCrypto,
            store,
            NOW,
        )
    };
    // A store that failed: its own code, not "cache full".
    assert_eq!(code(with(&DownStore)), "ERR_DPOP_REPLAY_STORE_UNAVAILABLE");
    let e = with(&DownStore).unwrap_err();
    assert_eq!(e, Error::Dpop(DpopError::ReplayStoreUnavailable), "{e}");
    assert_eq!(
        e.to_string(),
        "DPoP replay store did not answer; proof refused"
    );
    // The built-in cache with no room is still "cache full".
    assert_eq!(
        code(with(&MemoryReplayCache::with_capacity(0))),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    // Both are the server's fault; a replay is the client's.
    assert!(DpopError::ReplayStoreUnavailable.is_server_error());
    assert!(DpopError::ReplayCacheFull.is_server_error());
    assert!(!DpopError::Replay.is_server_error());
    // The proof was never recorded: a working store takes it afterwards.
    let cache = MemoryReplayCache::new();
    with(&cache).unwrap();
    assert_eq!(code(with(&cache)), "ERR_DPOP_REPLAY");
}

#[test]
fn memory_replay_cache_at_capacity_churn() {
    // 100k live entries, then steady churn: each call evicts one expired entry.
    let cache = MemoryReplayCache::new();
    for i in 0..dpop::DEFAULT_REPLAY_CAPACITY as i64 {
        assert!(
            cache
                .check_and_insert(&dpop::replay_key("k", &i.to_string()), i, 0)
                .unwrap()
        );
    }
    assert_eq!(
        code(cache.check_and_insert("extra", 10, 0)),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    for i in 0..1000i64 {
        let key = dpop::replay_key("k2", &i.to_string());
        assert!(cache.check_and_insert(&key, 1_000_000, i + 1).unwrap());
        assert!(!cache.check_and_insert(&key, 1_000_000, i + 1).unwrap());
    }
    assert_eq!(cache.len(), dpop::DEFAULT_REPLAY_CAPACITY);
}

#[test]
fn memory_replay_cache_is_shared_across_threads() {
    let cache = Arc::new(MemoryReplayCache::new());
    let firsts: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let cache = Arc::clone(&cache);
                s.spawn(move || {
                    (0..500)
                        .filter(|i| cache.check_and_insert(&format!("key-{i}"), 100, 0).unwrap())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(firsts, 500, "each key is a first use exactly once");
}

#[test]
fn bad_input_never_panics() {
    let big = "a".repeat(1 << 20);
    for input in [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        big.clone(),
        format!("{big}.{big}.{big}"),
        "\u{0}\u{ffff}".into(),
        "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.".into(),
    ] {
        assert!(verify(&input, "GET", URL).is_err());
        let _ = dpop::normalize_htu(&input);
    }
}

mod props {
    use proptest::prelude::*;

    use super::*;

    fn url_strategy() -> impl Strategy<Value = String> {
        (
            prop::bool::ANY,
            "[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?(\\.[a-z]{2,6}){0,2}",
            prop::option::of(1u16..=65535),
            proptest::collection::vec("([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-F]{2}){0,10}", 0..4),
            prop::option::of("[a-z0-9=&]{0,10}"),
        )
            .prop_map(|(tls, host, port, segments, query)| {
                let mut u = format!("{}://{host}", if tls { "https" } else { "http" });
                if let Some(p) = port {
                    u.push_str(&format!(":{p}"));
                }
                for s in segments {
                    u.push('/');
                    u.push_str(&s);
                }
                if let Some(q) = query {
                    u.push('?');
                    u.push_str(&q);
                }
                u
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Proofs made by DpopKey for random methods, URLs and tokens verify; a change to
        /// any byte of the proof, or to the method, URL path or token, is refused.
        #[test]
        fn made_proofs_verify_and_mutations_fail(
            seed in 1u64..u64::MAX,
            method in "[A-Z]{1,8}",
            url in url_strategy(),
            token in prop::option::of("[A-Za-z0-9._~+/-]{1,40}"),
            pos in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let key = DpopKey::generate(&mut TestRng(seed));
            let p = key.proof(&method, &url, token.as_deref(), None, NOW, &mut TestRng(seed ^ 1)).unwrap();
            let mut req = ProofRequest::new(&method, &url);
            if let Some(t) = &token { req = req.access_token(t); }
            let ok = verify_at(&p, &req, NOW).unwrap();
            prop_assert_eq!(ok.jkt(), key.thumbprint());

            let mut bytes = p.clone().into_bytes();
            let i = pos.index(bytes.len());
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            if let Ok(mutated) = String::from_utf8(bytes) {
                prop_assert!(verify_at(&mutated, &req, NOW).is_err(), "mutation at {} accepted", i);
            }
            let other_method = format!("{method}X");
            let mut r2 = ProofRequest::new(&other_method, &url);
            if let Some(t) = &token { r2 = r2.access_token(t); }
            prop_assert!(verify_at(&p, &r2, NOW).is_err());
            let base = url.split(['?', '#']).next().unwrap();
            let other_url = format!("{base}/x");
            let mut r3 = ProofRequest::new(&method, &other_url);
            if let Some(t) = &token { r3 = r3.access_token(t); }
            prop_assert_eq!(code(verify_at(&p, &r3, NOW)), "ERR_DPOP_HTU_MISMATCH");
            let other_token = format!("{}x", token.as_deref().unwrap_or(""));
            prop_assert!(verify_at(&p, &req.access_token(&other_token), NOW).is_err());
        }

        /// Case, default ports, percent-encoding of unreserved characters, query and
        /// fragment do not change the normalised URL.
        #[test]
        fn equivalent_urls_normalise_alike(url in url_strategy(), frag in "[a-z]{0,5}") {
            let n = dpop::normalize_htu(&url).unwrap();
            let (scheme, rest) = url.split_once("://").unwrap();
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let path = path.split('?').next().unwrap();
            let default = if scheme == "http" { ":80" } else { ":443" };
            let authority = if authority.contains(':') { authority.to_owned() } else { format!("{authority}{default}") };
            // Percent-encode letters and digits (lower-case hex), leaving existing
            // escapes alone.
            let mut encoded = String::new();
            let mut skip = 0;
            for c in path.chars() {
                if skip > 0 { skip -= 1; encoded.push(c); continue; }
                if c == '%' { skip = 2; }
                if c.is_ascii_alphanumeric() { encoded.push_str(&format!("%{:02x}", c as u32)); } else { encoded.push(c); }
            }
            let variant = format!("{}://{}{encoded}?z#{frag}", scheme.to_uppercase(), authority.to_uppercase());
            prop_assert_eq!(dpop::normalize_htu(&variant).unwrap(), n);
        }

        /// Any string: an answer, never a panic.
        #[test]
        fn arbitrary_input(s in ".{0,300}", method in ".{0,8}") {
            let _ = dpop::normalize_htu(&s);
            let _ = verify(&s, &method, URL);
            let _ = verify(&proof("GET", URL), &method, &s);
        }
    }
}

/// The sans-IO builder with the signature made elsewhere gives the very proof
/// `DpopKey` makes (ES256 with RFC 6979 nonces is deterministic), and it verifies.
#[test]
fn proof_signing_input_with_an_external_signer() {
    use smartgate_core::dpop::{ProofParams, proof_signing_input};
    let secret = [9u8; 32];
    let key = DpopKey::from_bytes(&secret).unwrap();
    let url = "https://ehr.example.org/fhir/Patient?_id=1#x";
    let params = ProofParams {
        method: "GET",
        url,
        access_token: Some("tok"),
        nonce: Some("n1"),
        iat: NOW,
        jti: "jti-1",
    };
    let input = proof_signing_input(key.public_jwk(), Algorithm::Es256, &params).unwrap();
    let external = EcdsaP256Signer::from_bytes(&secret).unwrap();
    let proof = format!(
        "{input}.{}",
        base64url::encode(&external.sign(input.as_bytes()).unwrap())
    );
    assert_eq!(
        proof,
        key.proof_with_jti("GET", url, Some("tok"), Some("n1"), NOW, "jti-1")
            .unwrap()
    );
    // Refusals come from the same rules.
    let bad = ProofParams {
        method: "GE T",
        ..params
    };
    assert_eq!(
        code(proof_signing_input(
            key.public_jwk(),
            Algorithm::Es256,
            &bad
        )),
        "ERR_INVALID_ARGUMENT"
    );
    let bad = ProofParams {
        url: "/relative",
        ..params
    };
    assert_eq!(
        code(proof_signing_input(
            key.public_jwk(),
            Algorithm::Es256,
            &bad
        )),
        "ERR_DPOP_HTU_INVALID"
    );
    assert_eq!(
        code(proof_signing_input(
            key.public_jwk(),
            Algorithm::Es384,
            &params
        )),
        "ERR_JWK_ALG_MISMATCH"
    );
}
