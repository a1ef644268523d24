//! Scope granting: the ONE place that decides which requested scopes are granted.
//!
//! For now this is a plain, honest rule: split on spaces and keep the requested scopes
//! that appear verbatim in the client's allowed scopes (so `patient/*.rs` is granted
//! only if `patient/*.rs` is allowed; no wildcard expansion, no v1/v2 translation).
//! Because granted scopes are always a subset of the requested strings, a v1 request
//! gets v1 scopes back and a v2 request v2 scopes, as SMART requires.
//!
//! When `smartgate_core::scope` lands, [`grant`] becomes `ScopeSet::parse(requested)`
//! narrowed with `requested.narrow(&allowed)`; nothing else in the server changes.

/// The outcome of granting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Granted {
    /// Granted scopes, in request order, no duplicates.
    pub(crate) scopes: Vec<String>,
    /// Whether some requested scope was left out.
    pub(crate) narrowed: bool,
}

impl Granted {
    /// Space-separated, as `scope` is sent on the wire.
    pub(crate) fn to_scope_string(&self) -> String {
        self.scopes.join(" ")
    }
}

/// The requested scopes that `allowed` permits (see the module docs for the rule).
pub(crate) fn grant(requested: &str, allowed: &str) -> Granted {
    let allowed: Vec<&str> = allowed.split_whitespace().collect();
    let mut scopes: Vec<String> = Vec::new();
    let mut narrowed = false;
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if allowed.contains(&s) {
            if !scopes.iter().any(|g| g == s) {
                scopes.push(s.to_string());
            }
        } else {
            narrowed = true;
        }
    }
    Granted { scopes, narrowed }
}

/// Whether the space-separated `scope` holds `name`.
pub(crate) fn has(scope: &str, name: &str) -> bool {
    scope.split(' ').any(|s| s == name)
}

/// Whether every scope of `requested` is in `granted` (refresh requests may only
/// shrink a grant, RFC 6749 section 6).
pub(crate) fn is_subset(requested: &str, granted: &str) -> bool {
    requested
        .split(' ')
        .filter(|s| !s.is_empty())
        .all(|s| has(granted, s))
}

/// Whether a scope string is syntactically acceptable (RFC 6749 section 3.3:
/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, separated by single spaces).
pub(crate) fn is_well_formed(scope: &str) -> bool {
    !scope.is_empty()
        && scope.split(' ').all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersection_keeps_request_order_and_version() {
        let g = grant(
            "patient/*.rs openid launch/patient user/*.*",
            "openid launch/patient patient/*.rs",
        );
        assert_eq!(g.to_scope_string(), "patient/*.rs openid launch/patient");
        assert!(g.narrowed);
        let v1 = grant("patient/*.read", "patient/*.read patient/*.rs");
        assert_eq!(v1.to_scope_string(), "patient/*.read");
        assert!(!v1.narrowed);
    }

    #[test]
    fn subset_and_syntax() {
        assert!(is_subset("a b", "b a c"));
        assert!(!is_subset("a d", "a b"));
        assert!(is_well_formed("openid patient/*.rs"));
        assert!(!is_well_formed("openid  double"));
        assert!(!is_well_formed("quote\"d"));
        assert!(!is_well_formed(""));
    }
}
