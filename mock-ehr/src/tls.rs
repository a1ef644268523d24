//! HTTPS: the server's TLS configuration ([`TlsConfig`]) and a listener that hands
//! axum connections whose TLS handshake is done (`TlsListener`, internal).
//!
//! SMART App Launch requires TLS, and strict clients refuse plain `http://` issuers.
//! rustls speaks TLS 1.2 and 1.3 only (it has no code for SSL 3, TLS 1.0 or 1.1; a
//! client offering no more than TLS 1.1 gets a fatal `protocol_version` alert), on the
//! `ring` provider the workspace already builds. ALPN offers `http/1.1`, the one
//! protocol the server speaks.
//!
//! Certificates: [`TlsConfig::self_signed`] makes one at start with `rcgen` (an ECDSA
//! P-256 key, subject alternative names `localhost`, `127.0.0.1` and `::1`, extended key
//! usage `serverAuth`, a random common name, valid from a day ago for a year), and [`TlsConfig::from_pem_files`] loads given PEM files,
//! refusing a key that does not match the certificate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::server::StartError;

/// The names the self-signed certificate is valid for.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server certificate chain and its key, ready to serve HTTPS (`Clone`: cheap).
#[derive(Clone)]
pub struct TlsConfig {
    server: Arc<ServerConfig>,
    cert_pem: Arc<str>,
    cert_path: Option<PathBuf>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// A fresh self-signed certificate for [`SELF_SIGNED_NAMES`] (a new ECDSA P-256 key
    /// each time), valid from 24 hours ago for 365 days.
    ///
    /// # Errors
    /// Key generation or certificate encoding failed (not expected).
    pub fn self_signed() -> Result<Self, StartError> {
        let err = |e: rcgen::Error| StartError(format!("self-signed certificate: {e}"));
        let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|n| (*n).to_string()).collect();
        let mut params = rcgen::CertificateParams::new(names).map_err(err)?;
        // A name of its own: clients that trust the certificates of several runs must
        // not mistake one for the issuer of another (same subject, other key).
        let mut id = [0u8; 6];
        getrandom::fill(&mut id).map_err(|e| StartError(format!("randomness: {e}")))?;
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(
            rcgen::DnType::CommonName,
            format!("smartgate mock EHR {id} (self-signed)"),
        );
        params.distinguished_name = dn;
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let at = |secs: i64| {
            time::OffsetDateTime::from_unix_timestamp(secs)
                .map_err(|e| StartError(format!("self-signed certificate validity: {e}")))
        };
        params.not_before = at(now - 24 * 3600)?;
        params.not_after = at(now + 365 * 24 * 3600)?;
        let key = rcgen::KeyPair::generate().map_err(err)?;
        let cert = params.self_signed(&key).map_err(err)?;
        let key_der = PrivateKeyDer::try_from(key.serialize_der())
            .map_err(|e| StartError(format!("self-signed certificate key: {e}")))?;
        Self::new(vec![cert.der().clone()], key_der, cert.pem(), None)
    }

    /// The certificate chain (leaf first) and private key (PKCS#8, PKCS#1 or SEC1) of
    /// two PEM files, as `--tls-cert FILE --tls-key FILE` give them.
    ///
    /// # Errors
    /// A file that cannot be read, holds no certificate or no private key, or a key
    /// that does not match the certificate; the message names the file.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, StartError> {
        let read = |flag: &str, path: &Path| {
            std::fs::read(path).map_err(|e| StartError(format!("{flag} {}: {e}", path.display())))
        };
        let cert_bytes = read("--tls-cert", cert)?;
        let key_bytes = read("--tls-key", key)?;
        let chain = CertificateDer::pem_slice_iter(&cert_bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StartError(format!("--tls-cert {}: {e}", cert.display())))?;
        if chain.is_empty() {
            return Err(StartError(format!(
                "--tls-cert {}: no CERTIFICATE in the PEM file",
                cert.display()
            )));
        }
        let key_der = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| {
            StartError(format!(
                "--tls-key {}: no private key in the PEM file ({e})",
                key.display()
            ))
        })?;
        let pem = String::from_utf8_lossy(&cert_bytes).into_owned();
        Self::new(chain, key_der, pem, Some(cert.to_path_buf())).map_err(|e| {
            StartError(format!(
                "--tls-cert {} with --tls-key {}: {e}",
                cert.display(),
                key.display()
            ))
        })
    }

    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        cert_pem: String,
        cert_path: Option<PathBuf>,
    ) -> Result<Self, StartError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| StartError(format!("TLS: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                    StartError("the private key does not match the certificate".into())
                }
                e => StartError(format!("unusable certificate or key: {e}")),
            })?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            server: Arc::new(server),
            cert_pem: cert_pem.into(),
            cert_path,
        })
    }

    /// The certificate chain as PEM: what a client must trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The certificate file: the one given to [`TlsConfig::from_pem_files`], or where
    /// [`TlsConfig::write_cert`] wrote it; `None` before a self-signed one is written.
    pub fn cert_path(&self) -> Option<&Path> {
        self.cert_path.as_deref()
    }

    /// Writes the certificate (PEM) to `path`, creating its folder, and remembers the
    /// path ([`TlsConfig::cert_path`]).
    ///
    /// # Errors
    /// The folder cannot be created or the file written.
    pub fn write_cert(&mut self, path: &Path) -> Result<(), StartError> {
        let err = |e: std::io::Error| StartError(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::write(path, self.cert_pem.as_bytes()).map_err(err)?;
        self.cert_path = Some(path.to_path_buf());
        Ok(())
    }

    /// Where the binary writes a self-signed certificate by default:
    /// `{temp dir}/mock-ehr-{port}/cert.pem`.
    pub fn default_cert_path(port: u16) -> PathBuf {
        std::env::temp_dir()
            .join(format!("mock-ehr-{port}"))
            .join("cert.pem")
    }

    /// The certificate file to tell clients about: the `--tls-cert` file, or else this
    /// self-signed certificate written to `out` (default
    /// [`TlsConfig::default_cert_path`] of `port`).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn cert_file(&self, out: Option<&Path>, port: u16) -> Result<PathBuf, StartError> {
        if let Some(path) = &self.cert_path {
            return Ok(path.clone());
        }
        let path = out.map_or_else(|| Self::default_cert_path(port), Path::to_path_buf);
        self.clone().write_cert(&path)?;
        Ok(path)
    }

    /// What the command line asks for: `--tls-cert FILE --tls-key FILE` (given files),
    /// else `--tls` (a self-signed certificate), else plain HTTP (`None`).
    ///
    /// # Errors
    /// As [`TlsConfig::from_pem_files`] and [`TlsConfig::self_signed`].
    pub fn from_flags(
        tls: bool,
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<Option<Self>, StartError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Self::from_pem_files(cert, key).map(Some),
            (None, None) if tls => Self::self_signed().map(Some),
            (None, None) => Ok(None),
            _ => Err(StartError("--tls-cert and --tls-key go together".into())),
        }
    }

    /// The rustls server configuration.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }
}

/// A listener for `axum::serve` that yields connections whose TLS handshake is done.
///
/// Each handshake runs in its own task (at most [`HANDSHAKE_TIMEOUT`]), so a slow or
/// silent client never holds up the others; a failed handshake is logged at debug
/// level and dropped. Dropping the listener (as `axum::serve` does at graceful
/// shutdown) closes the socket and aborts the handshakes in flight at once.
pub(crate) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("tcp", &self.tcp)
            .field("handshakes", &self.handshakes.len())
            .finish_non_exhaustive()
    }
}

impl TlsListener {
    /// Serves TLS on `listener` with `config`.
    pub(crate) fn new(tcp: TcpListener, config: &TlsConfig) -> Self {
        Self {
            tcp,
            acceptor: TlsAcceptor::from(config.server_config()),
            handshakes: JoinSet::new(),
        }
    }

    fn start_handshake(&mut self, tcp: TcpStream, peer: SocketAddr) {
        let _ = tcp.set_nodelay(true);
        let acceptor = self.acceptor.clone();
        self.handshakes.spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => Some((tls, peer)),
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    None
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    None
                }
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Both branches are cancel-safe: axum drops this future at shutdown.
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((tcp, peer)) => self.start_handshake(tcp, peer),
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(done) = self.handshakes.join_next() => {
                    if let Ok(Some(conn)) = done {
                        return conn;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
