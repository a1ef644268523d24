//! Everything the server remembers, in memory, behind one lock: codes, grants,
//! tokens, launches, consents, replay caches, the audit trail.
//!
//! The lock is a `std::sync::Mutex` held only for short, non-async sections.
//!
//! Memory stays bounded by time, not by the number of requests served: expired codes,
//! sessions, pushed requests, launches, access and refresh token records are dropped
//! every [`PRUNE_EVERY`] seconds; a redeemed code is kept only as a small marker (for
//! replay detection) while the tokens it produced can live; client assertion `jti`s go
//! through the core's bounded [`MemoryReplayCache`]; the audit trail keeps the newest
//! [`MAX_AUDIT_EVENTS`] events.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use smartgate_core::dpop::MemoryReplayCache;
use smartgate_core::scope::ScopeSet;

use crate::audit::Trail;
use crate::directory::Directory;
use crate::faults::FaultRule;

/// The launch context of an EHR launch, or the context chosen in a standalone launch.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct LaunchContext {
    pub(crate) patient: Option<String>,
    pub(crate) encounter: Option<String>,
    /// SMART `fhirContext`: an array of objects (`{"reference": "..."}`, ...).
    pub(crate) fhir_context: Vec<Value>,
    pub(crate) need_patient_banner: Option<bool>,
    pub(crate) smart_style_url: Option<String>,
    /// The EHR user of an EHR launch.
    pub(crate) user: Option<String>,
    /// The most an EHR launch may grant (`scope` of `POST /_admin/launch`): each
    /// granted scope must be covered in full by this set.
    #[serde(skip)]
    pub(crate) scope: Option<ScopeSet>,
}

/// What the user approved at the authorization endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Approval {
    pub(crate) client_id: String,
    pub(crate) user: Option<String>,
    /// Granted scopes.
    pub(crate) scope: ScopeSet,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
    /// RFC 9449 section 10: the token request must prove this DPoP key.
    pub(crate) dpop_jkt: Option<String>,
    pub(crate) context: LaunchContext,
    pub(crate) auth_time: i64,
}

/// How many audit events the trail keeps (the oldest go first; `seq` keeps counting).
pub(crate) const MAX_AUDIT_EVENTS: usize = 100_000;
/// How many client assertion `jti`s may be remembered at once (each until its `exp`,
/// at most 5 minutes); beyond it, assertions are refused until some expire.
pub(crate) const MAX_ASSERTION_JTIS: usize = 500_000;
/// Seconds between two sweeps of expired records.
pub(crate) const PRUNE_EVERY: i64 = 10;

/// An authorization code, until it is redeemed or expires.
#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub(crate) approval: Approval,
    pub(crate) expires: i64,
}

/// What is left of a redeemed code: enough to revoke what it produced if it is
/// presented again (RFC 6749 section 4.1.2).
#[derive(Debug, Clone)]
pub(crate) struct Redeemed {
    pub(crate) grant: String,
    pub(crate) client_id: String,
    /// Forgotten after this (the lifetime of the access tokens it produced).
    pub(crate) until: i64,
}

/// A grant: what a client holds after a code (or refresh) exchange.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) user: Option<String>,
    pub(crate) scope: ScopeSet,
    pub(crate) context: LaunchContext,
    pub(crate) created: i64,
    /// Why it ended, once it has.
    pub(crate) revoked: Option<&'static str>,
    /// Whether an id_token was issued (introspection then reports `iss`/`sub`).
    pub(crate) id_token_issued: bool,
    /// The DPoP key (JWK thumbprint) the refresh tokens of a public client are bound
    /// to (RFC 9449 section 5).
    pub(crate) jkt: Option<String>,
}

/// A refresh token (the key of the map is the token itself).
#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub(crate) id: String,
    pub(crate) grant: String,
    pub(crate) expires: i64,
    /// False once it has been used (rotated): a second use is reuse.
    pub(crate) current: bool,
}

/// An issued access token (keyed by `jti`).
#[derive(Debug, Clone)]
pub(crate) struct AccessRecord {
    pub(crate) grant: Option<String>,
    pub(crate) client_id: String,
    pub(crate) revoked: bool,
    /// The token's `exp`: the record is dropped after it.
    pub(crate) expires: i64,
}

/// A consent: a user allowed a client a set of scopes.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Consent {
    pub(crate) user: String,
    pub(crate) client_id: String,
    pub(crate) scope: String,
    pub(crate) granted_at: i64,
    pub(crate) withdrawn_at: Option<i64>,
}

/// A pushed authorization request (RFC 9126).
#[derive(Debug, Clone)]
pub(crate) struct ParRecord {
    pub(crate) client_id: String,
    pub(crate) params: std::collections::BTreeMap<String, String>,
    pub(crate) expires: i64,
}

/// An authorization request waiting for a person (login, patient picker, consent).
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) request: crate::authorize::ValidRequest,
    pub(crate) user: Option<String>,
    pub(crate) patient: Option<String>,
    pub(crate) expires: i64,
}

/// All mutable state.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) directory: Directory,
    pub(crate) codes: HashMap<String, CodeRecord>,
    pub(crate) redeemed: HashMap<String, Redeemed>,
    pub(crate) grants: HashMap<String, Grant>,
    pub(crate) refresh: HashMap<String, RefreshRecord>,
    pub(crate) access: HashMap<String, AccessRecord>,
    /// Client assertions seen, keyed by client id and `jti`, each until its `exp`.
    pub(crate) assertion_jtis: MemoryReplayCache,
    /// Launch id -> (context, expiry).
    pub(crate) launches: HashMap<String, (LaunchContext, i64)>,
    pub(crate) consents: HashMap<(String, String), Consent>,
    pub(crate) par: HashMap<String, ParRecord>,
    pub(crate) pending: HashMap<String, Pending>,
    /// The newest [`MAX_AUDIT_EVENTS`] events, hash-chained.
    pub(crate) audit: Trail,
    /// When expired records were last dropped.
    pub(crate) last_prune: i64,
    pub(crate) faults: Vec<FaultRule>,
    /// `(endpoint, client_id)` -> (window start, count).
    pub(crate) rate: HashMap<(&'static str, String), (i64, u32)>,
    /// Consecutive failed authentications per claimed client id.
    pub(crate) auth_failures: HashMap<String, u32>,
}

/// The entries of `map` for which `expired` holds, taken out.
fn take<V>(map: &mut HashMap<String, V>, expired: impl Fn(&V) -> bool) -> Vec<(String, V)> {
    map.extract_if(|_, v| expired(v)).collect()
}

impl Store {
    pub(crate) fn new(directory: Directory) -> Self {
        Self {
            directory,
            codes: HashMap::new(),
            redeemed: HashMap::new(),
            grants: HashMap::new(),
            refresh: HashMap::new(),
            access: HashMap::new(),
            assertion_jtis: MemoryReplayCache::with_capacity(MAX_ASSERTION_JTIS),
            launches: HashMap::new(),
            consents: HashMap::new(),
            par: HashMap::new(),
            pending: HashMap::new(),
            audit: Trail::new(MAX_AUDIT_EVENTS),
            last_prune: i64::MIN,
            faults: Vec::new(),
            rate: HashMap::new(),
            auth_failures: HashMap::new(),
        }
    }

    /// Drops expired records, at most every [`PRUNE_EVERY`] seconds (so the cost is
    /// spread thin: one pass over the maps per period).
    pub(crate) fn prune_if_due(&mut self, now: i64) {
        if now < self.last_prune.saturating_add(PRUNE_EVERY) && now >= self.last_prune {
            return;
        }
        self.last_prune = now;
        // Expired records leave the maps here, under the lock; freeing them (after a
        // burst of traffic, hundreds of thousands of records and millions of
        // allocations) happens on another thread, so requests do not wait for it.
        let garbage = (
            take(&mut self.codes, |c| c.expires <= now),
            take(&mut self.redeemed, |r| r.until <= now),
            take(&mut self.access, |a| a.expires <= now),
            take(&mut self.refresh, |r| r.expires <= now),
            take(&mut self.pending, |p| p.expires <= now),
            take(&mut self.par, |p| p.expires <= now),
            take(&mut self.launches, |(_, expires)| *expires <= now),
        );
        if garbage.0.len() + garbage.1.len() + garbage.2.len() + garbage.3.len() > 10_000 {
            // If no thread can be made, the closure (and the records) drop right here.
            let _ = std::thread::Builder::new()
                .name("mock-ehr-free".into())
                .spawn(move || drop(garbage));
        }
    }

    /// Ends a grant: its refresh tokens and access tokens stop working.
    pub(crate) fn revoke_grant(&mut self, grant_id: &str, why: &'static str) {
        if let Some(g) = self.grants.get_mut(grant_id)
            && g.revoked.is_none()
        {
            g.revoked = Some(why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let config = crate::config::Config::default();
        Store::new(Directory::build(&config, serde_json::json!({"keys": []})).unwrap())
    }

    fn access(expires: i64) -> AccessRecord {
        AccessRecord {
            grant: None,
            client_id: "c".into(),
            revoked: false,
            expires,
        }
    }

    #[test]
    fn expired_records_are_dropped_at_most_every_period() {
        let mut s = store();
        s.access.insert("old".into(), access(52));
        s.access.insert("new".into(), access(1_000));
        s.redeemed.insert(
            "code".into(),
            Redeemed {
                grant: "g".into(),
                client_id: "c".into(),
                until: 52,
            },
        );
        s.prune_if_due(50);
        assert_eq!(s.access.len(), 2);
        // Within the period nothing happens, even to what has expired since.
        s.prune_if_due(55);
        assert_eq!(s.access.len(), 2);
        s.prune_if_due(60);
        assert!(s.access.contains_key("new") && !s.access.contains_key("old"));
        assert!(s.redeemed.is_empty());
        // A clock moved back (admin offset) does not stop pruning.
        s.prune_if_due(10);
        assert_eq!(s.last_prune, 10);
    }
}
