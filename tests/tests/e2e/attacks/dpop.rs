//! DPoP rows (RFC 9449): each against the core's resource-server guard, then the same
//! attack against a running mock EHR's FHIR API with a DPoP-bound token from its token
//! endpoint. The network answer must be the core's: 401, the same `WWW-Authenticate`
//! challenge, and an `OperationOutcome` whose `details.text` is the OAuth error and
//! whose `diagnostics` is the guard's description.

use hyper::StatusCode;
use serde_json::json;
use smartgate_core::dpop::{DpopKey, MemoryReplayCache};
use smartgate_core::guard::{DpopMode, Guard, Rejection, Request};
use smartgate_core::provider::rustcrypto::RustCrypto;

use super::*;
use crate::flows::{self, Server};
use crate::http::Reply;

const URL: &str = "https://ehr.example.org/fhir/Observation";

fn client() -> DpopKey {
    DpopKey::from_bytes(&[5; 32]).unwrap()
}

fn guard() -> Guard {
    Guard::new(keys_of(&issuer(), "as-1"), validation()).dpop(DpopMode::Allowed)
}

fn bound_token(key: &DpopKey) -> String {
    let mut c = claims();
    c.insert("cnf".into(), json!({"jkt": key.thumbprint()}));
    jwt(&c, json!({"kid": "as-1"}), &issuer())
}

fn proof(key: &DpopKey, method: &str, url: &str, token: &str, iat: i64, jti: &str) -> String {
    key.proof_with_jti(method, url, Some(token), None, iat, jti)
        .unwrap()
}

fn check(auth: &str, proof: Option<&str>, cache: &MemoryReplayCache) -> Result<(), Rejection> {
    let mut req = Request::new("GET", URL, NOW).authorization(auth);
    if let Some(p) = proof {
        req = req.dpop(p);
    }
    guard().check(&req, &RustCrypto, cache).map(|_| ())
}

/// The core's refusal, checked: status, OAuth error and code.
#[track_caller]
fn refused(r: Result<(), Rejection>, status: u16, error: &str, code: &str) -> Rejection {
    let r = r.expect_err("the attack must be refused");
    assert_eq!(
        (r.status, r.error, r.code),
        (status, Some(error), code),
        "{r:?}"
    );
    r
}

/// A running mock EHR, a DPoP key and a token bound to it from the mock's token
/// endpoint (auto-approved code flow with PKCE and a proof).
struct Net {
    ehr: MockEhr,
    key: DpopKey,
    token: String,
    /// `{fhir}/Observation`, the URL the attacks are sent to.
    url: String,
}

impl Net {
    async fn new() -> Self {
        let ehr = flows::spawn(Config::default(), true).await;
        let server = Server::discover(ehr.fhir_base()).await;
        let key = client();
        let t = flows::dpop_token(&ehr, &server, &key, "launch/patient patient/*.rs").await;
        let token = t["access_token"].as_str().unwrap().to_string();
        let url = format!("{}/Observation", ehr.fhir_base());
        Self {
            ehr,
            key,
            token,
            url,
        }
    }

    async fn now(&self) -> i64 {
        flows::server_now(&self.ehr).await
    }

    /// A fresh proof by `key` for `method` on `htu`, bound to `token`, at `iat`.
    fn proof(&self, key: &DpopKey, method: &str, htu: &str, token: &str, iat: i64) -> String {
        flows::proof(key, method, htu, Some(token), None, iat)
    }

    /// `GET url` with `authorization` and the proof, if any.
    async fn get(&self, url: &str, authorization: &str, proof: Option<&str>) -> Reply {
        flows::fhir_get(url, authorization, proof).await
    }

    /// `GET {fhir}/Observation` with the bound token, the DPoP scheme and `proof`.
    async fn attack(&self, proof: &str) -> Reply {
        self.get(&self.url, &format!("DPoP {}", self.token), Some(proof))
            .await
    }
}

/// The mock EHR's answer to the attack is the core's refusal `core`: its status, its
/// `WWW-Authenticate` challenge, its OAuth error (`details.text`), code
/// (`details.coding`) and description (`diagnostics`) in the `OperationOutcome`.
#[track_caller]
fn refused_on_network(res: &Reply, core: &Rejection) {
    assert_eq!(res.status.as_u16(), core.status, "{}", res.text());
    assert_eq!(
        res.header("www-authenticate"),
        Some(core.www_authenticate.as_str())
    );
    let body = res.json();
    assert_eq!(body["resourceType"], "OperationOutcome");
    assert_eq!(body["issue"][0]["code"], "security");
    assert_eq!(body["issue"][0]["details"]["text"], core.error.unwrap());
    assert_eq!(
        body["issue"][0]["details"]["coding"],
        json!([{"system": "urn:smartgate:error-code", "code": core.code}])
    );
    assert_eq!(body["issue"][0]["diagnostics"], core.description.as_str());
}

#[tokio::test]
async fn attack_dpop_proof_reuse() {
    let (key, cache) = (client(), MemoryReplayCache::new());
    let t = bound_token(&key);
    let p = proof(&key, "GET", URL, &t, NOW, "once");
    check(&format!("DPoP {t}"), Some(&p), &cache).unwrap();
    let core = refused(
        check(&format!("DPoP {t}"), Some(&p), &cache),
        401,
        "invalid_dpop_proof",
        "ERR_DPOP_REPLAY",
    );

    let net = Net::new().await;
    let p = net.proof(&net.key, "GET", &net.url, &net.token, net.now().await);
    let first = net.attack(&p).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    refused_on_network(&net.attack(&p).await, &core);
}

#[tokio::test]
async fn attack_dpop_htu_for_another_host() {
    let key = client();
    let t = bound_token(&key);
    let p = proof(
        &key,
        "GET",
        "https://evil.example/fhir/Observation",
        &t,
        NOW,
        "h1",
    );
    let r = check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new());
    let core = refused(r, 401, "invalid_dpop_proof", "ERR_DPOP_HTU_MISMATCH");

    let net = Net::new().await;
    let p = net.proof(
        &net.key,
        "GET",
        "http://evil.example/fhir/Observation",
        &net.token,
        net.now().await,
    );
    refused_on_network(&net.attack(&p).await, &core);
}

#[tokio::test]
async fn attack_dpop_htu_with_a_query() {
    // RFC 9449 section 4.3 compares htu without query and fragment: a query in htu
    // can neither carry a proof to another path nor break a proof for this one.
    let key = client();
    let t = bound_token(&key);
    let other_path = proof(
        &key,
        "GET",
        "https://ehr.example.org/fhir/Patient?next=/fhir/Observation",
        &t,
        NOW,
        "q1",
    );
    let r = check(
        &format!("DPoP {t}"),
        Some(&other_path),
        &MemoryReplayCache::new(),
    );
    let core = refused(r, 401, "invalid_dpop_proof", "ERR_DPOP_HTU_MISMATCH");
    let same_path = proof(
        &key,
        "GET",
        "https://ehr.example.org/fhir/Observation?patient=1",
        &t,
        NOW,
        "q2",
    );
    check(
        &format!("DPoP {t}"),
        Some(&same_path),
        &MemoryReplayCache::new(),
    )
    .unwrap();

    let net = Net::new().await;
    let now = net.now().await;
    let fhir = net.ehr.fhir_base();
    let other_path = net.proof(
        &net.key,
        "GET",
        &format!("{fhir}/Patient?next=/fhir/Observation"),
        &net.token,
        now,
    );
    refused_on_network(&net.attack(&other_path).await, &core);
    let same_path = net.proof(
        &net.key,
        "GET",
        &format!("{fhir}/Observation?patient=pat-002"),
        &net.token,
        now,
    );
    let res = net
        .get(
            &format!("{fhir}/Observation?patient=pat-001"),
            &format!("DPoP {}", net.token),
            Some(&same_path),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

#[tokio::test]
async fn attack_dpop_htm_mismatch() {
    let key = client();
    let t = bound_token(&key);
    let p = proof(&key, "POST", URL, &t, NOW, "m1");
    let core = refused(
        check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new()),
        401,
        "invalid_dpop_proof",
        "ERR_DPOP_HTM_MISMATCH",
    );

    let net = Net::new().await;
    let p = net.proof(&net.key, "POST", &net.url, &net.token, net.now().await);
    refused_on_network(&net.attack(&p).await, &core);
}

#[tokio::test]
async fn attack_dpop_stale_iat() {
    let key = client();
    let t = bound_token(&key);
    let p = proof(&key, "GET", URL, &t, NOW - 3600, "s1");
    let core = refused(
        check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new()),
        401,
        "invalid_dpop_proof",
        "ERR_DPOP_IAT_STALE",
    );

    let net = Net::new().await;
    let p = net.proof(
        &net.key,
        "GET",
        &net.url,
        &net.token,
        net.now().await - 3600,
    );
    refused_on_network(&net.attack(&p).await, &core);
}

#[tokio::test]
async fn attack_dpop_ath_for_another_token() {
    let key = client();
    let t = bound_token(&key);
    let other = {
        let mut c = claims();
        c.insert("cnf".into(), json!({"jkt": key.thumbprint()}));
        c.insert("jti".into(), "another".into());
        jwt(&c, json!({"kid": "as-1"}), &issuer())
    };
    let p = proof(&key, "GET", URL, &other, NOW, "a1");
    let core = refused(
        check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new()),
        401,
        "invalid_dpop_proof",
        "ERR_DPOP_ATH_MISMATCH",
    );

    // Another token of the same client and key, from the same server.
    let net = Net::new().await;
    let server = Server::discover(net.ehr.fhir_base()).await;
    let other = flows::dpop_token(&net.ehr, &server, &net.key, "launch/patient patient/*.rs").await
        ["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(other, net.token);
    let p = net.proof(&net.key, "GET", &net.url, &other, net.now().await);
    refused_on_network(&net.attack(&p).await, &core);
}

#[tokio::test]
async fn attack_dpop_proof_key_not_matching_cnf_jkt() {
    let (key, thief) = (client(), DpopKey::from_bytes(&[6; 32]).unwrap());
    let t = bound_token(&key);
    let p = proof(&thief, "GET", URL, &t, NOW, "k1");
    let core = refused(
        check(&format!("DPoP {t}"), Some(&p), &MemoryReplayCache::new()),
        401,
        "invalid_token",
        "ERR_DPOP_JKT_MISMATCH",
    );

    // A stolen token, presented with the thief's own key and a proof that is
    // otherwise right (method, URL, ath, fresh).
    let net = Net::new().await;
    let p = net.proof(&thief, "GET", &net.url, &net.token, net.now().await);
    refused_on_network(&net.attack(&p).await, &core);
}

#[tokio::test]
async fn attack_dpop_bound_token_used_as_bearer() {
    let t = bound_token(&client());
    let core = refused(
        check(&format!("Bearer {t}"), None, &MemoryReplayCache::new()),
        401,
        "invalid_token",
        "ERR_GUARD_DPOP_TOKEN_AS_BEARER",
    );

    let net = Net::new().await;
    let res = net
        .get(&net.url, &format!("Bearer {}", net.token), None)
        .await;
    refused_on_network(&res, &core);
}
