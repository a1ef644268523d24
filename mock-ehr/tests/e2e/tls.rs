//! HTTPS (`--tls`): a whole launch over TLS with a client that trusts only the
//! server's generated certificate, clients that do not trust it, the protocol versions
//! served (1.2 and 1.3; 1.0 and 1.1 ClientHellos refused), given certificate files, and
//! the binary's banner.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use mock_ehr::{MockEhr, TlsConfig};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use serde_json::Value;
use smartgate_core::pkce;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::support::{VERIFIER, form};

pub const REDIRECT: &str = "http://localhost:3000/callback";

/// An HTTP/1.1 client for `http://` and `https://` URLs, one connection per request,
/// redirects not followed.
#[derive(Clone)]
pub struct Client {
    tls: Option<Arc<ClientConfig>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("{}: {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} ({}): {}", self.status, self.text()))
            .to_str()
            .unwrap()
    }

    /// The query of the `Location` of a redirect.
    pub fn location_query(&self) -> std::collections::HashMap<String, String> {
        let loc = self.header("location");
        form_urlencoded::parse(loc.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect()
    }
}

/// A rustls client configuration (ring) whose only trust anchors are `roots`.
pub fn client_config(roots: &[CertificateDer<'static>]) -> ClientConfig {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth()
}

/// The certificates of a PEM text.
pub fn certs(pem: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

impl Client {
    /// Plain HTTP only.
    pub fn plain() -> Self {
        Self { tls: None }
    }

    /// HTTPS trusting only the certificates of `pem`.
    pub fn trusting(pem: &str) -> Self {
        Self::with_config(client_config(&certs(pem)))
    }

    pub fn with_config(config: ClientConfig) -> Self {
        Self {
            tls: Some(Arc::new(config)),
        }
    }

    /// One request; an `Err` is a connection or TLS failure.
    pub async fn try_request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> std::io::Result<Reply> {
        let (tls, rest) = match url.split_once("://") {
            Some(("https", rest)) => (true, rest),
            Some(("http", rest)) => (false, rest),
            _ => panic!("not an http(s) URL: {url}"),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let stream = TcpStream::connect(authority).await?;
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", authority);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::from(body))).unwrap();
        let res = if tls {
            let config = self.tls.clone().expect("an HTTPS client");
            let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let name = ServerName::try_from(host.to_string()).unwrap();
            let stream = TlsConnector::from(config).connect(name, stream).await?;
            send(stream, req).await
        } else {
            send(stream, req).await
        };
        let res = res.map_err(std::io::Error::other)?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub async fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Reply {
        self.try_request(method, url, headers, body)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    pub async fn get(&self, url: &str) -> Reply {
        self.request(Method::GET, url, &[], String::new()).await
    }

    pub async fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> Reply {
        self.request(Method::GET, url, headers, String::new()).await
    }

    pub async fn post_form(&self, url: &str, pairs: &[(&str, &str)]) -> Reply {
        self.request(
            Method::POST,
            url,
            &[("content-type", "application/x-www-form-urlencoded")],
            form(pairs),
        )
        .await
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> Reply {
        self.request(
            Method::POST,
            url,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    /// An auto-approved authorization request of `demo-app` to the issuer whose
    /// discovery is at `{fhir}/.well-known/smart-configuration`, with PKCE: the
    /// redirect's query (`code`, `state`, `iss`).
    pub async fn authorize(
        &self,
        fhir: &str,
        scope: &str,
        state: &str,
    ) -> std::collections::HashMap<String, String> {
        let config = self
            .get(&format!("{fhir}/.well-known/smart-configuration"))
            .await
            .json();
        let endpoint = config["authorization_endpoint"].as_str().unwrap();
        let query = form(&[
            ("response_type", "code"),
            ("client_id", "demo-app"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", state),
            ("aud", fhir),
            ("code_challenge", &pkce::challenge_s256(VERIFIER)),
            ("code_challenge_method", "S256"),
        ]);
        let res = self.get(&format!("{endpoint}?{query}")).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert!(res.header("location").starts_with(REDIRECT));
        res.location_query()
    }

    /// Redeems a code of `demo-app` at `token_endpoint`.
    pub async fn redeem(&self, token_endpoint: &str, code: &str) -> Reply {
        self.post_form(
            token_endpoint,
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
}

async fn send<S>(
    stream: S,
    req: hyper::Request<Full<Bytes>>,
) -> hyper::Result<hyper::Response<hyper::body::Incoming>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let conn = tokio::spawn(conn);
    let res = sender.send_request(req).await;
    // The body is read after this returns: let the connection task run until then.
    drop(conn);
    res
}

/// The rustls error inside a failed connection.
pub fn rustls_error(e: &std::io::Error) -> &rustls::Error {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a rustls error: {e:?}"))
}

async fn https_ehr() -> (MockEhr, String) {
    let tls = TlsConfig::self_signed().unwrap();
    let pem = tls.cert_pem().to_string();
    let ehr = MockEhr::builder()
        .auto_approve(true)
        .tls(tls)
        .spawn()
        .await
        .unwrap();
    (ehr, pem)
}

#[tokio::test]
async fn https_launch_with_a_client_trusting_only_the_generated_certificate() {
    let (ehr, pem) = https_ehr().await;
    let base = ehr.base_url().to_string();
    let port = ehr.local_addr().port();
    assert_eq!(base, format!("https://127.0.0.1:{port}"));
    assert_eq!(ehr.fhir_base(), format!("{base}/fhir"));
    assert_eq!(ehr.tls().unwrap().cert_pem(), pem);
    assert_eq!(certs(&pem).len(), 1);

    let client = Client::trusting(&pem);
    // Discovery: every endpoint is https.
    let smart = client
        .get(&format!("{base}/fhir/.well-known/smart-configuration"))
        .await;
    assert_eq!(smart.status, StatusCode::OK);
    let smart = smart.json();
    assert_eq!(smart["issuer"], base);
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        assert!(
            smart[key]
                .as_str()
                .unwrap()
                .starts_with(&format!("{base}/")),
            "{key}: {}",
            smart[key]
        );
    }
    // Authorize (auto-approved) -> code, state and iss = the https issuer.
    let fhir = ehr.fhir_base().to_string();
    let q = client
        .authorize(
            &fhir,
            "openid fhirUser launch/patient patient/*.rs",
            "st-tls",
        )
        .await;
    assert_eq!(q["state"], "st-tls");
    assert_eq!(q["iss"], base);
    smartgate_core::authz_response::check_iss(&base, Some(&q["iss"]), true).unwrap();
    // Token with the PKCE verifier.
    let token = client
        .redeem(smart["token_endpoint"].as_str().unwrap(), &q["code"])
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let token = token.json();
    let access = token["access_token"].as_str().unwrap();
    let patient = token["patient"].as_str().unwrap();
    // The access token says so too: iss and aud are the https URLs.
    let jwks = client.get(smart["jwks_uri"].as_str().unwrap()).await.json();
    let keys = smartgate_core::jwk::JwkSet::from_value(&jwks).unwrap();
    let v = smartgate_core::jwt::Validation::new([base.as_str()], [fhir.as_str()])
        .algorithms(&[smartgate_core::jws::Algorithm::Es256]);
    let now = ehr.state().clock().now();
    smartgate_core::jwt::verify(
        access,
        &keys,
        &v,
        &smartgate_core::provider::ring::Ring,
        now,
    )
    .unwrap();
    // A FHIR read with the token.
    let read = client
        .get_with(
            &format!("{fhir}/Patient/{patient}"),
            &[("authorization", &format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());
    assert_eq!(read.json()["id"], patient);
    // Also by name: the certificate holds localhost.
    let by_name = client
        .get(&format!("https://localhost:{port}/fhir/metadata"))
        .await;
    assert_eq!(by_name.status, StatusCode::OK);
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn clients_that_do_not_trust_the_certificate_fail_the_handshake() {
    let (ehr, pem) = https_ehr().await;
    let url = format!("{}/fhir/metadata", ehr.base_url());
    // No trust anchor at all.
    let empty = Client::with_config(client_config(&[]));
    let e = empty
        .try_request(Method::GET, &url, &[], String::new())
        .await
        .err()
        .unwrap();
    assert_eq!(
        rustls_error(&e),
        &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    // Another self-signed certificate (another server's) as the only anchor.
    let other = TlsConfig::self_signed().unwrap();
    assert_ne!(other.cert_pem(), pem);
    let e = Client::trusting(other.cert_pem())
        .try_request(Method::GET, &url, &[], String::new())
        .await
        .err()
        .unwrap();
    assert_eq!(
        rustls_error(&e),
        &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    // The right anchor but a name the certificate does not hold.
    let port = ehr.local_addr().port();
    let config = Arc::new(client_config(&certs(&pem)));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let e = TlsConnector::from(config)
        .connect(ServerName::try_from("ehr.example").unwrap(), tcp)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            rustls_error(&e),
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
        ),
        "{e:?}"
    );
    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let plain = Client::plain()
        .try_request(
            Method::GET,
            &format!("http://127.0.0.1:{port}/fhir/metadata"),
            &[],
            String::new(),
        )
        .await;
    assert!(plain.is_err(), "plain HTTP was answered");
    // A connection that never starts its handshake does not keep the server from
    // stopping, and once stopped the port is closed.
    let silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    ehr.shutdown().await.unwrap();
    let e = TcpStream::connect(("127.0.0.1", port)).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    drop(silent);
}

/// Negotiates with a client limited to `version`; the version and ALPN protocol agreed.
async fn negotiate(
    port: u16,
    pem: &str,
    version: &'static rustls::SupportedProtocolVersion,
) -> (rustls::ProtocolVersion, Option<Vec<u8>>) {
    let mut store = RootCertStore::empty();
    store.add(certs(pem).remove(0)).unwrap();
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(store)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    let (_, conn) = tls.get_ref();
    (
        conn.protocol_version().unwrap(),
        conn.alpn_protocol().map(<[u8]>::to_vec),
    )
}

#[tokio::test]
async fn tls_1_2_and_1_3_are_served_with_http_1_1_alpn() {
    let (ehr, pem) = https_ehr().await;
    let port = ehr.local_addr().port();
    assert_eq!(
        negotiate(port, &pem, &rustls::version::TLS13).await,
        (rustls::ProtocolVersion::TLSv1_3, Some(b"http/1.1".to_vec()))
    );
    assert_eq!(
        negotiate(port, &pem, &rustls::version::TLS12).await,
        (rustls::ProtocolVersion::TLSv1_2, Some(b"http/1.1".to_vec()))
    );
    ehr.shutdown().await.unwrap();
}

/// A ClientHello record without a `supported_versions` extension (RFC 8446 section
/// 4.2.1), so the highest version it offers is its `legacy_version`: `0x0301` is a
/// TLS 1.0 client, `0x0302` TLS 1.1, `0x0303` TLS 1.2. `sigalgs`: with the
/// `signature_algorithms` extension, which TLS 1.2 introduced (RFC 5246 section
/// 7.4.1.4.1), so real TLS 1.0/1.1 clients do not send it. The rest is the same for
/// every call and enough for a TLS 1.2 handshake with the server's ECDSA P-256
/// certificate.
fn client_hello(version: [u8; 2], sigalgs: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version);
    body.extend_from_slice(&[0x5a; 32]); // random
    body.push(0); // no session id
    // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLS 1.2), then what TLS 1.0/1.1 clients
    // offer: TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    // TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA.
    let suites: [u8; 10] = [0xc0, 0x2b, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x2f, 0x00, 0x0a];
    body.extend_from_slice(&(suites.len() as u16).to_be_bytes());
    body.extend_from_slice(&suites);
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut exts = Vec::new();
    // server_name: localhost
    let host = b"localhost";
    let mut sni = Vec::new();
    sni.extend_from_slice(&((host.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(host.len() as u16).to_be_bytes());
    sni.extend_from_slice(host);
    exts.extend_from_slice(&[0x00, 0x00]);
    exts.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    exts.extend_from_slice(&sni);
    // supported_groups: secp256r1, secp384r1
    exts.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18]);
    // ec_point_formats: uncompressed
    exts.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    if sigalgs {
        exts.extend_from_slice(&[
            0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
        ]);
    }
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut handshake = vec![1]; // client_hello
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![22, 0x03, 0x01]; // handshake record, record version TLS 1.0
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// Sends `hello` over a plain TCP connection and reads up to `limit` bytes of what
/// the server sends, or everything until it closes (a blocking socket, off the async
/// threads; the read timeout only keeps a misbehaving server from hanging the test).
async fn answer_to(port: u16, hello: Vec<u8>, limit: Option<usize>) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        tcp.write_all(&hello).unwrap();
        let mut answer = Vec::new();
        match limit {
            Some(n) => {
                answer.resize(n, 0);
                tcp.read_exact(&mut answer).unwrap();
            }
            None => {
                tcp.read_to_end(&mut answer).unwrap();
            }
        }
        answer
    })
    .await
    .unwrap()
}

/// What rustls 0.23 does, in this order: it first requires `signature_algorithms`
/// (alert `handshake_failure`, 40, without it), then picks the version (alert
/// `protocol_version`, 70, when the client offers no more than TLS 1.1). Either way
/// the answer is one fatal alert record and the connection closes: no ServerHello.
#[tokio::test]
async fn tls_1_0_and_1_1_client_hellos_are_refused_with_a_fatal_alert() {
    let (ehr, _) = https_ehr().await;
    let port = ehr.local_addr().port();
    const HANDSHAKE_FAILURE: u8 = 40;
    const PROTOCOL_VERSION: u8 = 70;
    for version in [[0x03, 0x01], [0x03, 0x02]] {
        // As TLS 1.0/1.1 clients send it (OpenSSL's `s_client -tls1_1` gets the same).
        let answer = answer_to(port, client_hello(version, false), None).await;
        // The whole answer: an alert record (21), record version 0x0303, length 2,
        // level fatal (2), handshake_failure; then the server closes.
        assert_eq!(
            answer,
            [21, 0x03, 0x03, 0, 2, 2, HANDSHAKE_FAILURE],
            "{version:?}"
        );
        // With signature_algorithms: refused for its version.
        let answer = answer_to(port, client_hello(version, true), None).await;
        assert_eq!(
            answer,
            [21, 0x03, 0x03, 0, 2, 2, PROTOCOL_VERSION],
            "{version:?}"
        );
    }
    // The same hello as a TLS 1.2 client gets a ServerHello (a handshake record, 22,
    // whose first message is server_hello, 2, with version 0x0303): only the version
    // was refused above.
    let head = answer_to(port, client_hello([0x03, 0x03], true), Some(11)).await;
    assert_eq!(head[0], 22, "{head:?}");
    assert_eq!(head[5], 2, "{head:?}");
    assert_eq!(head[9..11], [0x03, 0x03], "{head:?}");
    ehr.shutdown().await.unwrap();
}

/// A fresh temporary folder for this test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mock-ehr-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A certificate for 127.0.0.1 and its key, as PEM.
fn cert_and_key(cn: &str) -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn given_certificate_and_key_files_serve_https() {
    let dir = temp_dir("given");
    let (cert, key) = cert_and_key("given test cert");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let tls = TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    assert_eq!(tls.cert_path(), Some(cert_path.as_path()));
    // The binary prints the given file; it writes no copy.
    assert_eq!(
        tls.cert_file(Some(&dir.join("unused.pem")), 1).unwrap(),
        cert_path
    );
    assert!(!dir.join("unused.pem").exists());
    let ehr = MockEhr::builder().tls(tls).spawn().await.unwrap();
    let res = Client::trusting(&cert)
        .get(&format!(
            "{}/.well-known/openid-configuration",
            ehr.base_url()
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["issuer"], ehr.base_url());
    assert!(ehr.base_url().starts_with("https://"));
    ehr.shutdown().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unusable_certificate_or_key_files_are_refused_at_start() {
    let dir = temp_dir("refused");
    let (cert, _) = cert_and_key("a");
    let (_, other_key) = cert_and_key("b");
    let p = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let cert_path = p("cert.pem", &cert);
    let other_key_path = p("other-key.pem", &other_key);
    let empty = p("empty.pem", "");
    let missing = dir.join("missing.pem");
    let err = |c: &Path, k: &Path| TlsConfig::from_pem_files(c, k).unwrap_err().0;
    let (c, k) = (cert_path.display(), other_key_path.display());
    assert_eq!(
        err(&cert_path, &other_key_path),
        format!(
            "--tls-cert {c} with --tls-key {k}: the private key does not match the certificate"
        )
    );
    assert_eq!(
        err(&missing, &other_key_path),
        format!(
            "--tls-cert {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert_eq!(
        err(&cert_path, &missing),
        format!(
            "--tls-key {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert_eq!(
        err(&empty, &other_key_path),
        format!(
            "--tls-cert {}: no CERTIFICATE in the PEM file",
            empty.display()
        )
    );
    // A certificate where the key should be.
    assert_eq!(
        err(&cert_path, &cert_path),
        format!("--tls-key {c}: no private key in the PEM file (no items found)")
    );
    // The flags go together.
    assert_eq!(
        TlsConfig::from_flags(true, Some(&cert_path), None)
            .unwrap_err()
            .0,
        "--tls-cert and --tls-key go together"
    );
    assert!(TlsConfig::from_flags(false, None, None).unwrap().is_none());
    std::fs::remove_dir_all(dir).unwrap();
}

/// A running `mock-ehr` binary, killed on drop.
pub struct Binary(pub Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args` and returns its stdout lines up to the one starting
/// with `last`. A thread keeps reading the rest, so the binary never writes to a
/// closed pipe.
pub fn run_binary(args: &[&str], last: &str) -> (Binary, Vec<String>) {
    run_binary_with_env(args, &[], last)
}

/// [`run_binary`] with environment variables.
pub fn run_binary_with_env(
    args: &[&str],
    env: &[(&str, &Path)],
    last: &str,
) -> (Binary, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-ehr"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let binary = Binary(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // Once nobody listens, keep draining.
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    for line in rx {
        let done = line.starts_with(last);
        lines.push(line);
        if done {
            return (binary, lines);
        }
    }
    panic!("the binary stopped; it printed {lines:?}");
}

#[tokio::test]
async fn binary_with_tls_prints_the_https_base_url_and_the_certificate_file() {
    let dir = temp_dir("binary");
    let out = dir.join("nested").join("mock-ehr-cert.pem");
    let (_binary, lines) = run_binary(
        &[
            "--tls",
            "--port",
            "0",
            "--auto-approve",
            "--tls-cert-out",
            out.to_str().unwrap(),
        ],
        "TLS certificate:",
    );
    let base = lines[0].clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{lines:?}");
    assert!(
        lines.contains(&format!("FHIR base:       {base}/fhir")),
        "{lines:?}"
    );
    assert_eq!(
        lines.last().unwrap(),
        &format!("TLS certificate: {} (TLS 1.2 and 1.3)", out.display())
    );
    // A client that trusts only that file completes a launch.
    let pem = std::fs::read_to_string(&out).unwrap();
    let client = Client::trusting(&pem);
    let q = client
        .authorize(&format!("{base}/fhir"), "launch/patient patient/*.rs", "s")
        .await;
    assert_eq!(q["iss"], base);
    let token = client.redeem(&format!("{base}/token"), &q["code"]).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let token = token.json();
    let read = client
        .get_with(
            &format!("{base}/fhir/Patient/{}", token["patient"].as_str().unwrap()),
            &[(
                "authorization",
                &format!("Bearer {}", token["access_token"].as_str().unwrap()),
            )],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());
    assert_eq!(read.json()["resourceType"], "Patient");
    drop(_binary);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn binary_refuses_a_mismatched_key_at_start() {
    let dir = temp_dir("binary-mismatch");
    let (cert, _) = cert_and_key("a");
    let (_, key) = cert_and_key("b");
    std::fs::write(dir.join("cert.pem"), cert).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new(env!("CARGO_BIN_EXE_mock-ehr"))
        .args(["--port", "0", "--tls-cert"])
        .arg(&c)
        .arg("--tls-key")
        .arg(&k)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "mock-ehr: --tls-cert {} with --tls-key {}: the private key does not match the certificate\n",
            c.display(),
            k.display()
        )
    );
    std::fs::remove_dir_all(dir).unwrap();
}
