//! `DpopKey`: the proofs it makes, and the same proof from an external signer.

use super::*;

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
