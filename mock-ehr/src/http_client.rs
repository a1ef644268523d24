//! A minimal HTTP/1.1 GET client for `jwks_uri` fetches, restricted to
//! `http://127.0.0.1` (checked by the caller with
//! [`crate::directory::is_loopback_http`]).

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The longest a fetch may take.
const TIMEOUT: Duration = Duration::from_secs(3);
/// The largest body read.
const MAX_BODY: usize = 256 * 1024;

/// GETs `url` (`http://127.0.0.1[:port]/path`) and returns the body of a 200 answer.
pub(crate) async fn get_loopback(url: &str) -> Result<Bytes, String> {
    tokio::time::timeout(TIMEOUT, fetch(url))
        .await
        .map_err(|_| "timed out".to_string())?
}

async fn fetch(url: &str) -> Result<Bytes, String> {
    let rest = url.strip_prefix("http://").ok_or("not http")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i..).unwrap_or("/"),
        ),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let stream = TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let conn = tokio::spawn(conn);
    let req = Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    if res.status() != hyper::StatusCode::OK {
        conn.abort();
        return Err(format!("status {}", res.status()));
    }
    let body = Limited::new(res.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    conn.abort();
    Ok(body)
}
