//! SMART scopes, v1 and v2, and the authorization of FHIR requests against them.
//!
//! Implements SMART App Launch 2.x, "Scopes and Launch Context"
//! (<https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html>):
//!
//! - "Scopes for requesting FHIR Resources" (clinical scopes):
//!   `patient|user|system` `/` `ResourceType|*` `.` permissions, where permissions are
//!   v2 `c r u d s` ("Valid suffixes are a subset of the in-order string `.cruds`") with an
//!   optional query ("Finer-grained resource constraints using search parameters"), or v1
//!   `read|write|*`, read with the specification's own mapping: v1 `.read` = v2 `.rs`,
//!   v1 `.write` = v2 `.cud`, v1 `.*` = v2 `.cruds`. A v1 scope keeps its spelling when it
//!   is rendered again ("SHOULD return v1 scopes when v1 scopes are requested and
//!   granted"); [`ScopeSet::to_v2`] rewrites it.
//! - "Scopes for requesting context data": `launch`, `launch/patient`,
//!   `launch/encounter` and any other `launch/...` (kept verbatim, `?role=` included).
//! - "Scopes for requesting identity data": `openid`, `fhirUser` (and OpenID's
//!   `profile`); "Scopes for requesting a refresh token": `offline_access`,
//!   `online_access`.
//! - Anything else is an opaque scope ([`Scope::Other`]; "Extensibility" lets servers
//!   define their own, such as `__profilePhoto.manage` or a full URI): kept and rendered,
//!   never a grant of FHIR access.
//!
//! # Which tokens are clinical
//! A token is parsed as a clinical scope when it starts with `patient/`, `user/` or
//! `system/`, or when it has the shape `letters/Type.x` or `letters/*.x` (an ASCII-letter
//! prefix, `/`, then `*` or an upper-case-initial name, then `.`), so that `bogus/Observation.rs`
//! or `Patient/Observation.rs` is reported (`ERR_SCOPE_CONTEXT_UNKNOWN`) instead of being
//! silently kept as an opaque scope. A malformed clinical scope is an error in
//! [`ScopeSet::parse`] (strict) and is dropped with a report in
//! [`ScopeSet::parse_lenient`], for servers, which ignore scopes they do not understand
//! (the specification: "Scope requests with undefined or out of order interactions MAY
//! be ignored, replaced with server default scopes, or rejected").
//!
//! # Limits
//! So that no input allocates without bound: a scope string is at most
//! [`MAX_SCOPES_LEN`] bytes and holds at most [`MAX_SCOPES`] scopes (else
//! `ERR_SCOPE_TOO_LONG` / `ERR_SCOPE_TOO_MANY`, in both modes); one scope, its query
//! included, is at most [`MAX_SCOPE_LEN`] bytes, and a query holds at most
//! [`MAX_QUERY_PARAMS`] parameters. Every byte of a scope must be an OAuth scope-token
//! character (RFC 6749 section 3.3: `%x21 / %x23-5B / %x5D-7E`), else
//! `ERR_SCOPE_MALFORMED`. Scopes are separated by spaces; runs of spaces and leading or
//! trailing spaces are tolerated, and a scope repeated, verbatim or spelled
//! differently (`?a=%41` and `?a=A`), is kept once.
//!
//! # Evaluation
//! [`ScopeSet::permits`] and [`ScopeSet::authorize`] take a [`Request`]; see [`eval`]
//! for the rules (context, union, patient compartment, query constraints, `$export`).
//! [`ScopeSet::narrow`] intersects a requested set with what a server allows.

use core::fmt;

use crate::error::Error;

pub mod compartment;
pub mod eval;
mod narrow;
mod permissions;
mod query;
pub mod resources;
mod set;
mod single;

pub use eval::{Constraint, Denied, Enforcement, Grant, Interaction, PatientCompartment, Request};
pub use narrow::Narrowed;
pub use permissions::Permissions;
pub use resources::ResourceType;
pub use set::{Dropped, Parsed, ScopeSet};
pub use single::{ClinicalScope, ResourceSelector, Scope, Syntax};

pub(crate) use set::Entry;
pub(crate) use single::{is_scope_char, query_subset};

/// Most bytes in a whole scope string (16 KiB). Larger strings are refused before any
/// parsing with `ERR_SCOPE_TOO_LONG`.
pub const MAX_SCOPES_LEN: usize = 16 * 1024;
/// Most scopes in one string (256), counted before parsing. More: `ERR_SCOPE_TOO_MANY`.
pub const MAX_SCOPES: usize = 256;
/// Most bytes in one scope, its query included (1 KiB). Longer: `ERR_SCOPE_TOO_LONG`.
pub const MAX_SCOPE_LEN: usize = 1024;
/// Most `name=value` parameters in one scope's query (16). More: `ERR_SCOPE_TOO_MANY`.
pub const MAX_QUERY_PARAMS: usize = 16;

/// Why a scope, a scope string or a request field was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeError {
    /// A clinical scope without its `/` or `.` parts, with an empty resource type, or a
    /// scope holding a byte that is not an OAuth scope-token character.
    Malformed,
    /// A clinical scope whose context is not `patient`, `user` or `system` (these are
    /// case-sensitive), or an unknown request context.
    ContextUnknown,
    /// A resource type that is not a concrete FHIR R4 resource type.
    ResourceUnknown,
    /// Permissions that are neither v1 `read`/`write`/`*` nor a non-empty, in-order
    /// subset of `cruds` (each letter at most once).
    PermissionsInvalid,
    /// A malformed query: empty, an item without `=` or with an empty name or value, bad
    /// percent-encoding, non-UTF-8 bytes, or a query on a v1 scope.
    QueryInvalid,
    /// An interaction name that is not one this crate evaluates.
    InteractionUnknown,
    /// More than [`MAX_SCOPES`] scopes, or more than [`MAX_QUERY_PARAMS`] query
    /// parameters in one scope.
    TooMany,
    /// A scope string longer than [`MAX_SCOPES_LEN`], or one scope longer than
    /// [`MAX_SCOPE_LEN`].
    TooLong,
}

impl ScopeError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "ERR_SCOPE_MALFORMED",
            Self::ContextUnknown => "ERR_SCOPE_CONTEXT_UNKNOWN",
            Self::ResourceUnknown => "ERR_SCOPE_RESOURCE_UNKNOWN",
            Self::PermissionsInvalid => "ERR_SCOPE_PERMISSIONS_INVALID",
            Self::QueryInvalid => "ERR_SCOPE_QUERY_INVALID",
            Self::InteractionUnknown => "ERR_SCOPE_INTERACTION_UNKNOWN",
            Self::TooMany => "ERR_SCOPE_TOO_MANY",
            Self::TooLong => "ERR_SCOPE_TOO_LONG",
        }
    }
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed scope (expected context/Type.permissions, with scope-token characters only)",
            Self::ContextUnknown => "unknown scope context (expected patient, user or system)",
            Self::ResourceUnknown => "unknown FHIR R4 resource type",
            Self::PermissionsInvalid => {
                "invalid scope permissions (expected read, write, * or an in-order subset of cruds)"
            }
            Self::QueryInvalid => "invalid scope query (expected name=value pairs joined by &, percent-encoded)",
            Self::InteractionUnknown => "unknown FHIR interaction",
            Self::TooMany => "too many scopes or scope query parameters",
            Self::TooLong => "scope string or scope too long",
        })
    }
}

impl core::error::Error for ScopeError {}

/// The `patient/`, `user/` or `system/` part of a clinical scope, and the context a
/// [`Request`] is made in.
///
/// SMART App Launch 2.x: "Patient-specific scopes", "User-level scopes", "System-level
/// scopes".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    /// `patient/`: data about the patient in context only.
    Patient,
    /// `user/`: data the authorizing user can access.
    User,
    /// `system/`: data a client system is authorized to access, no user in the loop.
    System,
}

impl Context {
    /// Every context, in the order `patient`, `user`, `system`.
    pub const ALL: [Context; 3] = [Context::Patient, Context::User, Context::System];

    /// Parses `patient`, `user` or `system` (case-sensitive).
    ///
    /// # Errors
    /// `ERR_SCOPE_CONTEXT_UNKNOWN` for anything else.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::lookup(s).ok_or_else(|| ScopeError::ContextUnknown.into())
    }

    fn lookup(s: &str) -> Option<Self> {
        match s {
            "patient" => Some(Self::Patient),
            "user" => Some(Self::User),
            "system" => Some(Self::System),
            _ => None,
        }
    }

    /// The context's name in a scope.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::User => "user",
            Self::System => "system",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
