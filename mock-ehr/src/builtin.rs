//! The built-in clients, users and patients (one place, so tests and docs agree).
//!
//! | kind | id | details |
//! | --- | --- | --- |
//! | user | `dr.smith` / `password` | `Practitioner/prac-001` (the default user) |
//! | user | `dr.jones` / `password` | `Practitioner/prac-002` |
//! | user | `jane.doe` / `password` | `Patient/pat-001` (a patient using a portal app) |
//! | patients | `pat-001` .. `pat-020` | ids of the FHIR data layer; `pat-001` is the default |
//! | client | `demo-app` | public, PKCE, redirect `http://localhost:3000/callback` |
//! | client | `demo-confidential` | `client_secret_basic`, secret `demo-secret`, same redirect |
//! | client | `demo-backend` | `private_key_jwt` (ES384, key `keys/demo-backend-es384.pk8`, kid `demo-backend-es384`), system scopes |
//!
//! The private keys under `keys/` are public test keys: never use them for anything real.

use crate::config::{ClientAuthMethod, ClientConfig, UserConfig};

/// The default user of auto-approved requests.
pub const DEFAULT_USER: &str = "dr.smith";
/// The default patient of auto-approved standalone launches.
pub const DEFAULT_PATIENT: &str = "pat-001";
/// The password of every built-in user.
pub const PASSWORD: &str = "password";
/// The `kid` of the demo backend client's key.
pub const DEMO_BACKEND_KID: &str = "demo-backend-es384";
/// The demo backend client's ES384 private key (PKCS#8 DER): a public test key.
pub const DEMO_BACKEND_KEY: &[u8] = include_bytes!("../keys/demo-backend-es384.pk8");
/// The server's initial RSA id_token key (PKCS#8 DER, 2048 bits): a public test key,
/// shipped so that startup takes milliseconds (ring cannot generate RSA keys, and
/// generating one takes far longer).
pub const ID_TOKEN_RSA_KEY: &[u8] = include_bytes!("../keys/id-token-rsa2048.pk8");

/// Scopes the demo user-facing clients may be granted: SMART v1 and v2 forms.
pub const DEMO_APP_SCOPES: &str = "openid fhirUser profile launch launch/patient \
    launch/encounter offline_access online_access patient/*.read patient/*.rs \
    patient/*.cruds user/*.read user/*.rs user/*.cruds";

/// Scopes the demo backend client may be granted.
pub const DEMO_BACKEND_SCOPES: &str = "system/*.read system/*.rs";

/// The built-in users.
pub fn users() -> Vec<UserConfig> {
    [
        ("dr.smith", "Practitioner/prac-001", "Dr. Alice Smith"),
        ("dr.jones", "Practitioner/prac-002", "Dr. Bob Jones"),
        ("jane.doe", "Patient/pat-001", "Jane Doe"),
    ]
    .into_iter()
    .map(|(username, fhir_user, name)| UserConfig {
        username: username.into(),
        password: PASSWORD.into(),
        fhir_user: fhir_user.into(),
        name: Some(name.into()),
    })
    .collect()
}

/// The built-in patient ids, `pat-001` .. `pat-020`.
pub fn patients() -> Vec<String> {
    (1..=20).map(|n| format!("pat-{n:03}")).collect()
}

/// The built-in clients. `demo_backend_jwks` is the public JWK Set of
/// [`DEMO_BACKEND_KEY`] (computed by the caller through the core).
pub fn clients(demo_backend_jwks: serde_json::Value) -> Vec<ClientConfig> {
    let redirect = vec![
        "http://localhost:3000/callback".to_string(),
        "http://127.0.0.1:3000/callback".to_string(),
    ];
    let launch = vec![
        "http://localhost:3000/launch".to_string(),
        "http://127.0.0.1:3000/launch".to_string(),
    ];
    vec![
        ClientConfig {
            client_id: "demo-app".into(),
            name: Some("Demo SMART App".into()),
            auth: ClientAuthMethod::None,
            redirect_uris: redirect.clone(),
            launch_uris: launch.clone(),
            scope: DEMO_APP_SCOPES.into(),
            ..ClientConfig::default()
        },
        ClientConfig {
            client_id: "demo-confidential".into(),
            name: Some("Demo Confidential App".into()),
            auth: ClientAuthMethod::ClientSecretBasic,
            client_secret: Some("demo-secret".into()),
            redirect_uris: redirect,
            launch_uris: launch,
            scope: DEMO_APP_SCOPES.into(),
            ..ClientConfig::default()
        },
        ClientConfig {
            client_id: "demo-backend".into(),
            name: Some("Demo Backend Service".into()),
            auth: ClientAuthMethod::PrivateKeyJwt,
            jwks: Some(demo_backend_jwks),
            scope: DEMO_BACKEND_SCOPES.into(),
            ..ClientConfig::default()
        },
    ]
}
