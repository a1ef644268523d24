//! Minted tokens: `POST /_admin/tokens` and `mock-ehr mint` refuse what the
//! authorization server would refuse, with the same messages; a token minted by the
//! binary, with no server running, reads from a server that has the same configured
//! key, across rotation and reset; a DPoP-bound one needs its proof.

use std::path::PathBuf;
use std::process::Command;

use axum::http::StatusCode;
use mock_ehr::Config;
use mock_ehr::mint::{MintRequest, mint_offline};
use serde_json::{Value, json};
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::ring::RingSigner;

use crate::fhir_api_support::{APP, dpop_key, ehr, get, proof};
use crate::support::{BASE, Ehr};

/// A fresh folder for this test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mock-ehr-mint-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A new PKCS#8 key for `alg`, written as PEM; its path.
fn key_file(dir: &std::path::Path, alg: Algorithm) -> PathBuf {
    let (_, der) = RingSigner::generate_ecdsa(alg).unwrap();
    let pem = pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, &der).unwrap();
    let path = dir.join("access-key.pem");
    std::fs::write(&path, pem).unwrap();
    path
}

/// A config file naming `key` (and `alg`), with the FHIR test clients; its path.
fn config_file(dir: &std::path::Path, key: &std::path::Path, alg: &str) -> PathBuf {
    let text = format!(
        "[signing]\naccess_token_alg = \"{alg}\"\naccess_token_key_file = {:?}\n\n\
         [[clients]]\nclient_id = \"{APP}\"\nredirect_uris = [\"http://localhost:3000/callback\"]\n\
         scope = \"fhirUser patient/*.rs user/*.rs\"\n",
        key.display().to_string()
    );
    let path = dir.join("mock-ehr.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn load(config: &std::path::Path) -> Config {
    Config::from_toml(&std::fs::read_to_string(config).unwrap()).unwrap()
}

/// A server at [`BASE`] on the system clock (offline-minted tokens carry the real
/// time) over `config`.
fn server(config: Config) -> Ehr {
    let state = mock_ehr::MockEhr::builder()
        .config(config)
        .auto_approve(true)
        .build_state(BASE)
        .unwrap();
    let app = mock_ehr::app(state.clone());
    Ehr { state, app }
}

/// Runs `mock-ehr mint ARGS`: (exit code, stdout, stderr).
fn mint_cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mock-ehr"))
        .arg("mint")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const JKT_OK: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

/// Each refusal, with its OAuth error and description, for the endpoint and the CLI.
fn refusals() -> Vec<(Value, &'static str, &'static str)> {
    vec![
        (
            json!({ "client_id": "nobody", "scope": "user/*.rs" }),
            "invalid_client",
            "unknown client_id \"nobody\"",
        ),
        (
            json!({ "client_id": APP, "scope": "patient/Foo.rs", "patient": "pat-001" }),
            "invalid_scope",
            "scope is malformed (ERR_SCOPE_RESOURCE_UNKNOWN): ",
        ),
        (
            json!({ "client_id": APP, "scope": "user/*.rs system/*.rs" }),
            "invalid_scope",
            "client \"fhir-app\" may not be granted system/*.rs",
        ),
        (
            json!({ "client_id": APP, "scope": "bogus user/*.rs" }),
            "invalid_scope",
            "client \"fhir-app\" may not be granted bogus",
        ),
        (
            json!({ "client_id": APP, "scope": "patient/*.rs" }),
            "invalid_request",
            "patient/ scopes need a patient in context: give patient",
        ),
        (
            json!({ "client_id": APP, "scope": "patient/*.rs", "patient": "pat-999" }),
            "invalid_request",
            "unknown patient \"pat-999\"",
        ),
        (
            json!({ "client_id": APP, "scope": "user/*.rs", "user": "nobody" }),
            "invalid_request",
            "unknown user \"nobody\"",
        ),
        (
            json!({ "client_id": APP, "scope": "fhirUser user/*.rs" }),
            "invalid_request",
            "the fhirUser scope needs a user",
        ),
        (
            json!({ "client_id": APP, "scope": "user/*.rs", "expires_in": -5 }),
            "invalid_request",
            "expires_in must be 1 to 86400 seconds, not -5",
        ),
        (
            json!({ "client_id": APP, "scope": "user/*.rs", "expires_in": 0 }),
            "invalid_request",
            "expires_in must be 1 to 86400 seconds, not 0",
        ),
        (
            json!({ "client_id": APP, "scope": "user/*.rs", "expires_in": 86_401 }),
            "invalid_request",
            "expires_in must be 1 to 86400 seconds, not 86401",
        ),
        (
            json!({ "client_id": APP, "scope": "user/*.rs", "jkt": "short" }),
            "invalid_request",
            "jkt must be a base64url SHA-256 JWK thumbprint (RFC 7638, 43 characters)",
        ),
        (
            // 43 characters, but not base64url.
            json!({ "client_id": APP, "scope": "user/*.rs", "jkt": format!("{}!", &JKT_OK[..42]) }),
            "invalid_request",
            "jkt must be a base64url SHA-256 JWK thumbprint (RFC 7638, 43 characters)",
        ),
        (
            json!({ "client_id": APP, "scope": "  " }),
            "invalid_scope",
            "scope is empty",
        ),
    ]
}

#[tokio::test]
async fn the_endpoint_refuses_with_oauth_errors() {
    let ehr = ehr();
    for (body, error, description) in refusals() {
        let res = ehr.post_json("/_admin/tokens", body.clone()).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}");
        let got = res.json();
        assert_eq!(got["error"], error, "{body}: {got}");
        let d = got["error_description"].as_str().unwrap();
        if description.ends_with(": ") {
            assert!(d.starts_with(description), "{body}: {d}");
        } else {
            assert_eq!(d, description, "{body}");
        }
    }
    let res = ehr
        .post_json(
            "/_admin/tokens",
            json!({ "client_id": APP, "scope": "user/*.rs", "extra": 1 }),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.json()["error"], "invalid_request");
    assert!(
        res.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("unknown field `extra`"),
        "{}",
        res.text()
    );
    // Nothing refused was recorded as issued.
    assert!(ehr.audit().await.iter().all(|e| e["event"] != "token"));
}

#[tokio::test]
async fn the_cli_refuses_what_the_endpoint_refuses() {
    let dir = temp_dir("refusals");
    let key = key_file(&dir, Algorithm::Es256);
    let config = config_file(&dir, &key, "ES256");
    let config = config.to_str().unwrap();
    for (body, error, description) in refusals() {
        let mut args = vec![
            "--config".to_string(),
            config.to_string(),
            "--client".into(),
            body["client_id"].as_str().unwrap().into(),
            "--scope".into(),
            body["scope"].as_str().unwrap().into(),
        ];
        for (field, flag) in [
            ("patient", "--patient"),
            ("user", "--user"),
            ("jkt", "--jkt"),
            ("expires_in", "--lifetime"),
        ] {
            match &body[field] {
                Value::String(s) => args.extend([flag.to_string(), s.clone()]),
                Value::Number(n) => args.extend([flag.to_string(), n.to_string()]),
                _ => {}
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = mint_cli(&args);
        assert_eq!(code, 2, "{body}: {out}");
        assert!(out.is_empty(), "{body}: {out}");
        let expected = format!("mock-ehr mint: {error}: {description}");
        if description.ends_with(": ") {
            assert!(err.starts_with(&expected), "{body}: {err}");
        } else {
            assert_eq!(err.trim_end(), expected, "{body}");
        }
    }
}

#[tokio::test]
async fn the_cli_needs_the_configured_key_and_a_base_url() {
    let (code, out, err) = mint_cli(&["--scope", "patient/*.rs", "--patient", "pat-001"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err.trim_end(),
        "mock-ehr mint: server_error: no access token key: set [signing] \
         access_token_key_file in the --config file (a PKCS#8 PEM or DER key) and start the \
         server with the same file; without it the server signs with a fresh key at each \
         start, and a minted token could never verify"
    );
    let dir = temp_dir("issuer");
    let key = key_file(&dir, Algorithm::Es256);
    let config = config_file(&dir, &key, "ES256");
    let (code, _, err) = mint_cli(&[
        "--config",
        config.to_str().unwrap(),
        "--issuer",
        "127.0.0.1:8080",
        "--scope",
        "user/*.rs",
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        "mock-ehr mint: invalid_request: issuer \"127.0.0.1:8080\" must be the server's base \
         URL (http://HOST:PORT)"
    );
    // A key of another curve than the algorithm's.
    let p384 = temp_dir("p384");
    let key = key_file(&p384, Algorithm::Es384);
    let config = config_file(&p384, &key, "ES256");
    let (code, _, err) = mint_cli(&["--config", config.to_str().unwrap(), "--scope", "user/*.rs"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("mock-ehr mint: server_error: access token key: not a PKCS#8 ES256 key"),
        "{err}"
    );
    // The server refuses to start with it too.
    let e = mock_ehr::MockEhr::builder()
        .config(load(&config))
        .build_state(BASE)
        .unwrap_err();
    assert!(
        e.0.starts_with(&format!(
            "signing.access_token_key_file {}: access token key: not a PKCS#8 ES256 key",
            key.display()
        )),
        "{e}"
    );
    // A SEC1 PEM block is named, with the way to convert it.
    let sec1 = p384.join("sec1.pem");
    std::fs::write(
        &sec1,
        pem_rfc7468::encode_string("EC PRIVATE KEY", pem_rfc7468::LineEnding::LF, &[1, 2, 3])
            .unwrap(),
    )
    .unwrap();
    let config = config_file(&p384, &sec1, "ES256");
    let (code, _, err) = mint_cli(&["--config", config.to_str().unwrap(), "--scope", "user/*.rs"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        format!(
            "mock-ehr mint: server_error: signing.access_token_key_file {}: a PEM \"EC PRIVATE \
             KEY\" block; expected a PKCS#8 \"PRIVATE KEY\" (convert with `openssl pkcs8 \
             -topk8 -nocrypt`)",
            sec1.display()
        )
    );
}

#[tokio::test]
async fn a_token_minted_by_the_cli_reads_from_a_server_with_the_same_key() {
    let dir = temp_dir("reads");
    let key = key_file(&dir, Algorithm::Es256);
    let config = config_file(&dir, &key, "ES256");
    let ehr = server(load(&config));
    let (code, out, err) = mint_cli(&[
        "--config",
        config.to_str().unwrap(),
        "--client",
        APP,
        "--scope",
        "patient/*.rs",
        "--patient",
        "pat-003",
        "--lifetime",
        "300",
        "--issuer",
        BASE,
    ]);
    assert_eq!(code, 0, "{err}");
    let token = out.trim();
    assert_eq!(token.split('.').count(), 3);
    let res = get(&ehr, token, "Patient/pat-003").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["id"], "pat-003");
    // The patient/ scope holds: another patient is not there for this token.
    assert_eq!(
        get(&ehr, token, "Patient/pat-004").await.status,
        StatusCode::NOT_FOUND
    );
    // Taken on first use: introspection knows it, revocation ends it.
    let intro = ehr.introspect(token).await;
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(intro["client_id"], APP);
    let res = ehr
        .post_form("/revoke", &[("token", token), ("client_id", APP)])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let res = get(&ehr, token, "Patient/pat-003").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("the access token was revoked"),
        "{:?}",
        res.header("www-authenticate")
    );
    // --json: the token response and the claims.
    let (code, out, _) = mint_cli(&[
        "--config",
        config.to_str().unwrap(),
        "--client",
        APP,
        "--scope",
        "fhirUser user/*.rs",
        "--user",
        "dr.smith",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["scope"], "fhirUser user/*.rs");
    let c = &v["claims"];
    assert_eq!(c["iss"], BASE);
    assert_eq!(c["aud"], format!("{BASE}/fhir"));
    assert_eq!(c["sub"], "dr.smith");
    assert_eq!(c["fhirUser"], format!("{BASE}/fhir/Practitioner/prac-001"));
    assert_eq!(c["minted"], "offline");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    let res = get(
        &ehr,
        v["access_token"].as_str().unwrap(),
        "Observation?patient=pat-001",
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

#[tokio::test]
async fn offline_tokens_survive_rotation_and_reset_but_not_another_key_or_issuer() {
    let dir = temp_dir("rotation");
    let key = key_file(&dir, Algorithm::Es256);
    let config = load(&config_file(&dir, &key, "ES256"));
    let ehr = server(config.clone());
    let req = MintRequest {
        client_id: APP.into(),
        scope: "user/*.rs".into(),
        user: Some("dr.smith".into()),
        ..MintRequest::default()
    };
    let now = ehr.now();
    let token = mint_offline(&config, BASE, &req, now).unwrap().access_token;
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    // After one rotation the configured key is the previous one: still published.
    assert_eq!(
        ehr.post_json("/_admin/keys/rotate", json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    // After two it is gone.
    assert_eq!(
        ehr.post_json("/_admin/keys/rotate", json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Reset returns to the configured key (and forgets the first use: taken again).
    assert_eq!(
        ehr.post_json("/_admin/reset", json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&ehr, &token, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    // Tokens from /_admin/tokens are signed with the configured key too, and are not
    // "offline" ones: after a reset they are unknown.
    let res = ehr
        .post_json(
            "/_admin/tokens",
            json!({ "client_id": APP, "scope": "user/*.rs", "user": "dr.smith" }),
        )
        .await;
    let online = res.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        get(&ehr, &online, "Patient/pat-001").await.status,
        StatusCode::OK
    );
    ehr.post_json("/_admin/reset", json!({})).await;
    assert_eq!(
        get(&ehr, &online, "Patient/pat-001").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Another issuer, or a server with another key: refused.
    let other = mint_offline(&config, "http://127.0.0.1:9999", &req, now).unwrap();
    assert_eq!(
        get(&ehr, &other.access_token, "Patient/pat-001")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let dir2 = temp_dir("rotation-other");
    let key2 = key_file(&dir2, Algorithm::Es256);
    let config2 = load(&config_file(&dir2, &key2, "ES256"));
    let stranger = mint_offline(&config2, BASE, &req, now).unwrap();
    assert_eq!(
        get(&ehr, &stranger.access_token, "Patient/pat-001")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A server whose directory lacks the client refuses to take the token.
    let bare = server(Config {
        signing: config.signing.clone(),
        ..Config::default()
    });
    let res = get(&bare, &token, "Patient/pat-001").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(
        res.header("www-authenticate").unwrap().contains(
            "an offline-minted token for a client, user, patient or scope this server does not have"
        ),
        "{:?}",
        res.header("www-authenticate")
    );
}

#[tokio::test]
async fn a_dpop_bound_minted_token_needs_its_proof() {
    let dir = temp_dir("dpop");
    let key = key_file(&dir, Algorithm::Es256);
    let config = config_file(&dir, &key, "ES256");
    let ehr = server(load(&config));
    let dpop = dpop_key();
    let jkt = dpop.thumbprint();
    let (code, out, err) = mint_cli(&[
        "--config",
        config.to_str().unwrap(),
        "--client",
        APP,
        "--scope",
        "patient/*.rs",
        "--patient",
        "pat-001",
        "--jkt",
        jkt,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["token_type"], "DPoP");
    assert_eq!(v["claims"]["cnf"]["jkt"], *jkt);
    let token = v["access_token"].as_str().unwrap();
    // As a bearer token: refused.
    let res = get(&ehr, token, "Patient/pat-001").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text());
    // With the DPoP scheme and a proof of the key: read.
    let p = proof(&ehr, &dpop, "GET", "Patient/pat-001", token);
    let res = crate::fhir_api_support::Call::get("Patient/pat-001")
        .header("authorization", &format!("DPoP {token}"))
        .header("dpop", &p)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    // A proof of another key: refused.
    let other = smartgate_core::dpop::DpopKey::from_bytes(&[9u8; 32]).unwrap();
    let p = proof(&ehr, &other, "GET", "Patient/pat-001", token);
    let res = crate::fhir_api_support::Call::get("Patient/pat-001")
        .header("authorization", &format!("DPoP {token}"))
        .header("dpop", &p)
        .send(&ehr)
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text());
}

/// The server binary, stopped when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET url` with `authorization`, over a real socket: (status, body).
async fn http_get(url: &str, authorization: &str) -> (StatusCode, String) {
    use http_body_util::{BodyExt, Empty};
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header("host", authority)
        .header("authorization", authorization)
        .body(Empty::<axum::body::Bytes>::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    conn.abort();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn the_binary_server_and_the_cli_share_the_configured_key() {
    use std::io::BufRead as _;
    let dir = temp_dir("binary");
    let key = key_file(&dir, Algorithm::Es256);
    let config = config_file(&dir, &key, "ES256");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-ehr"))
        .args(["--port", "0", "--log-format", "json", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap();
    let base = first.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let mint = |issuer: &str| {
        mint_cli(&[
            "--config",
            config.to_str().unwrap(),
            "--client",
            APP,
            "--scope",
            "patient/*.rs",
            "--patient",
            "pat-002",
            "--issuer",
            issuer,
        ])
    };
    let (code, token, err) = mint(&base);
    assert_eq!(code, 0, "{err}");
    let (status, body) = http_get(
        &format!("{base}/fhir/Patient/pat-002"),
        &format!("Bearer {}", token.trim()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"id\":\"pat-002\""), "{body}");
    // Minted for the default issuer (another port): refused.
    let (_, other, _) = mint("http://127.0.0.1:8080");
    let (status, _) = http_get(
        &format!("{base}/fhir/Patient/pat-002"),
        &format!("Bearer {}", other.trim()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    drop(server);
}
