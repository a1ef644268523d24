//! Given certificate and key files (served, or refused at start), and the binary's
//! banner with `--tls`.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use axum::http::StatusCode;
use mock_ehr::{MockEhr, TlsConfig};

use super::client::Client;

/// A fresh temporary folder for this test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mock-ehr-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A certificate for 127.0.0.1 and its key, as PEM.
fn cert_and_key(cn: &str) -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn given_certificate_and_key_files_serve_https() {
    let dir = temp_dir("given");
    let (cert, key) = cert_and_key("given test cert");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let tls = TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    assert_eq!(tls.cert_path(), Some(cert_path.as_path()));
    // The binary prints the given file; it writes no copy.
    assert_eq!(
        tls.cert_file(Some(&dir.join("unused.pem")), 1).unwrap(),
        cert_path
    );
    assert!(!dir.join("unused.pem").exists());
    let ehr = MockEhr::builder().tls(tls).spawn().await.unwrap();
    let res = Client::trusting(&cert)
        .get(&format!(
            "{}/.well-known/openid-configuration",
            ehr.base_url()
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["issuer"], ehr.base_url());
    assert!(ehr.base_url().starts_with("https://"));
    ehr.shutdown().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unusable_certificate_or_key_files_are_refused_at_start() {
    let dir = temp_dir("refused");
    let (cert, _) = cert_and_key("a");
    let (_, other_key) = cert_and_key("b");
    let p = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let cert_path = p("cert.pem", &cert);
    let other_key_path = p("other-key.pem", &other_key);
    let empty = p("empty.pem", "");
    let missing = dir.join("missing.pem");
    let err = |c: &Path, k: &Path| TlsConfig::from_pem_files(c, k).unwrap_err().0;
    let (c, k) = (cert_path.display(), other_key_path.display());
    assert_eq!(
        err(&cert_path, &other_key_path),
        format!(
            "--tls-cert {c} with --tls-key {k}: the private key does not match the certificate"
        )
    );
    assert_eq!(
        err(&missing, &other_key_path),
        format!(
            "--tls-cert {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert_eq!(
        err(&cert_path, &missing),
        format!(
            "--tls-key {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert_eq!(
        err(&empty, &other_key_path),
        format!(
            "--tls-cert {}: no CERTIFICATE in the PEM file",
            empty.display()
        )
    );
    // A certificate where the key should be.
    assert_eq!(
        err(&cert_path, &cert_path),
        format!("--tls-key {c}: no private key in the PEM file (no items found)")
    );
    // The flags go together.
    assert_eq!(
        TlsConfig::from_flags(true, Some(&cert_path), None)
            .unwrap_err()
            .0,
        "--tls-cert and --tls-key go together"
    );
    assert!(TlsConfig::from_flags(false, None, None).unwrap().is_none());
    std::fs::remove_dir_all(dir).unwrap();
}

/// A running `mock-ehr` binary, killed on drop.
pub struct Binary(pub Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args` and returns its stdout lines up to the one starting
/// with `last`. A thread keeps reading the rest, so the binary never writes to a
/// closed pipe.
pub fn run_binary(args: &[&str], last: &str) -> (Binary, Vec<String>) {
    run_binary_with_env(args, &[], last)
}

/// [`run_binary`] with environment variables.
pub fn run_binary_with_env(
    args: &[&str],
    env: &[(&str, &Path)],
    last: &str,
) -> (Binary, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-ehr"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let binary = Binary(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // Once nobody listens, keep draining.
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    for line in rx {
        let done = line.starts_with(last);
        lines.push(line);
        if done {
            return (binary, lines);
        }
    }
    panic!("the binary stopped; it printed {lines:?}");
}

#[tokio::test]
async fn binary_with_tls_prints_the_https_base_url_and_the_certificate_file() {
    let dir = temp_dir("binary");
    let out = dir.join("nested").join("mock-ehr-cert.pem");
    let (_binary, lines) = run_binary(
        &[
            "--tls",
            "--port",
            "0",
            "--auto-approve",
            "--tls-cert-out",
            out.to_str().unwrap(),
        ],
        "TLS certificate:",
    );
    let base = lines[0].clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{lines:?}");
    assert!(
        lines.contains(&format!("FHIR base:       {base}/fhir")),
        "{lines:?}"
    );
    assert_eq!(
        lines.last().unwrap(),
        &format!("TLS certificate: {} (TLS 1.2 and 1.3)", out.display())
    );
    // A client that trusts only that file completes a launch.
    let pem = std::fs::read_to_string(&out).unwrap();
    let client = Client::trusting(&pem);
    let q = client
        .authorize(&format!("{base}/fhir"), "launch/patient patient/*.rs", "s")
        .await;
    assert_eq!(q["iss"], base);
    let token = client.redeem(&format!("{base}/token"), &q["code"]).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let token = token.json();
    let read = client
        .get_with(
            &format!("{base}/fhir/Patient/{}", token["patient"].as_str().unwrap()),
            &[(
                "authorization",
                &format!("Bearer {}", token["access_token"].as_str().unwrap()),
            )],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());
    assert_eq!(read.json()["resourceType"], "Patient");
    drop(_binary);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn binary_refuses_a_mismatched_key_at_start() {
    let dir = temp_dir("binary-mismatch");
    let (cert, _) = cert_and_key("a");
    let (_, key) = cert_and_key("b");
    std::fs::write(dir.join("cert.pem"), cert).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new(env!("CARGO_BIN_EXE_mock-ehr"))
        .args(["--port", "0", "--tls-cert"])
        .arg(&c)
        .arg("--tls-key")
        .arg(&k)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "mock-ehr: --tls-cert {} with --tls-key {}: the private key does not match the certificate\n",
            c.display(),
            k.display()
        )
    );
    std::fs::remove_dir_all(dir).unwrap();
}
