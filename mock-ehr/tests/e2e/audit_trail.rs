//! The audit trail: its hash chain (recomputed here from the documented canonical
//! form, and `GET /_admin/audit/verify` finding a changed, a removed and a reordered
//! entry at the right `seq`), its entries as FHIR `AuditEvent`s (read, search by date,
//! patient and outcome, who may see them), and no token, code, secret or assertion in
//! any of it after a full set of flows.

use axum::http::{Method, StatusCode};
use mock_ehr::{ClientAuthMethod, ClientConfig, Config, builtin};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::ring::RingSigner;

use crate::fhir_api_support::{Call, app_client, dpop_key, get, jti, proof};
use crate::support::{BASE, Ehr, NOW, REDIRECT, VERIFIER, assertion, basic};

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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of an entry of `GET /_admin/audit`, from the README's definition.
fn documented_hash(e: &Value) -> String {
    let field = |n: &str| e.get(n).cloned().unwrap_or(Value::Null);
    let canonical = json!([
        field("seq"),
        field("time"),
        field("event"),
        field("client_id"),
        field("user"),
        field("patient"),
        field("outcome"),
        field("token_id"),
        field("detail"),
        field("prev_hash"),
    ])
    .to_string();
    hex(&Sha256::digest(canonical.as_bytes()))
}

async fn verify(ehr: &Ehr) -> Value {
    let res = ehr.get("/_admin/audit/verify").await;
    assert_eq!(res.status, StatusCode::OK);
    res.json()
}

#[tokio::test]
async fn the_chain_is_the_documented_one_and_verifies() {
    let ehr = ehr();
    some_flows(&ehr).await;
    let events = ehr.audit().await;
    assert!(events.len() >= 5, "{events:?}");
    let mut prev = mock_ehr::GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1);
        assert_eq!(e["prev_hash"], prev.as_str(), "{e}");
        assert_eq!(e["hash"], documented_hash(e).as_str(), "{e}");
        prev = e["hash"].as_str().unwrap().to_string();
    }
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": true, "entries": events.len() })
    );
    // A reset starts a new chain.
    ehr.post_json("/_admin/reset", json!({})).await;
    assert_eq!(verify(&ehr).await, json!({ "ok": true, "entries": 0 }));
}

#[tokio::test]
async fn verify_finds_a_changed_entry_at_its_seq() {
    let ehr = ehr();
    some_flows(&ehr).await;
    ehr.state.tamper_with_audit_trail(|events| {
        let e = events.iter_mut().find(|e| e.seq == 3).unwrap();
        e.outcome = "success".into();
        e.client_id = Some("someone-else".into());
    });
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": false, "first_broken_seq": 3, "reason": "hash does not match the entry's contents" })
    );
    // Resealing the changed entry moves the break to the next link.
    ehr.state.tamper_with_audit_trail(|events| {
        let prev = events[1].hash.clone();
        let e = &mut events[2];
        e.prev_hash = prev;
        e.hash = e.compute_hash();
    });
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": false, "first_broken_seq": 4, "reason": "prev_hash is not the hash of the entry before it" })
    );
}

#[tokio::test]
async fn verify_finds_a_removed_entry_at_its_seq() {
    let ehr = ehr();
    some_flows(&ehr).await;
    ehr.state.tamper_with_audit_trail(|events| {
        let i = events.iter().position(|e| e.seq == 4).unwrap();
        events.remove(i);
    });
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": false, "first_broken_seq": 4, "reason": "entry 4 is missing (the next entry is 5)" })
    );
    // Removing the newest: the trail no longer ends at its recorded head.
    let ehr2 = self::ehr();
    some_flows(&ehr2).await;
    let last = ehr2.audit().await.len() as u64;
    ehr2.state.tamper_with_audit_trail(|events| {
        events.pop_back();
    });
    assert_eq!(
        verify(&ehr2).await,
        json!({ "ok": false, "first_broken_seq": last, "reason": "the trail ends before its last recorded entry" })
    );
}

#[tokio::test]
async fn verify_finds_reordered_entries_at_the_first_one_out_of_place() {
    let ehr = ehr();
    some_flows(&ehr).await;
    ehr.state
        .tamper_with_audit_trail(|events| events.swap(1, 2));
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": false, "first_broken_seq": 2, "reason": "entry 2 is out of order (found 3 in its place)" })
    );
    // Renumbered to hide it: the chain still breaks there.
    ehr.state.tamper_with_audit_trail(|events| {
        events[1].seq = 2;
        events[2].seq = 3;
    });
    let v = verify(&ehr).await;
    assert_eq!(v["first_broken_seq"], 2, "{v}");
    assert_eq!(v["ok"], false);
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

fn ids(resources: &[Value]) -> Vec<String> {
    resources
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// The trail's entries for which `keep` holds, as AuditEvent ids.
async fn trail_ids(ehr: &Ehr, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    ehr.audit()
        .await
        .iter()
        .filter(|e| keep(e))
        .map(|e| format!("{:010}", e["seq"].as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn entries_read_as_fhir_audit_events() {
    let ehr = ehr();
    some_flows(&ehr).await;
    let token = auditor(&ehr).await;
    let trail = ehr.audit().await;
    let issued = trail
        .iter()
        .find(|e| e["event"] == "token" && e["patient"] == "pat-001")
        .unwrap();
    let id = format!("{:010}", issued["seq"].as_u64().unwrap());
    let res = get(&ehr, &token, &format!("AuditEvent/{id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let r = res.json();
    let recorded = mock_ehr::fhir::date::format_instant(NOW);
    assert_eq!(r["resourceType"], "AuditEvent");
    assert_eq!(r["id"], id.as_str());
    assert_eq!(
        r["type"],
        json!({ "system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110114", "display": "User Authentication" })
    );
    assert_eq!(
        r["subtype"],
        json!([{ "system": "urn:smartgate:mock-ehr:audit-event", "code": "token" }])
    );
    assert_eq!(r["action"], "E");
    assert_eq!(r["recorded"], recorded.as_str());
    assert_eq!(r["outcome"], "0");
    let agents = r["agent"].as_array().unwrap();
    assert_eq!(
        agents[0]["who"]["identifier"],
        json!({ "system": format!("{BASE}/clients"), "value": "demo-app" })
    );
    assert_eq!(agents[1]["who"]["reference"], "Practitioner/prac-001");
    assert_eq!(agents[1]["altId"], "dr.smith");
    assert_eq!(agents[1]["requestor"], true);
    assert_eq!(
        r["entity"][0]["what"],
        json!({ "reference": "Patient/pat-001" })
    );
    assert_eq!(r["entity"][0]["role"]["code"], "1");
    assert_eq!(
        r["entity"][1]["what"]["identifier"]["value"],
        issued["token_id"]
    );
    assert_eq!(r["source"]["observer"]["identifier"]["value"], BASE);
    assert_eq!(r["source"]["type"][0]["code"], "4");
    assert_eq!(r["extension"][0]["valueString"], issued["prev_hash"]);
    assert_eq!(r["extension"][1]["valueString"], issued["hash"]);

    // The refused exchange: outcome 4, its code in outcomeDesc.
    let refused = trail
        .iter()
        .find(|e| e["outcome"] == "invalid_grant")
        .unwrap();
    let res = get(
        &ehr,
        &token,
        &format!("AuditEvent/{:010}", refused["seq"].as_u64().unwrap()),
    )
    .await;
    let r = res.json();
    assert_eq!(r["outcome"], "4");
    assert!(
        r["outcomeDesc"]
            .as_str()
            .unwrap()
            .starts_with("invalid_grant"),
        "{r}"
    );

    // A FHIR request: type rest, action R for a read, E for a search.
    get(&ehr, &token, "AuditEvent?outcome=0").await;
    let found = search(&ehr, &token, "subtype=fhir&_sort=-date").await;
    assert_eq!(found[0]["type"]["code"], "rest");
    let actions: Vec<&str> = found
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"R") && actions.contains(&"E"),
        "{actions:?}"
    );

    // Ids are exact: no such event, or the id in another spelling.
    for bad in ["9999999999", "1", "abc"] {
        let res = get(&ehr, &token, &format!("AuditEvent/{bad}")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(res.json()["issue"][0]["code"], "not-found");
    }
}

#[tokio::test]
async fn audit_events_search_by_date_patient_and_outcome() {
    let ehr = ehr();
    some_flows(&ehr).await;
    let token = auditor(&ehr).await;
    let early = trail_ids(&ehr, |_| true).await;
    ehr.state.clock().advance(3600);
    ehr.tokens("launch/patient patient/*.rs").await;
    let all = trail_ids(&ehr, |_| true).await;
    let later: Vec<String> = all.iter().filter(|i| !early.contains(i)).cloned().collect();
    assert!(!later.is_empty());

    let instant = |secs: i64| mock_ehr::fhir::date::format_instant(secs).replace('+', "%2B");
    let got = ids(&search(
        &ehr,
        &token,
        &format!("date=ge{}&_count=1000", instant(NOW + 3600)),
    )
    .await);
    assert_eq!(got, later);
    let got = ids(&search(
        &ehr,
        &token,
        &format!("date=lt{}&_count=1000", instant(NOW + 3600)),
    )
    .await);
    assert_eq!(got, early);
    let got = ids(&search(
        &ehr,
        &token,
        &format!("date=gt{}&_count=1000", instant(NOW + 3600)),
    )
    .await);
    assert!(got.is_empty());

    let about_002 = trail_ids(&ehr, |e| e["patient"] == "pat-002").await;
    assert!(!about_002.is_empty());
    assert_eq!(
        ids(&search(&ehr, &token, "patient=Patient/pat-002&_count=1000").await),
        about_002
    );
    assert_eq!(
        ids(&search(&ehr, &token, "patient=pat-002&_count=1000").await),
        about_002
    );

    let refused = trail_ids(&ehr, |e| e["outcome"] != "success").await;
    assert!(!refused.is_empty());
    let found = search(&ehr, &token, "outcome=4&_count=1000").await;
    assert_eq!(ids(&found), refused);
    assert!(search(&ehr, &token, "outcome=8").await.is_empty());
    let ok = trail_ids(&ehr, |e| e["outcome"] == "success").await;
    assert_eq!(
        ids(&search(&ehr, &token, "outcome=0&_count=1000").await),
        ok
    );

    // Newest first, and paged.
    let res = get(&ehr, &token, "AuditEvent?_sort=-date&_count=2").await;
    let b = res.json();
    assert_eq!(b["entry"].as_array().unwrap().len(), 2);
    assert!(
        b["link"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["relation"] == "next"),
        "{b}"
    );
    assert!(b["total"].as_u64().unwrap() >= all.len() as u64);

    // A bad value and an unknown parameter are answered as on every other type.
    let res = get(&ehr, &token, "AuditEvent?date=yesterday").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    assert_eq!(res.json()["issue"][0]["code"], "invalid");
    let a = get(&ehr, &token, "AuditEvent?color=blue").await;
    let staff = mint(
        &ehr,
        json!({ "scope": "user/Patient.rs", "user": "dr.smith" }),
    )
    .await;
    let p = get(&ehr, &staff, "Patient?color=blue").await;
    assert_eq!(a.status, p.status);
    assert_eq!(a.json()["issue"], p.json()["issue"]);
}

#[tokio::test]
async fn only_user_and_system_audit_scopes_see_audit_events() {
    let ehr = ehr();
    some_flows(&ehr).await;
    let insufficient = |res: &crate::support::Resp| {
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
        let challenge = res.header("www-authenticate").unwrap();
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert_eq!(res.json()["issue"][0]["code"], "forbidden");
    };
    // patient/ scopes, wildcard or named: refused, read and search.
    for scope in ["patient/*.rs", "patient/AuditEvent.rs"] {
        let t = mint(
            &ehr,
            json!({ "scope": scope, "patient": "pat-001", "user": "dr.smith" }),
        )
        .await;
        insufficient(&get(&ehr, &t, "AuditEvent").await);
        insufficient(&get(&ehr, &t, "AuditEvent/0000000001").await);
    }
    // No AuditEvent scope at all.
    let t = mint(
        &ehr,
        json!({ "scope": "user/Patient.rs", "user": "dr.smith" }),
    )
    .await;
    insufficient(&get(&ehr, &t, "AuditEvent").await);
    // v2 user, v1 user, system: allowed.
    for body in [
        json!({ "scope": "user/AuditEvent.rs", "user": "dr.smith" }),
        json!({ "scope": "user/AuditEvent.read", "user": "dr.smith" }),
        json!({ "scope": "system/AuditEvent.rs" }),
    ] {
        let t = mint(&ehr, body.clone()).await;
        assert!(!search(&ehr, &t, "").await.is_empty(), "{body}");
        let res = get(&ehr, &t, "AuditEvent/0000000001").await;
        assert_eq!(res.status, StatusCode::OK, "{body}: {}", res.text());
    }
    // A scope's query filters.
    let t = mint(
        &ehr,
        json!({ "scope": "user/AuditEvent.rs?outcome=4", "user": "dr.smith" }),
    )
    .await;
    let seen = search(&ehr, &t, "_count=1000").await;
    assert!(!seen.is_empty() && seen.iter().all(|r| r["outcome"] == "4"));
    // A patient user sees the events about themselves only.
    let t = mint(
        &ehr,
        json!({ "scope": "user/AuditEvent.rs", "user": "jane.doe" }),
    )
    .await;
    let seen = search(&ehr, &t, "_count=1000").await;
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|r| r["entity"][0]["what"]["reference"] == "Patient/pat-001")
    );
    let other = trail_ids(&ehr, |e| e["patient"] == "pat-002").await;
    let res = get(&ehr, &t, &format!("AuditEvent/{}", other[0])).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Read-only, even with write scopes.
    let t = mint(
        &ehr,
        json!({ "scope": "user/AuditEvent.cruds", "user": "dr.smith" }),
    )
    .await;
    let res = Call::new(Method::POST, "AuditEvent")
        .bearer(&t)
        .json(&json!({ "resourceType": "AuditEvent" }))
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{}", res.text());
    let res = Call::new(Method::DELETE, "AuditEvent/0000000001")
        .bearer(&t)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    // The CapabilityStatement says what is served.
    let caps = ehr.get("/fhir/metadata").await.json();
    let audit = caps["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "AuditEvent")
        .unwrap()
        .clone();
    assert_eq!(
        audit["interaction"],
        json!([{ "code": "read" }, { "code": "search-type" }])
    );
    let names: Vec<&str> = audit["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["date", "patient", "outcome"] {
        assert!(names.contains(&name), "{names:?}");
    }
    // A system/AuditEvent scope grants nothing else.
    let backend = mint(&ehr, json!({ "scope": "system/AuditEvent.rs" })).await;
    insufficient(&get(&ehr, &backend, "Patient").await);
}

/// The shortest piece of a secret looked for: every run of this many characters of a
/// longer secret (so a secret cut short, by a length limit or at a delimiter, is still
/// found), and the whole of a shorter one.
const PIECE: usize = 20;

/// Which secrets show up in `haystack`, whole, by half, or by any [`PIECE`]-character
/// run.
fn leaks(haystack: &str, secrets: &[(String, String)]) -> Vec<String> {
    let runs: std::collections::HashSet<&[u8]> = haystack.as_bytes().windows(PIECE).collect();
    let mut found = Vec::new();
    for (what, s) in secrets {
        let mid = s.len() / 2;
        let halves =
            s.len() >= 2 * PIECE && (haystack.contains(&s[..mid]) || haystack.contains(&s[mid..]));
        let piece = if s.len() >= PIECE {
            s.as_bytes().windows(PIECE).find(|w| runs.contains(w))
        } else {
            haystack.contains(s.as_str()).then_some(s.as_bytes())
        };
        if halves || piece.is_some() {
            found.push(format!(
                "{what}: {}",
                String::from_utf8_lossy(piece.unwrap_or(s.as_bytes()))
            ));
        }
    }
    found
}

#[tokio::test]
async fn no_token_code_secret_or_assertion_reaches_the_trail() {
    // A configured access token key (DER this time), so `mock-ehr mint` tokens work too.
    let dir = std::env::temp_dir().join(format!("mock-ehr-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("access-key.der");
    std::fs::write(
        &key,
        RingSigner::generate_ecdsa(Algorithm::Es256).unwrap().1,
    )
    .unwrap();
    let mut with_key = config();
    with_key.signing.access_token_key_file = Some(key);
    let ehr = Ehr::new(with_key.clone(), true);
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, s: &str| secrets.push((what.to_string(), s.to_string()));

    // Authorization code + PKCE (the verifier too), with an id_token and a refresh token.
    let code = ehr
        .code(
            "demo-app",
            "openid fhirUser launch/patient patient/*.rs offline_access",
            &[],
        )
        .await;
    keep("code", &code);
    keep("code_verifier", VERIFIER);
    let t = ehr.exchange(&code).await.json();
    for k in ["access_token", "refresh_token", "id_token"] {
        keep(k, t[k].as_str().unwrap());
    }
    // The code again (refused, and the grant revoked).
    assert_eq!(ehr.exchange(&code).await.status, StatusCode::BAD_REQUEST);
    // Refresh.
    let r = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
                ("client_id", "demo-app"),
            ],
        )
        .await;
    // (The grant was revoked by the replayed code: a refusal is fine; both are audited.)
    if r.status == StatusCode::OK {
        let r = r.json();
        keep(
            "refreshed access_token",
            r["access_token"].as_str().unwrap(),
        );
        keep(
            "rotated refresh_token",
            r["refresh_token"].as_str().unwrap(),
        );
    }
    let t2 = ehr
        .tokens("launch/patient patient/*.rs offline_access")
        .await;
    keep("access_token 2", t2["access_token"].as_str().unwrap());
    keep("refresh_token 2", t2["refresh_token"].as_str().unwrap());
    let r = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t2["refresh_token"].as_str().unwrap()),
                ("client_id", "demo-app"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = r.json();
    keep(
        "refreshed access_token",
        r["access_token"].as_str().unwrap(),
    );
    keep(
        "rotated refresh_token",
        r["refresh_token"].as_str().unwrap(),
    );

    // SMART Backend Services: client_credentials with a signed assertion.
    let signer = RingSigner::from_pkcs8(Algorithm::Es384, builtin::DEMO_BACKEND_KEY).unwrap();
    let a = assertion(
        &signer,
        builtin::DEMO_BACKEND_KID,
        "demo-backend",
        &format!("{BASE}/token"),
        ehr.now(),
        &jti(),
        300,
    );
    keep("client_assertion", &a);
    let res = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "system/*.rs"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let backend = res.json()["access_token"].as_str().unwrap().to_string();
    keep("backend access_token", &backend);
    // The same assertion again: refused as a replay.
    let res = ehr
        .post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "system/*.rs"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a),
            ],
        )
        .await;
    res.assert_oauth_error("invalid_client");

    // A confidential client with its secret (and a wrong one), at introspection.
    keep("client_secret", "demo-secret");
    keep(
        "basic credentials",
        &basic("demo-confidential", "demo-secret"),
    );
    ehr.introspect(t2["access_token"].as_str().unwrap()).await;
    let intro = ehr.introspect(&backend).await;
    assert_eq!(intro["active"], true);
    let wrong = "Wr0ng-S3cret-for-the-audit-test";
    keep("wrong client_secret", wrong);
    let res = ehr
        .post_form_with(
            "/introspect",
            &[("token", &backend)],
            &[("authorization", &basic("demo-confidential", wrong))],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // Revocation.
    let res = ehr
        .post_form(
            "/revoke",
            &[
                ("token", r["refresh_token"].as_str().unwrap()),
                ("client_id", "demo-app"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);

    // The FHIR API: bearer, a minted DPoP-bound token with its proof, a bad token.
    assert_eq!(
        get(&ehr, &backend, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    let key = dpop_key();
    let res = ehr
        .post_json(
            "/_admin/tokens",
            json!({ "client_id": "fhir-app", "scope": "patient/*.rs", "patient": "pat-001", "jkt": key.thumbprint() }),
        )
        .await;
    let minted = res.json()["access_token"].as_str().unwrap().to_string();
    keep("minted access_token", &minted);
    let p = proof(&ehr, &key, "GET", "Patient/pat-001", &minted);
    keep("DPoP proof", &p);
    let res = Call::get("Patient/pat-001")
        .header("authorization", &format!("DPoP {minted}"))
        .header("dpop", &p)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    // A token in the query (RFC 6750 section 2.3, which the API does not take): the
    // request line is audited, the token's value is not.
    let res = Call::get(&format!(
        "Patient?access_token={backend}&_count=1&code={code}"
    ))
    .send(&ehr)
    .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let offline = mock_ehr::mint::mint_offline(
        &with_key,
        BASE,
        &mock_ehr::mint::MintRequest {
            client_id: "fhir-app".into(),
            scope: "user/*.rs".into(),
            user: Some("dr.jones".into()),
            ..Default::default()
        },
        ehr.now(),
    )
    .unwrap();
    keep("offline-minted access_token", &offline.access_token);
    assert_eq!(
        get(&ehr, &offline.access_token, "Patient/pat-003")
            .await
            .status,
        StatusCode::OK
    );
    let forged = format!("{}x", &backend[..backend.len() - 1]);
    keep("forged token", &forged);
    assert_eq!(
        get(&ehr, &forged, "Patient/pat-001").await.status,
        StatusCode::UNAUTHORIZED
    );

    // A failed login (and a good one) on an interactive server.
    let interactive = Ehr::new(config(), false);
    let page = interactive
        .authorize("demo-app", "launch/patient patient/*.rs", &[])
        .await;
    let html = page.text();
    let marker = "name=\"session\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let session = html[start..].split('"').next().unwrap().to_string();
    keep("login session", &session);
    let bad_password = "Tr0ub4dor&3-not-the-password";
    keep("wrong password", bad_password);
    let again = interactive
        .post_form(
            "/authorize/login",
            &[
                ("session", &session),
                ("username", "dr.smith"),
                ("password", bad_password),
            ],
        )
        .await;
    assert!(again.text().contains("wrong password"));

    // Everything the trail shows: /_admin/audit and every AuditEvent, of both servers.
    let reader = auditor(&ehr).await;
    keep("auditor token", &reader);
    let events = search(&ehr, &reader, "_count=1000").await;
    let mut haystack = serde_json::to_string(&events).unwrap();
    haystack.push_str(&ehr.get("/_admin/audit").await.text());
    let reader2 = auditor(&interactive).await;
    keep("auditor token 2", &reader2);
    let events2 = search(&interactive, &reader2, "_count=1000").await;
    haystack.push_str(&serde_json::to_string(&events2).unwrap());
    haystack.push_str(&interactive.get("/_admin/audit").await.text());

    // The scan covers real entries of each kind.
    for kind in [
        "authorize",
        "token",
        "refresh",
        "revoke",
        "introspect",
        "client_auth",
        "fhir",
        "login",
    ] {
        assert!(
            haystack.contains(&format!("\"event\":\"{kind}\"")),
            "no {kind} event to scan"
        );
    }
    assert!(
        haystack.contains("invalid_client"),
        "the wrong secret is audited"
    );
    assert!(
        haystack.contains("GET /fhir/Patient?access_token=[redacted]&_count=1&code=[redacted]"),
        "the request line is audited"
    );
    assert_eq!(leaks(&haystack, &secrets), Vec::<String>::new());
    assert_eq!(verify(&ehr).await["ok"], true);
    assert_eq!(verify(&interactive).await["ok"], true);
}
