//! `mock-ehr`: run the mock EHR from the command line.

// A std server: the workspace's core/alloc-over-std lints exist for the no_std core.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mock_ehr::{Config, GuardCaching, MockEhr, TlsConfig, builtin};

/// A strict SMART-on-FHIR mock EHR for integration tests. All state is in memory.
#[derive(Debug, Parser)]
#[command(name = "mock-ehr", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind; 0 picks any free port (the first stdout line is the base URL).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// TOML configuration: clients, users, patients, token lifetimes, signing
    /// algorithm, rate limit, DPoP policy.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Approve authorization requests at once (no login, picker or consent pages).
    #[arg(long)]
    auto_approve: bool,
    /// Do not serve the /_admin test controls.
    #[arg(long)]
    no_admin: bool,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
    /// FHIR data instead of the built-in patients: a Bundle (transaction or collection,
    /// JSON), an .ndjson file, or a folder of .ndjson files. Refused at start if invalid.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Status polls of a bulk export answered 202 before the manifest (0: at once).
    #[arg(long, value_name = "N", default_value_t = mock_ehr::DEFAULT_EXPORT_POLLS)]
    export_polls: u32,
    /// Serve HTTPS (TLS 1.2 and 1.3) with a self-signed certificate made at start for
    /// localhost, 127.0.0.1 and ::1; its PEM file is printed as "TLS certificate".
    #[arg(long)]
    tls: bool,
    /// Where --tls writes its certificate [default: TMPDIR/mock-ehr-PORT/cert.pem].
    #[arg(
        long,
        value_name = "PATH",
        requires = "tls",
        conflicts_with = "tls_cert"
    )]
    tls_cert_out: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first) and --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve N independent EHRs t1 .. tN under /t/{name}/, each with its own issuer,
    /// keys, clients and data (or use [[tenant]] tables in --config).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    tenants: Option<u16>,
    /// What the FHIR API's guard caches: none, keys, tokens (for benchmarks).
    #[arg(long, value_name = "MODE", default_value = "tokens", value_parser = parse_caching)]
    guard_cache: GuardCaching,
}

/// Subcommands (without one, the server runs).
#[derive(Debug, Subcommand)]
enum Command {
    /// Print a signed access token without a running server (needs the server's
    /// [signing] access_token_key_file in --config).
    Mint(mock_ehr::mint::MintArgs),
}

fn parse_caching(s: &str) -> Result<GuardCaching, String> {
    GuardCaching::parse(s).ok_or_else(|| "expected none, keys or tokens".to_string())
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Pretty,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Mint(args)) = &cli.command {
        return match args.run() {
            Ok(out) => {
                println!("{out}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mock-ehr mint: {e}");
                ExitCode::from(2)
            }
        };
    }
    let subscriber = tracing_subscriber::fmt().with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => subscriber.json().init(),
        LogFormat::Pretty => subscriber.init(),
    }
    let config = match &cli.config {
        None => Config::default(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Config::from_toml(&t))
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mock-ehr: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
    };
    let dpop = match (config.dpop.required, config.dpop.nonce) {
        (true, true) => "required, with server nonces",
        (true, false) => "required",
        (false, true) => "optional, with server nonces",
        (false, false) => "optional (a DPoP header binds the token)",
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mock-ehr: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tls = match TlsConfig::from_flags(cli.tls, cli.tls_cert.as_deref(), cli.tls_key.as_deref())
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mock-ehr: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let mut builder = MockEhr::builder()
            .config(config)
            .host(cli.host)
            .port(cli.port)
            .auto_approve(cli.auto_approve)
            .admin(!cli.no_admin)
            .export_polls(cli.export_polls)
            .guard_caching(cli.guard_cache);
        if let Some(path) = &cli.data {
            builder = builder.data_path(path);
        }
        if let Some(tls) = tls {
            builder = builder.tls(tls);
        }
        if let Some(n) = cli.tenants {
            builder = builder.tenants(usize::from(n));
        }
        let ehr = builder.spawn().await;
        let ehr = match ehr {
            Ok(e) => e,
            Err(e) => {
                eprintln!("mock-ehr: {e}");
                return ExitCode::FAILURE;
            }
        };
        let cert_file = match ehr.tls() {
            None => None,
            Some(tls) => {
                match tls.cert_file(cli.tls_cert_out.as_deref(), ehr.local_addr().port()) {
                    Ok(path) => Some(path),
                    Err(e) => {
                        eprintln!("mock-ehr: TLS certificate: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
        };
        print_banner(&ehr, cli.auto_approve, !cli.no_admin, dpop);
        if let Some(path) = cert_file {
            println!("TLS certificate: {} (TLS 1.2 and 1.3)", path.display());
        }
        match &cli.data {
            Some(path) => println!("FHIR data:       {}", path.display()),
            None => println!("FHIR data:       built-in (24 patients, 464 resources)"),
        }
        shutdown_signal().await;
        match ehr.shutdown().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mock-ehr: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Ctrl-C, or SIGTERM on Unix (what container runtimes and CI send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn print_banner(ehr: &MockEhr, auto_approve: bool, admin: bool, dpop: &str) {
    // The first line is the base URL alone, for scripts that start with --port 0.
    println!("{}", ehr.base_url());
    if ehr.tenants().is_empty() {
        println!("FHIR base:       {}", ehr.fhir_base());
        println!(
            "SMART discovery: {}/.well-known/smart-configuration",
            ehr.fhir_base()
        );
    }
    for t in ehr.tenants() {
        println!(
            "Tenant {:<8} issuer {}  FHIR base {}",
            t.name(),
            t.base_url(),
            t.fhir_base()
        );
    }
    println!(
        "Mode:            {}",
        if auto_approve {
            "auto-approve"
        } else {
            "interactive (login, patient picker, consent)"
        }
    );
    println!(
        "Admin controls:  {}",
        if admin {
            "enabled under /_admin"
        } else {
            "disabled"
        }
    );
    println!("DPoP:            {dpop}");
    println!("Demo client:     client_id=demo-app (public, PKCE S256)");
    println!("  redirect_uri:  http://localhost:3000/callback");
    println!("  launch_uri:    http://localhost:3000/launch");
    println!("  scopes:        {}", builtin::DEMO_APP_SCOPES);
    println!(
        "Login:           {} / {}",
        builtin::DEFAULT_USER,
        builtin::PASSWORD
    );
    println!(
        "Backend client:  client_id=demo-backend (private_key_jwt ES384, kid {})",
        builtin::DEMO_BACKEND_KID
    );
    println!("Stop with Ctrl-C (or SIGTERM).");
}
