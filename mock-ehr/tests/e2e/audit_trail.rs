//! The audit trail: its hash chain (recomputed here from the documented canonical
//! form, and `GET /_admin/audit/verify` finding a changed, a removed and a reordered
//! entry at the right `seq`), its entries as FHIR `AuditEvent`s (read, search by date,
//! patient and outcome, who may see them), and no token, code, secret or assertion in
//! any of it after a full set of flows.

use axum::http::StatusCode;
use mock_ehr::{ClientAuthMethod, ClientConfig, Config};
use serde_json::{Value, json};

use crate::fhir_api_support::{app_client, get};
use crate::support::{Ehr, REDIRECT};

#[path = "audit_trail/chain.rs"]
mod chain;
#[path = "audit_trail/fhir.rs"]
mod fhir;
#[path = "audit_trail/secrets.rs"]
mod secrets;

const AUDITOR: &str = "auditor";

fn config() -> Config {
    Config {
        clients: vec![
            app_client(),
            ClientConfig {
                client_id: AUDITOR.into(),
                auth: ClientAuthMethod::None,
                redirect_uris: vec![REDIRECT.into()],
                scope: "fhirUser user/AuditEvent.rs user/AuditEvent.read user/AuditEvent.cruds \
                        user/AuditEvent.rs?outcome=4 patient/*.rs patient/AuditEvent.rs \
                        user/Patient.rs system/AuditEvent.rs"
                    .into(),
                ..ClientConfig::default()
            },
        ],
        ..Config::default()
    }
}

fn ehr() -> Ehr {
    Ehr::new(config(), true)
}

/// A token of [`AUDITOR`] from `POST /_admin/tokens`.
async fn mint(ehr: &Ehr, body: Value) -> String {
    let mut body = body;
    body["client_id"] = AUDITOR.into();
    let res = ehr.post_json("/_admin/tokens", body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["access_token"].as_str().unwrap().to_string()
}

async fn auditor(ehr: &Ehr) -> String {
    mint(
        ehr,
        json!({ "scope": "user/AuditEvent.rs", "user": "dr.smith", "expires_in": 86_400 }),
    )
    .await
}

/// A few flows: two patients' tokens, a refused code exchange.
async fn some_flows(ehr: &Ehr) {
    ehr.tokens("launch/patient patient/*.rs").await;
    ehr.code(
        "demo-app",
        "launch/patient patient/*.rs",
        &[("login_hint", "Patient/pat-002")],
    )
    .await;
    let res = ehr.exchange("not-a-code").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let t = ehr.tokens("launch/patient patient/*.rs").await;
    ehr.introspect(t["access_token"].as_str().unwrap()).await;
}

async fn verify(ehr: &Ehr) -> Value {
    let res = ehr.get("/_admin/audit/verify").await;
    assert_eq!(res.status, StatusCode::OK);
    res.json()
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|a| a.iter().map(|e| e["resource"].clone()).collect())
        .unwrap_or_default()
}

async fn search(ehr: &Ehr, token: &str, query: &str) -> Vec<Value> {
    let res = get(ehr, token, &format!("AuditEvent?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.text());
    let b = res.json();
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "searchset");
    entries(&b)
}
