//! Pre-generates DPoP proofs for `mock-ehr/bench/fhir.sh`.
//!
//! A DPoP proof is single-use (its `jti`) and bound to one method and URL, so a load
//! tool cannot make them on the fly cheaply; this writes them ahead of the run:
//!
//! ```text
//! cargo run --release -p mock-ehr --example bench_proofs -- \
//!     BASE PATH COUNT OUT SCOPE [PATIENT]
//! ```
//!
//! It makes an ES256 key, mints a token bound to it (`POST /_admin/tokens`, client
//! `demo-app`, user `dr.smith`, `SCOPE`, `PATIENT`), reads the server's clock
//! (`GET /_admin/clock`, so `iat` is the server's now), and writes to `OUT` the token
//! on the first line, then `COUNT` proofs for `GET BASE PATH` (the query of `PATH` is
//! not part of `htu`, so the proofs serve every query on that path). Proofs are good
//! for 60 seconds after they are made.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::error::Error;
use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::{Map, Value, json};
use smartgate_core::dpop::access_token_hash;
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::Signer;
use smartgate_core::provider::ring::RingSigner;
use smartgate_core::sign::sign_compact;

type Result<T> = core::result::Result<T, Box<dyn Error>>;

/// One HTTP/1.1 request on a fresh connection; the JSON body of the answer.
fn http(base: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
    let authority = base
        .strip_prefix("http://")
        .ok_or("BASE must be http://HOST:PORT")?;
    let mut stream = TcpStream::connect(authority)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let (head, json) = reply.split_once("\r\n\r\n").ok_or("no HTTP body")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("{method} {path}: {head}: {json}").into());
    }
    Ok(serde_json::from_str(json)?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, path, count, out, scope, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_proofs BASE PATH COUNT OUT SCOPE [PATIENT]".into());
    };
    let count: usize = count.parse()?;
    let (signer, _) = RingSigner::generate_ecdsa(Algorithm::Es256)?;
    let public = signer.public_key();
    let mint = json!({
        "client_id": "demo-app",
        "user": "dr.smith",
        "scope": scope,
        "jkt": public.thumbprint(),
        "patient": rest.first(),
    });
    let token = http(base, "POST", "/_admin/tokens", Some(&mint))?
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or("no access_token")?
        .to_string();
    let now = http(base, "GET", "/_admin/clock", None)?
        .get("now")
        .and_then(Value::as_i64)
        .ok_or("no clock")?;
    let htu = format!("{base}{}", path.split('?').next().unwrap_or(path));
    let mut header = Map::new();
    header.insert("typ".into(), "dpop+jwt".into());
    header.insert("jwk".into(), Value::Object(public.to_jwk_members()));
    let ath = access_token_hash(&token);
    let run = format!("{now:x}");
    let sign = |i: usize| -> core::result::Result<String, String> {
        let claims = json!({
            "jti": format!("bench-{run}-{i}"), "htm": "GET", "htu": htu, "iat": now, "ath": ath,
        });
        let payload = serde_json::to_vec(&claims).map_err(|e| e.to_string())?;
        sign_compact(&header, &payload, &signer).map_err(|e| e.to_string())
    };
    // Two threads: proof signing is the slow part.
    let half = count / 2;
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            (0..half)
                .map(sign)
                .collect::<core::result::Result<Vec<_>, _>>()
        });
        let b = (half..count)
            .map(sign)
            .collect::<core::result::Result<Vec<_>, _>>();
        (a.join(), b)
    });
    let first = first.map_err(|_| "signing thread failed")??;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(file, "{token}")?;
    for proof in first.iter().chain(second?.iter()) {
        writeln!(file, "{proof}")?;
    }
    file.flush()?;
    Ok(())
}
