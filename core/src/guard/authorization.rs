//! The `Authorization` request header: `credentials = auth-scheme 1*SP token68`
//! (RFC 9110 section 11.6.2, RFC 6750 section 2.1, RFC 9449 section 7.1).

use crate::guard::GuardError;

/// The schemes the guard understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Bearer,
    Dpop,
}

/// Parses an `Authorization` field value into a scheme and its token.
///
/// - absent, or only whitespace: [`GuardError::NoCredentials`];
/// - a `,` (two field values joined, or a list of credentials):
///   [`GuardError::MultipleCredentials`];
/// - a byte that is not visible ASCII or space: [`GuardError::AuthorizationMalformed`];
/// - a scheme other than `Bearer` or `DPoP`, compared ASCII case-insensitively
///   (RFC 9110 section 11.1: `bearer` is `Bearer`): [`GuardError::SchemeUnsupported`];
/// - no token, a token with spaces, or one outside the `token68` alphabet:
///   [`GuardError::AuthorizationMalformed`].
///
/// Leading and trailing spaces and tabs are not part of a field value (RFC 9110
/// section 5.5) and are ignored; one or more spaces separate scheme and token.
pub(crate) fn parse(value: Option<&str>) -> Result<(Scheme, &str), GuardError> {
    let value = value
        .unwrap_or_default()
        .trim_matches(|c| c == ' ' || c == '\t');
    if value.is_empty() {
        return Err(GuardError::NoCredentials);
    }
    if value.contains(',') {
        return Err(GuardError::MultipleCredentials);
    }
    if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(GuardError::AuthorizationMalformed(
            "Authorization header holds bytes that are not visible ASCII",
        ));
    }
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if scheme.eq_ignore_ascii_case("Bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("DPoP") {
        Scheme::Dpop
    } else {
        return Err(GuardError::SchemeUnsupported);
    };
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(GuardError::AuthorizationMalformed(
            "Authorization header has no token",
        ));
    }
    if token.contains(' ') {
        return Err(GuardError::AuthorizationMalformed(
            "Authorization header token contains spaces",
        ));
    }
    if !is_token68(token) {
        return Err(GuardError::AuthorizationMalformed(
            "Authorization header token is not token68",
        ));
    }
    Ok((scheme, token))
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token68() {
        assert!(is_token68("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"));
        assert!(is_token68("abc=="));
        assert!(is_token68("a+/b"));
        assert!(!is_token68("=="));
        assert!(!is_token68("a=b"));
        assert!(!is_token68("a\"b"));
    }
}
