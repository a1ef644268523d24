//! Query strings: `application/x-www-form-urlencoded` decoding into name/value pairs,
//! percent-encoding for the links the server writes, and FHIR's backslash escapes
//! (`\,` `\|` `\$` `\\`) inside values ([R4 search, escaping]).
//!
//! [R4 search, escaping]: https://hl7.org/fhir/R4/search.html#escaping

use crate::fhir::FhirError;

/// Splits `query` (with or without a leading `?`) into decoded `(name, value)` pairs, in
/// order. Empty pieces (`a=1&&b=2`) are skipped; a piece without `=` has an empty value.
/// `+` decodes to a space.
///
/// # Errors
/// [`FhirError::InvalidParameter`] for a malformed `%` escape or bytes that are not UTF-8.
pub(crate) fn parse_pairs(query: &str) -> Result<Vec<(String, String)>, FhirError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut pairs = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        let name = decode(name)?;
        let value = decode(value).map_err(|e| match e {
            FhirError::InvalidParameter { reason, .. } => FhirError::InvalidParameter {
                name: name.clone(),
                reason,
            },
            other => other,
        })?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn decode(text: &str) -> Result<String, FhirError> {
    let bad = |reason: &str| FhirError::InvalidParameter {
        name: text.into(),
        reason: reason.into(),
    };
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(hex_value);
                let lo = bytes.next().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(bad("a '%' is not followed by two hex digits")),
                }
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| bad("the decoded text is not UTF-8"))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes `text` for a query component: everything but the RFC 3986
/// unreserved characters and `,` `:` `/` (which a query may hold literally) is escaped.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b',' | b':' | b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits `value` at each `sep` not escaped by a backslash. Escapes stay in the parts
/// (so a part can be split again at another separator); [`unescape`] the final parts.
pub(crate) fn split_unescaped(value: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            current.push(c);
            if let Some(next) = chars.next() {
                current.push(next);
            }
        } else if c == sep {
            parts.push(core::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

/// Removes FHIR backslash escapes (`\,` `\|` `\$` `\\`) from `value`.
pub(crate) fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next @ (',' | '|' | '$' | '\\')) => out.push(next),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}
