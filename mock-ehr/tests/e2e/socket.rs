//! Whole flows over a real socket (127.0.0.1:0), with the system clock. Servers stop
//! at the end of each test (`shutdown`, or on drop).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use mock_ehr::{ClientAuthMethod, ClientConfig, Config, MockEhr};
use serde_json::{Value, json};
use smartgate_core::jwk::JwkSet;
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::{self, Validation};
use smartgate_core::pkce;
use smartgate_core::provider::ring::{Ring, RingSigner};
use tokio::net::TcpStream;

use crate::support::{VERIFIER, assertion, form, jwks_of, rsa_signer};

const REDIRECT: &str = "http://localhost:3000/callback";

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("{}: {}", self.status, String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn location_query(&self) -> HashMap<String, String> {
        let loc = self
            .headers
            .get("location")
            .expect("a redirect")
            .to_str()
            .unwrap();
        form_urlencoded::parse(loc.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect()
    }
}

/// One HTTP/1.1 request; redirects are not followed.
async fn http(method: Method, url: &str, content_type: Option<&str>, body: String) -> Reply {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let stream = TcpStream::connect(authority).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", authority);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = sender
        .send_request(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    conn.abort();
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(url: &str) -> Reply {
    http(Method::GET, url, None, String::new()).await
}

async fn post_form(url: &str, pairs: &[(&str, &str)]) -> Reply {
    http(
        Method::POST,
        url,
        Some("application/x-www-form-urlencoded"),
        form(pairs),
    )
    .await
}

async fn post_json(url: &str, body: Value) -> Reply {
    http(
        Method::POST,
        url,
        Some("application/json"),
        body.to_string(),
    )
    .await
}

fn auth_query(ehr: &MockEhr, scope: &str, extra: &[(&str, &str)]) -> String {
    let challenge = pkce::challenge_s256(VERIFIER);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", "demo-app"),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "s-9"),
        ("aud", ehr.fhir_base()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    form(&pairs)
}

async fn exchange(ehr: &MockEhr, code: &str) -> Value {
    let res = post_form(
        &format!("{}/token", ehr.base_url()),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", "demo-app"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

fn verify(ehr: &MockEhr, jwks: &Value, token: &str, aud: &str, alg: Algorithm) -> Value {
    let keys = JwkSet::from_value(jwks).unwrap();
    let v = Validation::new([ehr.base_url()], [aud]).algorithms(&[alg]);
    Value::Object(
        jwt::verify(token, &keys, &v, &Ring, ehr.state().clock().now())
            .unwrap()
            .claims
            .into_raw(),
    )
}

#[tokio::test]
async fn ehr_launch_end_to_end() {
    let ehr = MockEhr::builder().auto_approve(true).spawn().await.unwrap();
    let base = ehr.base_url().to_string();
    let smart = get(&format!(
        "{}/.well-known/smart-configuration",
        ehr.fhir_base()
    ))
    .await
    .json();
    assert_eq!(smart["issuer"], base);
    let launch = post_json(
        &format!("{base}/_admin/launch"),
        json!({"patient": "pat-004", "encounter": "enc-1"}),
    )
    .await
    .json();
    let id = launch["launch"].as_str().unwrap();
    let res = get(&format!(
        "{base}/authorize?{}",
        auth_query(
            &ehr,
            "launch openid fhirUser patient/*.rs",
            &[("launch", id)]
        )
    ))
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let q = res.location_query();
    assert_eq!(q["iss"], base);
    let t = exchange(&ehr, &q["code"]).await;
    assert_eq!(t["patient"], "pat-004");
    assert_eq!(t["encounter"], "enc-1");
    let jwks = get(&format!("{base}/jwks.json")).await.json();
    let id_token = verify(
        &ehr,
        &jwks,
        t["id_token"].as_str().unwrap(),
        "demo-app",
        Algorithm::Rs256,
    );
    assert_eq!(
        id_token["fhirUser"],
        format!("{}/Practitioner/prac-001", ehr.fhir_base())
    );
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn standalone_launch_with_patient_picker_end_to_end() {
    let ehr = MockEhr::builder().spawn().await.unwrap();
    let base = ehr.base_url().to_string();
    let page = get(&format!(
        "{base}/authorize?{}",
        auth_query(&ehr, "launch/patient patient/*.rs", &[])
    ))
    .await;
    let html = page.text();
    let marker = "name=\"session\" value=\"";
    let session = html[html.find(marker).unwrap() + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let picker = post_form(
        &format!("{base}/authorize/login"),
        &[
            ("session", &session),
            ("username", "dr.smith"),
            ("password", "password"),
        ],
    )
    .await;
    assert!(picker.text().contains("Choose a patient"));
    post_form(
        &format!("{base}/authorize/patient"),
        &[("session", &session), ("patient", "pat-012")],
    )
    .await;
    let done = post_form(
        &format!("{base}/authorize/consent"),
        &[
            ("session", &session),
            ("decision", "allow"),
            ("scope_0", "launch/patient"),
            ("scope_1", "patient/*.rs"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let t = exchange(&ehr, &done.location_query()["code"]).await;
    assert_eq!(t["patient"], "pat-012");
    ehr.shutdown().await.unwrap();
}

/// Serves a JWKS at http://127.0.0.1:PORT/jwks.json until dropped.
async fn jwks_server(jwks: Value) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || async move { axum::Json(jwks) }),
    );
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, task)
}

#[tokio::test]
async fn backend_services_es384_from_jwks_uri_and_rs384_from_jwks() {
    let ec = RingSigner::generate_ecdsa(Algorithm::Es384).unwrap().0;
    let (jwks_url, jwks_task) = jwks_server(jwks_of(&ec, "ec-1")).await;
    let rsa = rsa_signer(Algorithm::Rs384);
    let config = Config {
        clients: vec![
            ClientConfig {
                client_id: "svc-ec".into(),
                auth: ClientAuthMethod::PrivateKeyJwt,
                jwks_uri: Some(jwks_url.clone()),
                scope: "system/*.rs".into(),
                ..ClientConfig::default()
            },
            ClientConfig {
                client_id: "svc-rsa".into(),
                auth: ClientAuthMethod::PrivateKeyJwt,
                jwks: Some(jwks_of(&rsa, "rsa-1")),
                scope: "system/*.rs".into(),
                ..ClientConfig::default()
            },
        ],
        ..Config::default()
    };
    let ehr = MockEhr::builder().config(config).spawn().await.unwrap();
    let token_url = format!("{}/token", ehr.base_url());
    let now = ehr.state().clock().now();
    for (client, signer, kid) in [
        (
            "svc-ec",
            &ec as &dyn smartgate_core::provider::Signer,
            "ec-1",
        ),
        ("svc-rsa", &rsa, "rsa-1"),
    ] {
        let a = assertion(
            signer,
            kid,
            client,
            &token_url,
            now,
            &format!("{client}-1"),
            240,
        );
        let res = post_form(
            &token_url,
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
        assert_eq!(res.status, StatusCode::OK, "{client}: {}", res.text());
        assert_eq!(res.headers.get("cache-control").unwrap(), "no-store");
        let t = res.json();
        let jwks = get(&format!("{}/jwks.json", ehr.base_url())).await.json();
        let claims = verify(
            &ehr,
            &jwks,
            t["access_token"].as_str().unwrap(),
            ehr.fhir_base(),
            Algorithm::Es256,
        );
        assert_eq!(claims["client_id"], client);
    }
    // A jku equal to the registered jwks_uri is accepted; the same assertion is not.
    let mut header = serde_json::Map::new();
    header.insert("kid".into(), "ec-1".into());
    header.insert("jku".into(), jwks_url.clone().into());
    let claims = json!({"iss": "svc-ec", "sub": "svc-ec", "aud": token_url, "exp": now + 60, "jti": "jku-1"});
    let a =
        smartgate_core::sign::sign_compact(&header, claims.to_string().as_bytes(), &ec).unwrap();
    let body = [
        ("grant_type", "client_credentials"),
        ("scope", "system/*.rs"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", a.as_str()),
    ];
    assert_eq!(post_form(&token_url, &body).await.status, StatusCode::OK);
    assert_eq!(
        post_form(&token_url, &body).await.json()["error"],
        "invalid_client"
    );
    ehr.shutdown().await.unwrap();
    jwks_task.abort();
}

#[tokio::test]
async fn par_refresh_revocation_and_key_rotation_end_to_end() {
    let ehr = MockEhr::builder().auto_approve(true).spawn().await.unwrap();
    let base = ehr.base_url().to_string();
    // PAR.
    let pushed: Vec<(String, String)> = form_urlencoded::parse(
        auth_query(
            &ehr,
            "openid fhirUser offline_access patient/*.rs launch/patient",
            &[],
        )
        .as_bytes(),
    )
    .into_owned()
    .collect();
    let pushed: Vec<(&str, &str)> = pushed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let par = post_form(&format!("{base}/par"), &pushed).await;
    assert_eq!(par.status, StatusCode::CREATED);
    let uri = par.json()["request_uri"].as_str().unwrap().to_string();
    let res = get(&format!(
        "{base}/authorize?{}",
        form(&[("client_id", "demo-app"), ("request_uri", &uri)])
    ))
    .await;
    let t0 = exchange(&ehr, &res.location_query()["code"]).await;
    // Refresh rotation and reuse detection.
    let refresh = |rt: String| {
        let base = base.clone();
        async move {
            post_form(
                &format!("{base}/token"),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_id", "demo-app"),
                ],
            )
            .await
        }
    };
    let t1 = refresh(t0["refresh_token"].as_str().unwrap().to_string())
        .await
        .json();
    let again = refresh(t0["refresh_token"].as_str().unwrap().to_string()).await;
    assert_eq!(again.json()["error"], "invalid_grant");
    let at1 = t1["access_token"].as_str().unwrap();
    let bearer = http(
        Method::POST,
        &format!("{base}/introspect"),
        Some("application/x-www-form-urlencoded"),
        form(&[("token", at1)]),
    )
    .await;
    assert_eq!(
        bearer.status,
        StatusCode::UNAUTHORIZED,
        "a public client cannot introspect"
    );
    // A fresh grant: revoke it, then introspect (as the confidential demo client).
    let res = get(&format!(
        "{base}/authorize?{}",
        auth_query(&ehr, "offline_access patient/*.rs launch/patient", &[])
    ))
    .await;
    let t2 = exchange(&ehr, &res.location_query()["code"]).await;
    let confidential = |token: String| {
        let base = base.clone();
        async move {
            use base64ct::{Base64, Encoding};
            let stream = TcpStream::connect(base.strip_prefix("http://").unwrap())
                .await
                .unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            let conn = tokio::spawn(conn);
            let req = hyper::Request::post("/introspect")
                .header("host", base.strip_prefix("http://").unwrap())
                .header("content-type", "application/x-www-form-urlencoded")
                .header(
                    "authorization",
                    format!(
                        "Basic {}",
                        Base64::encode_string(b"demo-confidential:demo-secret")
                    ),
                )
                .body(Full::new(Bytes::from(form(&[("token", &token)]))))
                .unwrap();
            let res = sender.send_request(req).await.unwrap();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            conn.abort();
            serde_json::from_slice::<Value>(&body).unwrap()
        }
    };
    let at2 = t2["access_token"].as_str().unwrap().to_string();
    assert_eq!(confidential(at2.clone()).await["active"], true);
    let rev = post_form(
        &format!("{base}/revoke"),
        &[
            ("token", t2["refresh_token"].as_str().unwrap()),
            ("client_id", "demo-app"),
        ],
    )
    .await;
    assert_eq!(rev.status, StatusCode::OK);
    assert_eq!(confidential(at2).await, json!({"active": false}));
    // Key rotation: old and new tokens both verify with the core against the JWKS.
    assert_eq!(
        post_json(&format!("{base}/_admin/keys/rotate"), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let res = get(&format!(
        "{base}/authorize?{}",
        auth_query(&ehr, "openid fhirUser patient/*.rs launch/patient", &[])
    ))
    .await;
    let t3 = exchange(&ehr, &res.location_query()["code"]).await;
    let jwks = get(&format!("{base}/jwks.json")).await.json();
    for t in [&t1, &t3] {
        verify(
            &ehr,
            &jwks,
            t["access_token"].as_str().unwrap(),
            ehr.fhir_base(),
            Algorithm::Es256,
        );
    }
    verify(
        &ehr,
        &jwks,
        t0["id_token"].as_str().unwrap(),
        "demo-app",
        Algorithm::Rs256,
    );
    verify(
        &ehr,
        &jwks,
        t3["id_token"].as_str().unwrap(),
        "demo-app",
        Algorithm::Rs256,
    );
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let ehr = MockEhr::builder().spawn().await.unwrap();
    let addr = ehr.local_addr();
    drop(ehr);
    for _ in 0..50 {
        if TcpStream::connect(addr).await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("still listening");
}
