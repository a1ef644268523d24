//! Everything the server remembers, in memory, behind one lock: codes, grants,
//! tokens, launches, consents, replay caches, the audit trail.
//!
//! The lock is a `std::sync::Mutex` held only for short, non-async sections.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::audit::AuditEvent;
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
}

/// What the user approved at the authorization endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Approval {
    pub(crate) client_id: String,
    pub(crate) user: Option<String>,
    /// Granted scopes, space-separated.
    pub(crate) scope: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
    pub(crate) context: LaunchContext,
    pub(crate) auth_time: i64,
}

/// An authorization code.
#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub(crate) approval: Approval,
    pub(crate) expires: i64,
    /// The grant its redemption created: a replay revokes it.
    pub(crate) redeemed: Option<String>,
}

/// A grant: what a client holds after a code (or refresh) exchange.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) user: Option<String>,
    pub(crate) scope: String,
    pub(crate) context: LaunchContext,
    pub(crate) created: i64,
    /// Why it ended, once it has.
    pub(crate) revoked: Option<&'static str>,
    /// Whether an id_token was issued (introspection then reports `iss`/`sub`).
    pub(crate) id_token_issued: bool,
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
    pub(crate) grants: HashMap<String, Grant>,
    pub(crate) refresh: HashMap<String, RefreshRecord>,
    pub(crate) access: HashMap<String, AccessRecord>,
    /// `(client_id, jti)` of client assertions, with their `exp`.
    pub(crate) assertion_jtis: HashMap<(String, String), i64>,
    /// Launch id -> (context, expiry).
    pub(crate) launches: HashMap<String, (LaunchContext, i64)>,
    pub(crate) consents: HashMap<(String, String), Consent>,
    pub(crate) par: HashMap<String, ParRecord>,
    pub(crate) pending: HashMap<String, Pending>,
    pub(crate) audit: Vec<AuditEvent>,
    pub(crate) faults: Vec<FaultRule>,
    /// `(endpoint, client_id)` -> (window start, count).
    pub(crate) rate: HashMap<(&'static str, String), (i64, u32)>,
    /// Consecutive failed authentications per claimed client id.
    pub(crate) auth_failures: HashMap<String, u32>,
}

impl Store {
    pub(crate) fn new(directory: Directory) -> Self {
        Self {
            directory,
            codes: HashMap::new(),
            grants: HashMap::new(),
            refresh: HashMap::new(),
            access: HashMap::new(),
            assertion_jtis: HashMap::new(),
            launches: HashMap::new(),
            consents: HashMap::new(),
            par: HashMap::new(),
            pending: HashMap::new(),
            audit: Vec::new(),
            faults: Vec::new(),
            rate: HashMap::new(),
            auth_failures: HashMap::new(),
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
