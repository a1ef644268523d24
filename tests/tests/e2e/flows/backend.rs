//! SMART Backend Services: a `private_key_jwt` client assertion (the built-in
//! `demo-backend`, ES384) for a `system/` token, then a Bulk Data export: kick-off,
//! status polls until the manifest, the NDJSON files.

use std::collections::BTreeMap;

use mock_ehr::builtin::{DEMO_BACKEND_KEY, DEMO_BACKEND_KID};
use smartgate_core::provider::ring::RingSigner;
use smartgate_core::sign::sign_jwt;

use super::*;

const BACKEND: &str = "demo-backend";

/// A client assertion of `demo-backend` for `aud`, signed with its ES384 key.
fn assertion(aud: &str, now: i64) -> String {
    let signer = RingSigner::from_pkcs8(Algorithm::Es384, DEMO_BACKEND_KEY).unwrap();
    let jti = CodeVerifier::generate_random().unwrap();
    let claims = json!({"iss": BACKEND, "sub": BACKEND, "aud": aud, "exp": now + 240,
                        "iat": now, "jti": jti.as_str()});
    sign_jwt(
        claims.as_object().unwrap(),
        Some("JWT"),
        Some(DEMO_BACKEND_KID),
        &signer,
    )
    .unwrap()
}

async fn backend_token(ehr: &MockEhr, server: &Server, scope: &str) -> Value {
    let now = server_now(ehr).await;
    let a = assertion(server.endpoint("token_endpoint"), now);
    token_response(
        &post_token(
            server,
            &[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &a),
            ],
            None,
        )
        .await,
    )
}

fn builtin_count(ty: &str) -> usize {
    mock_ehr::fhir::Store::builtin().current(ty).count()
}

#[tokio::test]
async fn backend_services_token_and_bulk_export() {
    let ehr = spawn(Config::default(), false).await;
    let server = Server::discover(ehr.fhir_base()).await;
    assert!(server.can("client-confidential-asymmetric"));
    let methods = &server.config["token_endpoint_auth_methods_supported"];
    assert!(
        methods
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "private_key_jwt")
    );
    let algs = &server.config["token_endpoint_auth_signing_alg_values_supported"];
    assert!(algs.as_array().unwrap().iter().any(|a| a == "ES384"));

    let scope = "system/Patient.rs system/Observation.rs";
    let t = backend_token(&ehr, &server, scope).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], scope);
    assert!(t["expires_in"].as_i64().unwrap() <= 300);
    assert!(t.get("refresh_token").is_none() && t.get("id_token").is_none());
    let access = t["access_token"].as_str().unwrap();
    let at = server
        .verify_access(access, server_now(&ehr).await)
        .unwrap()
        .claims
        .into_raw();
    assert_eq!(at["client_id"], BACKEND);
    assert_eq!(at["scope"], scope);
    assert!(at.get("patient").is_none());

    // Kick-off: every type, so the types the scopes do not cover are skipped.
    let bearer = format!("Bearer {access}");
    let kickoff = http::get_with(
        &format!("{}/$export", server.fhir),
        &[
            ("authorization", &bearer),
            ("accept", "application/fhir+json"),
            ("prefer", "respond-async"),
        ],
    )
    .await;
    assert_eq!(kickoff.status, StatusCode::ACCEPTED, "{}", kickoff.text());
    let status_url = kickoff.header("content-location").unwrap().to_string();
    assert!(status_url.starts_with(&format!("{}/", server.fhir)));

    // Poll, as Retry-After says, until the manifest.
    let mut polls = 0;
    let manifest = loop {
        let res = http::get_with(&status_url, &[("authorization", &bearer)]).await;
        match res.status {
            StatusCode::ACCEPTED => {
                assert!(res.header("retry-after").is_some());
                assert!(res.header("x-progress").is_some());
                polls += 1;
                assert!(polls <= 10, "the export never completed");
            }
            StatusCode::OK => break res.json(),
            s => panic!("status poll: {s}: {}", res.text()),
        }
    };
    assert_eq!(polls, mock_ehr::DEFAULT_EXPORT_POLLS as usize);
    assert_eq!(manifest["requiresAccessToken"], true);
    assert_eq!(
        manifest["request"],
        format!("{}/$export", server.fhir).as_str()
    );

    // The files: exactly the scoped types, every line of its type, the data's counts.
    let mut counts = BTreeMap::new();
    for o in manifest["output"].as_array().unwrap() {
        let ty = o["type"].as_str().unwrap();
        let res = http::get_with(
            o["url"].as_str().unwrap(),
            &[
                ("authorization", &bearer),
                ("accept", "application/fhir+ndjson"),
            ],
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.header("content-type"), Some("application/fhir+ndjson"));
        let lines: Vec<Value> = res
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.iter().all(|r| r["resourceType"] == ty), "{ty}");
        assert_eq!(lines.len() as u64, o["count"].as_u64().unwrap());
        counts.insert(ty.to_string(), lines.len());
    }
    let expected: BTreeMap<String, usize> = ["Observation", "Patient"]
        .into_iter()
        .map(|t| (t.to_string(), builtin_count(t)))
        .collect();
    assert_eq!(counts, expected);

    // The skipped types are named in the error file.
    let errors = manifest["error"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{manifest}");
    let res = http::get_with(
        errors[0]["url"].as_str().unwrap(),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let text = res.text();
    assert!(
        text.lines().all(
            |l| serde_json::from_str::<Value>(l).unwrap()["resourceType"] == "OperationOutcome"
        )
    );
    assert!(
        text.contains("Condition") && text.contains("Encounter"),
        "{text}"
    );

    // A type outside the scopes, asked for by name: the kick-off is refused.
    let res = http::get_with(
        &format!("{}/$export?_type=Condition", server.fhir),
        &[
            ("authorization", &bearer),
            ("accept", "application/fhir+json"),
            ("prefer", "respond-async"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());

    // Done with the job: deleted, its files gone.
    let res = http::send(
        Method::DELETE,
        &status_url,
        &[("authorization", &bearer)],
        String::new(),
    )
    .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    let res = http::get_with(&status_url, &[("authorization", &bearer)]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    ehr.shutdown().await.unwrap();
}
