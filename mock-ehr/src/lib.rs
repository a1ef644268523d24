//! The smartgate mock EHR: a strict SMART App Launch 2.x authorization server and a
//! FHIR R4 server at `{base}/fhir` whose every request is checked by the core's guard
//! (token, DPoP proof, SMART scopes), over the data layer [`fhir`] (deterministic
//! synthetic data, a versioned in-memory store, search, fixture loading), with Bulk
//! Data export; run in-process by integration tests or as a binary, over HTTP or HTTPS
//! ([`tls`]), as one EHR or several in one process ([`tenants`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), mock_ehr::StartError> {
//! let ehr = mock_ehr::MockEhr::builder().auto_approve(true).spawn().await?;
//! println!("issuer {}, FHIR base {}", ehr.base_url(), ehr.fhir_base());
//! ehr.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! Every signature and check is done by `smartgate-core`: PKCE by
//! `pkce::verify`, client assertions by `jwt::verify` with the `ring` provider,
//! tokens signed by `sign::sign_jwt` with `RingSigner`. The endpoints, the
//! configuration file, the `/_admin` test controls and the `/_console/` web console are
//! described in the README.

// A std server: the workspace's core/alloc-over-std lints exist for the no_std core.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

extern crate alloc;

mod admin;
mod app;
mod audit;
mod authorize;
pub mod builtin;
mod client_auth;
mod clock;
pub mod config;
mod console;
mod cors;
mod directory;
mod discovery;
mod dpop;
mod error;
mod faults;
pub mod fhir;
mod fhir_api;
mod form;
mod http_client;
mod interactive;
mod introspect;
mod issue;
mod keys;
mod launch;
pub mod mint;
mod pages;
mod par;
mod ratelimit;
mod register;
mod revoke;
mod scopes;
mod server;
mod state;
mod store;
pub mod tenants;
pub mod tls;
mod token;

pub use app::{app, paths};
pub use audit::{AuditEvent, GENESIS, Verdict};
pub use clock::{Clock, TimeSource};
pub use config::{ClientAuthMethod, ClientConfig, Config, DpopConfig, UserConfig};
pub use error::{AppError, OAuthError};
pub use faults::{Fault, FaultRule};
pub use fhir_api::{DEFAULT_EXPORT_POLLS, GuardCaching};
pub use form::MAX_BODY;
pub use launch::LaunchRequest;
pub use server::{MockEhr, MockEhrBuilder, StartError};
pub use state::{AppState, Urls};
pub use tenants::{Tenant, TenantConfig};
pub use tls::TlsConfig;
