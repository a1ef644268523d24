//! The audit trail: every authorization, token issuance, refresh, revocation,
//! introspection and failed attempt, readable from `GET /_admin/audit`.
//!
//! Events name tokens by id (`jti`, grant id, refresh token id), never by value.

use serde::Serialize;

/// One audit event.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AuditEvent {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// Seconds since the epoch (server clock, offset included).
    pub time: i64,
    /// What happened: `authorize`, `token`, `refresh`, `revoke`, `introspect`,
    /// `client_auth`, `consent_withdrawn`, `launch`, ...
    pub event: &'static str,
    /// The client, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The patient in context, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// `success`, or the OAuth error code of the refusal.
    pub outcome: String,
    /// The id of the token or grant concerned (`jti`, grant id): never a token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// More detail for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditEvent {
    /// A new event of `kind` with `outcome`.
    pub(crate) fn new(event: &'static str, outcome: impl Into<String>) -> Self {
        Self {
            event,
            outcome: outcome.into(),
            ..Self::default()
        }
    }

    pub(crate) fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    pub(crate) fn user(mut self, user: Option<&str>) -> Self {
        self.user = user.map(String::from);
        self
    }

    pub(crate) fn patient(mut self, patient: Option<&str>) -> Self {
        self.patient = patient.map(String::from);
        self
    }

    pub(crate) fn token(mut self, id: impl Into<String>) -> Self {
        self.token_id = Some(id.into());
        self
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}
