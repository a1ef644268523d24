use axum::http::StatusCode;
use smartgate_core::jwk::JwkSet;

use crate::support::*;

#[tokio::test]
async fn smart_configuration_lists_what_exists_and_nothing_else() {
    let ehr = Ehr::auto();
    let res = ehr.get("/fhir/.well-known/smart-configuration").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let c = res.json();
    assert_eq!(c["issuer"], BASE);
    assert_eq!(c["token_endpoint"], format!("{BASE}/token"));
    assert_eq!(c["authorization_endpoint"], format!("{BASE}/authorize"));
    assert_eq!(
        c["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(c["authorization_response_iss_parameter_supported"], true);
    for alg in ["RS384", "ES384"] {
        assert!(
            c["token_endpoint_auth_signing_alg_values_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == alg)
        );
    }
    // Not implemented yet, so not advertised.
    assert!(c.get("dpop_signing_alg_values_supported").is_none());
    // Every advertised endpoint answers (not 404).
    for key in [
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "jwks_uri",
    ] {
        let path = c[key]
            .as_str()
            .unwrap()
            .strip_prefix(BASE)
            .unwrap()
            .to_string();
        let res = if key == "jwks_uri" {
            ehr.get(&path).await
        } else {
            ehr.post_form(&path, &[]).await
        };
        assert_ne!(res.status, StatusCode::NOT_FOUND, "{key}");
    }
}

#[tokio::test]
async fn openid_configuration_and_jwks() {
    let ehr = Ehr::auto();
    let c = ehr.get("/.well-known/openid-configuration").await.json();
    assert_eq!(c["issuer"], BASE);
    assert_eq!(
        c["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let jwks = ehr.get("/jwks.json").await.json();
    let set = JwkSet::from_value(&jwks).unwrap();
    assert!(set.skipped().is_empty());
    let kinds: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"EC") && kinds.contains(&"RSA"), "{kinds:?}");
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("d").is_none())
    );
}

#[tokio::test]
async fn metadata_carries_the_smart_security_extension() {
    let ehr = Ehr::auto();
    let res = ehr.get("/fhir/metadata").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let m = res.json();
    assert_eq!(m["resourceType"], "CapabilityStatement");
    let ext = &m["rest"][0]["security"]["extension"][0];
    assert_eq!(
        ext["url"],
        "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    );
    let uris: Vec<(&str, &str)> = ext["extension"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["url"].as_str().unwrap(), e["valueUri"].as_str().unwrap()))
        .collect();
    assert!(uris.contains(&("token", "http://127.0.0.1:8080/token")));
    assert_eq!(
        m["rest"][0]["security"]["service"][0]["coding"][0]["code"],
        "SMART-on-FHIR"
    );
}

#[tokio::test]
async fn cors_preflight_on_token_only_for_registered_origins() {
    use axum::body::Body;
    use axum::http::Request;
    let ehr = Ehr::auto();
    let pre = |origin: &'static str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/token")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap()
    };
    let ok = ehr.send(pre("http://localhost:3000")).await;
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let no = ehr.send(pre("http://evil.example")).await;
    assert!(no.header("access-control-allow-origin").is_none());
}
