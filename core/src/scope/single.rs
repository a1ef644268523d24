//! One scope: [`Scope`] and [`ClinicalScope`] (with [`ResourceSelector`] and
//! [`Syntax`]), parsed from and rendered to their text.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::{
    Context, MAX_QUERY_PARAMS, MAX_SCOPE_LEN, Permissions, ResourceType, ScopeError, query,
};
use crate::error::Error;

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
    pub(super) context: Context,
    pub(super) resource: ResourceSelector,
    pub(super) permissions: Permissions,
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

pub(super) fn parse_token(token: &str) -> Result<Scope, ScopeError> {
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
