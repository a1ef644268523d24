//! Shared fixtures for the benchmarks: the same keys and tokens for every contender.

use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use smartgate_core::base64url;
use smartgate_core::jwk::{Jwk, JwkSet, PublicKey};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::Validation;
use smartgate_core::provider::Signer;
use smartgate_core::provider::rustcrypto::EcdsaP256Signer;
use smartgate_core::sign::sign_jwt;

/// Issuer and audience of every token.
pub const ISS: &str = "https://ehr.example.org";
/// The audience.
pub const AUD: &str = "https://ehr.example.org/fhir";

const RFC7515_A2: &str = include_str!("../../tests/data/rfc7515_a2_rs256.json");

/// One algorithm's fixture: a signed token and the verifier's view of the key.
pub struct Fixture {
    /// The compact JWT.
    pub token: String,
    /// A pre-parsed key set holding the public key (kid `k1`).
    pub keys: JwkSet,
    /// The public key as a JWK JSON object (for peers that import JWKs).
    pub jwk: Value,
    /// Seconds since the epoch at which the token is valid.
    pub now: i64,
}

/// The wall clock: jsonwebtoken reads it, so tokens must be valid now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn claims(now: i64) -> serde_json::Map<String, Value> {
    json!({
        "iss": ISS, "aud": AUD, "sub": "Practitioner/prac-001", "client_id": "demo-app",
        "exp": now + 3600, "iat": now, "jti": "4f1c6a3e-5b0d-4c53-9a8b-2f7c1d0e9a11",
        "scope": "launch/patient patient/Observation.rs patient/Patient.rs openid fhirUser",
        "patient": "pat-001", "fhirUser": "Practitioner/prac-001"
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn fixture(signer: &dyn Signer) -> Fixture {
    let now = now();
    let token = sign_jwt(&claims(now), Some("at+jwt"), Some("k1"), signer).expect("sign");
    let jwk = Jwk::new(signer.public_key(), Some("k1".into()), None).expect("jwk");
    let mut jwk_json = jwk.to_json();
    jwk_json.insert("alg".into(), signer.algorithm().name().into());
    Fixture {
        token,
        keys: JwkSet::new(vec![jwk]).expect("set"),
        jwk: Value::Object(jwk_json),
        now,
    }
}

/// An ES256 token and key.
pub fn es256() -> Fixture {
    fixture(&EcdsaP256Signer::from_bytes(&[7u8; 32]).expect("scalar"))
}

/// An RS256 token and the RFC 7515 A.2 key (2048 bits).
pub fn rs256() -> Fixture {
    fixture(&Rs256(rfc7515_a2_private()))
}

/// The validation every contender applies: issuer, audience, algorithm, `exp`.
pub fn validation(alg: Algorithm) -> Validation {
    Validation::new([ISS], [AUD]).algorithms(&[alg])
}

fn rfc7515_a2_private() -> RsaPrivateKey {
    let v: Value = serde_json::from_str(RFC7515_A2).expect("fixture");
    let int = |s: &Value| {
        rsa::BoxedUint::from_be_slice_vartime(
            &base64url::decode(s.as_str().unwrap_or("").as_bytes()).expect("b64"),
        )
    };
    RsaPrivateKey::from_components(
        int(&v["jwk"]["n"]),
        int(&v["jwk"]["e"]),
        int(&v["d"]),
        vec![],
    )
    .expect("rsa key")
}

struct Rs256(RsaPrivateKey);

impl Signer for Rs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Rs256
    }
    fn public_key(&self) -> PublicKey {
        let v: Value = serde_json::from_str(RFC7515_A2).expect("fixture");
        Jwk::from_value(&v["jwk"]).expect("jwk").key().clone()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, smartgate_core::Error> {
        self.0
            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
            .map_err(|_| smartgate_core::Error::SigningFailed)
    }
}

/// The peer's decoding key for a fixture.
pub fn peer_key(f: &Fixture) -> jsonwebtoken::DecodingKey {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(f.jwk.clone()).expect("peer jwk");
    jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("peer key")
}

/// The peer's validation, the same policy as [`validation`].
pub fn peer_validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_issuer(&[ISS]);
    v.set_audience(&[AUD]);
    v.leeway = 0;
    v
}
