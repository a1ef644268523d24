//! The HTTP/1.1 client of the TLS tests (and of `tenants`): `http://` and `https://`
//! URLs, one connection per request, trust anchors given.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
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
