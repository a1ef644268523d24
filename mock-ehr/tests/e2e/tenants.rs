//! Several EHRs in one process (`--tenants N`, `[[tenant]]`): each tenant under
//! `/t/{name}` has its own issuer, keys, clients, data and audit trail; a token or a
//! client of one means nothing to the other; an RFC 9207 mix-up across two tenants is
//! detected by a client that checks `iss`.

use std::collections::HashSet;

use axum::http::StatusCode;
use mock_ehr::{Config, MockEhr, TenantConfig};
use serde_json::{Value, json};
use smartgate_core::authz_response::check_iss;
use smartgate_core::pkce;

use crate::support::{VERIFIER, form};
use crate::tls::{Client, REDIRECT, run_binary_with_env};

async fn two_tenants() -> MockEhr {
    MockEhr::builder()
        .auto_approve(true)
        .tenants(2)
        .spawn()
        .await
        .unwrap()
}

/// The `kid`s of a JWK Set.
fn kids(jwks: &Value) -> HashSet<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn each_tenant_is_an_issuer_of_its_own_under_its_prefix() {
    let ehr = two_tenants().await;
    let base = ehr.base_url().to_string();
    let http = Client::plain();
    let names: Vec<&str> = ehr.tenants().iter().map(|t| t.name()).collect();
    assert_eq!(names, ["t1", "t2"]);
    let (t1, t2) = (ehr.tenant("t1").unwrap(), ehr.tenant("t2").unwrap());
    assert_eq!(t1.base_url(), format!("{base}/t/t1"));
    assert_eq!(t2.fhir_base(), format!("{base}/t/t2/fhir"));
    assert!(ehr.tenant("t3").is_none());
    // `/` lists them.
    let index = http.get(&format!("{base}/")).await;
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(
        index.json(),
        json!({ "tenants": [
            { "name": "t1", "issuer": format!("{base}/t/t1"), "fhir_base": format!("{base}/t/t1/fhir"),
              "smart_configuration": format!("{base}/t/t1/fhir/.well-known/smart-configuration") },
            { "name": "t2", "issuer": format!("{base}/t/t2"), "fhir_base": format!("{base}/t/t2/fhir"),
              "smart_configuration": format!("{base}/t/t2/fhir/.well-known/smart-configuration") },
        ]})
    );
    // Discovery of each: its own issuer and endpoints, its own keys.
    let mut jwks = Vec::new();
    for t in [t1, t2] {
        let smart = http
            .get(&format!(
                "{}/.well-known/smart-configuration",
                t.fhir_base()
            ))
            .await
            .json();
        assert_eq!(smart["issuer"], t.base_url());
        assert_eq!(smart["token_endpoint"], format!("{}/token", t.base_url()));
        let oidc = http
            .get(&format!(
                "{}/.well-known/openid-configuration",
                t.base_url()
            ))
            .await
            .json();
        assert_eq!(oidc["issuer"], t.base_url());
        jwks.push(http.get(smart["jwks_uri"].as_str().unwrap()).await.json());
    }
    assert_eq!(kids(&jwks[0]).len(), 2);
    assert!(kids(&jwks[0]).is_disjoint(&kids(&jwks[1])));
    // Nothing is served outside the prefixes, and unknown paths inside are 404 too.
    for path in [
        "/fhir/metadata",
        "/token",
        "/_admin/audit",
        "/t/t3/fhir/metadata",
        "/t/t1/nope",
    ] {
        let res = http.get(&format!("{base}{path}")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.json(), json!({ "error": "not_found" }), "{path}");
    }
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_token_of_one_tenant_is_refused_by_the_others_fhir_api() {
    let ehr = two_tenants().await;
    let http = Client::plain();
    let (t1, t2) = (ehr.tenant("t1").unwrap(), ehr.tenant("t2").unwrap());
    let q = http
        .authorize(t1.fhir_base(), "launch/patient patient/*.rs", "s1")
        .await;
    let token = http
        .redeem(&format!("{}/token", t1.base_url()), &q["code"])
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let token = token.json();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let patient = token["patient"].as_str().unwrap();
    let read = |fhir: &str| format!("{fhir}/Patient/{patient}");
    let ok = http
        .get_with(&read(t1.fhir_base()), &[("authorization", &bearer)])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    // t2 has the same patient, but not t1's keys nor its issuer.
    let refused = http
        .get_with(&read(t2.fhir_base()), &[("authorization", &bearer)])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        refused.text()
    );
    // Refused at the signature: t2 has none of t1's keys.
    assert_eq!(
        refused.header("www-authenticate"),
        "Bearer error=\"invalid_token\", \
         error_description=\"no key in the key set may verify this JWS\", \
         DPoP algs=\"ES256 ES384 RS256 RS384 RS512 PS256 PS384\""
    );
    assert_eq!(
        refused.json()["issue"][0]["details"]["text"],
        "invalid_token"
    );
    // t2's introspection does not know it either.
    let introspect = http
        .request(
            axum::http::Method::POST,
            &format!("{}/introspect", t2.base_url()),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                (
                    "authorization",
                    &crate::support::basic("demo-confidential", "demo-secret"),
                ),
            ],
            form(&[("token", token["access_token"].as_str().unwrap())]),
        )
        .await;
    assert_eq!(introspect.json(), json!({ "active": false }));
    // Each audit trail (under each prefix's /_admin) has its own events.
    let audit = |t: &mock_ehr::Tenant| {
        let url = format!("{}/_admin/audit", t.base_url());
        let http = http.clone();
        async move { http.get(&url).await.json()["events"].clone() }
    };
    let a1 = audit(t1).await;
    let a2 = audit(t2).await;
    let has = |events: &Value, event: &str, outcome: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == event && e["outcome"] == outcome)
    };
    assert!(has(&a1, "token", "success"), "{a1}");
    assert!(!has(&a2, "token", "success"), "{a2}");
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_registered_with_one_tenant_does_not_exist_at_the_other() {
    let ehr = two_tenants().await;
    let http = Client::plain();
    let (t1, t2) = (ehr.tenant("t1").unwrap(), ehr.tenant("t2").unwrap());
    let reg = http
        .post_json(
            &format!("{}/register", t1.base_url()),
            &json!({ "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                     "scope": "launch/patient patient/*.rs" }),
        )
        .await;
    assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.text());
    let id = reg.json()["client_id"].as_str().unwrap().to_string();
    let query = |fhir: &str| {
        form(&[
            ("response_type", "code"),
            ("client_id", &id),
            ("redirect_uri", REDIRECT),
            ("scope", "launch/patient patient/*.rs"),
            ("state", "s"),
            ("aud", fhir),
            ("code_challenge", &pkce::challenge_s256(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
    };
    let at_t1 = http
        .get(&format!(
            "{}/authorize?{}",
            t1.base_url(),
            query(t1.fhir_base())
        ))
        .await;
    assert_eq!(at_t1.status, StatusCode::SEE_OTHER, "{}", at_t1.text());
    // At t2 the client is unknown: an error page, no redirect.
    let at_t2 = http
        .get(&format!(
            "{}/authorize?{}",
            t2.base_url(),
            query(t2.fhir_base())
        ))
        .await;
    assert_eq!(at_t2.status, StatusCode::BAD_REQUEST, "{}", at_t2.text());
    assert!(at_t2.headers.get("location").is_none());
    let page = at_t2.text();
    assert!(
        page.contains("<code>invalid_client</code>") && page.contains("unknown client_id"),
        "{page}"
    );
    ehr.shutdown().await.unwrap();
}

/// RFC 9207 section 1: a client talks to two issuers; the attacker makes the client's
/// callback receive the authorization response of the other issuer (here: the same
/// client's request replayed to tenant B, so B answers with a code, the client's
/// `state` and B's `iss`).
#[tokio::test]
async fn rfc9207_mix_up_across_tenants_is_detected_by_checking_iss() {
    let ehr = two_tenants().await;
    let http = Client::plain();
    let (a, b) = (ehr.tenant("t1").unwrap(), ehr.tenant("t2").unwrap());
    // Both advertise the iss parameter.
    for t in [a, b] {
        let smart = http
            .get(&format!(
                "{}/.well-known/smart-configuration",
                t.fhir_base()
            ))
            .await
            .json();
        assert_eq!(
            smart["authorization_response_iss_parameter_supported"],
            true
        );
    }
    // The client starts its flow with A and remembers A's issuer with its state.
    let state = "flow-with-a";
    let expected_issuer = a.base_url().to_string();
    let genuine = http
        .authorize(a.fhir_base(), "launch/patient patient/*.rs", state)
        .await;
    // The attacker has B answer the same request.
    let forged = http
        .authorize(b.fhir_base(), "launch/patient patient/*.rs", state)
        .await;
    assert_eq!(forged["state"], state);
    assert_eq!(forged["iss"], b.base_url());
    // At the callback: state matches in both, iss tells them apart.
    let err = check_iss(
        &expected_issuer,
        forged.get("iss").map(String::as_str),
        true,
    )
    .unwrap_err();
    assert_eq!(err.code(), "ERR_AUTHZ_RESPONSE_ISS_MISMATCH");
    // A response stripped of iss is refused too, as A supports the parameter.
    let err = check_iss(&expected_issuer, None, true).unwrap_err();
    assert_eq!(err.code(), "ERR_AUTHZ_RESPONSE_ISS_MISSING");
    check_iss(
        &expected_issuer,
        genuine.get("iss").map(String::as_str),
        true,
    )
    .unwrap();
    // A client that skipped the check and sent B's code to A's token endpoint gets
    // nothing: codes are the issuer's own.
    let a_token = format!("{}/token", a.base_url());
    let res = http.redeem(&a_token, &forged["code"]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    assert_eq!(res.json()["error"], "invalid_grant");
    // The genuine code still works at A.
    let res = http.redeem(&a_token, &genuine["code"]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_interactive_pages_of_a_tenant_post_under_its_prefix() {
    let ehr = MockEhr::builder().tenants(1).spawn().await.unwrap();
    let http = Client::plain();
    let t = ehr.tenant("t1").unwrap();
    let q = form(&[
        ("response_type", "code"),
        ("client_id", "demo-app"),
        ("redirect_uri", REDIRECT),
        ("scope", "launch/patient patient/*.rs"),
        ("state", "s"),
        ("aud", t.fhir_base()),
        ("code_challenge", &pkce::challenge_s256(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]);
    let login = http.get(&format!("{}/authorize?{q}", t.base_url())).await;
    assert_eq!(login.status, StatusCode::OK);
    let page = login.text();
    assert!(page.contains("action=\"/t/t1/authorize/login\""), "{page}");
    let session = page
        .split("name=\"session\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let base = ehr.base_url();
    let picker = http
        .post_form(
            &format!("{base}/t/t1/authorize/login"),
            &[
                ("session", &session),
                ("username", "dr.smith"),
                ("password", "password"),
            ],
        )
        .await;
    assert!(
        picker.text().contains("action=\"/t/t1/authorize/patient\""),
        "{}",
        picker.text()
    );
    let consent = http
        .post_form(
            &format!("{base}/t/t1/authorize/patient"),
            &[("session", &session), ("patient", "pat-002")],
        )
        .await;
    assert!(
        consent
            .text()
            .contains("action=\"/t/t1/authorize/consent\""),
        "{}",
        consent.text()
    );
    // Allow every scope the page offers (the ticked checkboxes: name="scope_N").
    let page = consent.text();
    let mut fields = vec![
        ("session".to_string(), session.clone()),
        ("decision".to_string(), "allow".to_string()),
    ];
    for part in page.split("name=\"scope_").skip(1) {
        let (n, rest) = part.split_once('"').unwrap();
        let value = rest
            .split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        fields.push((format!("scope_{n}"), value.to_string()));
    }
    assert!(fields.len() > 2, "{page}");
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = http
        .post_form(&format!("{base}/t/t1/authorize/consent"), &fields)
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let q = done.location_query();
    assert_eq!(q["iss"], t.base_url());
    let token = http
        .redeem(&format!("{}/token", t.base_url()), &q["code"])
        .await;
    assert_eq!(token.json()["patient"], "pat-002");
    ehr.shutdown().await.unwrap();
}

const TENANT_TOML: &str = r#"
[[clients]]
client_id = "everywhere-app"
redirect_uris = ["http://localhost:3000/callback"]
scope = "launch/patient patient/*.rs"

[[tenant]]
name = "dev"
[[tenant.clients]]
client_id = "dev-only-app"
redirect_uris = ["http://localhost:3000/callback"]
scope = "launch/patient patient/*.rs"

[[tenant]]
name = "prod"
signing = { access_token_alg = "RS256" }
default_patient = "pat-003"
"#;

#[tokio::test]
async fn tenant_tables_override_the_top_level_configuration() {
    let config = Config::from_toml(TENANT_TOML).unwrap();
    assert_eq!(config.tenant.len(), 2);
    let ehr = MockEhr::builder()
        .auto_approve(true)
        .config(config)
        .spawn()
        .await
        .unwrap();
    let http = Client::plain();
    let (dev, prod) = (ehr.tenant("dev").unwrap(), ehr.tenant("prod").unwrap());
    let authorize = |t: &mock_ehr::Tenant, client: &str| {
        let url = format!(
            "{}/authorize?{}",
            t.base_url(),
            form(&[
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", REDIRECT),
                ("scope", "launch/patient patient/*.rs"),
                ("state", "s"),
                ("aud", t.fhir_base()),
                ("code_challenge", &pkce::challenge_s256(VERIFIER)),
                ("code_challenge_method", "S256"),
            ])
        );
        let http = http.clone();
        async move { http.get(&url).await.status }
    };
    assert_eq!(authorize(dev, "dev-only-app").await, StatusCode::SEE_OTHER);
    assert_eq!(
        authorize(prod, "dev-only-app").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        authorize(dev, "everywhere-app").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        authorize(prod, "everywhere-app").await,
        StatusCode::SEE_OTHER
    );
    // prod signs access tokens with RS256 and defaults to another patient.
    let alg_and_patient = |t: &mock_ehr::Tenant| {
        let http = http.clone();
        let (fhir, token_url) = (t.fhir_base().to_string(), format!("{}/token", t.base_url()));
        async move {
            let q = http
                .authorize(&fhir, "launch/patient patient/*.rs", "s")
                .await;
            let token = http.redeem(&token_url, &q["code"]).await.json();
            let jwt = token["access_token"].as_str().unwrap();
            let header =
                smartgate_core::base64url::decode(jwt.split('.').next().unwrap().as_bytes())
                    .unwrap();
            let header: Value = serde_json::from_slice(&header).unwrap();
            (header["alg"].clone(), token["patient"].clone())
        }
    };
    assert_eq!(
        alg_and_patient(dev).await,
        (json!("ES256"), json!("pat-001"))
    );
    assert_eq!(
        alg_and_patient(prod).await,
        (json!("RS256"), json!("pat-003"))
    );
    ehr.shutdown().await.unwrap();
}

#[test]
fn invalid_tenant_settings_are_refused_at_start() {
    let err = |builder: mock_ehr::MockEhrBuilder| {
        builder.build_tenants("http://127.0.0.1:1").unwrap_err().0
    };
    let b = MockEhr::builder;
    assert_eq!(err(b().tenants(0)), "tenants: 0 given, 1 to 64 allowed");
    assert_eq!(err(b().tenants(65)), "tenants: 65 given, 1 to 64 allowed");
    assert_eq!(
        err(b().tenant(TenantConfig::named("a/b"))),
        "tenant name \"a/b\": 1 to 64 ASCII letters, digits, '-' or '_'"
    );
    assert_eq!(
        err(b().tenant(TenantConfig::named(""))),
        "tenant name \"\": 1 to 64 ASCII letters, digits, '-' or '_'"
    );
    assert_eq!(
        err(b()
            .tenant(TenantConfig::named("x"))
            .tenant(TenantConfig::named("x"))),
        "tenant name \"x\" is given twice"
    );
    assert_eq!(
        err(b().tenants(2).tenant(TenantConfig::named("x"))),
        "--tenants N and [[tenant]] tables of the configuration exclude each other"
    );
    let bad_alg =
        Config::from_toml("[[tenant]]\nname = \"p\"\nsigning = { access_token_alg = \"HS256\" }\n")
            .unwrap();
    assert_eq!(
        err(b().config(bad_alg)),
        "tenant \"p\": signing.access_token_alg \"HS256\": ERR_JWS_ALG_SYMMETRIC"
    );
    // Unknown keys in a tenant table are refused by the parser.
    let e = Config::from_toml("[[tenant]]\nname = \"p\"\nissuer = \"x\"\n").unwrap_err();
    assert!(e.contains("unknown field `issuer`"), "{e}");
    // Without tenants, nothing to build.
    assert!(b().build_tenants("http://127.0.0.1:1").unwrap().is_empty());
}

#[tokio::test]
async fn binary_with_tenants_and_tls_prints_each_tenants_issuer() {
    // Without --tls-cert-out the certificate goes to $TMPDIR/mock-ehr-PORT/cert.pem.
    let dir = crate::tls::temp_dir("binary-tenants");
    let (_binary, lines) = run_binary_with_env(
        &["--tls", "--port", "0", "--tenants", "2"],
        &[("TMPDIR", &dir)],
        "TLS certificate:",
    );
    let base = lines[0].clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{lines:?}");
    let port = base.rsplit_once(':').unwrap().1;
    let cert = dir.join(format!("mock-ehr-{port}")).join("cert.pem");
    assert_eq!(
        lines.last().unwrap(),
        &format!("TLS certificate: {} (TLS 1.2 and 1.3)", cert.display())
    );
    let index = Client::trusting(&std::fs::read_to_string(&cert).unwrap())
        .get(&format!("{base}/"))
        .await;
    assert_eq!(index.json()["tenants"][1]["issuer"], format!("{base}/t/t2"));
    for t in ["t1", "t2"] {
        let line = format!("Tenant {t:<8} issuer {base}/t/{t}  FHIR base {base}/t/{t}/fhir");
        assert!(lines.contains(&line), "{line} not in {lines:?}");
    }
    assert!(
        !lines.iter().any(|l| l.starts_with("FHIR base:")),
        "{lines:?}"
    );
    drop(_binary);
    // --tenants 0 is refused by the argument parser.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-ehr"))
        .args(["--port", "0", "--tenants", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("invalid value '0' for '--tenants <N>': 0 is not in 1..=64"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// DPoP's `htu` is the tenant's URL (prefix included) at the token endpoint and the
/// FHIR API, here over HTTPS: both features together.
#[tokio::test]
async fn dpop_bound_flow_under_a_tenant_over_https() {
    let tls = mock_ehr::TlsConfig::self_signed().unwrap();
    let client = Client::trusting(tls.cert_pem());
    let ehr = MockEhr::builder()
        .auto_approve(true)
        .tls(tls)
        .tenants(2)
        .spawn()
        .await
        .unwrap();
    let (t1, t2) = (ehr.tenant("t1").unwrap(), ehr.tenant("t2").unwrap());
    assert!(t1.base_url().starts_with("https://127.0.0.1:"));
    let key = smartgate_core::dpop::DpopKey::from_bytes(&[7; 32]).unwrap();
    let now = t1.state().clock().now();
    let q = client
        .authorize(t1.fhir_base(), "launch/patient patient/*.rs", "s")
        .await;
    let token_url = format!("{}/token", t1.base_url());
    let proof = key
        .proof_with_jti("POST", &token_url, None, None, now, "jti-token")
        .unwrap();
    let token = client
        .request(
            axum::http::Method::POST,
            &token_url,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("dpop", &proof),
            ],
            form(&[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", "demo-app"),
            ]),
        )
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let token = token.json();
    assert_eq!(token["token_type"], "DPoP");
    let access = token["access_token"].as_str().unwrap();
    let url = format!(
        "{}/Patient/{}",
        t1.fhir_base(),
        token["patient"].as_str().unwrap()
    );
    let read = |htu: String, jti: &'static str| {
        let proof = key
            .proof_with_jti("GET", &htu, Some(access), None, now, jti)
            .unwrap();
        let (client, url) = (client.clone(), url.clone());
        let auth = format!("DPoP {access}");
        async move {
            client
                .get_with(&url, &[("authorization", &auth), ("dpop", &proof)])
                .await
        }
    };
    let ok = read(url.clone(), "jti-read").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    // A proof made for the same path at the other tenant does not fit this request.
    let other = url.replace("/t/t1/", "/t/t2/");
    assert!(other.starts_with(t2.base_url()));
    let refused = read(other, "jti-other").await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        refused.text()
    );
    let challenge = refused.header("www-authenticate");
    assert!(
        challenge.contains(
            "DPoP error=\"invalid_dpop_proof\", \
             error_description=\"DPoP proof htu does not match the request URL\""
        ),
        "{challenge}"
    );
    ehr.shutdown().await.unwrap();
}

/// The web console of a tenant links, posts and redirects under the tenant's prefix, and
/// shows that tenant's own audit trail.
#[tokio::test]
async fn the_console_of_a_tenant_links_under_its_prefix() {
    let ehr = two_tenants().await;
    let http = Client::plain();
    let base = ehr.base_url();
    let bare = http.get(&format!("{base}/t/t2/_console")).await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.header("location"), "/t/t2/_console/");

    let launcher = http.get(&format!("{base}/t/t2/_console/")).await;
    assert_eq!(launcher.status, StatusCode::OK);
    let page = launcher.text();
    for link in [
        "href=\"/t/t2/_console/patients\"",
        "href=\"/t/t2/_console/audit\"",
        "href=\"/t/t2/_console/clients\"",
        "action=\"/t/t2/_console/launch\"",
    ] {
        assert!(page.contains(link), "{link} missing in {page}");
    }
    assert!(!page.contains("\"/_console"), "{page}");

    // Every link of the patient pages works where it points.
    let list = http.get(&format!("{base}/t/t2/_console/patients")).await;
    let page = list.text();
    let patient = page
        .split("href=\"/t/t2/_console/patients/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let show = http
        .get(&format!("{base}/t/t2/_console/patients/{patient}"))
        .await;
    assert_eq!(show.status, StatusCode::OK);
    assert!(
        show.text()
            .contains(&format!("href=\"/t/t2/_console/fhir/Patient/{patient}\"")),
        "{}",
        show.text()
    );
    let json = http
        .get(&format!("{base}/t/t2/_console/fhir/Patient/{patient}"))
        .await;
    assert_eq!(json.status, StatusCode::OK);

    // A refused form (no CSRF token) answers under the prefix too.
    let refused = http
        .post_form(&format!("{base}/t/t2/_console/clients"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("href=\"/t/t2/_console/audit\""));
    ehr.shutdown().await.unwrap();
}
