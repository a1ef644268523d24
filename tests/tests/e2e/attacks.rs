//! The attack matrix. Each `attack_<row>` test asserts the exact error code the core
//! returns and, for network attacks, the OAuth error a running mock EHR answers.
//! The table of rows and where each is stopped: `tests/attacks.md` (and the README's
//! Security section).

mod dpop;
mod jose;
mod oauth;

use mock_ehr::{ClientAuthMethod, ClientConfig, Config, MockEhr};
use serde_json::{Map, Value, json};
use smartgate_core::jwk::{Jwk, JwkSet};
use smartgate_core::jwt::Validation;
use smartgate_core::provider::Signer;
use smartgate_core::provider::rustcrypto::EcdsaP256Signer;
use smartgate_core::sign::sign_compact;

pub const ISS: &str = "https://ehr.example.org";
pub const AUD: &str = "https://ehr.example.org/fhir";
pub const NOW: i64 = 1_700_000_000;

/// The issuer's signing key (ES256, kid `as-1`).
pub fn issuer() -> EcdsaP256Signer {
    EcdsaP256Signer::from_bytes(&[7; 32]).unwrap()
}

/// An attacker's key.
pub fn attacker() -> EcdsaP256Signer {
    EcdsaP256Signer::from_bytes(&[66; 32]).unwrap()
}

pub fn keys_of(signer: &dyn Signer, kid: &str) -> JwkSet {
    JwkSet::new(vec![
        Jwk::new(signer.public_key(), Some(kid.into()), None).unwrap(),
    ])
    .unwrap()
}

pub fn validation() -> Validation {
    Validation::new([ISS], [AUD])
}

pub fn claims() -> Map<String, Value> {
    json!({"iss": ISS, "aud": AUD, "sub": "Practitioner/1", "exp": NOW + 300, "iat": NOW, "jti": "j1",
           "scope": "patient/Observation.rs", "patient": "pat-001"})
    .as_object()
    .unwrap()
    .clone()
}

/// Signs `claims` with `signer` and header `header` (plus `alg`).
pub fn jwt(claims: &Map<String, Value>, header: Value, signer: &dyn Signer) -> String {
    sign_compact(
        header.as_object().unwrap(),
        &serde_json::to_vec(claims).unwrap(),
        signer,
    )
    .unwrap()
}

/// A compact JWS from raw header and claims and signature bytes.
pub fn raw(header: &str, claims: &Map<String, Value>, signature: &[u8]) -> String {
    use smartgate_core::base64url::encode;
    format!(
        "{}.{}.{}",
        encode(header.as_bytes()),
        encode(&serde_json::to_vec(claims).unwrap()),
        encode(signature)
    )
}

/// A running mock EHR with one `private_key_jwt` backend client, `backend`, whose
/// registered key is [`issuer`]'s (kid `as-1`): forged client assertions are the
/// network form of the token attacks.
pub async fn ehr() -> MockEhr {
    let backend = ClientConfig {
        client_id: "backend".into(),
        auth: ClientAuthMethod::PrivateKeyJwt,
        jwks: Some(keys_of(&issuer(), "as-1").to_json()),
        scope: "system/*.rs".into(),
        ..ClientConfig::default()
    };
    MockEhr::builder()
        .config(Config {
            clients: vec![backend],
            ..Config::default()
        })
        .auto_approve(true)
        .port(0)
        .spawn()
        .await
        .unwrap()
}

/// Seconds since the epoch, as the running mock EHR sees them.
pub fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims of a client assertion for `backend` at `ehr`'s token endpoint.
pub fn assertion_claims(ehr: &MockEhr, jti: &str) -> Map<String, Value> {
    let now = wall_clock();
    json!({"iss": "backend", "sub": "backend", "aud": format!("{}/token", ehr.base_url()),
           "exp": now + 240, "iat": now, "jti": jti})
    .as_object()
    .unwrap()
    .clone()
}

/// Presents `assertion` at the token endpoint (client_credentials); the OAuth error.
pub async fn token_error(ehr: &MockEhr, assertion: &str) -> String {
    let res = crate::http::post_form(
        &format!("{}/token", ehr.base_url()),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "system/*.rs"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ],
    )
    .await;
    if res.status.is_success() {
        String::from("(accepted)")
    } else {
        res.oauth_error()
    }
}

#[track_caller]
pub fn code<T: std::fmt::Debug>(r: Result<T, smartgate_core::Error>) -> &'static str {
    r.expect_err("the attack must be refused").code()
}
