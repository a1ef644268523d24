//! The shared state handed to every handler: a `Clone` struct of `Arc`s.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use smartgate_core::base64url;
use smartgate_core::jws::Algorithm;

use crate::audit::AuditEvent;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::AppError;
use crate::keys::KeyRing;
use crate::store::Store;

/// The server's URLs, all derived from the base URL.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `http://HOST:PORT`: also the `iss` of every token the server signs.
    pub base: String,
    /// `{base}/fhir`: the `aud` clients must send and the `aud` of access tokens.
    pub fhir: String,
}

impl Urls {
    /// URLs under `base` (a trailing `/` is dropped).
    pub fn new(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_string();
        Self {
            fhir: format!("{base}/fhir"),
            base,
        }
    }

    /// The issuer: the base URL.
    pub fn issuer(&self) -> &str {
        &self.base
    }

    /// `{base}{path}`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `path` under the base's own path, without scheme and host: `/authorize/login`,
    /// or `/t/{name}/authorize/login` for a tenant. For links and form actions, which
    /// then keep the host the browser used.
    pub fn local(&self, path: &str) -> String {
        let after_scheme = self.base.find("://").map_or(0, |i| i + 3);
        let prefix = self
            .base
            .get(after_scheme..)
            .and_then(|rest| rest.find('/').and_then(|i| rest.get(i..)))
            .unwrap_or("");
        format!("{prefix}{path}")
    }
}

/// Settings fixed at startup.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) auto_approve: bool,
    pub(crate) admin_enabled: bool,
    pub(crate) access_alg: Algorithm,
}

/// What `/_admin/reset` returns to.
#[derive(Debug)]
pub(crate) struct Initial {
    pub(crate) directory: crate::directory::Directory,
    pub(crate) keys: Arc<KeyRing>,
}

/// The state of one server.
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) urls: Arc<Urls>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<Clock>,
    pub(crate) keys: Arc<RwLock<Arc<KeyRing>>>,
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) initial: Arc<Initial>,
    /// DPoP policy, nonces and the one replay cache of the server.
    pub(crate) dpop: Arc<crate::dpop::DpopState>,
    /// The FHIR API: resources, guard, bulk export jobs, counters.
    pub(crate) fhir: Arc<crate::fhir_api::FhirState>,
}

impl AppState {
    /// The server's URLs.
    pub fn urls(&self) -> &Urls {
        &self.urls
    }

    /// The server's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Seconds since the epoch, clock offset included.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The store, locked. A poisoned lock is taken over: every write leaves the store
    /// consistent before anything can panic.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current key ring.
    pub(crate) fn keys(&self) -> Arc<KeyRing> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the key ring.
    pub(crate) fn set_keys(&self, ring: Arc<KeyRing>) {
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = ring;
    }

    /// Appends to the audit trail (and logs it).
    pub(crate) fn audit(&self, event: AuditEvent) {
        let mut store = self.store();
        Self::audit_locked(&mut store, self.now(), event);
    }

    /// Appends to the audit trail while the store is already locked (numbered,
    /// timed and chained by [`crate::audit::Trail::push`]).
    pub(crate) fn audit_locked(store: &mut Store, now: i64, event: AuditEvent) {
        tracing::info!(
            event = event.event,
            outcome = %event.outcome,
            client_id = event.client_id.as_deref().unwrap_or("-"),
            token_id = event.token_id.as_deref().unwrap_or("-"),
            "audit"
        );
        store.audit.push(now, event);
    }

    /// Recomputes the audit trail's hash chain.
    pub fn verify_audit(&self) -> crate::audit::Verdict {
        self.store().audit.verify()
    }

    /// A copy of the audit trail, oldest first.
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        self.store().audit.events.iter().cloned().collect()
    }

    /// **For tests of the tamper evidence only**: hands the stored audit events to
    /// `tamper` to change, remove or reorder, as an attacker with access to the
    /// server's memory could. [`AppState::verify_audit`] must then find it.
    #[doc(hidden)]
    pub fn tamper_with_audit_trail(
        &self,
        tamper: impl FnOnce(&mut std::collections::VecDeque<AuditEvent>),
    ) {
        tamper(&mut self.store().audit.events);
    }
}

/// 32 random bytes, base64url (43 characters): codes, tokens, ids.
pub(crate) fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| AppError::internal("no randomness"))?;
    Ok(base64url::encode(&bytes))
}

/// 12 random bytes, base64url (16 characters): ids that are not secrets.
pub(crate) fn random_id() -> Result<String, AppError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|_| AppError::internal("no randomness"))?;
    Ok(base64url::encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_keep_the_base_path() {
        assert_eq!(
            Urls::new("http://127.0.0.1:8080").local("/authorize/login"),
            "/authorize/login"
        );
        assert_eq!(
            Urls::new("https://127.0.0.1:8080/t/dev/").local("/authorize/login"),
            "/t/dev/authorize/login"
        );
        assert_eq!(Urls::new("https://[::1]:1/t/a").local("/x"), "/t/a/x");
    }
}
