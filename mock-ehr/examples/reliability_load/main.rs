//! The load driver of `mock-ehr/bench/reliability.sh` (a reliability run, not a test).
//!
//! ```text
//! cargo run --release -p mock-ehr --example reliability_load -- \
//!     --base http://127.0.0.1:PORT --secs 90 --conns 2 --events EVENTS
//! ```
//!
//! Four load streams run at once, each on `--conns` keep-alive connections of its own
//! (one task per connection, one request at a time), against a server started with
//! `--auto-approve`:
//!
//! | stream | requests |
//! | --- | --- |
//! | `cc` | `client_credentials` for `demo-backend`, a fresh ES384 assertion (new `jti`) per request |
//! | `refresh` | one authorization-code chain per connection (`demo-app`, `offline_access`), then refresh grants; each response's refresh token is the next request's (rotation) |
//! | `bearer` | a Bearer token from the code flow, then alternately `GET /fhir/Patient/ID` and `GET /fhir/Observation?patient=ID&_count=10` |
//! | `dpop` | the same with a DPoP-bound token (proof at `/token`) and a fresh proof (new `jti`, signature) on every FHIR request |
//!
//! A stream whose token or refresh token is refused (401 on the FHIR API,
//! `invalid_grant` at `/token`) starts its chain again; after a transport error it
//! waits 100 ms and reconnects. Every request is recorded (start time, latency,
//! outcome). When the load time is over, the driver waits for `EVENTS.done` and reads
//! `EVENTS`, which the script writes while the load runs, one line per state change:
//! `rotate|reset|restart START_MS END_MS` (epoch milliseconds; for a restart, from
//! SIGTERM to the new server's first answer). Then it classifies every failure:
//!
//! - a refused token (401 `invalid_token`, or `invalid_grant` for a code or refresh
//!   token) is *expected* when a `reset` or `restart` overlaps the time between the
//!   request that obtained the token and the failing request; a refused access token
//!   also when two key rotations do (the JWKS keeps the previous key pair, so a token
//!   outlives one rotation, not two); otherwise it is unexpected (one rotation must not
//!   invalidate anything, and nothing ends a refresh token or code but a reset);
//! - a transport error (connection refused, closed, timeout) is *expected* when the
//!   request overlaps a restart window, unexpected otherwise;
//! - any 5xx, and any other status than the ones named above, is unexpected.
//!
//! It prints the report (per stream and operation: requests, successes, failures by
//! class, latency percentiles; every failure label; the recovery after each restart)
//! and exits 1 when anything unexpected happened or a stream did not recover after a
//! restart, 2 when it could not run.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderMap, LOCATION, WWW_AUTHENTICATE};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use smartgate_core::base64url;
use smartgate_core::dpop::DpopKey;
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::ring::RingSigner;
use smartgate_core::sign::sign_jwt;
use tokio::net::TcpStream;

/// Mixed load on the mock EHR while a script rotates keys, resets and restarts it.
#[derive(Debug, Parser)]
struct Cli {
    /// The server's base URL (`http://127.0.0.1:PORT`).
    #[arg(long)]
    base: String,
    /// Seconds of load.
    #[arg(long, default_value_t = 60)]
    secs: u64,
    /// Connections (tasks) per stream.
    #[arg(long, default_value_t = 2)]
    conns: usize,
    /// The state-change log the script writes (the driver waits for `EVENTS.done`).
    #[arg(long)]
    events: PathBuf,
    /// Tokio worker threads of the driver.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

/// A transport failure or a request timeout.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The largest response body read.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// The client's redirect URI (built-in `demo-app`).
const REDIRECT: &str = "http://localhost:3000/callback";
/// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// A refused token or grant: the status and the OAuth error code.
    Refused(u16, String),
    /// Any other status that was not the expected one (with the error code if any).
    Status(u16, String),
    /// No response: connection refused, closed, timed out.
    Transport(&'static str),
}

/// One request.
#[derive(Debug, Clone)]
struct Sample {
    stream: &'static str,
    op: &'static str,
    /// Epoch milliseconds when the request started.
    start_ms: u64,
    latency_us: u64,
    outcome: Outcome,
    /// For a refused token: when the request that obtained it started.
    issued_ms: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn now_secs() -> i64 {
    i64::try_from(now_ms() / 1000).unwrap_or(0)
}

/// A response: status, headers, body.
struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn str_field(&self, name: &str) -> Option<String> {
        self.json()
            .get(name)
            .and_then(Value::as_str)
            .map(String::from)
    }
    /// The OAuth error code: the JSON `error`, or the `error="..."` of the challenge.
    fn error_code(&self) -> String {
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
struct Conn {
    authority: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    fn new(authority: &str) -> Self {
        Self {
            authority: authority.to_string(),
            sender: None,
        }
    }

    async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Resp, &'static str> {
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

/// What a stream's task shares: the server, the stop flag, the keys.
struct Ctx {
    base: String,
    authority: String,
    stop: AtomicBool,
    backend: RingSigner,
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A task's state: its connection and what it recorded.
struct Worker {
    ctx: Arc<Ctx>,
    stream: &'static str,
    conn: Conn,
    samples: Vec<Sample>,
}

/// How a step failed (already recorded): the chain starts again, after a pause for
/// a transport error.
#[derive(Debug)]
enum Break {
    Transport,
    Refused,
    Other,
}

impl Worker {
    fn new(ctx: Arc<Ctx>, stream: &'static str) -> Self {
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

    async fn run(mut self) -> Vec<Sample> {
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

/// A state change from the script's log.
#[derive(Debug, Clone)]
struct Event {
    kind: String,
    start_ms: u64,
    end_ms: u64,
}

fn read_events(path: &Path) -> Result<Vec<Event>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut events = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let (Some(kind), Some(start), Some(end)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("bad event line: {line}"));
        };
        let start_ms = start
            .parse()
            .map_err(|_| format!("bad event line: {line}"))?;
        let end_ms = end.parse().map_err(|_| format!("bad event line: {line}"))?;
        events.push(Event {
            kind: kind.to_string(),
            start_ms,
            end_ms,
        });
    }
    Ok(events)
}

/// The class of a sample, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Ok,
    /// A refused token after a reset or restart.
    ExpectedRefusal,
    /// A refused token after two key rotations (the server keeps one previous key).
    ExpectedRotated,
    /// A transport error while the server was being restarted.
    ExpectedDown,
    Unexpected4xx,
    Unexpected5xx,
    UnexpectedTransport,
}

impl Class {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ExpectedRefusal => "expected: token/grant from before a reset or restart",
            Self::ExpectedRotated => "expected: token signed 2 key rotations ago",
            Self::ExpectedDown => "expected: server down (restart)",
            Self::Unexpected4xx => "UNEXPECTED answer (4xx or a wrong 2xx/3xx)",
            Self::Unexpected5xx => "UNEXPECTED 5xx",
            Self::UnexpectedTransport => "UNEXPECTED transport error (server up)",
        }
    }
}

fn classify(s: &Sample, events: &[Event]) -> Class {
    let end_ms = s.start_ms + s.latency_us / 1000 + 1;
    let overlapping = |from: u64, to: u64, kinds: &[&str]| {
        events
            .iter()
            .filter(|e| kinds.contains(&e.kind.as_str()) && e.end_ms >= from && e.start_ms <= to)
            .count()
    };
    let overlaps = |from: u64, to: u64, kinds: &[&str]| overlapping(from, to, kinds) > 0;
    match &s.outcome {
        Outcome::Ok => Class::Ok,
        Outcome::Refused(..) if overlaps(s.issued_ms, end_ms, &["reset", "restart"]) => {
            Class::ExpectedRefusal
        }
        // An access token's key leaves the JWKS at the second rotation after it was
        // signed; refresh tokens and codes are not signed, rotation never ends them.
        Outcome::Refused(401, _) if overlapping(s.issued_ms, end_ms, &["rotate"]) >= 2 => {
            Class::ExpectedRotated
        }
        Outcome::Refused(..) => Class::Unexpected4xx,
        Outcome::Status(status, _) if *status >= 500 => Class::Unexpected5xx,
        Outcome::Status(..) => Class::Unexpected4xx,
        Outcome::Transport(_) if overlaps(s.start_ms, end_ms, &["restart"]) => Class::ExpectedDown,
        Outcome::Transport(_) => Class::UnexpectedTransport,
    }
}

fn outcome_label(o: &Outcome) -> String {
    match o {
        Outcome::Ok => "ok".into(),
        Outcome::Refused(status, code) | Outcome::Status(status, code) => {
            format!("{status} {code}")
        }
        Outcome::Transport(why) => (*why).to_string(),
    }
}

/// The `p`th percentile (nearest rank) of sorted values.
fn percentile(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len() as u64;
    let rank = (p * n).div_ceil(100).max(1);
    sorted
        .get(usize::try_from(rank - 1).unwrap_or(0))
        .copied()
        .unwrap_or(0)
}

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

/// Prints the report; true when nothing unexpected happened and every stream recovered.
fn report(samples: &[Sample], events: &[Event], secs: f64, conns: usize) -> bool {
    let classes: Vec<Class> = samples.iter().map(|s| classify(s, events)).collect();
    let count = |k: &str| events.iter().filter(|e| e.kind == k).count();
    println!(
        "load: 4 streams x {conns} connections, {secs:.1} s; state changes: {} key rotations, \
         {} resets, {} restarts{}",
        count("rotate"),
        count("reset"),
        count("restart"),
        {
            let failed = events
                .iter()
                .filter(|e| e.kind.ends_with("-failed"))
                .count();
            if failed > 0 {
                format!(", {failed} FAILED admin calls")
            } else {
                String::new()
            }
        }
    );
    println!();
    println!(
        "{:<8} {:<9} {:>8} {:>8} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "stream",
        "op",
        "requests",
        "ok",
        "ok/s",
        "exp4xx",
        "down",
        "unx4xx",
        "5xx",
        "unxnet",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms"
    );
    let mut keys: Vec<(&str, &str)> = samples.iter().map(|s| (s.stream, s.op)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut total = [0usize; 7];
    let mut all_latency: Vec<u64> = Vec::with_capacity(samples.len());
    for (stream, op) in keys {
        let mut n = [0usize; 7];
        let mut latency = Vec::new();
        for (s, c) in samples.iter().zip(&classes) {
            if s.stream != stream || s.op != op {
                continue;
            }
            n[0] += 1;
            let slot = match c {
                Class::Ok => 1,
                Class::ExpectedRefusal | Class::ExpectedRotated => 2,
                Class::ExpectedDown => 3,
                Class::Unexpected4xx => 4,
                Class::Unexpected5xx => 5,
                Class::UnexpectedTransport => 6,
            };
            if let Some(v) = n.get_mut(slot) {
                *v += 1;
            }
            if !matches!(s.outcome, Outcome::Transport(_)) {
                latency.push(s.latency_us);
            }
        }
        latency.sort_unstable();
        all_latency.extend_from_slice(&latency);
        for (t, v) in total.iter_mut().zip(n) {
            *t += v;
        }
        println!(
            "{:<8} {:<9} {:>8} {:>8} {:>7.0} {:>7} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8}",
            stream,
            op,
            n[0],
            n[1],
            n[1] as f64 / secs,
            n[2],
            n[3],
            n[4],
            n[5],
            n[6],
            ms(percentile(&latency, 50)),
            ms(percentile(&latency, 90)),
            ms(percentile(&latency, 99)),
            ms(latency.last().copied().unwrap_or(0)),
        );
    }
    all_latency.sort_unstable();
    println!(
        "{:<8} {:<9} {:>8} {:>8} {:>7.0} {:>7} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "all",
        "",
        total[0],
        total[1],
        total[1] as f64 / secs,
        total[2],
        total[3],
        total[4],
        total[5],
        total[6],
        ms(percentile(&all_latency, 50)),
        ms(percentile(&all_latency, 90)),
        ms(percentile(&all_latency, 99)),
        ms(all_latency.last().copied().unwrap_or(0)),
    );
    println!(
        "requests = sent; ok = the expected answer; exp4xx = a token or grant issued before a \
         reset/restart, refused; down = transport errors while the server was restarting; \
         unx4xx, 5xx, unxnet = unexpected 4xx, any 5xx, transport errors while the server was \
         up; latencies are of answered requests, connect included"
    );

    // Every failure label, by stream and class.
    let mut failures: BTreeMap<(Class, &str, &str, String), usize> = BTreeMap::new();
    for (s, c) in samples.iter().zip(&classes) {
        if *c != Class::Ok {
            *failures
                .entry((*c, s.stream, s.op, outcome_label(&s.outcome)))
                .or_default() += 1;
        }
    }
    println!();
    println!("failures by stream, operation and answer:");
    if failures.is_empty() {
        println!("  none");
    }
    for ((class, stream, op, label), n) in &failures {
        println!(
            "  {:<8} {:<9} {:<38} {:>6}  {}",
            stream,
            op,
            label,
            n,
            class.label()
        );
    }

    // The first unexpected failures, with the state changes around them.
    let t0 = samples.iter().map(|s| s.start_ms).min().unwrap_or(0);
    let rel = |t: u64| t.saturating_sub(t0) as f64 / 1000.0;
    let unexpected_samples: Vec<&Sample> = samples
        .iter()
        .zip(&classes)
        .filter(|(_, c)| {
            matches!(
                c,
                Class::Unexpected4xx | Class::Unexpected5xx | Class::UnexpectedTransport
            )
        })
        .map(|(s, _)| s)
        .collect();
    if !unexpected_samples.is_empty() {
        println!();
        println!("first unexpected failures (s from the start of the load):");
    }
    for s in unexpected_samples.iter().take(10) {
        let from = if s.issued_ms > 0 {
            s.issued_ms
        } else {
            s.start_ms
        };
        let around: Vec<String> = events
            .iter()
            .filter(|e| e.end_ms + 10_000 >= from && e.start_ms <= s.start_ms + 1_000)
            .map(|e| format!("{}@{:.3}-{:.3}", e.kind, rel(e.start_ms), rel(e.end_ms)))
            .collect();
        println!(
            "  {:.3} {} {} {} (token/grant asked for at {:.3}); state changes near: {}",
            rel(s.start_ms),
            s.stream,
            s.op,
            outcome_label(&s.outcome),
            rel(from),
            if around.is_empty() {
                "none".to_string()
            } else {
                around.join(" ")
            }
        );
    }

    // Recovery after each restart: the first success of every stream after the new
    // server answered.
    let mut recovered = true;
    for e in events.iter().filter(|e| e.kind == "restart") {
        println!();
        println!(
            "restart: SIGTERM to first answer of the new server {} ms",
            e.end_ms.saturating_sub(e.start_ms)
        );
        for stream in ["cc", "refresh", "bearer", "dpop"] {
            let during = samples
                .iter()
                .filter(|s| {
                    s.stream == stream
                        && matches!(s.outcome, Outcome::Transport(_))
                        && s.start_ms <= e.end_ms
                        && s.start_ms + s.latency_us / 1000 + 1 >= e.start_ms
                })
                .count();
            let refused_after = samples
                .iter()
                .filter(|s| {
                    s.stream == stream
                        && matches!(s.outcome, Outcome::Refused(..))
                        && s.start_ms >= e.start_ms
                        && s.start_ms <= e.end_ms + 5_000
                })
                .count();
            // The stream's own work, not just a new token.
            let main_op = |op: &str| match stream {
                "cc" => op == "cc",
                "refresh" => op == "refresh",
                _ => op == "read" || op == "search",
            };
            let first_ok = samples
                .iter()
                .filter(|s| {
                    s.stream == stream
                        && main_op(s.op)
                        && s.outcome == Outcome::Ok
                        && s.start_ms >= e.end_ms
                })
                .map(|s| s.start_ms + s.latency_us / 1000)
                .min();
            match first_ok {
                Some(t) => println!(
                    "  {stream:<8} {during:>4} transport errors while down, {refused_after:>3} \
                     refused tokens/grants in the next 5 s, first success of its own \
                     requests {} ms after the server was back",
                    t.saturating_sub(e.end_ms)
                ),
                None => {
                    recovered = false;
                    println!("  {stream:<8} NOT RECOVERED: no success after the restart");
                }
            }
        }
    }
    let unexpected = classes
        .iter()
        .filter(|c| {
            matches!(
                c,
                Class::Unexpected4xx | Class::Unexpected5xx | Class::UnexpectedTransport
            )
        })
        .count();
    let failed_admin = events.iter().any(|e| e.kind.ends_with("-failed"));
    println!();
    println!(
        "driver verdict: {} ({unexpected} unexpected failures{}{})",
        if unexpected == 0 && recovered && !failed_admin {
            "PASS"
        } else {
            "FAIL"
        },
        if recovered {
            ""
        } else {
            ", a stream did not recover"
        },
        if failed_admin {
            ", an admin call failed"
        } else {
            ""
        }
    );
    unexpected == 0 && recovered && !failed_admin
}

async fn run(cli: Cli) -> Result<bool, String> {
    let authority = cli
        .base
        .strip_prefix("http://")
        .ok_or("--base must be http://HOST:PORT")?
        .trim_end_matches('/')
        .to_string();
    let backend = RingSigner::from_pkcs8(Algorithm::Es384, mock_ehr::builtin::DEMO_BACKEND_KEY)
        .map_err(|e| e.code().to_string())?;
    let ctx = Arc::new(Ctx {
        base: cli.base.trim_end_matches('/').to_string(),
        authority,
        stop: AtomicBool::new(false),
        backend,
    });
    let mut tasks = Vec::new();
    for stream in ["cc", "refresh", "bearer", "dpop"] {
        for _ in 0..cli.conns {
            tasks.push(tokio::spawn(Worker::new(ctx.clone(), stream).run()));
        }
    }
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(cli.secs)).await;
    ctx.stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.map_err(|e| e.to_string())?);
    }
    let secs = t0.elapsed().as_secs_f64();
    // The script closes its log when its state changes are over.
    let mut done = cli.events.clone().into_os_string();
    done.push(".done");
    let done = PathBuf::from(done);
    let wait = Instant::now();
    while !done.exists() {
        if wait.elapsed() > Duration::from_secs(60) {
            return Err(format!("{} did not appear", done.display()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = read_events(&cli.events)?;
    Ok(report(&samples, &events, secs, cli.conns))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("reliability_load: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("reliability_load: {e}");
            ExitCode::from(2)
        }
    }
}
