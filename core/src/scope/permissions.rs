//! [`Permissions`]: the v2 `c r u d s` letters of a clinical scope, as a bitset, and
//! their v1 spellings.

use core::fmt;

use super::ScopeError;
use crate::error::Error;

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

    pub(super) fn lookup_v2(s: &str) -> Option<Self> {
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

    pub(super) fn v1_name(self) -> Option<&'static str> {
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
