//! The query suffix of a v2 scope: `?name=value&name=value`, percent-decoded.
//!
//! SMART App Launch 2.x, "Finer-grained resource constraints using search parameters":
//! "add a query string suffix to existing scopes, starting with `?` and followed by a
//! series of `param=value` items separated by `&`". The specification says no more about
//! escaping, so this module follows the URI query rules (RFC 3986 section 2.1): `%XX` is
//! one byte, and a `+` is a literal plus sign (a scope is an OAuth token, not an
//! `application/x-www-form-urlencoded` form, and a space can never appear in a scope).
//!
//! Refused (`ERR_SCOPE_QUERY_INVALID`): an empty query, an empty item (`a=1&&b=2`), an
//! item without `=`, an empty name or value (an empty search value is ignored by FHIR
//! servers, so it would widen rather than narrow), a `%` not followed by two hex digits,
//! and escapes that decode to bytes that are not UTF-8. More than [`MAX_QUERY_PARAMS`]
//! items: `ERR_SCOPE_TOO_MANY`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{MAX_QUERY_PARAMS, ScopeError};

/// Parses the text after `?` into decoded `(name, value)` pairs, in order.
pub(super) fn parse(query: &str) -> Result<Vec<(String, String)>, ScopeError> {
    if query.is_empty() {
        return Err(ScopeError::QueryInvalid);
    }
    let mut out = Vec::new();
    for item in query.split('&') {
        if out.len() == MAX_QUERY_PARAMS {
            return Err(ScopeError::TooMany);
        }
        let (name, value) = item.split_once('=').ok_or(ScopeError::QueryInvalid)?;
        if name.is_empty() || value.is_empty() {
            return Err(ScopeError::QueryInvalid);
        }
        out.push((decode(name)?, decode(value)?));
    }
    Ok(out)
}

fn decode(s: &str) -> Result<String, ScopeError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| hex(*c));
            let lo = bytes.get(i + 2).and_then(|c| hex(*c));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(ScopeError::QueryInvalid),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ScopeError::QueryInvalid)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Writes `?name=value&...` with the escaping [`parse`] undoes: every byte outside the
/// OAuth scope-token characters (RFC 6749 section 3.3), and `%` and `&` (and `=` in a
/// name), as `%XX`. Everything else is written as is, so the specification's own example
/// (`?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory`)
/// renders unchanged.
pub(super) fn write(f: &mut fmt::Formatter<'_>, query: &[(String, String)]) -> fmt::Result {
    for (i, (name, value)) in query.iter().enumerate() {
        f.write_str(if i == 0 { "?" } else { "&" })?;
        encode(f, name, true)?;
        f.write_str("=")?;
        encode(f, value, false)?;
    }
    Ok(())
}

fn encode(f: &mut fmt::Formatter<'_>, s: &str, is_name: bool) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        let escape = !super::is_scope_char(b) || b == b'%' || b == b'&' || (is_name && b == b'=');
        if escape {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
            write!(f, "%{}{}", char::from(hi), char::from(lo))?;
        } else {
            write!(f, "{}", char::from(b))?;
        }
    }
    Ok(())
}
