//! Scope granting: the ONE place that decides which requested scopes are granted. Every
//! decision about what a scope means is made by [`smartgate_core::scope`]; this module
//! only applies the server's policy to the core's answers.
//!
//! - Requested scopes are read with [`ScopeSet::parse_lenient`]: a server ignores the
//!   scopes it does not understand (SMART App Launch 2.x, "Scopes and Launch Context";
//!   RFC 6749 section 3.3 lets it grant less than asked). The ignored ones come back in
//!   [`Granted::ignored`] with the core's error code, for the audit trail. Only a whole
//!   string beyond the core's limits (16 KiB, 256 scopes) is refused.
//! - Each understood scope is narrowed to the client's allowed set with
//!   [`ScopeSet::narrow`]: `patient/*.rs` under an allowed `patient/Observation.rs`
//!   gives `patient/Observation.rs`, a query scope stays a query scope, contexts never
//!   mix.
//! - SMART's rule "v1 scopes requested give v1 scopes back; v2 give v2": the core keeps
//!   the parts of a v1 scope in v1 syntax when it can; a part that v1 cannot express
//!   (`patient/Observation.r`, a query) is not granted for a v1 request.
//! - The token response always carries the granted `scope`, so a client sees when it got
//!   less than it asked for.
//! - A refresh may only shrink a grant: [`within`] asks the core whether the grant covers
//!   the requested set in full.

use smartgate_core::Error;
use smartgate_core::scope::{Dropped, Scope, ScopeSet, Syntax};

/// The outcome of granting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Granted {
    /// What was requested and understood.
    pub(crate) requested: ScopeSet,
    /// What is granted, in request order.
    pub(crate) set: ScopeSet,
    /// Whether something understood was granted only in part or not at all.
    pub(crate) narrowed: bool,
    /// Requested scopes the server did not understand (ignored), with the core's
    /// reason.
    pub(crate) ignored: Vec<Dropped>,
    /// Requested scopes of which nothing is granted (rendered).
    pub(crate) refused: Vec<String>,
}

impl Granted {
    /// Space-separated, as `scope` is sent on the wire.
    pub(crate) fn to_scope_string(&self) -> String {
        self.set.to_string()
    }

    /// Whether nothing is granted.
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Whether `scope` is granted.
    pub(crate) fn has(&self, scope: &Scope) -> bool {
        self.set.contains(scope)
    }

    /// Keeps the granted scopes for which `keep` holds.
    pub(crate) fn retain(&mut self, keep: impl Fn(&Scope) -> bool) {
        let before = self.set.len();
        self.set = retain(&self.set, keep);
        if self.set.len() != before {
            self.narrowed = true;
        }
    }

    /// What the audit trail says about the request beyond the granted scope: the
    /// scopes ignored (with the core's code) and those refused.
    pub(crate) fn audit_note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.ignored.is_empty() {
            let list: Vec<String> = self
                .ignored
                .iter()
                .map(|d| format!("{} ({})", d.scope, d.error.code()))
                .collect();
            parts.push(format!("ignored: {}", list.join(", ")));
        }
        if !self.refused.is_empty() {
            parts.push(format!("not granted: {}", self.refused.join(" ")));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// `set` without the scopes for which `keep` is false (a subset of a valid set is
/// valid, so this cannot fail).
pub(crate) fn retain(set: &ScopeSet, keep: impl Fn(&Scope) -> bool) -> ScopeSet {
    ScopeSet::from_scopes(set.iter().filter(|s| keep(s)).cloned()).unwrap_or_default()
}

/// Grants what `allowed` permits of the `requested` scope string (see the module
/// docs for the rules).
///
/// # Errors
/// `ERR_SCOPE_TOO_LONG` / `ERR_SCOPE_TOO_MANY` for a string beyond the core's limits.
pub(crate) fn grant(requested: &str, allowed: &ScopeSet) -> Result<Granted, Error> {
    let parsed = ScopeSet::parse_lenient(requested)?;
    let mut granted: Vec<Scope> = Vec::new();
    let mut narrowed = false;
    let mut refused = Vec::new();
    for scope in parsed.scopes.iter() {
        // One scope at a time, so that the v1 rule knows which request each part
        // answers. (The core narrows each requested scope on its own anyway.)
        let one = ScopeSet::from_scopes([scope.clone()])?;
        let result = one.narrow(allowed);
        let v1 = is_v1(scope);
        let mut any = false;
        for part in result.granted.iter() {
            if v1 && part.as_clinical().is_some_and(|c| c.syntax() == Syntax::V2) {
                narrowed = true;
                continue;
            }
            any = true;
            if !granted.contains(part) {
                granted.push(part.clone());
            }
        }
        if !result.narrowed.is_empty() || !result.dropped.is_empty() {
            narrowed = true;
        }
        if !any {
            refused.push(scope.to_string());
        }
    }
    Ok(Granted {
        set: ScopeSet::from_scopes(granted)?,
        requested: parsed.scopes,
        narrowed,
        ignored: parsed.dropped,
        refused,
    })
}

fn is_v1(scope: &Scope) -> bool {
    scope
        .as_clinical()
        .is_some_and(|c| c.syntax() == Syntax::V1)
}

/// Whether `granted` covers every scope of `requested` in full (a refresh request may
/// only shrink a grant, RFC 6749 section 6): the core narrows `requested` to `granted`
/// and nothing may be narrowed or dropped.
pub(crate) fn within(requested: &ScopeSet, granted: &ScopeSet) -> bool {
    let n = requested.narrow(granted);
    n.narrowed.is_empty() && n.dropped.is_empty()
}

/// Parses a client's allowed scopes from the configuration (strict: a typo is an error
/// at startup, not a silently smaller grant).
///
/// # Errors
/// The core's code for the first malformed scope.
pub(crate) fn parse_allowed(scope: &str) -> Result<ScopeSet, String> {
    ScopeSet::parse(scope).map_err(|e| format!("scope {scope:?} refused ({})", e.code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    #[test]
    fn narrowing_keeps_request_order_and_version() {
        let g = grant(
            "patient/*.rs openid launch/patient user/*.*",
            &set("openid launch/patient patient/*.rs"),
        )
        .unwrap();
        assert_eq!(g.to_scope_string(), "patient/*.rs openid launch/patient");
        assert!(g.narrowed);
        assert_eq!(g.refused, ["user/*.*"]);
        let v1 = grant("patient/*.read", &set("patient/*.read patient/*.rs")).unwrap();
        assert_eq!(v1.to_scope_string(), "patient/*.read");
        assert!(!v1.narrowed);
    }

    #[test]
    fn v1_parts_stay_v1_or_are_not_granted() {
        // v1 read under an allowed v2 type scope: a v1 part.
        let g = grant("patient/*.read", &set("patient/Observation.rs")).unwrap();
        assert_eq!(g.to_scope_string(), "patient/Observation.read");
        // v1 read under an allowed `r` only: v1 cannot say `r`, so nothing.
        let g = grant("patient/*.read", &set("patient/Observation.r")).unwrap();
        assert!(g.is_empty() && g.narrowed);
        // v2 in, v2 out.
        let g = grant("patient/*.rs", &set("patient/*.read")).unwrap();
        assert_eq!(g.to_scope_string(), "patient/*.rs");
    }

    #[test]
    fn unknown_scopes_are_ignored_and_reported() {
        let g = grant("openid patient/Bogus.rs user/*.everything", &set("openid")).unwrap();
        assert_eq!(g.to_scope_string(), "openid");
        let note = g.audit_note().unwrap();
        assert!(
            note.contains("patient/Bogus.rs (ERR_SCOPE_RESOURCE_UNKNOWN)"),
            "{note}"
        );
        assert!(note.contains("ERR_SCOPE_PERMISSIONS_INVALID"), "{note}");
        assert!(grant(&"a ".repeat(300), &set("openid")).is_err());
    }

    #[test]
    fn within_compares_with_the_core() {
        let g = set("patient/*.rs offline_access openid");
        assert!(within(&set("patient/Observation.rs"), &g));
        assert!(within(&set("patient/*.read openid"), &g));
        assert!(!within(&set("patient/*.cruds"), &g));
        assert!(!within(&set("user/*.rs"), &g));
        assert!(!within(&set("launch"), &g));
    }
}
