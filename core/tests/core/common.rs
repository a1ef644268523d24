//! Keys and token builders shared by the test modules.

use serde_json::{Map, Value, json};
use smartgate_core::Error;
use smartgate_core::base64url;
use smartgate_core::jwk::{Jwk, JwkSet, PublicKey};
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::rustcrypto::RustCrypto;
use smartgate_core::provider::rustcrypto::{EcdsaP256Signer, EcdsaP384Signer};
use smartgate_core::provider::{Signer, Verifier};
use smartgate_core::sign::sign_compact;

pub const NOW: i64 = 1_700_000_000;
pub const ISS: &str = "https://ehr.example.org";
pub const AUD: &str = "https://ehr.example.org/fhir";

pub fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The RFC 7515 A.3 P-256 key.
pub fn es256() -> EcdsaP256Signer {
    let d = data("rfc7515_a3_es256.json")["d"]
        .as_str()
        .unwrap()
        .to_owned();
    EcdsaP256Signer::from_bytes(&base64url::decode(d.as_bytes()).unwrap()).unwrap()
}

/// A second, unrelated P-256 key.
pub fn es256_other() -> EcdsaP256Signer {
    EcdsaP256Signer::from_bytes(&[0x42; 32]).unwrap()
}

pub fn es384() -> EcdsaP384Signer {
    EcdsaP384Signer::from_bytes(&[0x17; 48]).unwrap()
}

/// RS256/PS256/... signing with the RFC 7515 A.2 RSA key, through the `rsa` crate.
pub struct RsaSigner {
    pub alg: Algorithm,
    key: rsa::RsaPrivateKey,
}

pub fn rsa(alg: Algorithm) -> RsaSigner {
    let v = data("rfc7515_a2_rs256.json");
    let int =
        |s: &str| rsa::BoxedUint::from_be_slice_vartime(&base64url::decode(s.as_bytes()).unwrap());
    let key = rsa::RsaPrivateKey::from_components(
        int(v["jwk"]["n"].as_str().unwrap()),
        int(v["jwk"]["e"].as_str().unwrap()),
        int(v["d"].as_str().unwrap()),
        vec![],
    )
    .unwrap();
    RsaSigner { alg, key }
}

impl Signer for RsaSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
    fn public_key(&self) -> PublicKey {
        Jwk::from_value(&data("rfc7515_a2_rs256.json")["jwk"])
            .unwrap()
            .key()
            .clone()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use rsa::{Pkcs1v15Sign, Pss};
        use sha2::{Digest, Sha256, Sha384, Sha512};
        let mut rng = TestRng(7);
        Ok(match self.alg {
            Algorithm::Rs256 => self
                .key
                .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message)),
            Algorithm::Rs384 => self
                .key
                .sign(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(message)),
            Algorithm::Rs512 => self
                .key
                .sign(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(message)),
            Algorithm::Ps256 => {
                self.key
                    .sign_with_rng(&mut rng, Pss::<Sha256>::new(), &Sha256::digest(message))
            }
            Algorithm::Ps384 => {
                self.key
                    .sign_with_rng(&mut rng, Pss::<Sha384>::new(), &Sha384::digest(message))
            }
            other => panic!("not an RSA algorithm: {other}"),
        }
        .unwrap())
    }
}

/// A deterministic RNG for tests (xorshift; not for real keys).
pub struct TestRng(pub u64);

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for TestRng {}

/// A JWK for a signer's public key, with a kid.
pub fn jwk_of(signer: &dyn Signer, kid: Option<&str>) -> Jwk {
    Jwk::new(signer.public_key(), kid.map(String::from), None).unwrap()
}

pub fn set(keys: Vec<Jwk>) -> JwkSet {
    JwkSet::new(keys).unwrap()
}

/// Good claims for [`ISS`]/[`AUD`], valid at [`NOW`].
pub fn claims() -> Map<String, Value> {
    json!({
        "iss": ISS, "aud": AUD, "sub": "Practitioner/1", "exp": NOW + 300, "iat": NOW - 10,
        "jti": "abc", "scope": "patient/Observation.rs"
    })
    .as_object()
    .unwrap()
    .clone()
}

/// Signs `claims` with `signer`, header `{alg, kid?}` plus `extra`.
pub fn token(
    claims: &Map<String, Value>,
    signer: &dyn Signer,
    kid: Option<&str>,
    extra: Value,
) -> String {
    let mut header = extra.as_object().cloned().unwrap_or_default();
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    sign_compact(&header, &serde_json::to_vec(claims).unwrap(), signer).unwrap()
}

/// A compact JWS from raw parts (for malformed-input tests).
pub fn raw_jws(header: &str, payload: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        base64url::encode(header.as_bytes()),
        base64url::encode(payload.as_bytes()),
        base64url::encode(signature)
    )
}

pub fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> &'static str {
    r.expect_err("expected an error").code()
}

/// Every verifier built in: `rustcrypto`, and `ring` when the feature is on (it is in
/// `cargo test --workspace`, where the mock EHR turns it on).
pub fn providers() -> Vec<(&'static str, Box<dyn Verifier>)> {
    vec![
        ("rustcrypto", Box::new(RustCrypto) as Box<dyn Verifier>),
        #[cfg(feature = "ring")]
        ("ring", Box::new(smartgate_core::provider::ring::Ring)),
    ]
}
