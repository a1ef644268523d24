//! Authorizing one FHIR request against a [`ScopeSet`].
//!
//! [`ScopeSet::permits`] answers yes or no, without allocating; [`ScopeSet::authorize`]
//! also returns the constraint the server must apply ([`Grant`]), or, on refusal, the
//! scope that is missing ([`Denied`], for an `insufficient_scope` error description).
//! `permits(r)` is exactly `authorize(r).is_ok()`: a `true` can still carry a
//! constraint, so a server that cannot apply constraints must call `authorize` and
//! accept only [`Grant::is_unrestricted`].
//!
//! # Permissions per interaction
//! SMART App Launch 2.x, "Scopes for requesting FHIR Resources":
//!
//! | [`Interaction`] | needs | applied as |
//! | --- | --- | --- |
//! | `Read`, `Vread`, `History` (instance level) | `r` | [`Enforcement::Check`] |
//! | `Search` | `s` | [`Enforcement::Filter`] |
//! | `HistoryType` (type-level `_history`) | `s` | [`Enforcement::Check`] (history takes no search parameters) |
//! | `Create` | `c` | [`Enforcement::Check`] (the submitted resource) |
//! | `Update`, `Patch` | `u` | [`Enforcement::Check`] (the stored and the new resource) |
//! | `Delete` | `d` | [`Enforcement::Check`] (the stored resource) |
//! | `Export` (`$export`) | `r` and `s` | [`Enforcement::Filter`] (as a `_typeFilter`) |
//!
//! v1 `read` = v2 `rs`, v1 `write` = v2 `cud`, v1 `*` = v2 `cruds`.
//!
//! # Context
//! [`Request::context`] names the kind of scope that must grant the request: with
//! `Some(Patient)` only `patient/` scopes count, with `Some(User)` only `user/`, with
//! `Some(System)` only `system/`; so a `patient/` scope never grants a user or system
//! request. With `None`, a scope of any context may grant it, and the rules below pick
//! the least restrictive.
//!
//! # Union, and the least restrictive constraint
//! "Scopes can be combined to represent a union of access" (section "Scope
//! Equivalence"): the permissions of the covering scopes add up, so
//! `patient/Observation.r patient/Observation.s` is `patient/Observation.rs`. Each
//! covering scope contributes one way to satisfy the request, a [`Constraint`]:
//! - a `patient/` scope: the resource must be in the in-context patient's compartment;
//! - a scope with a query: the resource must match the query;
//! - a `user/` or `system/` scope without a query: nothing (unrestricted).
//!
//! The grant is the *union* of these alternatives (the server may satisfy any one), from
//! which every alternative that another one subsumes is removed; if one alternative is
//! unrestricted the grant is unrestricted. So an unrestricted `user/` or `system/` scope
//! beats a `patient/` compartment constraint, `patient/Observation.rs` beats
//! `patient/Observation.rs?category=...`, and a query-restricted scope never widens an
//! unrestricted one nor narrows it. Two alternatives that do not subsume each other
//! (a `patient/` compartment and a `user/` query, for a request without context) are
//! both returned rather than one being picked, which keeps the rule monotonic: adding a
//! scope only ever adds alternatives (or replaces some by a less restrictive one), so it
//! never removes a permission, and never narrows what a grant allows.
//! For `$export`, which needs two permissions, each may come from a different scope;
//! the alternatives are then the pairwise conjunctions (a scope holding both is one
//! alternative on its own, which makes its conjunctions redundant). At most
//! [`MAX_COMBINED_ALTERNATIVES`] conjunctions are kept: past that, a scope set built to
//! be pathological gets a narrower grant, never a wider one; the only case where adding
//! a scope can drop an alternative.
//!
//! # Patient compartment
//! A `patient/` scope reaches only the types in the R4 Patient compartment
//! ([`compartment`]), the wildcard included, and the `Patient` type
//! (the patient itself, by id, and Patients that `link` to it). Types outside it
//! (Practitioner, Organization, Medication, Location, ...) are never granted by a
//! `patient/` scope: "Patient-specific scopes allow access to specific data about a
//! single patient", and the specification allows that "some EHRs may not enable access
//! to all related resources (for example, Practitioners linked to/from Patient-specific
//! resources)". A server that wants to serve them to patient apps grants a `user/` scope
//! for them. Failing closed here is the safe reading for health data.
//!
//! # Query constraints
//! For [`Enforcement::Filter`] interactions (search, `$export`), the query parameters
//! the request already carries with the same decoded value are satisfied; the
//! constraint lists only the ones the server must add (FHIR search parameters combine
//! with AND, so adding them restricts the result to the scope). For
//! [`Enforcement::Check`] interactions, the constraint is the rule to check each
//! resource read or written against. Parameters are compared exactly (names with
//! modifiers, such as `code:in`, are names like any other).
//!
//! # `$export`
//! Bulk Data Access: a backend client uses `system/` (or `user/`) scopes, `read` in v1
//! (`system/*.read` in its examples), so [`Interaction::Export`] on a type needs `r`
//! and `s` on it. Ask once per exported type: each `_type` entry, or each type a
//! system-, Patient- or Group-level export would write. Bulk Data's "Enforcing
//! Authorization": when a client "asks for Observation resources (`_type=Observation`)
//! but has scopes that only permit `system/Patient.read` ... a server SHOULD respond with
//! a failure to the initial request". A Group-level export should also check `Read` on
//! the `Group`.
//!
//! # Not evaluated here
//! System-level search and history across all types, batch and transaction (the
//! specification: "validated based on the actual requests within them"), and operations
//! other than `$export`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{Context, Permissions, ResourceType, Scope, ScopeError, ScopeSet, compartment};
use crate::error::Error;

/// A FHIR interaction a [`Request`] makes (FHIR R4 RESTful API, <https://hl7.org/fhir/R4/http.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    /// `GET [type]/[id]`: needs `r`.
    Read,
    /// `GET [type]/[id]/_history/[vid]`: needs `r`.
    Vread,
    /// Instance-level history, `GET [type]/[id]/_history`: needs `r`.
    History,
    /// Type-level history, `GET [type]/_history`: needs `s`.
    HistoryType,
    /// `GET [type]?...` or `POST [type]/_search`: needs `s`.
    Search,
    /// `POST [type]`: needs `c`.
    Create,
    /// `PUT [type]/[id]` (also when it creates): needs `u`.
    Update,
    /// `PATCH [type]/[id]`: needs `u`.
    Patch,
    /// `DELETE [type]/[id]`: needs `d`.
    Delete,
    /// Bulk Data `$export` of this type's resources: needs `r` and `s`.
    Export,
}

impl Interaction {
    /// Every interaction.
    pub const ALL: [Interaction; 10] = [
        Self::Read,
        Self::Vread,
        Self::History,
        Self::HistoryType,
        Self::Search,
        Self::Create,
        Self::Update,
        Self::Patch,
        Self::Delete,
        Self::Export,
    ];

    /// Parses `read`, `vread`, `history`, `history-type`, `search`, `create`, `update`,
    /// `patch`, `delete` or `$export`.
    ///
    /// # Errors
    /// `ERR_SCOPE_INTERACTION_UNKNOWN` for anything else.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| ScopeError::InteractionUnknown.into())
    }

    /// The interaction's name, as [`Interaction::parse`] reads it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Vread => "vread",
            Self::History => "history",
            Self::HistoryType => "history-type",
            Self::Search => "search",
            Self::Create => "create",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Export => "$export",
        }
    }

    /// The permissions a scope must hold for this interaction (see the module table).
    pub const fn required(self) -> Permissions {
        match self {
            Self::Read | Self::Vread | Self::History => Permissions::READ,
            Self::Search | Self::HistoryType => Permissions::SEARCH,
            Self::Create => Permissions::CREATE,
            Self::Update | Self::Patch => Permissions::UPDATE,
            Self::Delete => Permissions::DELETE,
            Self::Export => Permissions::READ.union(Permissions::SEARCH),
        }
    }

    /// How a constraint on this interaction is applied.
    pub const fn enforcement(self) -> Enforcement {
        match self {
            Self::Search | Self::Export => Enforcement::Filter,
            _ => Enforcement::Check,
        }
    }
}

impl fmt::Display for Interaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the server applies a [`Constraint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Enforcement {
    /// Add it to the search (or the export's `_typeFilter`): the patient compartment as a
    /// search on one of its parameters, the query parameters as they are.
    Filter,
    /// Check each resource read, or written, against it, and refuse (or leave out) those
    /// that fail.
    Check,
}

/// A FHIR request to authorize: which interaction, on which resource type, in which
/// context, with which search parameters.
///
/// ```
/// use smartgate_core::scope::{Context, Interaction, Request, ResourceType, ScopeSet};
///
/// let scopes = ScopeSet::parse("launch/patient patient/Observation.rs")?;
/// let read = Request::new(ResourceType::Observation, Interaction::Read).in_context(Context::Patient);
/// assert!(scopes.permits(&read));
/// let write = Request::new(ResourceType::Observation, Interaction::Create);
/// assert!(!scopes.permits(&write));
/// # Ok::<(), smartgate_core::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The resource type the interaction is on.
    pub resource_type: ResourceType,
    /// The interaction.
    pub interaction: Interaction,
    /// The kind of scope that must grant it; `None`: any.
    pub context: Option<Context>,
    /// The decoded search parameters the request carries (for search and `$export`).
    pub params: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// A request without context and without parameters.
    pub const fn new(resource_type: ResourceType, interaction: Interaction) -> Self {
        Self {
            resource_type,
            interaction,
            context: None,
            params: &[],
        }
    }

    /// The same request, to be granted by a scope of this context only.
    #[must_use]
    pub const fn in_context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// The same request, carrying these decoded search parameters.
    #[must_use]
    pub const fn with_params(mut self, params: &'a [(&'a str, &'a str)]) -> Self {
        self.params = params;
        self
    }
}

/// The Patient compartment filter of a `patient/` scope, for one resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PatientCompartment {
    resource_type: ResourceType,
}

impl PatientCompartment {
    /// The resource type it applies to.
    pub fn resource_type(&self) -> ResourceType {
        self.resource_type
    }

    /// The search parameters linking this type to the patient: a resource is in the
    /// compartment when any of them references the in-context patient
    /// (`subject=Patient/123` or `performer=Patient/123` for an Observation).
    pub fn params(&self) -> &'static [&'static str] {
        compartment::params(self.resource_type)
    }

    /// Whether the in-context patient itself is in the compartment by its id (`_id=123`):
    /// true only for `Patient`, besides its `link` parameter.
    pub fn by_id(&self) -> bool {
        self.resource_type == ResourceType::Patient
    }
}

/// One way a request is allowed: the resource must be in the patient compartment (when
/// set) and must match every query parameter listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Constraint<'s> {
    patient_compartment: Option<PatientCompartment>,
    query: Vec<(&'s str, &'s str)>,
}

impl<'s> Constraint<'s> {
    /// The patient compartment the resource must be in, for a `patient/` scope.
    pub fn patient_compartment(&self) -> Option<&PatientCompartment> {
        self.patient_compartment.as_ref()
    }

    /// The decoded query parameters the resource must match (for a search: the ones the
    /// server must add).
    pub fn query(&self) -> &[(&'s str, &'s str)] {
        &self.query
    }

    fn is_unrestricted(&self) -> bool {
        self.patient_compartment.is_none() && self.query.is_empty()
    }

    fn and(&self, other: &Self) -> Self {
        let mut query = self.query.clone();
        for p in &other.query {
            if !query.contains(p) {
                query.push(*p);
            }
        }
        Self {
            patient_compartment: self.patient_compartment.or(other.patient_compartment),
            query,
        }
    }
}

/// What a permitted request is allowed under: nothing more (unrestricted), or any one of
/// a list of constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant<'s> {
    enforcement: Enforcement,
    /// Set only when an alternative without any constraint exists; never inferred from an
    /// empty `constraints`, so that a bug that loses alternatives fails closed.
    unrestricted: bool,
    constraints: Vec<Constraint<'s>>,
}

impl<'s> Grant<'s> {
    /// Whether some scope grants the request with no constraint at all.
    pub fn is_unrestricted(&self) -> bool {
        self.unrestricted
    }

    /// The alternatives: the request is within the granted scopes when the server
    /// enforces at least one of them. Empty when unrestricted. None subsumes another.
    pub fn constraints(&self) -> &[Constraint<'s>] {
        &self.constraints
    }

    /// How to apply the constraints: as a search filter, or as a check of each resource.
    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }
}

/// A refused request, naming what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied {
    context: Option<Context>,
    resource_type: ResourceType,
    interaction: Interaction,
    missing: Permissions,
}

impl Denied {
    /// The request's context.
    pub fn context(&self) -> Option<Context> {
        self.context
    }

    /// The request's resource type.
    pub fn resource_type(&self) -> ResourceType {
        self.resource_type
    }

    /// The request's interaction.
    pub fn interaction(&self) -> Interaction {
        self.interaction
    }

    /// The permissions no covering scope holds (a subset of what the interaction needs).
    pub fn missing(&self) -> Permissions {
        self.missing
    }

    /// Whether the request is in patient context on a type outside the Patient
    /// compartment, which no `patient/` scope can grant.
    pub fn outside_patient_compartment(&self) -> bool {
        self.context == Some(Context::Patient) && !compartment::contains(self.resource_type)
    }

    /// The v2 scopes, any one of which would grant what is missing: one for the request's
    /// context, or one per context that could grant it when the request has none
    /// (`patient/` left out for types outside the Patient compartment). Empty when no
    /// scope can grant the request. For the `scope` attribute of an `insufficient_scope`
    /// `WWW-Authenticate` challenge (RFC 6750 section 3), pick one.
    pub fn required_scopes(&self) -> Vec<String> {
        let contexts: &[Context] = match &self.context {
            Some(c) => core::slice::from_ref(c),
            None => &Context::ALL,
        };
        contexts
            .iter()
            .filter(|c| **c != Context::Patient || compartment::contains(self.resource_type))
            .map(|c| alloc::format!("{c}/{}.{}", self.resource_type, self.missing))
            .collect()
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no granted scope permits {} on {}",
            self.interaction, self.resource_type
        )?;
        if let Some(c) = self.context {
            write!(f, " in {c} context")?;
        }
        let scopes = self.required_scopes();
        match scopes.as_slice() {
            [] => write!(
                f,
                "; {} is not in the patient compartment",
                self.resource_type
            ),
            [one] => write!(f, "; it needs {one}"),
            many => write!(f, "; it needs one of {}", many.join(", ")),
        }
    }
}

/// At most this many alternatives come from combining scopes that each grant only part
/// of what an interaction needs (`$export` needs `r` and `s`: an `r`-only scope with an
/// `s`-only scope). Combinations past it are left out, which makes the grant narrower,
/// never wider; only a scope set built to be pathological (hundreds of partial query
/// scopes) reaches it, and it keeps such a set from costing quadratic time and memory.
pub const MAX_COMBINED_ALTERNATIVES: usize = 64;

impl ScopeSet {
    /// Whether some granted scope covers the request: right context (see
    /// [`Request::context`]), resource type (or `*`), every permission the interaction
    /// needs (see [`eval`](self)), and, for `patient/` scopes, a type in the Patient
    /// compartment. Never allocates.
    ///
    /// A `true` can carry a constraint (the patient compartment, a query);
    /// [`ScopeSet::authorize`] returns it. `permits(r) == authorize(r).is_ok()`.
    pub fn permits(&self, request: &Request<'_>) -> bool {
        let need = request.interaction.required();
        self.covering_permissions(request, need).contains(need)
    }

    /// Authorizes the request: the constraint the server must apply, or what is missing.
    ///
    /// # Errors
    /// [`Denied`] when no scope (or union of scopes) covers the request.
    pub fn authorize(&self, request: &Request<'_>) -> Result<Grant<'_>, Denied> {
        let need = request.interaction.required();
        let missing = need.difference(self.covering_permissions(request, need));
        if !missing.is_empty() {
            return Err(Denied {
                context: request.context,
                resource_type: request.resource_type,
                interaction: request.interaction,
                missing,
            });
        }
        let enforcement = request.interaction.enforcement();
        let reachable = compartment::contains(request.resource_type);
        // The grant is the disjunction, over every way of picking one covering scope per
        // needed permission, of the conjunction of the picked scopes' constraints. A scope
        // holding every needed permission makes any pick that includes it redundant (its
        // own constraint subsumes their conjunction), so: each such "whole" scope is one
        // alternative, and only scopes holding part of `need` are combined.
        let alternative = |entry: &super::Entry| -> Option<Constraint<'_>> {
            let scope = self
                .scopes()
                .get(usize::from(entry.scope))
                .and_then(Scope::as_clinical)?;
            let query = scope
                .query()
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .filter(|p| enforcement == Enforcement::Check || !request.params.contains(p))
                .collect();
            let patient_compartment =
                (entry.context == Context::Patient).then_some(PatientCompartment {
                    resource_type: request.resource_type,
                });
            Some(Constraint {
                patient_compartment,
                query,
            })
        };
        let mut constraints: Vec<Constraint<'_>> = Vec::new();
        // Per needed permission (in `need.iter()` order), the scopes holding only part.
        let mut partial: Vec<Vec<Constraint<'_>>> = need.iter().map(|_| Vec::new()).collect();
        for entry in self.entries() {
            if !covers(entry, request, reachable) {
                continue;
            }
            let Some(c) = alternative(entry) else {
                continue;
            };
            if entry.permissions.contains(need) {
                constraints.push(c);
                continue;
            }
            for (permission, list) in need.iter().zip(partial.iter_mut()) {
                if entry.permissions.contains(permission) {
                    list.push(c.clone());
                }
            }
        }
        let mut combined: Option<Vec<Constraint<'_>>> = None;
        for mut list in partial {
            minimize(&mut list);
            combined = Some(match combined {
                None => list,
                Some(before) => {
                    let mut both = Vec::new();
                    'pairs: for a in &before {
                        for b in &list {
                            if both.len() == MAX_COMBINED_ALTERNATIVES {
                                break 'pairs;
                            }
                            both.push(a.and(b));
                        }
                    }
                    both
                }
            });
        }
        constraints.extend(combined.unwrap_or_default());
        minimize(&mut constraints);
        let unrestricted = constraints.iter().any(Constraint::is_unrestricted);
        if unrestricted {
            constraints.clear();
        }
        Ok(Grant {
            enforcement,
            unrestricted,
            constraints,
        })
    }

    /// The union of the permissions of the scopes that cover the request's context and
    /// type (stopping early once `need` is reached).
    #[inline]
    fn covering_permissions(&self, request: &Request<'_>, need: Permissions) -> Permissions {
        let reachable = compartment::contains(request.resource_type);
        let mut have = Permissions::NONE;
        for entry in self.entries() {
            if covers(entry, request, reachable) {
                have = have.union(entry.permissions);
                if have.contains(need) {
                    break;
                }
            }
        }
        have
    }
}

/// Whether a scope's context and resource cover the request (permissions aside);
/// `reachable`: whether the request's type is in the Patient compartment.
#[inline]
fn covers(entry: &super::Entry, request: &Request<'_>, reachable: bool) -> bool {
    request.context.is_none_or(|c| c == entry.context)
        && entry.resource.is_none_or(|t| t == request.resource_type)
        && (reachable || entry.context != Context::Patient)
}

/// Removes every alternative that another one subsumes (keeping the first of equals).
/// Quadratic in the alternatives, so the subset test runs on sorted copies of the
/// queries (a merge, linear in their lengths).
fn minimize(alternatives: &mut Vec<Constraint<'_>>) {
    let sorted: Vec<(bool, Vec<(&str, &str)>)> = alternatives
        .iter()
        .map(|c| {
            // Sorted by insertion (a query has at most 2 x 16 parameters): far less code
            // in a WASM build than a general sort.
            let mut query: Vec<(&str, &str)> = Vec::with_capacity(c.query.len());
            for p in &c.query {
                if let Err(at) = query.binary_search(p) {
                    query.insert(at, *p);
                }
            }
            (c.patient_compartment.is_some(), query)
        })
        .collect();
    // Whether `a` allows everything `b` allows: no compartment or both one, and no
    // query parameter `b` lacks.
    let subsumes = |(a_compartment, a_query): &(bool, Vec<(&str, &str)>),
                    (b_compartment, b_query): &(bool, Vec<(&str, &str)>)| {
        (!a_compartment || *b_compartment) && is_sorted_subset(a_query, b_query)
    };
    let mut keep = Vec::with_capacity(sorted.len());
    for (i, c) in sorted.iter().enumerate() {
        let redundant = sorted
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && subsumes(other, c) && (j < i || !subsumes(c, other)));
        keep.push(!redundant);
    }
    let mut flags = keep.into_iter();
    alternatives.retain(|_| flags.next().unwrap_or(true));
}

/// Whether every element of `small` is in `large`, both sorted and deduplicated.
fn is_sorted_subset<T: Ord>(small: &[T], large: &[T]) -> bool {
    if small.len() > large.len() {
        return false;
    }
    let mut large = large.iter();
    small
        .iter()
        .all(|s| large.by_ref().find(|l| *l >= s).is_some_and(|l| l == s))
}
