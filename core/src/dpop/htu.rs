//! `htu` comparison: [RFC 3986 section 6.2.2] syntax-based and [section 6.2.3]
//! scheme-based normalisation of absolute `http` / `https` URLs, written out by hand
//! (no `url` crate: `no_std`, and a small exact function is easier to check).
//!
//! [RFC 3986 section 6.2.2]: https://www.rfc-editor.org/rfc/rfc3986#section-6.2.2
//! [section 6.2.3]: https://www.rfc-editor.org/rfc/rfc3986#section-6.2.3

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::dpop::DpopError;
use crate::error::Error;

/// The longest URL (an `htu` or a request URL) accepted, in bytes.
pub const MAX_URL_LEN: usize = 8 * 1024;

/// Normalises an absolute `http` or `https` URL for comparison as a DPoP `htu`
/// ([RFC 3986 section 6.2.2] and [section 6.2.3]), to `scheme://host[:port]/path`:
///
/// - the scheme must be `http` or `https` (any case) followed by `//` and an authority;
///   it is lower-cased;
/// - userinfo (`user@`) is refused (RFC 9110 section 4.2.4 forbids it in `http(s)` URIs);
/// - the host must not be empty. A registered name or IPv4 address may hold unreserved
///   characters, sub-delimiters and percent-encodings, and is lower-cased; an IPv6
///   literal (`[::1]`) is parsed and printed in the RFC 5952 form (lower-case hex, no
///   leading zeros, the longest run of zero groups as `::`, always hex, never a dotted
///   IPv4 tail), so `[0:0::1]` and `[::1]` compare equal. Zone identifiers and
///   `IPvFuture` are refused;
/// - the port, when present, must be decimal and at most 65535; an empty port or the
///   scheme's default (80 for `http`, 443 for `https`) is dropped, and leading zeros
///   go (`:0443` is `:443`);
/// - the path: percent-encodings get upper-case hex, those of unreserved characters
///   are decoded (`%7e` is `~`), bytes that RFC 3986 does not allow in a path (space,
///   `"`, `|`, non-ASCII, ...) are percent-encoded as browsers do, then dot segments
///   are removed (RFC 3986 section 5.2.4; after decoding, so `%2E%2E` is `..`); an
///   empty path is `/`. `%2F` stays distinct from `/`, and case in the path matters;
/// - query and fragment are dropped (RFC 9449 section 4.3, check 9).
///
/// A malformed percent-encoding (`%4`, `%zz`) refuses the URL.
///
/// [RFC 3986 section 6.2.2]: https://www.rfc-editor.org/rfc/rfc3986#section-6.2.2
/// [section 6.2.3]: https://www.rfc-editor.org/rfc/rfc3986#section-6.2.3
///
/// # Errors
/// `ERR_DPOP_HTU_INVALID` when `url` is not an absolute `http(s)` URL by the rules
/// above or is longer than [`MAX_URL_LEN`].
pub fn normalize_htu(url: &str) -> Result<String, Error> {
    normalize(url).ok_or_else(|| DpopError::HtuInvalid.into())
}

pub(crate) fn normalize(url: &str) -> Option<String> {
    if url.len() > MAX_URL_LEN {
        return None;
    }
    let colon = url.find(':')?;
    let scheme = url.get(..colon)?;
    let default_port = if scheme.eq_ignore_ascii_case("http") {
        80
    } else if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        return None;
    };
    let rest = url.get(colon + 1..)?.strip_prefix("//")?;
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let hier = rest.get(..end)?;
    let (authority, path) = match hier.find('/') {
        Some(i) => (hier.get(..i)?, hier.get(i..)?),
        None => (hier, ""),
    };
    if authority.contains('@') {
        return None;
    }
    let (host, port) = split_host_port(authority)?;

    let mut out = String::with_capacity(url.len() + 8);
    out.push_str(if default_port == 80 {
        "http://"
    } else {
        "https://"
    });
    if let Some(literal) = host.strip_prefix('[') {
        let groups = parse_ipv6(literal.strip_suffix(']')?)?;
        out.push('[');
        write_ipv6(&groups, &mut out);
        out.push(']');
    } else {
        if host.is_empty() {
            return None;
        }
        percent_normalize(host, Part::Host, &mut out)?;
    }
    if let Some(port) = port {
        let port = parse_port(port)?;
        if let Some(p) = port
            && p != default_port
        {
            write!(out, ":{p}").ok()?;
        }
    }
    let mut normalized_path = String::with_capacity(path.len());
    percent_normalize(path, Part::Path, &mut normalized_path)?;
    remove_dot_segments(&normalized_path, &mut out);
    Some(out)
}

/// Splits `host[:port]`; an IPv6 literal keeps its brackets.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let close = authority.find(']')?;
        let host = authority.get(..=close)?;
        let after = authority.get(close + 1..)?;
        if after.is_empty() {
            Some((host, None))
        } else {
            Some((host, Some(after.strip_prefix(':')?)))
        }
    } else {
        match authority.rfind(':') {
            Some(i) => Some((authority.get(..i)?, Some(authority.get(i + 1..)?))),
            None => Some((authority, None)),
        }
    }
}

/// `*DIGIT`, at most 65535; `None` inside means the empty port (the default).
fn parse_port(port: &str) -> Option<Option<u16>> {
    if port.is_empty() {
        return Some(None);
    }
    let mut value: u32 = 0;
    for b in port.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
        if value > u32::from(u16::MAX) {
            return None;
        }
    }
    u16::try_from(value).ok().map(Some)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Host,
    Path,
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `%XX` with upper-case hex (RFC 3986 section 6.2.2.1).
fn push_encoded(b: u8, out: &mut String) {
    let digit = |n: u8| char::from(if n < 10 { b'0' + n } else { b'A' + n - 10 });
    out.push('%');
    out.push(digit(b >> 4));
    out.push(digit(b & 0x0f));
}

/// Percent-encoding normalisation (RFC 3986 sections 6.2.2.1 and 6.2.2.2). A host is
/// lower-cased and refuses characters outside its grammar; a path keeps its case and
/// percent-encodes them.
fn percent_normalize(input: &str, part: Part, out: &mut String) -> Option<()> {
    let bytes = input.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            let v = (hi << 4) | lo;
            if is_unreserved(v) {
                out.push(char::from(if part == Part::Host {
                    v.to_ascii_lowercase()
                } else {
                    v
                }));
            } else {
                push_encoded(v, out);
            }
            i += 3;
            continue;
        }
        let allowed = is_unreserved(b)
            || is_sub_delim(b)
            || (part == Part::Path && matches!(b, b':' | b'@' | b'/'));
        match (allowed, part) {
            (true, Part::Host) => out.push(char::from(b.to_ascii_lowercase())),
            (true, Part::Path) => out.push(char::from(b)),
            (false, Part::Host) => return None,
            (false, Part::Path) => push_encoded(b, out),
        }
        i += 1;
    }
    Some(())
}

/// RFC 3986 section 5.2.4 for an absolute (or empty) path; appends the result, `/`
/// for an empty path.
fn remove_dot_segments(path: &str, out: &mut String) {
    let mut stack: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in path.split('/').skip(1) {
        match segment {
            "." => trailing_slash = true,
            ".." => {
                stack.pop();
                trailing_slash = true;
            }
            s => {
                stack.push(s);
                trailing_slash = false;
            }
        }
    }
    let start = out.len();
    for s in &stack {
        out.push('/');
        out.push_str(s);
    }
    if trailing_slash || out.len() == start {
        out.push('/');
    }
}

/// An IPv6 address (RFC 4291 section 2.2 text forms, RFC 3986 `IPv6address`).
fn parse_ipv6(s: &str) -> Option<[u16; 8]> {
    let (head, tail) = match s.find("::") {
        Some(i) => (s.get(..i)?, Some(s.get(i + 2..)?)),
        None => (s, None),
    };
    let head = parse_groups(head, tail.is_none())?;
    let mut groups = [0u16; 8];
    match tail {
        None => {
            if head.len() != 8 {
                return None;
            }
            groups.copy_from_slice(&head);
        }
        Some(tail) => {
            if tail.contains("::") {
                return None;
            }
            let tail = parse_groups(tail, true)?;
            // `::` stands for at least one zero group.
            if head.len() + tail.len() > 7 {
                return None;
            }
            groups.get_mut(..head.len())?.copy_from_slice(&head);
            groups.get_mut(8 - tail.len()..)?.copy_from_slice(&tail);
        }
    }
    Some(groups)
}

/// `h16 *(":" h16)` with an optional dotted IPv4 last; empty input is no groups.
fn parse_groups(s: &str, ipv4_last_allowed: bool) -> Option<Vec<u16>> {
    let mut out = Vec::new();
    if s.is_empty() {
        return Some(out);
    }
    let mut parts = s.split(':').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if last && ipv4_last_allowed && part.contains('.') {
            let [a, b, c, d] = parse_ipv4(part)?;
            out.push(u16::from_be_bytes([a, b]));
            out.push(u16::from_be_bytes([c, d]));
        } else {
            if part.is_empty() || part.len() > 4 {
                return None;
            }
            let mut v: u16 = 0;
            for b in part.bytes() {
                v = (v << 4) | u16::from(hex_value(b)?);
            }
            out.push(v);
        }
        if out.len() > 8 {
            return None;
        }
    }
    Some(out)
}

/// Four `dec-octet`s (RFC 3986: no leading zeros).
fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for slot in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        if !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = p.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

/// RFC 5952 section 4: lower-case hex without leading zeros; the longest run of two
/// or more zero groups (the first of equal runs) as `::`.
fn write_ipv6(groups: &[u16; 8], out: &mut String) {
    let (mut best_start, mut best_len) = (8, 0);
    let mut i = 0;
    while i < 8 {
        if groups.get(i) == Some(&0) {
            let start = i;
            while groups.get(i) == Some(&0) {
                i += 1;
            }
            if i - start > best_len {
                (best_start, best_len) = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_start = 8;
    }
    let mut i = 0;
    while i < 8 {
        if i == best_start {
            out.push_str("::");
            i += best_len;
            continue;
        }
        if i > 0 && i != best_start + best_len {
            out.push(':');
        }
        let _ = write!(out, "{:x}", groups.get(i).copied().unwrap_or_default());
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        normalize(s)
    }

    #[test]
    fn ipv6_text_forms() {
        for (input, canonical) in [
            ("::1", "::1"),
            ("0:0:0:0:0:0:0:1", "::1"),
            ("::", "::"),
            ("2001:DB8::0:1", "2001:db8::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            (
                "2001:0db8:0000:0000:0000:ff00:0042:8329",
                "2001:db8::ff00:42:8329",
            ),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("::ffff:192.0.2.1", "::ffff:c000:201"),
            ("1::", "1::"),
            ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ] {
            let g = parse_ipv6(input).unwrap_or_else(|| panic!("{input}"));
            let mut s = String::new();
            write_ipv6(&g, &mut s);
            assert_eq!(s, canonical, "{input}");
        }
        for bad in [
            "",
            ":",
            ":::",
            "1::2::3",
            "1:2:3:4:5:6:7:8:9",
            "12345::",
            "g::",
            "::1%eth0",
            "1:2:3:4:5:6:7:8::",
            "::1.2.3",
            "::01.2.3.4",
            "::1.2.3.256",
            "1.2.3.4::",
        ] {
            assert_eq!(parse_ipv6(bad), None, "{bad}");
        }
    }

    #[test]
    fn dot_segments() {
        for (path, expected) in [
            ("", "/"),
            ("/", "/"),
            ("/a/b/c/./../../g", "/a/g"),
            ("/mid/content=5/../6", "/mid/6"),
            ("/a/.", "/a/"),
            ("/a/..", "/"),
            ("/..", "/"),
            ("/a//b", "/a//b"),
            ("/a/", "/a/"),
        ] {
            let mut s = String::new();
            remove_dot_segments(path, &mut s);
            assert_eq!(s, expected, "{path}");
        }
    }

    #[test]
    fn port_range() {
        assert_eq!(n("http://h:65535/").as_deref(), Some("http://h:65535/"));
        assert_eq!(n("http://h:65536/"), None);
        assert_eq!(n("http://h:99999999999999999999/"), None);
        assert_eq!(n("http://h:0080/").as_deref(), Some("http://h/"));
    }
}
