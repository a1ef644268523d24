//! Whole SMART flows against a mock EHR started in this process, over sockets, written
//! as a client would write them: discovery (`{iss}/.well-known/smart-configuration`)
//! first, the JWKS from the `jwks_uri` it names, PKCE and `state` on every
//! authorization request, the response's `iss` checked with
//! [`smartgate_core::authz_response::check_iss`], every token verified with the core
//! against the discovered keys, then the FHIR API.
//!
//! | flow | module |
//! | --- | --- |
//! | EHR launch (login and consent pages; the EHR's launch page) | [`ehr_launch`] |
//! | standalone launch (login, patient picker, consent pages) | [`standalone`] |
//! | SMART Backend Services and Bulk Data export | [`backend`] |
//! | DPoP-bound public client, with and without server nonces | [`dpop`] |
//! | refresh token rotation and reuse | [`refresh`] |
//! | token expiry through the clock control | [`expiry`] |
//! | signing key rotation | [`keys`] |

mod backend;
pub mod browser;
mod dpop;
mod ehr_launch;
mod expiry;
mod keys;
mod refresh;
mod standalone;

use hyper::{Method, StatusCode};
use mock_ehr::{Config, MockEhr};
use serde_json::{Map, Value, json};
use smartgate_core::authz_response::check_iss;
use smartgate_core::dpop::DpopKey;
use smartgate_core::jwk::JwkSet;
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::{self, Validation, VerifiedJwt};
use smartgate_core::pkce::CodeVerifier;
use smartgate_core::provider::ring::Ring;

use crate::http::{self, Reply};

/// The built-in public app.
pub const APP: &str = "demo-app";
/// Its registered redirect URI.
pub const REDIRECT: &str = "http://localhost:3000/callback";

/// A mock EHR on 127.0.0.1, any free port, with `config`.
pub async fn spawn(config: Config, auto_approve: bool) -> MockEhr {
    MockEhr::builder()
        .config(config)
        .auto_approve(auto_approve)
        .port(0)
        .spawn()
        .await
        .unwrap()
}

/// The server's clock (seconds since the epoch), which the clock control moves: what
/// "now" is for the tokens it issues.
pub async fn server_now(ehr: &MockEhr) -> i64 {
    let res = http::get(&format!("{}/_admin/clock", ehr.base_url())).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["now"].as_i64().unwrap()
}

/// What a client learns from discovery, and the keys it keeps.
pub struct Server {
    /// The FHIR base the app was given (`iss` of an EHR launch).
    pub fhir: String,
    /// The authorization server's issuer (the `iss` of its tokens and responses).
    pub issuer: String,
    /// The smart-configuration document.
    pub config: Value,
    /// The JWKS as fetched last.
    pub keys: JwkSet,
}

impl Server {
    /// Fetches `{fhir}/.well-known/smart-configuration` and the JWKS it names, and
    /// checks what a SMART client relies on before it sends a user anywhere.
    pub async fn discover(fhir: &str) -> Self {
        let res = http::get(&format!("{fhir}/.well-known/smart-configuration")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let config = res.json();
        assert_eq!(config["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            config["authorization_response_iss_parameter_supported"],
            true
        );
        let issuer = config["issuer"].as_str().unwrap().to_string();
        for endpoint in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
            assert!(
                config[endpoint]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{issuer}/")),
                "{endpoint}"
            );
        }
        let mut server = Self {
            fhir: fhir.to_string(),
            issuer,
            config,
            keys: JwkSet::new(Vec::new()).unwrap(),
        };
        server.fetch_keys().await;
        server
    }

    /// An endpoint named by discovery (`token_endpoint`, ...).
    pub fn endpoint(&self, name: &str) -> &str {
        self.config[name]
            .as_str()
            .unwrap_or_else(|| panic!("discovery has no {name}"))
    }

    /// Whether discovery lists `capability`.
    pub fn can(&self, capability: &str) -> bool {
        self.config["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == capability)
    }

    /// (Re-)fetches the JWKS from `jwks_uri`.
    pub async fn fetch_keys(&mut self) {
        let res = http::get(self.endpoint("jwks_uri")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        self.keys = JwkSet::from_value(&res.json()).unwrap();
    }

    /// Verifies an access token as a resource server of this FHIR base would.
    pub fn verify_access(
        &self,
        token: &str,
        now: i64,
    ) -> Result<VerifiedJwt, smartgate_core::Error> {
        let v = Validation::new([self.issuer.as_str()], [self.fhir.as_str()])
            .algorithms(&[Algorithm::Es256])
            .typ("at+jwt")
            .require("jti")
            .require("client_id");
        jwt::verify(token, &self.keys, &v, &Ring, now)
    }

    /// Verifies an id_token (OpenID Connect Core 3.1.3.7): RS256, issuer, audience the
    /// client, the request's `nonce`; returns its claims.
    pub fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
        nonce: &str,
        now: i64,
    ) -> Map<String, Value> {
        let v = Validation::new([self.issuer.as_str()], [client_id])
            .algorithms(&[Algorithm::Rs256])
            .require("iat")
            .require("sub");
        let claims = jwt::verify(token, &self.keys, &v, &Ring, now)
            .unwrap()
            .claims
            .into_raw();
        assert_eq!(claims["nonce"], nonce, "the id_token answers this request");
        claims
    }
}

/// An authorization request in flight: its PKCE verifier, `state` and `nonce`.
pub struct Authorization {
    pub verifier: CodeVerifier,
    pub state: String,
    pub nonce: String,
    /// The URL the browser is sent to.
    pub url: String,
}

impl Authorization {
    /// A code request of `client_id` for `scope` (with `launch` in an EHR launch),
    /// audience the FHIR base, PKCE S256, a fresh `state` and `nonce`.
    pub fn new(server: &Server, client_id: &str, scope: &str, launch: Option<&str>) -> Self {
        Self::with(server, client_id, scope, launch, &[])
    }

    /// As [`Authorization::new`], with more parameters (`dpop_jkt`, ...).
    pub fn with(
        server: &Server,
        client_id: &str,
        scope: &str,
        launch: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Self {
        let verifier = CodeVerifier::generate_random().unwrap();
        let state = CodeVerifier::generate_random()
            .unwrap()
            .as_str()
            .to_string();
        let nonce = CodeVerifier::generate_random()
            .unwrap()
            .as_str()
            .to_string();
        let challenge = verifier.challenge();
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("aud", server.fhir.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(l) = launch {
            pairs.push(("launch", l));
        }
        pairs.extend_from_slice(extra);
        let url = format!(
            "{}?{}",
            server.endpoint("authorization_endpoint"),
            http::form(&pairs)
        );
        Self {
            verifier,
            state,
            nonce,
            url,
        }
    }

    /// The app's redirect endpoint: the redirect must come to [`REDIRECT`] with this
    /// request's `state` and the issuer's `iss` (RFC 9207, checked by the core); the
    /// code.
    pub fn callback(&self, server: &Server, reply: &Reply) -> String {
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        let location = reply.header("location").unwrap();
        assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
        let q = reply.redirect_query().unwrap();
        assert_eq!(q.get("state"), Some(&self.state));
        check_iss(
            &server.issuer,
            q.get("iss").map(String::as_str),
            server.config["authorization_response_iss_parameter_supported"] == true,
        )
        .unwrap();
        q.get("code")
            .unwrap_or_else(|| panic!("no code: {q:?}"))
            .clone()
    }

    /// Runs the request against an auto-approving server; the code.
    pub async fn auto(&self, server: &Server) -> String {
        self.callback(server, &http::get(&self.url).await)
    }

    /// Exchanges `code` at the token endpoint as the public `client_id`, with a DPoP
    /// proof when given.
    pub async fn exchange(
        &self,
        server: &Server,
        client_id: &str,
        code: &str,
        dpop: Option<&str>,
    ) -> Reply {
        let pairs = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", self.verifier.as_str()),
            ("client_id", client_id),
        ];
        post_token(server, &pairs, dpop).await
    }
}

/// A form POST to the token endpoint, with a `DPoP` header when given.
pub async fn post_token(server: &Server, pairs: &[(&str, &str)], dpop: Option<&str>) -> Reply {
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(p) = dpop {
        headers.push(("dpop", p));
    }
    http::send(
        Method::POST,
        server.endpoint("token_endpoint"),
        &headers,
        http::form(pairs),
    )
    .await
}

/// A refresh of a public client.
pub async fn refresh(server: &Server, client_id: &str, rt: &str, dpop: Option<&str>) -> Reply {
    post_token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", client_id),
        ],
        dpop,
    )
    .await
}

/// A successful token response: `no-store`, and its JSON.
#[track_caller]
pub fn token_response(reply: &Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    reply.json()
}

/// A FHIR request to `url` with `Authorization: {authorization}` and a `DPoP` proof
/// when given.
pub async fn fhir_get(url: &str, authorization: &str, dpop: Option<&str>) -> Reply {
    let mut headers = vec![
        ("authorization", authorization),
        ("accept", "application/fhir+json"),
    ];
    if let Some(p) = dpop {
        headers.push(("dpop", p));
    }
    http::get_with(url, &headers).await
}

/// `GET {fhir}/{path}` with a bearer token; the resource or Bundle (200 asserted).
pub async fn read(server: &Server, token: &str, path: &str) -> Value {
    let res = fhir_get(
        &format!("{}/{path}", server.fhir),
        &format!("Bearer {token}"),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text());
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/fhir+json")
    );
    res.json()
}

/// A refused FHIR request: its status, the error of the `WWW-Authenticate` challenge
/// and the `OperationOutcome`'s `details.text`.
#[track_caller]
pub fn assert_refused(res: &Reply, status: u16, error: &str) {
    assert_eq!(res.status.as_u16(), status, "{}", res.text());
    let challenge = res.header("www-authenticate").unwrap();
    assert!(
        challenge.contains(&format!("error=\"{error}\"")),
        "{challenge}"
    );
    let body = res.json();
    assert_eq!(body["resourceType"], "OperationOutcome");
    assert_eq!(body["issue"][0]["details"]["text"], error);
}

/// The ids of a search Bundle's entries, after checking it is a `searchset` whose
/// `total` is its number of entries (no paging in these searches).
pub fn entry_ids(bundle: &Value) -> Vec<String> {
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "searchset");
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    assert_eq!(bundle["total"].as_u64().unwrap(), entries.len() as u64);
    entries
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// The ids of the built-in data's Observations of `patient` (what a search in that
/// patient's compartment must give), sorted.
pub fn observations_of(patient: &str) -> Vec<String> {
    let store = mock_ehr::fhir::Store::builtin();
    let subject = format!("Patient/{patient}");
    let mut ids: Vec<String> = store
        .current("Observation")
        .filter(|o| o["subject"]["reference"] == subject.as_str())
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert!(!ids.is_empty(), "{patient} has Observations");
    ids
}

/// Searches `{fhir}/Observation?patient={patient}` and checks the result is exactly
/// that patient's Observations.
pub async fn search_observations(server: &Server, token: &str, patient: &str) {
    let bundle = read(
        server,
        token,
        &format!("Observation?patient={patient}&_count=100"),
    )
    .await;
    let mut ids = entry_ids(&bundle);
    ids.sort();
    assert_eq!(ids, observations_of(patient));
}

/// A DPoP proof by `key` for `method` on `url` (bound to `token` when given), `iat`
/// the server's `now`, a random `jti`.
pub fn proof(
    key: &DpopKey,
    method: &str,
    url: &str,
    token: Option<&str>,
    nonce: Option<&str>,
    now: i64,
) -> String {
    let jti = CodeVerifier::generate_random().unwrap();
    key.proof_with_jti(method, url, token, nonce, now, jti.as_str())
        .unwrap()
}

/// A DPoP-bound access token of [`APP`] for `key`, from the mock's token endpoint
/// (auto-approved code flow, PKCE, a proof at the token endpoint); the token response.
pub async fn dpop_token(ehr: &MockEhr, server: &Server, key: &DpopKey, scope: &str) -> Value {
    let auth = Authorization::new(server, APP, scope, None);
    let code = auth.auto(server).await;
    let now = server_now(ehr).await;
    let p = proof(
        key,
        "POST",
        server.endpoint("token_endpoint"),
        None,
        None,
        now,
    );
    let t = token_response(&auth.exchange(server, APP, &code, Some(&p)).await);
    assert_eq!(t["token_type"], "DPoP");
    t
}
