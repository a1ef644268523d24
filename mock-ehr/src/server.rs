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
use crate::tenants::{self, Tenant, TenantConfig};
use crate::tls::{TlsConfig, TlsListener};

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
    tls: Option<TlsConfig>,
    /// `--tenants N`: `t1` .. `tN` (the configuration's `[[tenant]]` tables otherwise).
    tenant_count: Option<usize>,
    /// Generate every key (a tenant shares none with another).
    fresh_keys: bool,
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
            .field("tls", &self.tls)
            .field("tenant_count", &self.tenant_count)
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
            tls: None,
            tenant_count: None,
            fresh_keys: false,
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

    /// Serve HTTPS with this certificate and key (the base URL becomes `https://`).
    #[must_use]
    pub fn tls(mut self, config: TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Serve `n` independent EHRs `t1` .. `tn` under `/t/{name}` ([`crate::tenants`]),
    /// each with the builder's configuration, as `--tenants N` does.
    #[must_use]
    pub fn tenants(mut self, n: usize) -> Self {
        self.tenant_count = Some(n);
        self
    }

    /// Adds a tenant (as a `[[tenant]]` table of the configuration does).
    #[must_use]
    pub fn tenant(mut self, tenant: TenantConfig) -> Self {
        self.config.tenant.push(tenant);
        self
    }

    /// The tenants to serve: none for a single EHR.
    fn tenant_list(&self) -> Result<Vec<TenantConfig>, StartError> {
        let list = match self.tenant_count {
            None if self.config.tenant.is_empty() => return Ok(Vec::new()),
            None => self.config.tenant.clone(),
            Some(_) if !self.config.tenant.is_empty() => {
                return Err(StartError(
                    "--tenants N and [[tenant]] tables of the configuration exclude each other"
                        .into(),
                ));
            }
            Some(n) => TenantConfig::numbered(n),
        };
        tenants::validate(&list).map_err(StartError)?;
        Ok(list)
    }

    /// The tenants of a multi-tenant server whose base URL is `base_url` (each served
    /// under `{base_url}/t/{name}`, see [`crate::tenants::app`]); empty when no tenant
    /// is configured. Every tenant gets freshly generated signing keys.
    ///
    /// # Errors
    /// As [`MockEhrBuilder::build_state`], naming the tenant; invalid or repeated
    /// tenant names; `tenants(n)` together with `[[tenant]]` tables.
    pub fn build_tenants(self, base_url: &str) -> Result<Vec<Tenant>, StartError> {
        let base_url = base_url.trim_end_matches('/');
        let list = self.tenant_list()?;
        let mut out = Vec::with_capacity(list.len());
        for t in list {
            let mut builder = self.clone();
            builder.config = t.apply(&self.config);
            builder.tenant_count = None;
            builder.fresh_keys = true;
            let base = format!("{base_url}{}", tenants::prefix(&t.name));
            let state = builder
                .build_state(&base)
                .map_err(|e| StartError(format!("tenant {:?}: {e}", t.name)))?;
            out.push(Tenant::new(t.name, state));
        }
        Ok(out)
    }

    /// The state of a server whose base URL is `base_url`, for driving
    /// [`crate::app`] without a socket. One EHR: tenants are
    /// [`MockEhrBuilder::build_tenants`]'s.
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
        let ring = if self.fresh_keys {
            KeyRing::generated(access_alg, access_key.as_deref())
        } else {
            KeyRing::initial(access_alg, access_key.as_deref())
        };
        let ring = Arc::new(ring.map_err(
            |e| match &self.config.signing.access_token_key_file {
                Some(path) => StartError(format!(
                    "signing.access_token_key_file {}: {e}",
                    path.display()
                )),
                None => StartError(e),
            },
        )?);
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
    /// the handle is dropped): HTTPS when [`MockEhrBuilder::tls`] was given, several
    /// EHRs under `/t/{name}` when tenants are configured.
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
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let base = format!("{scheme}://{}", display_addr(&self.host, addr));
        let tls = self.tls.clone();
        let (state, tenants, router) = if self.tenant_list()?.is_empty() {
            let state = self.build_state(&base)?;
            (state.clone(), Vec::new(), crate::app::app(state))
        } else {
            // RSA key generation for each tenant: off the async threads.
            let at = base.clone();
            let tenants = tokio::task::spawn_blocking(move || self.build_tenants(&at))
                .await
                .map_err(|e| StartError(e.to_string()))??;
            let Some(first) = tenants.first() else {
                return Err(StartError("no tenant".into()));
            };
            (
                first.state().clone(),
                tenants.clone(),
                tenants::app(&tenants),
            )
        };
        let (tx, rx) = oneshot::channel::<()>();
        let stop = async {
            let _ = rx.await;
        };
        let task = match &tls {
            None => tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await
            }),
            Some(config) => {
                let listener = TlsListener::new(listener, config);
                tokio::spawn(async move {
                    axum::serve(listener, router)
                        .with_graceful_shutdown(stop)
                        .await
                })
            }
        };
        Ok(MockEhr {
            base,
            state,
            tenants,
            tls,
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
    base: String,
    state: AppState,
    tenants: Vec<Tenant>,
    tls: Option<TlsConfig>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockEhr {
    /// A builder with the defaults of [`MockEhrBuilder`].
    pub fn builder() -> MockEhrBuilder {
        MockEhrBuilder::default()
    }

    /// `http://HOST:PORT` (`https://` with TLS): the issuer, or with tenants the root
    /// that lists them (each tenant's issuer is [`Tenant::base_url`]).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `{base}/fhir`: the FHIR base, the `aud` of authorization requests (with
    /// tenants: the first tenant's).
    pub fn fhir_base(&self) -> &str {
        &self.state.urls().fhir
    }

    /// The tenants, in order (empty for a single EHR).
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    /// The tenant named `name`.
    pub fn tenant(&self, name: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.name() == name)
    }

    /// The TLS configuration of an HTTPS server: its certificate
    /// ([`TlsConfig::cert_pem`]) is what a client must trust.
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's state (its clock, for one; with tenants: the first tenant's).
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
