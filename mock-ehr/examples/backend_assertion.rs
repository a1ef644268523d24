//! SMART Backend Services helper: make a client key, print its public JWK Set for
//! registration, and sign `private_key_jwt` client assertions (RFC 7523) with the
//! core's `ring` signer.
//!
//! ```sh
//! # A new ES384 key (PKCS#8 DER) and its public JWKS, to register:
//! cargo run -p mock-ehr --example backend_assertion -- keygen --alg ES384 --kid my-key --out my-key.pk8
//! # One assertion for the built-in demo-backend client (its shipped test key):
//! cargo run -p mock-ehr --example backend_assertion -- sign --aud http://127.0.0.1:8080/token
//! # 1000 assertions (one per line, unique jti) for your own client and key:
//! cargo run -p mock-ehr --example backend_assertion -- sign --client-id ID --key my-key.pk8 \
//!     --alg ES384 --kid my-key --aud http://127.0.0.1:8080/token --count 1000
//! ```

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use serde_json::Map;
use smartgate_core::base64url;
use smartgate_core::jwk::{Jwk, JwkSet};
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::Signer as _;
use smartgate_core::provider::ring::RingSigner;
use smartgate_core::sign::sign_jwt;

/// Keys and client assertions for SMART Backend Services.
#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a private key (PKCS#8 DER) and print its public JWK Set.
    Keygen {
        /// ES384 (SMART's required EC algorithm), ES256, RS384 or RS256.
        #[arg(long, default_value = "ES384")]
        alg: String,
        /// The key id the assertions will name.
        #[arg(long)]
        kid: String,
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public JWK Set of a private key.
    Jwks {
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Print signed client assertions, one per line, each with a fresh jti.
    Sign {
        #[command(flatten)]
        key: KeyArgs,
        /// The client id (`iss` and `sub`).
        #[arg(long, default_value = "demo-backend")]
        client_id: String,
        /// The token endpoint (`aud`).
        #[arg(long, default_value = "http://127.0.0.1:8080/token")]
        aud: String,
        /// Seconds until `exp` (SMART: at most 300).
        #[arg(long, default_value_t = 300)]
        lifetime: i64,
        /// How many assertions.
        #[arg(long, default_value_t = 1)]
        count: usize,
    },
}

#[derive(Debug, clap::Args)]
struct KeyArgs {
    /// A PKCS#8 DER private key; without it, the demo-backend client's shipped key.
    #[arg(long)]
    key: Option<PathBuf>,
    /// The key's algorithm (with --key).
    #[arg(long, default_value = "ES384")]
    alg: String,
    /// The key id (with --key).
    #[arg(long)]
    kid: Option<String>,
}

impl KeyArgs {
    fn load(&self) -> Result<(RingSigner, String), String> {
        match &self.key {
            None => {
                let signer =
                    RingSigner::from_pkcs8(Algorithm::Es384, mock_ehr::builtin::DEMO_BACKEND_KEY)
                        .map_err(|e| e.code().to_string())?;
                Ok((signer, mock_ehr::builtin::DEMO_BACKEND_KID.to_string()))
            }
            Some(path) => {
                let alg = Algorithm::from_name(&self.alg).map_err(|e| e.code().to_string())?;
                let der = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let signer = RingSigner::from_pkcs8(alg, &der)
                    .map_err(|e| format!("{}: {}", path.display(), e.code()))?;
                let kid = self.kid.clone().ok_or("--kid is required with --key")?;
                Ok((signer, kid))
            }
        }
    }
}

fn jwks(signer: &RingSigner, kid: &str) -> Result<String, String> {
    let jwk = Jwk::new(
        signer.public_key(),
        Some(kid.to_string()),
        Some(signer.algorithm()),
    )
    .map_err(|e| e.code().to_string())?;
    let set = JwkSet::new(vec![jwk]).map_err(|e| e.code().to_string())?;
    Ok(set.to_json().to_string())
}

fn keygen(alg: &str) -> Result<Vec<u8>, String> {
    let alg = Algorithm::from_name(alg).map_err(|e| e.code().to_string())?;
    if alg.is_rsa() {
        use getrandom::SysRng;
        use getrandom::rand_core::UnwrapErr;
        use rsa::pkcs8::EncodePrivateKey as _;
        let key =
            rsa::RsaPrivateKey::new(&mut UnwrapErr(SysRng), 2048).map_err(|e| e.to_string())?;
        let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
        Ok(der.as_bytes().to_vec())
    } else {
        let (_, der) = RingSigner::generate_ecdsa(alg).map_err(|e| e.code().to_string())?;
        Ok(der)
    }
}

fn sign_many(
    signer: &RingSigner,
    kid: &str,
    client_id: &str,
    aud: &str,
    lifetime: i64,
    count: usize,
) -> Result<Vec<String>, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let now = i64::try_from(now).map_err(|e| e.to_string())?;
    let mut prefix = [0u8; 12];
    getrandom::fill(&mut prefix).map_err(|e| e.to_string())?;
    let prefix = base64url::encode(&prefix);
    let one = |i: usize| -> Result<String, String> {
        let mut claims = Map::new();
        claims.insert("iss".into(), client_id.into());
        claims.insert("sub".into(), client_id.into());
        claims.insert("aud".into(), aud.into());
        claims.insert("exp".into(), (now + lifetime).into());
        claims.insert("iat".into(), now.into());
        claims.insert("jti".into(), format!("{prefix}-{i}").into());
        sign_jwt(&claims, Some("JWT"), Some(kid), signer).map_err(|e| e.code().into())
    };
    // RSA signing is slow: use every core for large counts.
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(count.max(1));
    let chunk = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let one = &one;
                scope.spawn(move || {
                    (t * chunk..((t + 1) * chunk).min(count))
                        .map(one)
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(count);
        for h in handles {
            out.extend(h.join().map_err(|_| "a signing thread failed")??);
        }
        Ok(out)
    })
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Keygen { alg, kid, out } => {
            let der = keygen(&alg)?;
            std::fs::write(&out, &der).map_err(|e| format!("{}: {e}", out.display()))?;
            let alg = Algorithm::from_name(&alg).map_err(|e| e.code().to_string())?;
            let signer = RingSigner::from_pkcs8(alg, &der).map_err(|e| e.code().to_string())?;
            println!("{}", jwks(&signer, &kid)?);
        }
        Command::Jwks { key } => {
            let (signer, kid) = key.load()?;
            println!("{}", jwks(&signer, &kid)?);
        }
        Command::Sign {
            key,
            client_id,
            aud,
            lifetime,
            count,
        } => {
            let (signer, kid) = key.load()?;
            let all = sign_many(&signer, &kid, &client_id, &aud, lifetime, count)?;
            let mut text = all.join("\n");
            text.push('\n');
            print!("{text}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("backend_assertion: {e}");
            ExitCode::FAILURE
        }
    }
}
