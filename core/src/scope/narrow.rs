//! Narrowing a requested scope set to what a server allows.
//!
//! SMART App Launch 2.x, "Wildcard scopes": "the scopes ultimately granted by the
//! authorization server may differ from the scopes requested by the client". Its example
//! of `patient/AllergyIntolerance.cruds` granted as `patient/AllergyIntolerance.rs` is
//! what [`ScopeSet::narrow`] computes.

use alloc::string::ToString;
use alloc::vec::Vec;

use super::{
    ClinicalScope, MAX_QUERY_PARAMS, MAX_SCOPE_LEN, MAX_SCOPES, MAX_SCOPES_LEN, ResourceSelector,
    Scope, ScopeSet, Syntax, query_subset,
};

/// The result of [`ScopeSet::narrow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    /// What may be granted: the requested scopes the allowed set covers in full, as they
    /// were requested, and for the others the parts the allowed set covers.
    pub granted: ScopeSet,
    /// Requested scopes granted only in part (their parts are in `granted`).
    pub narrowed: Vec<Scope>,
    /// Requested scopes of which nothing is granted.
    pub dropped: Vec<Scope>,
}

impl ScopeSet {
    /// Narrows this (requested) set to what `allowed` permits, for an authorization
    /// server that grants less than it is asked.
    ///
    /// - A non-clinical scope (`openid`, `launch/patient`, an opaque scope, ...) is
    ///   granted when `allowed` holds it exactly.
    /// - A clinical scope is granted as requested when the union of the allowed scopes
    ///   of the same context covers it: each of its permissions held by an allowed scope
    ///   whose resource covers its resource and whose query is a subset of its query
    ///   (`patient/Observation.rs` is covered by `patient/*.r patient/Observation.s`).
    /// - Otherwise it is intersected with each allowed scope of the same context (resource
    ///   types and permissions intersected, queries combined), and the parts no other
    ///   part covers are granted: `patient/*.cruds` under `patient/Observation.rs
    ///   patient/Condition.r` gives `patient/Observation.rs patient/Condition.r`. Contexts
    ///   never mix: `user/` does not cover `patient/`.
    /// - A part of a v1 scope stays v1 when it can (`rs`, `cud` or `cruds`, no query), as
    ///   servers "SHOULD return v1 scopes when v1 scopes are requested and granted".
    ///
    /// The granted set stays within the parser's limits ([`MAX_SCOPES`],
    /// [`MAX_SCOPES_LEN`], [`MAX_SCOPE_LEN`], [`MAX_QUERY_PARAMS`]), so it always renders
    /// to a string that parses back: a part that would exceed them is not granted
    /// (failing closed).
    pub fn narrow(&self, allowed: &ScopeSet) -> Narrowed {
        let mut out = Builder {
            set: ScopeSet::default(),
            len: 0,
        };
        let mut narrowed = Vec::new();
        let mut dropped = Vec::new();
        for requested in self.scopes() {
            let Scope::Clinical(r) = requested else {
                if allowed.contains(requested) && out.add(requested.clone()) {
                    continue;
                }
                dropped.push(requested.clone());
                continue;
            };
            if covered_in_full(r, allowed) && out.add(requested.clone()) {
                continue;
            }
            let parts = parts(r, allowed);
            let mut any = false;
            for part in parts {
                any |= out.add(Scope::Clinical(part));
            }
            if any {
                narrowed.push(requested.clone());
            } else {
                dropped.push(requested.clone());
            }
        }
        Narrowed {
            granted: out.set,
            narrowed,
            dropped,
        }
    }
}

struct Builder {
    set: ScopeSet,
    /// Rendered length of `set`.
    len: usize,
}

impl Builder {
    /// Adds `scope` unless it is there already or the set would leave the parser's
    /// limits; returns whether the scope is now in the set.
    fn add(&mut self, scope: Scope) -> bool {
        if self.set.contains(&scope) {
            return true;
        }
        let len = self.len + scope.to_string().len() + usize::from(self.len > 0);
        if self.set.len() >= MAX_SCOPES || len > MAX_SCOPES_LEN {
            return false;
        }
        self.len = len;
        self.set.push(scope);
        true
    }
}

fn covered_in_full(r: &ClinicalScope, allowed: &ScopeSet) -> bool {
    r.permissions().iter().all(|p| {
        allowed.iter().filter_map(Scope::as_clinical).any(|a| {
            a.context() == r.context()
                && a.resource().covers(&r.resource())
                && a.permissions().contains(p)
                && query_subset(a.query(), r.query())
        })
    })
}

/// The intersections of `r` with each allowed scope, without those another one covers.
fn parts(r: &ClinicalScope, allowed: &ScopeSet) -> Vec<ClinicalScope> {
    let mut parts: Vec<ClinicalScope> = allowed
        .iter()
        .filter_map(Scope::as_clinical)
        .filter_map(|a| intersect(r, a))
        .collect();
    let mut keep = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        let redundant = parts
            .iter()
            .enumerate()
            .any(|(j, q)| j != i && p.is_covered_by(q) && (j < i || !q.is_covered_by(p)));
        keep.push(!redundant);
    }
    let mut flags = keep.into_iter();
    parts.retain(|_| flags.next().unwrap_or(false));
    parts
}

fn intersect(r: &ClinicalScope, a: &ClinicalScope) -> Option<ClinicalScope> {
    if r.context() != a.context() {
        return None;
    }
    let resource = match (r.resource(), a.resource()) {
        (ResourceSelector::Wildcard, other) | (other, ResourceSelector::Wildcard) => other,
        (ResourceSelector::Type(x), ResourceSelector::Type(y)) if x == y => {
            ResourceSelector::Type(x)
        }
        _ => return None,
    };
    let permissions = r.permissions().intersection(a.permissions());
    let mut query = r.query().to_vec();
    for p in a.query() {
        if !query.contains(p) {
            query.push(p.clone());
        }
    }
    if query.len() > MAX_QUERY_PARAMS {
        return None;
    }
    let part = if r.syntax() == Syntax::V1 && query.is_empty() {
        ClinicalScope::v1(r.context(), resource, permissions)
            .or_else(|_| ClinicalScope::new(r.context(), resource, permissions))
            .ok()?
    } else {
        ClinicalScope::new(r.context(), resource, permissions)
            .ok()?
            .with_query(query)
            .ok()?
    };
    (part.to_string().len() <= MAX_SCOPE_LEN).then_some(part)
}
