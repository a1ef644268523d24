//! `mock-ehr`: run the mock EHR from the command line.

// A std server: the workspace's core/alloc-over-std lints exist for the no_std core.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use mock_ehr::{Config, MockEhr, builtin};

/// A strict SMART-on-FHIR mock EHR for integration tests. All state is in memory.
#[derive(Debug, Parser)]
#[command(name = "mock-ehr", version, about)]
struct Cli {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind; 0 picks any free port (the first stdout line is the base URL).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// TOML configuration: clients, users, patients, token lifetimes, signing
    /// algorithm, rate limit.
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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Pretty,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    runtime.block_on(async move {
        let ehr = MockEhr::builder()
            .config(config)
            .host(cli.host)
            .port(cli.port)
            .auto_approve(cli.auto_approve)
            .admin(!cli.no_admin)
            .spawn()
            .await;
        let ehr = match ehr {
            Ok(e) => e,
            Err(e) => {
                eprintln!("mock-ehr: {e}");
                return ExitCode::FAILURE;
            }
        };
        print_banner(&ehr, cli.auto_approve, !cli.no_admin);
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

fn print_banner(ehr: &MockEhr, auto_approve: bool, admin: bool) {
    // The first line is the base URL alone, for scripts that start with --port 0.
    println!("{}", ehr.base_url());
    println!("FHIR base:       {}", ehr.fhir_base());
    println!(
        "SMART discovery: {}/.well-known/smart-configuration",
        ehr.fhir_base()
    );
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
