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

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::ring::RingSigner;

use crate::classify::read_events;
use crate::report::report;
use crate::streams::{Ctx, Worker};

mod classify;
mod http;
mod report;
mod streams;

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
