//! Helpers: an app over a pinned clock, requests through `oneshot`, PKCE, assertions.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use mock_ehr::{AppState, ClientAuthMethod, ClientConfig, Config, MockEhr};
use serde_json::{Map, Value};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::{self, Validation};
use smartgate_core::pkce;
use smartgate_core::provider::Signer;
use smartgate_core::provider::ring::{Ring, RingSigner};
use smartgate_core::{jwk::JwkSet, sign};
use tower::ServiceExt;

pub const BASE: &str = "http://127.0.0.1:8080";
pub const FHIR: &str = "http://127.0.0.1:8080/fhir";
pub const NOW: i64 = 1_700_000_000;
pub const REDIRECT: &str = "http://localhost:3000/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CLIENT_RSA_KEY: &[u8] = include_bytes!("../keys/client-rsa2048.pk8");

pub struct Ehr {
    pub state: AppState,
    pub app: Router,
}

impl Ehr {
    pub fn new(config: Config, auto_approve: bool) -> Self {
        let state = MockEhr::builder()
            .config(config)
            .auto_approve(auto_approve)
            .time_source(Arc::new(|| NOW))
            .build_state(BASE)
            .unwrap();
        let app = mock_ehr::app(state.clone());
        Self { state, app }
    }

    pub fn auto() -> Self {
        Self::new(Config::default(), true)
    }

    pub fn now(&self) -> i64 {
        self.state.clock().now()
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_form(&self, uri: &str, pairs: &[(&str, &str)]) -> Resp {
        self.post_form_with(uri, pairs, &[]).await
    }

    pub async fn post_form_with(
        &self,
        uri: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req =
            Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::from(form(pairs))).unwrap()).await
    }

    pub async fn post_json(&self, uri: &str, body: Value) -> Resp {
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// Runs an auto-approved authorization request and returns the code.
    pub async fn code(&self, client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
        let res = self.authorize(client_id, scope, extra).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        let q = res.location_query();
        assert_eq!(q.get("state").map(String::as_str), Some("st-1"));
        q.get("code")
            .cloned()
            .unwrap_or_else(|| panic!("no code: {q:?}"))
    }

    pub async fn authorize(&self, client_id: &str, scope: &str, extra: &[(&str, &str)]) -> Resp {
        let mut pairs = authorize_params(client_id, scope);
        for (k, v) in extra {
            pairs.retain(|(n, _)| n != k);
            pairs.push((k.to_string(), v.to_string()));
        }
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.get(&format!("/authorize?{}", form(&pairs))).await
    }

    /// Exchanges a code of the public demo client.
    pub async fn exchange(&self, code: &str) -> Resp {
        self.post_form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", "demo-app"),
            ],
        )
        .await
    }

    /// Code + exchange for demo-app; returns the token response.
    pub async fn tokens(&self, scope: &str) -> Value {
        let code = self.code("demo-app", scope, &[]).await;
        let res = self.exchange(&code).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        res.json()
    }

    pub async fn introspect(&self, token: &str) -> Value {
        let res = self
            .post_form_with(
                "/introspect",
                &[("token", token)],
                &[("authorization", &basic("demo-confidential", "demo-secret"))],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        res.json()
    }

    pub async fn audit(&self) -> Vec<Value> {
        self.get("/_admin/audit").await.json()["events"]
            .as_array()
            .unwrap()
            .clone()
    }
}

pub fn authorize_params(client_id: &str, scope: &str) -> Vec<(String, String)> {
    [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "st-1"),
        ("aud", FHIR),
        ("code_challenge", &pkce::challenge_s256(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

pub fn basic(id: &str, secret: &str) -> String {
    use base64ct::{Base64, Encoding};
    format!(
        "Basic {}",
        Base64::encode_string(format!("{id}:{secret}").as_bytes())
    )
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.text()))
    }

    pub fn location_query(&self) -> HashMap<String, String> {
        let loc = self.location();
        let query = loc.split_once('?').map(|(_, q)| q).unwrap_or("");
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    /// Asserts an OAuth JSON error with this code.
    pub fn assert_oauth_error(&self, code: &str) {
        assert!(
            self.status.is_client_error() || self.status.is_server_error(),
            "{}",
            self.status
        );
        let body = self.json();
        assert_eq!(body["error"], code, "{body}");
        assert!(body["error_description"].is_string());
    }

    /// Asserts an error redirect to the registered URI, with `state` and `iss`.
    pub fn assert_error_redirect(&self, code: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.text());
        assert!(self.location().starts_with(REDIRECT), "{}", self.location());
        let q = self.location_query();
        assert_eq!(q.get("error").map(String::as_str), Some(code), "{q:?}");
        assert_eq!(q.get("state").map(String::as_str), Some("st-1"));
        assert_eq!(q.get("iss").map(String::as_str), Some(BASE));
        assert!(q.contains_key("error_description"));
        assert!(!q.contains_key("code"));
    }

    /// Asserts an error page (no redirect).
    pub fn assert_error_page(&self) {
        assert!(self.status.is_client_error(), "{}", self.status);
        assert!(self.header("location").is_none());
        assert!(
            self.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
    }
}

/// Verifies a token of the server with the core: signature by the published JWKS.
pub fn verify_with_core(
    ehr: &Ehr,
    jwks: &Value,
    token: &str,
    aud: &str,
    algs: &[Algorithm],
) -> Map<String, Value> {
    let keys = JwkSet::from_value(jwks).unwrap();
    let v = Validation::new([BASE], [aud]).algorithms(algs);
    jwt::verify(token, &keys, &v, &Ring, ehr.now())
        .unwrap()
        .claims
        .into_raw()
}

/// A signed client assertion.
pub fn assertion<S: Signer + ?Sized>(
    signer: &S,
    kid: &str,
    client_id: &str,
    aud: &str,
    now: i64,
    jti: &str,
    lifetime: i64,
) -> String {
    let mut claims = Map::new();
    claims.insert("iss".into(), client_id.into());
    claims.insert("sub".into(), client_id.into());
    claims.insert("aud".into(), aud.into());
    claims.insert("exp".into(), (now + lifetime).into());
    claims.insert("iat".into(), now.into());
    claims.insert("jti".into(), jti.into());
    sign::sign_jwt(&claims, Some("JWT"), Some(kid), signer).unwrap()
}

/// A JWK Set of one public key with `kid`.
pub fn jwks_of<S: Signer + ?Sized>(signer: &S, kid: &str) -> Value {
    let jwk = smartgate_core::jwk::Jwk::new(signer.public_key(), Some(kid.into()), None).unwrap();
    JwkSet::new(vec![jwk]).unwrap().to_json()
}

pub fn rsa_signer(alg: Algorithm) -> RingSigner {
    RingSigner::from_pkcs8(alg, CLIENT_RSA_KEY).unwrap()
}

/// A backend client with a registered JWKS.
pub fn backend_client(id: &str, jwks: Value) -> ClientConfig {
    ClientConfig {
        client_id: id.into(),
        auth: ClientAuthMethod::PrivateKeyJwt,
        jwks: Some(jwks),
        scope: "system/*.rs system/Observation.rs".into(),
        ..ClientConfig::default()
    }
}

pub fn config_with(clients: Vec<ClientConfig>) -> Config {
    Config {
        clients,
        ..Config::default()
    }
}
