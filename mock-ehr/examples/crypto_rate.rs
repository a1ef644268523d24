//! The raw rate of `smartgate-core` doing each token endpoint path's cryptographic
//! work on one core, the yardstick of `mock-ehr/bench/run.sh`: the server's req/s per
//! core used is reported as a percentage of these rates.
//!
//! | path | work per request |
//! | --- | --- |
//! | `code` | sign an ES256 access token |
//! | `code_openid` | sign an ES256 access token and an RS256 id_token |
//! | `cc_rs384` | verify an RS384 client assertion, sign an ES256 access token |
//! | `cc_es384` | verify an ES384 client assertion, sign an ES256 access token |
//! | `introspect` | verify an ES256 access token |
//!
//! Signing and verifying go through the same calls as the server (`sign::sign_jwt`
//! with `RingSigner`, `jwt::verify` with `Ring`), with claims of the same shape.
//!
//! ```sh
//! cargo run --release -p mock-ehr --example crypto_rate -- --secs 3
//! ```
//! prints one JSON object per path: `{"path": "...", "ops_per_sec": ..., "wall_ops_per_sec": ...}`.
//! `ops_per_sec` is per second of this thread's CPU time (Linux
//! `/proc/thread-self/schedstat`), so that a loaded machine, which takes the core away
//! now and then, does not lower it; `wall_ops_per_sec` is per second of wall time.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Map, Value, json};
use smartgate_core::Error;
use smartgate_core::jwk::{Jwk, JwkSet};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::{self, Validation};
use smartgate_core::provider::Signer;
use smartgate_core::provider::ring::{Ring, RingSigner};
use smartgate_core::sign::sign_jwt;

const ISS: &str = "http://127.0.0.1:8080";
const FHIR: &str = "http://127.0.0.1:8080/fhir";
const TOKEN: &str = "http://127.0.0.1:8080/token";
const CLIENT_RSA_KEY: &[u8] = include_bytes!("../tests/keys/client-rsa2048.pk8");

/// Measures the core's cryptographic work per token path on one core.
#[derive(Debug, Parser)]
struct Cli {
    /// Seconds per path.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
}

struct Keys {
    access: RingSigner,
    id: RingSigner,
    rsa_client: RingSigner,
    ec_client: RingSigner,
    server_jwks: JwkSet,
    rsa_jwks: JwkSet,
    ec_jwks: JwkSet,
}

fn set_of(signer: &RingSigner, kid: &str) -> Result<JwkSet, Error> {
    JwkSet::new(vec![Jwk::new(
        signer.public_key(),
        Some(kid.into()),
        Some(signer.algorithm()),
    )?])
}

impl Keys {
    fn new() -> Result<Self, Error> {
        let access = RingSigner::generate_ecdsa(Algorithm::Es256)?.0;
        let id = RingSigner::from_pkcs8(Algorithm::Rs256, mock_ehr::builtin::ID_TOKEN_RSA_KEY)?;
        let rsa_client = RingSigner::from_pkcs8(Algorithm::Rs384, CLIENT_RSA_KEY)?;
        let ec_client = RingSigner::generate_ecdsa(Algorithm::Es384)?.0;
        Ok(Self {
            server_jwks: set_of(&access, "at")?,
            rsa_jwks: set_of(&rsa_client, "rsa")?,
            ec_jwks: set_of(&ec_client, "ec")?,
            access,
            id,
            rsa_client,
            ec_client,
        })
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn access_claims(i: u64) -> Map<String, Value> {
    obj(json!({
        "iss": ISS, "sub": "dr.smith", "aud": FHIR, "exp": 1_900_000_000_i64,
        "iat": 1_800_000_000_i64, "jti": format!("jti-{i}"), "client_id": "demo-app",
        "scope": "openid fhirUser launch/patient patient/*.rs", "patient": "pat-001",
        "fhirUser": format!("{FHIR}/Practitioner/prac-001"),
    }))
}

fn id_claims() -> Map<String, Value> {
    obj(json!({
        "iss": ISS, "sub": "dr.smith", "aud": "demo-app", "exp": 1_900_000_000_i64,
        "iat": 1_800_000_000_i64, "auth_time": 1_800_000_000_i64,
        "fhirUser": format!("{FHIR}/Practitioner/prac-001"),
    }))
}

fn assertion(signer: &RingSigner, kid: &str) -> Result<String, Error> {
    let now = 1_800_000_000_i64;
    let claims = obj(json!({
        "iss": "svc", "sub": "svc", "aud": TOKEN, "exp": now + 300, "iat": now, "jti": "j1",
    }));
    sign_jwt(&claims, Some("JWT"), Some(kid), signer)
}

/// This thread's CPU time in seconds (Linux), if the kernel says.
fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Operations per CPU second and per wall second.
#[derive(Debug, Clone, Copy)]
struct Rate {
    cpu: f64,
    wall: f64,
}

/// Runs `work` for `secs` seconds of wall time on this thread.
fn rate(secs: f64, mut work: impl FnMut(u64) -> Result<(), Error>) -> Result<Rate, Error> {
    let budget = Duration::from_secs_f64(secs);
    let cpu0 = thread_cpu_secs();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..8 {
            work(n)?;
            n += 1;
        }
    }
    let wall = n as f64 / start.elapsed().as_secs_f64();
    let cpu = match (cpu0, thread_cpu_secs()) {
        (Some(a), Some(b)) if b > a => n as f64 / (b - a),
        _ => wall,
    };
    Ok(Rate { cpu, wall })
}

fn run(cli: &Cli) -> Result<Vec<(&'static str, Rate)>, Error> {
    let k = Keys::new()?;
    let now = 1_800_000_010_i64;
    let assertion_validation = Validation::new(["svc"], [TOKEN])
        .algorithms(&[
            Algorithm::Rs384,
            Algorithm::Es384,
            Algorithm::Rs256,
            Algorithm::Es256,
        ])
        .require("jti")
        .require("sub");
    let rsa_assertion = assertion(&k.rsa_client, "rsa")?;
    let ec_assertion = assertion(&k.ec_client, "ec")?;
    let sign_access = |i: u64| -> Result<(), Error> {
        black_box(sign_jwt(
            &access_claims(i),
            Some("at+jwt"),
            Some("at"),
            &k.access,
        )?);
        Ok(())
    };
    let mut out = Vec::new();
    out.push(("code", rate(cli.secs, sign_access)?));
    out.push((
        "code_openid",
        rate(cli.secs, |i| {
            sign_access(i)?;
            black_box(sign_jwt(&id_claims(), Some("JWT"), Some("id"), &k.id)?);
            Ok(())
        })?,
    ));
    out.push((
        "cc_rs384",
        rate(cli.secs, |i| {
            black_box(jwt::verify(
                &rsa_assertion,
                &k.rsa_jwks,
                &assertion_validation,
                &Ring,
                now,
            )?);
            sign_access(i)
        })?,
    ));
    out.push((
        "cc_es384",
        rate(cli.secs, |i| {
            black_box(jwt::verify(
                &ec_assertion,
                &k.ec_jwks,
                &assertion_validation,
                &Ring,
                now,
            )?);
            sign_access(i)
        })?,
    ));
    let token = sign_jwt(&access_claims(0), Some("at+jwt"), Some("at"), &k.access)?;
    let access_validation = Validation::new([ISS], [FHIR])
        .algorithms(&[Algorithm::Es256])
        .typ("at+jwt")
        .require("jti")
        .require("client_id");
    out.push((
        "introspect",
        rate(cli.secs, |_| {
            black_box(jwt::verify(
                &token,
                &k.server_jwks,
                &access_validation,
                &Ring,
                now,
            )?);
            Ok(())
        })?,
    ));
    Ok(out)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(rates) => {
            for (path, r) in rates {
                println!(
                    "{}",
                    json!({ "path": path, "ops_per_sec": r.cpu.round(), "wall_ops_per_sec": r.wall.round() })
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crypto_rate: {} ({e})", e.code());
            ExitCode::FAILURE
        }
    }
}
