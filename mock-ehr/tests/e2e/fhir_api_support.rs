//! Helpers for the FHIR API tests: a server with FHIR settings, tokens from the mock's
//! own authorization server (auto-approved code flow, SMART Backend Services), DPoP
//! proofs, requests under `/fhir`, and the ids the built-in data set must give.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use mock_ehr::{ClientAuthMethod, ClientConfig, Config, MockEhr, MockEhrBuilder};
use serde_json::{Value, json};
use smartgate_core::dpop::DpopKey;
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::ring::RingSigner;

use crate::support::{BASE, Ehr, NOW, REDIRECT, Resp, VERIFIER, assertion, jwks_of};

/// A public user-facing client the tests configure with the scopes they need.
pub const APP: &str = "fhir-app";
/// A SMART Backend Services client with its own ES384 key.
pub const BACKEND: &str = "fhir-backend";
pub const BACKEND_KID: &str = "fhir-backend-es384";
pub const TOKEN_URL: &str = "http://127.0.0.1:8080/token";
pub const LAB: &str = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
pub const VITALS: &str = "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs";

/// Every scope the tests ask for; the test clients may be granted any of them.
pub const APP_SCOPES: &str = "openid fhirUser launch launch/patient offline_access \
    patient/*.read patient/*.rs patient/*.cruds patient/*.write patient/*.* \
    patient/Observation.rs patient/Observation.r patient/Observation.s \
    patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory \
    patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs \
    patient/Observation.crus patient/Observation.cruds patient/Observation.c patient/Observation.u patient/Observation.d \
    patient/Condition.rs patient/Encounter.rs patient/Patient.rs patient/Patient.read patient/Group.rs \
    patient/Immunization.rs patient/MedicationRequest.read patient/AllergyIntolerance.rs \
    user/*.read user/*.rs user/*.cruds user/Observation.rs user/Patient.rs user/Practitioner.rs user/Group.rs \
    user/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

pub const BACKEND_SCOPES: &str = "system/*.rs system/*.read system/*.cruds \
    system/Observation.rs system/Patient.rs system/Patient.read system/Group.rs system/Group.r \
    system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

/// The ES384 key of [`BACKEND`] (generated once per test binary run).
pub fn backend_signer() -> &'static RingSigner {
    static KEY: std::sync::OnceLock<RingSigner> = std::sync::OnceLock::new();
    KEY.get_or_init(|| RingSigner::generate_ecdsa(Algorithm::Es384).unwrap().0)
}

pub fn app_client() -> ClientConfig {
    ClientConfig {
        client_id: APP.into(),
        auth: ClientAuthMethod::None,
        redirect_uris: vec![REDIRECT.into()],
        origins: vec!["http://localhost:4000".into()],
        scope: APP_SCOPES.into(),
        ..ClientConfig::default()
    }
}

pub fn backend_client() -> ClientConfig {
    ClientConfig {
        client_id: BACKEND.into(),
        auth: ClientAuthMethod::PrivateKeyJwt,
        jwks: Some(jwks_of(backend_signer(), BACKEND_KID)),
        scope: BACKEND_SCOPES.into(),
        ..ClientConfig::default()
    }
}

/// The configuration of every FHIR test server: the built-ins plus [`APP`] and
/// [`BACKEND`].
pub fn config() -> Config {
    Config {
        clients: vec![app_client(), backend_client()],
        ..Config::default()
    }
}

/// A builder over a clock pinned at [`NOW`], auto-approving, with [`config`].
pub fn builder() -> MockEhrBuilder {
    MockEhr::builder()
        .config(config())
        .auto_approve(true)
        .time_source(Arc::new(|| NOW))
}

/// A server from `builder` (see [`builder`]).
pub fn ehr_from(builder: MockEhrBuilder) -> Ehr {
    let state = builder.build_state(BASE).unwrap();
    let app = mock_ehr::app(state.clone());
    Ehr { state, app }
}

/// The default FHIR test server: bulk exports complete at once.
pub fn ehr() -> Ehr {
    ehr_from(builder().export_polls(0))
}

/// An access token of [`APP`] with `scope`, through the auto-approved code flow
/// (PKCE), for the user or patient `login_hint` names (`jane.doe`, `Patient/pat-003`;
/// none: dr.smith, and pat-001 when a patient is picked).
pub async fn app_token(ehr: &Ehr, scope: &str, login_hint: Option<&str>) -> Value {
    let extra: Vec<(&str, &str)> = login_hint.map(|h| ("login_hint", h)).into_iter().collect();
    let code = ehr.code(APP, scope, &extra).await;
    let res = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", APP),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let t = res.json();
    assert_eq!(
        t["scope"], scope,
        "the test client may be granted every scope it asks for"
    );
    t
}

/// Just the access token of [`app_token`].
pub async fn app_access(ehr: &Ehr, scope: &str, login_hint: Option<&str>) -> String {
    app_token(ehr, scope, login_hint).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

static JTI: AtomicU64 = AtomicU64::new(1);

/// A fresh `jti`.
pub fn jti() -> String {
    format!("jti-{}", JTI.fetch_add(1, Ordering::Relaxed))
}

/// A SMART Backend Services token of [`BACKEND`] with `scope` (client_credentials with
/// a `private_key_jwt` assertion).
pub async fn backend_access(ehr: &Ehr, scope: &str) -> String {
    let a = assertion(
        backend_signer(),
        BACKEND_KID,
        BACKEND,
        TOKEN_URL,
        ehr.now(),
        &jti(),
        300,
    );
    let res = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let t = res.json();
    assert_eq!(t["scope"], scope);
    t["access_token"].as_str().unwrap().to_string()
}

/// The DPoP key of the tests.
pub fn dpop_key() -> DpopKey {
    DpopKey::from_bytes(&[7u8; 32]).unwrap()
}

/// A DPoP-bound token minted by `POST /_admin/tokens` (the token endpoint's DPoP
/// support is another branch's work).
pub async fn dpop_access(ehr: &Ehr, key: &DpopKey, body: Value) -> String {
    let mut body = body;
    body["jkt"] = key.thumbprint().into();
    let res = ehr.post_json("/_admin/tokens", body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let t = res.json();
    assert_eq!(t["token_type"], "DPoP");
    t["access_token"].as_str().unwrap().to_string()
}

/// A proof for `method` on `{BASE}/fhir/{path}` bound to `token`.
pub fn proof(ehr: &Ehr, key: &DpopKey, method: &str, path: &str, token: &str) -> String {
    let url = format!("{BASE}/fhir/{path}");
    key.proof_with_jti(method, &url, Some(token), None, ehr.now(), &jti())
        .unwrap()
}

/// One request to `/fhir/{path}`.
pub struct Call<'a> {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(&'a str, Vec<u8>)>,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, path: &str) -> Self {
        Self {
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: &str) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn json(self, body: &Value) -> Self {
        self.body("application/fhir+json", body.to_string().into_bytes())
    }

    pub fn body(mut self, content_type: &'a str, body: Vec<u8>) -> Self {
        self.body = Some((content_type, body));
        self
    }

    pub async fn send(self, ehr: &Ehr) -> Resp {
        let mut req = Request::builder()
            .method(self.method)
            .uri(format!("/fhir/{}", self.path));
        for (n, v) in &self.headers {
            req = req.header(n.as_str(), v.as_str());
        }
        let req = match self.body {
            Some((ct, body)) => req
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        ehr.send(req).await
    }
}

/// `GET /fhir/{path}` with a bearer token.
pub async fn get(ehr: &Ehr, token: &str, path: &str) -> Resp {
    Call::get(path).bearer(token).send(ehr).await
}

/// The `Type/id` of every entry of a searchset Bundle (matches and includes), sorted,
/// following `next` links.
pub async fn search_all(ehr: &Ehr, token: &str, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = Some(path.to_string());
    while let Some(p) = next.take() {
        let res = get(ehr, token, &p).await;
        assert_eq!(res.status, StatusCode::OK, "{p}: {}", res.text());
        let bundle = res.json();
        out.extend(entry_refs(&bundle));
        next = bundle["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .map(|l| {
                l["url"]
                    .as_str()
                    .unwrap()
                    .strip_prefix(&format!("{BASE}/fhir/"))
                    .unwrap()
                    .to_string()
            });
    }
    out.sort();
    out
}

/// The `Type/id` of a Bundle's entries, in order.
pub fn entry_refs(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["resource"]["resourceType"].as_str().unwrap(),
                        e["resource"]["id"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts an OperationOutcome with `status` and issue `code`; returns the body.
pub fn assert_outcome(res: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(res.status.as_u16(), status, "{}", res.text());
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/fhir+json"),
    );
    let body = res.json();
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    assert_eq!(body["issue"][0]["code"], code, "{body}");
    assert_eq!(body["issue"][0]["severity"], "error", "{body}");
    body
}

/// `Type/id` strings.
pub fn refs(ty: &str, ids: &[String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|id| format!("{ty}/{id}")).collect();
    v.sort();
    v
}

// The built-in data set's rules (DATASET: patient n, NNN its three digits).

pub const PATIENTS: usize = 24;

fn nnn(n: usize) -> String {
    format!("{n:03}")
}

pub fn encounters(n: usize) -> Vec<String> {
    (1..=1 + n % 3)
        .map(|j| format!("enc-{}-{j}", nnn(n)))
        .collect()
}

pub fn labs(n: usize) -> Vec<String> {
    ["cre", "glu", "hgb"]
        .iter()
        .map(|l| format!("obs-{}-1-{l}", nnn(n)))
        .collect()
}

pub fn vitals(n: usize) -> Vec<String> {
    (1..=1 + n % 3)
        .flat_map(|j| {
            ["hr", "ht", "sbp", "wt"]
                .iter()
                .map(move |v| format!("obs-{}-{j}-{v}", nnn(n)))
        })
        .collect()
}

pub fn observations(n: usize) -> Vec<String> {
    let mut v = labs(n);
    v.extend(vitals(n));
    v.sort();
    v
}

pub fn conditions(n: usize) -> Vec<String> {
    (1..=1 + n % 2)
        .map(|j| format!("cond-{}-{j}", nnn(n)))
        .collect()
}

pub fn medreqs(n: usize) -> Vec<String> {
    (1..=1 + n % 2)
        .map(|j| format!("medreq-{}-{j}", nnn(n)))
        .collect()
}

pub fn immunizations(n: usize) -> Vec<String> {
    let mut v = vec![format!("imm-{}-flu", nnn(n))];
    if n.is_multiple_of(3) {
        v.push(format!("imm-{}-covid", nnn(n)));
    }
    if n.is_multiple_of(4) {
        v.push(format!("imm-{}-tdap", nnn(n)));
    }
    v.sort();
    v
}

pub fn allergies(n: usize) -> Vec<String> {
    if n.is_multiple_of(2) {
        vec![format!("allergy-{}-1", nnn(n))]
    } else {
        Vec::new()
    }
}

pub fn all_patients() -> Vec<String> {
    (1..=PATIENTS).map(|n| format!("pat-{}", nnn(n))).collect()
}

/// Every resource of the compartment of patient `n` (Patient included), as `Type/id`.
pub fn compartment(n: usize) -> Vec<String> {
    let mut v = vec![format!("Patient/pat-{}", nnn(n))];
    v.extend(refs("Encounter", &encounters(n)));
    v.extend(refs("Observation", &observations(n)));
    v.extend(refs("Condition", &conditions(n)));
    v.extend(refs("MedicationRequest", &medreqs(n)));
    v.extend(refs("Immunization", &immunizations(n)));
    v.extend(refs("AllergyIntolerance", &allergies(n)));
    v.sort();
    v
}

/// An Observation for patient `patient` (a minimal valid one).
pub fn new_observation(patient: &str, category: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": category,
        }]}],
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8867-4" }] },
        "subject": { "reference": format!("Patient/{patient}") },
        "valueQuantity": { "value": 72, "unit": "/min" },
    })
}
