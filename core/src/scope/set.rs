//! [`ScopeSet`]: an ordered set of scopes, parsed from a space-separated scope string
//! (strictly, or leniently with the [`Dropped`] ones reported) and rendered back.

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::single::parse_token;
use super::{
    Context, MAX_SCOPES, MAX_SCOPES_LEN, Permissions, ResourceSelector, ResourceType, Scope,
    ScopeError,
};
use crate::error::Error;

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
