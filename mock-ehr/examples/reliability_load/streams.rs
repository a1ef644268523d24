//! The four load streams (`cc`, `refresh`, `bearer`, `dpop`): one task per connection,
//! each recording every request it makes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, LOCATION};
use hyper::{Method, Request, StatusCode};
use serde_json::Map;
use smartgate_core::base64url;
use smartgate_core::dpop::DpopKey;
use smartgate_core::provider::ring::RingSigner;
use smartgate_core::sign::sign_jwt;

use crate::http::{Conn, Resp, form};
use crate::{CHALLENGE, Outcome, REDIRECT, Sample, VERIFIER, now_ms, now_secs};

/// What a stream's task shares: the server, the stop flag, the keys.
pub(crate) struct Ctx {
    pub(crate) base: String,
    pub(crate) authority: String,
    pub(crate) stop: AtomicBool,
    pub(crate) backend: RingSigner,
}

/// A task's state: its connection and what it recorded.
pub(crate) struct Worker {
    ctx: Arc<Ctx>,
    stream: &'static str,
    conn: Conn,
    samples: Vec<Sample>,
}

/// How a step failed (already recorded): the chain starts again, after a pause for
/// a transport error.
#[derive(Debug)]
pub(crate) enum Break {
    Transport,
    Refused,
    Other,
}

impl Worker {
    pub(crate) fn new(ctx: Arc<Ctx>, stream: &'static str) -> Self {
        let conn = Conn::new(&ctx.authority);
        Self {
            ctx,
            stream,
            conn,
            samples: Vec::with_capacity(100_000),
        }
    }

    fn stopped(&self) -> bool {
        self.ctx.stop.load(Ordering::Relaxed)
    }

    /// Sends `req` as operation `op`; `ok` says which status is success; a `refused`
    /// status (401 for the FHIR API, 400 `invalid_grant` at `/token`) is recorded as a
    /// refused token obtained at `issued_ms`.
    async fn call(
        &mut self,
        op: &'static str,
        req: Request<Full<Bytes>>,
        ok: StatusCode,
        issued_ms: u64,
    ) -> Result<Resp, Break> {
        let start_ms = now_ms();
        let t0 = Instant::now();
        let result = self.conn.send(req).await;
        let latency_us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
        let (outcome, ret) = match result {
            Err(why) => (Outcome::Transport(why), Err(Break::Transport)),
            Ok(r) if r.status == ok => (Outcome::Ok, Ok(r)),
            Ok(r) => {
                let code = r.error_code();
                let status = r.status.as_u16();
                let refused = (status == 401 && code == "invalid_token")
                    || (status == 400 && code == "invalid_grant");
                if refused {
                    (Outcome::Refused(status, code), Err(Break::Refused))
                } else {
                    (Outcome::Status(status, code), Err(Break::Other))
                }
            }
        };
        self.samples.push(Sample {
            stream: self.stream,
            op,
            start_ms,
            latency_us,
            outcome,
            issued_ms,
        });
        ret
    }

    fn request(&self, method: Method, path: &str) -> hyper::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.ctx.authority.as_str())
    }

    fn post_form(
        &self,
        path: &str,
        body: String,
        dpop: Option<String>,
    ) -> Result<Request<Full<Bytes>>, Break> {
        let mut b = self
            .request(Method::POST, path)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(proof) = dpop {
            b = b.header("DPoP", proof);
        }
        b.body(Full::new(Bytes::from(body)))
            .map_err(|_| Break::Other)
    }

    /// The authorization-code flow (auto-approve): `(token response, patient, when
    /// the code was asked for)`.
    async fn code_flow(
        &mut self,
        scope: &str,
        dpop: Option<&DpopKey>,
    ) -> Result<(Resp, String, u64), Break> {
        let issued_ms = now_ms();
        let aud = format!("{}/fhir", self.ctx.base);
        let query = form(&[
            ("response_type", "code"),
            ("client_id", "demo-app"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "reliability"),
            ("aud", &aud),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        let req = self
            .request(Method::GET, &format!("/authorize?{query}"))
            .body(Full::new(Bytes::new()))
            .map_err(|_| Break::Other)?;
        let res = self
            .call("authorize", req, StatusCode::SEE_OTHER, 0)
            .await?;
        let code = res
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.split_once('?'))
            .and_then(|(_, q)| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "code"))
            .map(|(_, v)| v.into_owned());
        let Some(code) = code else {
            // A 303 without a code is an error redirect: record it as such.
            if let Some(last) = self.samples.last_mut() {
                last.outcome = Outcome::Status(303, "redirect without a code".into());
            }
            return Err(Break::Other);
        };
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", "demo-app"),
        ]);
        let proof = match dpop {
            Some(key) => Some(self.proof(key, "POST", "/token", None)?),
            None => None,
        };
        let req = self.post_form("/token", body, proof)?;
        let res = self.call("code", req, StatusCode::OK, issued_ms).await?;
        let patient = res.str_field("patient").unwrap_or_else(|| "pat-001".into());
        Ok((res, patient, issued_ms))
    }

    fn proof(
        &self,
        key: &DpopKey,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> Result<String, Break> {
        let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
        let url = format!("{}{path}", self.ctx.base);
        key.proof(method, &url, token, None, now_secs(), &mut rng)
            .map_err(|_| Break::Other)
    }

    /// `client_credentials` with a fresh assertion, in a loop.
    async fn cc(&mut self) -> Result<(), Break> {
        let aud = format!("{}/token", self.ctx.base);
        let mut n: u64 = 0;
        let mut prefix = [0u8; 12];
        getrandom::fill(&mut prefix).map_err(|_| Break::Other)?;
        let prefix = base64url::encode(&prefix);
        while !self.stopped() {
            n += 1;
            let now = now_secs();
            let mut claims = Map::new();
            claims.insert("iss".into(), "demo-backend".into());
            claims.insert("sub".into(), "demo-backend".into());
            claims.insert("aud".into(), aud.as_str().into());
            claims.insert("exp".into(), (now + 120).into());
            claims.insert("iat".into(), now.into());
            claims.insert("jti".into(), format!("{prefix}-{n}").into());
            let assertion = sign_jwt(
                &claims,
                Some("JWT"),
                Some(mock_ehr::builtin::DEMO_BACKEND_KID),
                &self.ctx.backend,
            )
            .map_err(|_| Break::Other)?;
            let body = form(&[
                ("grant_type", "client_credentials"),
                ("scope", "system/*.rs"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
            ]);
            let req = self.post_form("/token", body, None)?;
            self.call("cc", req, StatusCode::OK, 0).await?;
        }
        Ok(())
    }

    /// One refresh chain: a code exchange, then refresh after refresh.
    async fn refresh(&mut self) -> Result<(), Break> {
        let scope = "launch/patient patient/*.rs offline_access";
        let (res, _, mut issued_ms) = self.code_flow(scope, None).await?;
        let mut rt = res.str_field("refresh_token").ok_or(Break::Other)?;
        while !self.stopped() {
            let started = now_ms();
            let body = form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", "demo-app"),
            ]);
            let req = self.post_form("/token", body, None)?;
            let res = self.call("refresh", req, StatusCode::OK, issued_ms).await?;
            rt = res.str_field("refresh_token").ok_or(Break::Other)?;
            issued_ms = started;
        }
        Ok(())
    }

    /// FHIR reads and searches with one token, Bearer or DPoP-bound.
    async fn fhir(&mut self, dpop: bool) -> Result<(), Break> {
        let key = if dpop {
            let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
            Some(DpopKey::generate(&mut rng))
        } else {
            None
        };
        let (res, patient, issued_ms) = self
            .code_flow("launch/patient patient/*.rs", key.as_ref())
            .await?;
        let token = res.str_field("access_token").ok_or(Break::Other)?;
        let token_type = res.str_field("token_type").unwrap_or_default();
        if dpop != (token_type == "DPoP") {
            // A proof that did not bind the token (or a binding without one) is a bug.
            if let Some(last) = self.samples.last_mut() {
                last.outcome = Outcome::Status(200, format!("token_type {token_type}"));
            }
            return Err(Break::Other);
        }
        let scheme = if dpop { "DPoP" } else { "Bearer" };
        let authorization = format!("{scheme} {token}");
        let read = format!("/fhir/Patient/{patient}");
        let search_path = "/fhir/Observation";
        let search = format!("{search_path}?patient={patient}&_count=10");
        let mut i: u64 = 0;
        while !self.stopped() {
            i += 1;
            let (op, path, htu_path) = if i % 2 == 1 {
                ("read", read.as_str(), read.as_str())
            } else {
                ("search", search.as_str(), search_path)
            };
            let mut b = self
                .request(Method::GET, path)
                .header(AUTHORIZATION, authorization.as_str());
            if let Some(key) = &key {
                b = b.header("DPoP", self.proof(key, "GET", htu_path, Some(&token))?);
            }
            let req = b.body(Full::new(Bytes::new())).map_err(|_| Break::Other)?;
            self.call(op, req, StatusCode::OK, issued_ms).await?;
        }
        Ok(())
    }

    pub(crate) async fn run(mut self) -> Vec<Sample> {
        while !self.stopped() {
            let result = match self.stream {
                "cc" => self.cc().await,
                "refresh" => self.refresh().await,
                "bearer" => self.fhir(false).await,
                _ => self.fhir(true).await,
            };
            match result {
                Ok(()) | Err(Break::Refused) => {}
                // Do not spin on a server that is down or failing.
                Err(Break::Transport | Break::Other) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        self.samples
    }
}
