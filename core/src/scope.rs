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

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::error::Error;

pub mod compartment;
pub mod eval;
mod narrow;
mod query;
pub mod resources;

pub use eval::{Constraint, Denied, Enforcement, Grant, Interaction, PatientCompartment, Request};
pub use narrow::Narrowed;
pub use resources::ResourceType;

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

/// A set of v2 permissions, `c r u d s`, as a bitset.
///
/// SMART App Launch 2.x, "Scopes for requesting FHIR Resources": `c` create; `r` read,
/// vread and instance history; `u` update and patch; `d` delete; `s` search and
/// type-level history. v1 `read` is `rs`, v1 `write` is `cud`, v1 `*` is `cruds`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u8);

impl Permissions {
    /// No permission.
    pub const NONE: Self = Self(0);
    /// `c`: create.
    pub const CREATE: Self = Self(1);
    /// `r`: read, vread, instance-level history.
    pub const READ: Self = Self(2);
    /// `u`: update (including update-as-create), patch.
    pub const UPDATE: Self = Self(4);
    /// `d`: delete.
    pub const DELETE: Self = Self(8);
    /// `s`: search, type-level history.
    pub const SEARCH: Self = Self(16);
    /// `cruds`, which v1 `*` means.
    pub const ALL: Self = Self(31);
    /// `rs`, which v1 `read` means.
    pub const V1_READ: Self = Self(2 | 16);
    /// `cud`, which v1 `write` means.
    pub const V1_WRITE: Self = Self(1 | 4 | 8);

    const LETTERS: [(u8, Self); 5] = [
        (b'c', Self::CREATE),
        (b'r', Self::READ),
        (b'u', Self::UPDATE),
        (b'd', Self::DELETE),
        (b's', Self::SEARCH),
    ];

    /// Parses a v2 permission string: a non-empty subset of `cruds` in that order, each
    /// letter at most once (`rs` yes; `sr`, `rr` and the empty string no).
    ///
    /// # Errors
    /// `ERR_SCOPE_PERMISSIONS_INVALID`.
    pub fn parse_v2(s: &str) -> Result<Self, Error> {
        Self::lookup_v2(s).ok_or_else(|| ScopeError::PermissionsInvalid.into())
    }

    fn lookup_v2(s: &str) -> Option<Self> {
        let mut bits = 0u8;
        let mut next = 0; // index into LETTERS of the first letter still allowed
        for b in s.bytes() {
            let pos = Self::LETTERS.iter().position(|(l, _)| *l == b)?;
            if pos < next {
                return None;
            }
            bits |= Self::LETTERS.get(pos)?.1.0;
            next = pos + 1;
        }
        if bits == 0 { None } else { Some(Self(bits)) }
    }

    /// The raw bits: `c` = 1, `r` = 2, `u` = 4, `d` = 8, `s` = 16.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Both sets together.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// What both sets hold.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// What `self` holds and `other` does not.
    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether every permission of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no permission is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The single-letter permissions this set holds, in `cruds` order.
    pub fn iter(self) -> impl Iterator<Item = Permissions> {
        Self::LETTERS
            .into_iter()
            .map(|(_, p)| p)
            .filter(move |p| self.contains(*p))
    }

    fn v1_name(self) -> Option<&'static str> {
        match self {
            Self::V1_READ => Some("read"),
            Self::V1_WRITE => Some("write"),
            Self::ALL => Some("*"),
            _ => None,
        }
    }
}

impl fmt::Display for Permissions {
    /// The v2 letters in `cruds` order (empty for [`Permissions::NONE`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (letter, p) in Self::LETTERS {
            if self.contains(p) {
                write!(f, "{}", char::from(letter))?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Permissions({self})")
    }
}

/// The resource part of a clinical scope: one type, or `*` for all.
///
/// SMART App Launch 2.x, "Wildcard scopes": `*` means all resource types, "both now and
/// in the future".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceSelector {
    /// `*`.
    Wildcard,
    /// One resource type.
    Type(ResourceType),
}

impl ResourceSelector {
    /// Whether this selector includes `t`.
    pub fn matches(&self, t: ResourceType) -> bool {
        match self {
            Self::Wildcard => true,
            Self::Type(own) => *own == t,
        }
    }

    /// Whether every type `other` selects, this one selects too.
    pub fn covers(&self, other: &ResourceSelector) -> bool {
        match (self, other) {
            (Self::Wildcard, _) => true,
            (Self::Type(a), Self::Type(b)) => a == b,
            (Self::Type(_), Self::Wildcard) => false,
        }
    }
}

impl fmt::Display for ResourceSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wildcard => f.write_str("*"),
            Self::Type(t) => f.write_str(t.name()),
        }
    }
}

/// How a clinical scope spelled its permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// SMART 1.0: `read`, `write` or `*`; no query.
    V1,
    /// SMART 2.0: letters from `cruds`, optional query.
    V2,
}

/// A scope for FHIR resources: `context/Type.permissions?query`.
///
/// The fields are private so that every value renders to a scope that parses back to
/// itself: a v1 scope only holds `rs`, `cud` or `cruds` and no query, permissions are
/// never empty, and query names and values are never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClinicalScope {
    context: Context,
    resource: ResourceSelector,
    permissions: Permissions,
    query: Vec<(String, String)>,
    syntax: Syntax,
}

impl ClinicalScope {
    /// A v2 scope without a query.
    ///
    /// # Errors
    /// `ERR_SCOPE_PERMISSIONS_INVALID` for empty permissions.
    pub fn new(
        context: Context,
        resource: ResourceSelector,
        permissions: Permissions,
    ) -> Result<Self, Error> {
        if permissions.is_empty() {
            return Err(ScopeError::PermissionsInvalid.into());
        }
        Ok(Self {
            context,
            resource,
            permissions,
            query: Vec::new(),
            syntax: Syntax::V2,
        })
    }

    /// A v1 scope: `permissions` must be [`Permissions::V1_READ`] (`read`),
    /// [`Permissions::V1_WRITE`] (`write`) or [`Permissions::ALL`] (`*`).
    ///
    /// # Errors
    /// `ERR_SCOPE_PERMISSIONS_INVALID` for any other permissions.
    pub fn v1(
        context: Context,
        resource: ResourceSelector,
        permissions: Permissions,
    ) -> Result<Self, Error> {
        if permissions.v1_name().is_none() {
            return Err(ScopeError::PermissionsInvalid.into());
        }
        Ok(Self {
            context,
            resource,
            permissions,
            query: Vec::new(),
            syntax: Syntax::V1,
        })
    }

    /// This v2 scope restricted by a query of decoded `(name, value)` pairs (replacing any
    /// query it had; an empty list removes it).
    ///
    /// # Errors
    /// `ERR_SCOPE_QUERY_INVALID` on a v1 scope or for an empty name or value,
    /// `ERR_SCOPE_TOO_MANY` for more than [`MAX_QUERY_PARAMS`] pairs.
    pub fn with_query(mut self, query: Vec<(String, String)>) -> Result<Self, Error> {
        if self.syntax == Syntax::V1 && !query.is_empty() {
            return Err(ScopeError::QueryInvalid.into());
        }
        if query.len() > MAX_QUERY_PARAMS {
            return Err(ScopeError::TooMany.into());
        }
        if query.iter().any(|(n, v)| n.is_empty() || v.is_empty()) {
            return Err(ScopeError::QueryInvalid.into());
        }
        self.query = query;
        Ok(self)
    }

    /// `patient`, `user` or `system`.
    pub fn context(&self) -> Context {
        self.context
    }

    /// The resource type, or the wildcard.
    pub fn resource(&self) -> ResourceSelector {
        self.resource
    }

    /// The permissions, v1 ones mapped to v2.
    pub fn permissions(&self) -> Permissions {
        self.permissions
    }

    /// The decoded query parameters, in order; empty when the scope has none.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// How the permissions were spelled.
    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// The same scope in v2 syntax.
    #[must_use]
    pub fn to_v2(&self) -> Self {
        Self {
            syntax: Syntax::V2,
            ..self.clone()
        }
    }

    /// Whether every request this scope grants, `other` grants too, up to `other`'s
    /// query being no stricter: same context, a covering resource, a superset of the
    /// permissions and a subset of the query parameters.
    pub(crate) fn is_covered_by(&self, other: &ClinicalScope) -> bool {
        self.context == other.context
            && other.resource.covers(&self.resource)
            && other.permissions.contains(self.permissions)
            && query_subset(&other.query, &self.query)
    }
}

/// Whether every pair of `small` is in `big`.
pub(crate) fn query_subset(small: &[(String, String)], big: &[(String, String)]) -> bool {
    small.iter().all(|p| big.contains(p))
}

impl fmt::Display for ClinicalScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}.", self.context, self.resource)?;
        match (self.syntax, self.permissions.v1_name()) {
            (Syntax::V1, Some(name)) => f.write_str(name)?,
            _ => write!(f, "{}", self.permissions)?,
        }
        query::write(f, &self.query)
    }
}

/// One parsed scope.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A scope for FHIR resources (`patient/Observation.rs`, `user/*.read`, ...).
    Clinical(ClinicalScope),
    /// `launch`: obtain the launch context of an EHR launch.
    Launch,
    /// `launch/patient`: ask for a patient to be selected.
    LaunchPatient,
    /// `launch/encounter`: ask for an encounter to be selected.
    LaunchEncounter,
    /// Any other `launch/...` scope; holds the text after `launch/` verbatim
    /// (`diagnosticreport`, `list?role=https://example.org/med-list-at-home`).
    LaunchOther(String),
    /// `openid`.
    OpenId,
    /// `fhirUser`.
    FhirUser,
    /// `profile` (OpenID Connect).
    Profile,
    /// `offline_access`.
    OfflineAccess,
    /// `online_access`.
    OnlineAccess,
    /// Any other scope, verbatim. Never grants FHIR access.
    Other(String),
}

impl Scope {
    /// Parses one scope (no spaces).
    ///
    /// # Errors
    /// `ERR_SCOPE_TOO_LONG` beyond [`MAX_SCOPE_LEN`] bytes; `ERR_SCOPE_MALFORMED`,
    /// `ERR_SCOPE_CONTEXT_UNKNOWN`, `ERR_SCOPE_RESOURCE_UNKNOWN`,
    /// `ERR_SCOPE_PERMISSIONS_INVALID`, `ERR_SCOPE_QUERY_INVALID`, `ERR_SCOPE_TOO_MANY`
    /// as described on [`ScopeError`].
    pub fn parse(token: &str) -> Result<Self, Error> {
        parse_token(token).map_err(Error::from)
    }

    /// The clinical scope, if this is one.
    pub fn as_clinical(&self) -> Option<&ClinicalScope> {
        match self {
            Self::Clinical(c) => Some(c),
            _ => None,
        }
    }

    /// The scope rendered in v2 syntax (only clinical v1 scopes change).
    pub fn to_v2_string(&self) -> String {
        match self {
            Self::Clinical(c) => c.to_v2().to_string(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Clinical(c) => c.fmt(f),
            Self::Launch => f.write_str("launch"),
            Self::LaunchPatient => f.write_str("launch/patient"),
            Self::LaunchEncounter => f.write_str("launch/encounter"),
            Self::LaunchOther(rest) => write!(f, "launch/{rest}"),
            Self::OpenId => f.write_str("openid"),
            Self::FhirUser => f.write_str("fhirUser"),
            Self::Profile => f.write_str("profile"),
            Self::OfflineAccess => f.write_str("offline_access"),
            Self::OnlineAccess => f.write_str("online_access"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// RFC 6749 section 3.3: `NQCHAR = %x21 / %x23-5B / %x5D-7E`.
pub(crate) fn is_scope_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

fn parse_token(token: &str) -> Result<Scope, ScopeError> {
    if token.len() > MAX_SCOPE_LEN {
        return Err(ScopeError::TooLong);
    }
    if token.is_empty() || !token.bytes().all(is_scope_char) {
        return Err(ScopeError::Malformed);
    }
    let scope = match token {
        "launch" => Scope::Launch,
        "launch/patient" => Scope::LaunchPatient,
        "launch/encounter" => Scope::LaunchEncounter,
        "openid" => Scope::OpenId,
        "fhirUser" => Scope::FhirUser,
        "profile" => Scope::Profile,
        "offline_access" => Scope::OfflineAccess,
        "online_access" => Scope::OnlineAccess,
        _ => match token.split_once('/') {
            Some(("launch", rest)) if !rest.is_empty() => Scope::LaunchOther(rest.into()),
            Some((context, rest)) => match Context::lookup(context) {
                Some(context) => Scope::Clinical(parse_clinical(context, rest)?),
                None if looks_clinical(context, rest) => return Err(ScopeError::ContextUnknown),
                None => Scope::Other(token.into()),
            },
            None => Scope::Other(token.into()),
        },
    };
    Ok(scope)
}

/// `letters` `/` (`*` | upper-case letter then letters) `.` ...: a clinical scope with a
/// context this crate does not know, rather than a server's own scope.
fn looks_clinical(context: &str, rest: &str) -> bool {
    let Some((resource, _)) = rest.split_once('.') else {
        return false;
    };
    let context_ok = !context.is_empty() && context.bytes().all(|b| b.is_ascii_alphabetic());
    let resource_ok = resource == "*"
        || (resource
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_uppercase())
            && resource.bytes().all(|b| b.is_ascii_alphabetic()));
    context_ok && resource_ok
}

fn parse_clinical(context: Context, rest: &str) -> Result<ClinicalScope, ScopeError> {
    let (head, query) = match rest.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (rest, None),
    };
    let (resource, permissions) = head.split_once('.').ok_or(ScopeError::Malformed)?;
    let resource = match resource {
        "" => return Err(ScopeError::Malformed),
        "*" => ResourceSelector::Wildcard,
        name => {
            ResourceSelector::Type(ResourceType::lookup(name).ok_or(ScopeError::ResourceUnknown)?)
        }
    };
    let (permissions, syntax) = match permissions {
        "read" => (Permissions::V1_READ, Syntax::V1),
        "write" => (Permissions::V1_WRITE, Syntax::V1),
        "*" => (Permissions::ALL, Syntax::V1),
        letters => (
            Permissions::lookup_v2(letters).ok_or(ScopeError::PermissionsInvalid)?,
            Syntax::V2,
        ),
    };
    let query = match (query, syntax) {
        (None, _) => Vec::new(),
        (Some(_), Syntax::V1) => return Err(ScopeError::QueryInvalid),
        (Some(q), Syntax::V2) => query::parse(q)?,
    };
    Ok(ClinicalScope {
        context,
        resource,
        permissions,
        query,
        syntax,
    })
}

/// A scope dropped by [`ScopeSet::parse_lenient`], with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The scope as it appeared in the string.
    pub scope: String,
    /// Why it was dropped.
    pub error: ScopeError,
}

/// The result of [`ScopeSet::parse_lenient`]: the scopes understood, and the ones dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The scopes that parsed.
    pub scopes: ScopeSet,
    /// The scopes that did not, in order, each with its error (for a warning or an
    /// audit log).
    pub dropped: Vec<Dropped>,
}

/// A clinical scope reduced to what [`ScopeSet::permits`] looks at, so that a decision is
/// a scan of a few bytes per scope and never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) context: Context,
    /// `None` for the wildcard.
    pub(crate) resource: Option<ResourceType>,
    pub(crate) permissions: Permissions,
    /// Position of the scope in [`ScopeSet::scopes`].
    pub(crate) scope: u16,
}

/// An ordered set of scopes, as granted in an access token or asked for in an
/// authorization request.
///
/// Equality compares the scopes in order. The scope string it renders (its `Display`)
/// parses back to an equal set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet {
    scopes: Vec<Scope>,
    index: Vec<Entry>,
}

impl ScopeSet {
    /// Parses a space-separated scope string, refusing it whole if any scope is
    /// malformed. Use this for configuration and tests; servers reading a client's request
    /// or a token use [`ScopeSet::parse_lenient`].
    ///
    /// # Errors
    /// `ERR_SCOPE_TOO_LONG` / `ERR_SCOPE_TOO_MANY` for a string beyond the limits, or the
    /// first malformed scope's error (see [`Scope::parse`]).
    pub fn parse(scopes: &str) -> Result<Self, Error> {
        let (set, _) = parse_string(scopes, true)?;
        Ok(set)
    }

    /// Parses a space-separated scope string, dropping (and reporting) malformed scopes.
    ///
    /// # Errors
    /// Only for the whole string: `ERR_SCOPE_TOO_LONG` beyond [`MAX_SCOPES_LEN`] bytes,
    /// `ERR_SCOPE_TOO_MANY` beyond [`MAX_SCOPES`] scopes.
    pub fn parse_lenient(scopes: &str) -> Result<Parsed, Error> {
        let (scopes, dropped) = parse_string(scopes, false)?;
        Ok(Parsed { scopes, dropped })
    }

    /// A set of the given scopes, in order, keeping the first of verbatim repeats.
    ///
    /// # Errors
    /// `ERR_SCOPE_TOO_MANY` beyond [`MAX_SCOPES`]; `ERR_SCOPE_TOO_LONG` when the rendered
    /// set exceeds [`MAX_SCOPES_LEN`]; any error of [`Scope::parse`] for a scope that
    /// does not render to text that parses back to itself (for example
    /// `Scope::Other("a b")` or `Scope::Other("openid")`).
    pub fn from_scopes<I: IntoIterator<Item = Scope>>(scopes: I) -> Result<Self, Error> {
        let mut set = Self::default();
        let mut len = 0usize;
        for scope in scopes {
            let text = scope.to_string();
            if parse_token(&text)? != scope {
                return Err(ScopeError::Malformed.into());
            }
            if set.scopes.contains(&scope) {
                continue;
            }
            if set.scopes.len() == MAX_SCOPES {
                return Err(ScopeError::TooMany.into());
            }
            len += text.len() + usize::from(len > 0);
            if len > MAX_SCOPES_LEN {
                return Err(ScopeError::TooLong.into());
            }
            set.push(scope);
        }
        Ok(set)
    }

    pub(crate) fn push(&mut self, scope: Scope) {
        if let (Scope::Clinical(c), Ok(pos)) = (&scope, u16::try_from(self.scopes.len())) {
            self.index.push(Entry {
                context: c.context,
                resource: match c.resource {
                    ResourceSelector::Wildcard => None,
                    ResourceSelector::Type(t) => Some(t),
                },
                permissions: c.permissions,
                scope: pos,
            });
        }
        self.scopes.push(scope);
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.index
    }

    /// The scopes, in order.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// The scopes, in order.
    pub fn iter(&self) -> core::slice::Iter<'_, Scope> {
        self.scopes.iter()
    }

    /// How many scopes the set holds.
    pub fn len(&self) -> usize {
        self.scopes.len()
    }

    /// Whether the set is empty (an empty scope string: nothing granted).
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// Whether the set holds this scope exactly (`patient/Observation.read` and
    /// `patient/Observation.rs` are different scopes with the same permissions).
    pub fn contains(&self, scope: &Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// The set rendered with every clinical scope in v2 syntax (`patient/*.read` becomes
    /// `patient/*.rs`), keeping the first of scopes that become identical.
    pub fn to_v2(&self) -> String {
        let mut seen = BTreeSet::new();
        let mut out = String::new();
        for scope in &self.scopes {
            let text = scope.to_v2_string();
            if seen.contains(&text) {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&text);
            seen.insert(text);
        }
        out
    }
}

impl fmt::Display for ScopeSet {
    /// The scopes in order, separated by single spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.scopes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            scope.fmt(f)?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a ScopeSet {
    type Item = &'a Scope;
    type IntoIter = core::slice::Iter<'a, Scope>;

    fn into_iter(self) -> Self::IntoIter {
        self.scopes.iter()
    }
}

fn parse_string(scopes: &str, strict: bool) -> Result<(ScopeSet, Vec<Dropped>), ScopeError> {
    if scopes.len() > MAX_SCOPES_LEN {
        return Err(ScopeError::TooLong);
    }
    let tokens = || scopes.split(' ').filter(|t| !t.is_empty());
    if tokens().count() > MAX_SCOPES {
        return Err(ScopeError::TooMany);
    }
    let mut set = ScopeSet::default();
    let mut dropped = Vec::new();
    let mut seen = BTreeSet::new();
    for token in tokens() {
        if !seen.insert(token) {
            continue;
        }
        match parse_token(token) {
            // Two spellings of one scope (`?a=%41` and `?a=A`) parse equal: keep the
            // first, so that the set renders to a string that parses back to it.
            Ok(scope) if set.contains(&scope) => {}
            Ok(scope) => set.push(scope),
            Err(e) if strict => return Err(e),
            Err(error) => dropped.push(Dropped {
                scope: token.into(),
                error,
            }),
        }
    }
    Ok((set, dropped))
}
