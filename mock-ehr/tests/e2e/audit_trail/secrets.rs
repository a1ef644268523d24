//! No token, code, secret or assertion anywhere in the trail (or its `AuditEvent`s)
//! after a full set of flows.

use axum::http::StatusCode;
use mock_ehr::builtin;
use serde_json::json;
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::ring::RingSigner;

use super::{auditor, config, search, verify};
use crate::fhir_api_support::{Call, dpop_key, get, jti, proof};
use crate::support::{BASE, Ehr, VERIFIER, assertion, basic};

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
