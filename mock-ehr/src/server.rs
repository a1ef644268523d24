//! Starting a server: [`MockEhr::builder`] for Rust tests and the binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use smartgate_core::jwk::{Jwk, JwkSet};
use smartgate_core::jws::Algorithm;
use smartgate_core::provider::Signer as _;
use smartgate_core::provider::ring::RingSigner;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::builtin;
use crate::clock::{Clock, TimeSource};
use crate::config::{ClientConfig, Config, UserConfig};
use crate::directory::Directory;
use crate::fhir;
use crate::fhir_api::{DEFAULT_EXPORT_POLLS, FhirSettings, FhirState, GuardCaching};
use crate::keys::{self, KeyRing};
use crate::state::{AppState, Initial, Settings, Urls};
use crate::store::Store;

/// Why a server could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// Where the FHIR resources come from.
#[derive(Debug, Clone)]
enum Data {
    Builtin,
    Store(fhir::Store),
    Path(PathBuf),
}

/// Builds a mock EHR. Defaults: `127.0.0.1`, port 0 (any free port), interactive
/// pages, `/_admin` enabled, the system clock, built-in clients and users, the
/// built-in FHIR data.
#[derive(Clone)]
pub struct MockEhrBuilder {
    config: Config,
    host: String,
    port: u16,
    auto_approve: bool,
    admin: bool,
    time_source: Option<TimeSource>,
    data: Data,
    export_polls: u32,
    guard_caching: GuardCaching,
}

impl std::fmt::Debug for MockEhrBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockEhrBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("auto_approve", &self.auto_approve)
            .field("admin", &self.admin)
            .field("export_polls", &self.export_polls)
            .field("guard_caching", &self.guard_caching)
            .finish_non_exhaustive()
    }
}

impl Default for MockEhrBuilder {
    fn default() -> Self {
        Self {
            config: Config::default(),
            host: "127.0.0.1".into(),
            port: 0,
            auto_approve: false,
            admin: true,
            time_source: None,
            data: Data::Builtin,
            export_polls: DEFAULT_EXPORT_POLLS,
            guard_caching: GuardCaching::default(),
        }
    }
}

impl MockEhrBuilder {
    /// Replaces the configuration (as `--config` would).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Adds a client.
    #[must_use]
    pub fn client(mut self, client: ClientConfig) -> Self {
        self.config.clients.push(client);
        self
    }

    /// Adds a user.
    #[must_use]
    pub fn user(mut self, user: UserConfig) -> Self {
        self.config.users.push(user);
        self
    }

    /// The address to bind (default `127.0.0.1`).
    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The port to bind (default 0: any free port).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Approve authorization requests at once, without pages.
    #[must_use]
    pub fn auto_approve(mut self, on: bool) -> Self {
        self.auto_approve = on;
        self
    }

    /// Serve the `/_admin` test controls (default on).
    #[must_use]
    pub fn admin(mut self, on: bool) -> Self {
        self.admin = on;
        self
    }

    /// Where time comes from (seconds since the epoch) before the admin offset.
    #[must_use]
    pub fn time_source(mut self, source: TimeSource) -> Self {
        self.time_source = Some(source);
        self
    }

    /// The FHIR resources to serve instead of the built-in data set (also what
    /// `/_admin/reset` restores).
    #[must_use]
    pub fn data(mut self, store: fhir::Store) -> Self {
        self.data = Data::Store(store);
        self
    }

    /// Loads the FHIR resources from a Bundle (JSON), an `.ndjson` file or a folder of
    /// them at startup ([`fhir::load::load_path`]), as `--data FILE` does.
    #[must_use]
    pub fn data_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.data = Data::Path(path.into());
        self
    }

    /// How many status polls of a bulk export answer 202 before the manifest (default
    /// [`DEFAULT_EXPORT_POLLS`]; 0: complete at once).
    #[must_use]
    pub fn export_polls(mut self, polls: u32) -> Self {
        self.export_polls = polls;
        self
    }

    /// What the FHIR API's guard caches between requests (default
    /// [`GuardCaching::Tokens`]; the others exist for benchmarks).
    #[must_use]
    pub fn guard_caching(mut self, caching: GuardCaching) -> Self {
        self.guard_caching = caching;
        self
    }

    /// The state of a server whose base URL is `base_url`, for driving
    /// [`crate::app`] without a socket.
    ///
    /// # Errors
    /// A configuration that does not validate (unknown algorithm, bad client, ...);
    /// FHIR data that does not load (the file, the resource and the reason).
    pub fn build_state(mut self, base_url: &str) -> Result<AppState, StartError> {
        let clock = match self.time_source {
            Some(source) => Clock::with_source(source),
            None => Clock::system(),
        };
        let data = match self.data {
            Data::Builtin => fhir::Store::builtin(),
            Data::Store(store) => store,
            Data::Path(path) => fhir::load::load_path(&path, clock.now())
                .map_err(|e| StartError(format!("--data {e}")))?,
        };
        // The data's patients can be picked and named in a login_hint.
        for patient in data.current("Patient") {
            if let Some(id) = patient.get("id").and_then(serde_json::Value::as_str)
                && !self.config.patients.iter().any(|p| p == id)
            {
                self.config.patients.push(id.to_string());
            }
        }
        let access_alg =
            keys::parse_alg(&self.config.signing.access_token_alg).map_err(StartError)?;
        let directory = Directory::build(&self.config, demo_backend_jwks()?).map_err(StartError)?;
        let access_key = keys::configured_access_key(&self.config).map_err(StartError)?;
        let ring = Arc::new(
            KeyRing::initial(access_alg, access_key.as_deref()).map_err(|e| {
                match &self.config.signing.access_token_key_file {
                    Some(path) => StartError(format!(
                        "signing.access_token_key_file {}: {e}",
                        path.display()
                    )),
                    None => StartError(e),
                }
            })?,
        );
        let dpop = crate::dpop::DpopState::new(&self.config.dpop).map_err(StartError)?;
        let fhir = FhirState::new(
            data,
            FhirSettings {
                export_polls: self.export_polls,
                caching: self.guard_caching,
            },
        );
        Ok(AppState {
            urls: Arc::new(Urls::new(base_url)),
            settings: Arc::new(Settings {
                config: self.config,
                auto_approve: self.auto_approve,
                admin_enabled: self.admin,
                access_alg,
            }),
            clock: Arc::new(clock),
            keys: Arc::new(RwLock::new(ring.clone())),
            store: Arc::new(Mutex::new(Store::new(directory.clone()))),
            initial: Arc::new(Initial {
                directory,
                keys: ring,
            }),
            dpop: Arc::new(dpop),
            fhir: Arc::new(fhir),
        })
    }

    /// Binds, then serves in a background task until [`MockEhr::shutdown`] (or until
    /// the handle is dropped).
    ///
    /// # Errors
    /// The address cannot be bound, or the configuration does not validate.
    pub async fn spawn(self) -> Result<MockEhr, StartError> {
        let listener = TcpListener::bind((self.host.as_str(), self.port))
            .await
            .map_err(|e| StartError(format!("bind {}:{}: {e}", self.host, self.port)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError(e.to_string()))?;
        let base = format!("http://{}", display_addr(&self.host, addr));
        let state = self.build_state(&base)?;
        let router = crate::app::app(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(MockEhr {
            state,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// The host as it appears in URLs: the configured name, the bound port.
fn display_addr(host: &str, addr: SocketAddr) -> String {
    if host.contains(':') {
        format!("[{host}]:{}", addr.port())
    } else {
        format!("{host}:{}", addr.port())
    }
}

/// The public JWK Set of the demo backend client's shipped key.
pub(crate) fn demo_backend_jwks() -> Result<serde_json::Value, StartError> {
    let err = |e: smartgate_core::Error| StartError(format!("demo backend key: {}", e.code()));
    let signer =
        RingSigner::from_pkcs8(Algorithm::Es384, builtin::DEMO_BACKEND_KEY).map_err(err)?;
    let jwk = Jwk::new(
        signer.public_key(),
        Some(builtin::DEMO_BACKEND_KID.into()),
        Some(Algorithm::Es384),
    )
    .map_err(err)?;
    Ok(JwkSet::new(vec![jwk]).map_err(err)?.to_json())
}

/// A running mock EHR. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct MockEhr {
    state: AppState,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockEhr {
    /// A builder with the defaults of [`MockEhrBuilder`].
    pub fn builder() -> MockEhrBuilder {
        MockEhrBuilder::default()
    }

    /// `http://HOST:PORT`: the issuer.
    pub fn base_url(&self) -> &str {
        &self.state.urls().base
    }

    /// `{base}/fhir`: the FHIR base, the `aud` of authorization requests.
    pub fn fhir_base(&self) -> &str {
        &self.state.urls().fhir
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's state (its clock, for one).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting connections, lets requests in flight finish, and waits.
    ///
    /// # Errors
    /// The server task failed.
    pub async fn shutdown(mut self) -> Result<(), StartError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(StartError(e.to_string())),
                Err(e) => Err(StartError(e.to_string())),
            },
            None => Ok(()),
        }
    }
}

impl Drop for MockEhr {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
