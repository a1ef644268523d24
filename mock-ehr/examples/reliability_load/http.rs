//! The driver's HTTP/1.1 client: one keep-alive connection, made again after any
//! failure, and what it reads of a response.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, WWW_AUTHENTICATE};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::{MAX_BODY, TIMEOUT};

/// A response: status, headers, body.
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    body: Bytes,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub(crate) fn str_field(&self, name: &str) -> Option<String> {
        self.json()
            .get(name)
            .and_then(Value::as_str)
            .map(String::from)
    }
    /// The OAuth error code: the JSON `error`, or the `error="..."` of the challenge.
    pub(crate) fn error_code(&self) -> String {
        if let Some(e) = self.str_field("error") {
            return e;
        }
        self.headers
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("error=\"").nth(1))
            .and_then(|v| v.split('"').next())
            .unwrap_or("-")
            .to_string()
    }
}

/// One keep-alive HTTP/1.1 connection, made again after any failure.
pub(crate) struct Conn {
    authority: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    pub(crate) fn new(authority: &str) -> Self {
        Self {
            authority: authority.to_string(),
            sender: None,
        }
    }

    pub(crate) async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Resp, &'static str> {
        let result = match tokio::time::timeout(TIMEOUT, self.exchange(req)).await {
            Ok(r) => r,
            Err(_) => Err("timeout (5 s)"),
        };
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn exchange(&mut self, req: Request<Full<Bytes>>) -> Result<Resp, &'static str> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        sender
            .ready()
            .await
            .map_err(|_| "connection closed by the server")?;
        let res = sender.send_request(req).await.map_err(|e| {
            if e.is_incomplete_message() || e.is_canceled() {
                "connection closed by the server"
            } else {
                "request failed (I/O)"
            }
        })?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = Limited::new(res.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|_| "response body cut short")?
            .to_bytes();
        self.sender = Some(sender);
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    async fn connect(&mut self) -> Result<SendRequest<Full<Bytes>>, &'static str> {
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused",
                _ => "connect failed",
            })?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| "handshake failed")?;
        tokio::spawn(conn);
        Ok(sender)
    }
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}
