//! `WWW-Authenticate` values (RFC 6750 section 3, RFC 9449 sections 7.1 and 7.2).

use alloc::string::String;

/// An `auth-param` value fit for a `quoted-string`: RFC 6750 section 3 allows
/// `%x20-21 / %x23-5B / %x5D-7E` in `error_description` and `scope`, so `"` and `\`
/// become `'`, and every other byte outside that range is dropped. Nothing a client
/// sent reaches a header unescaped.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '"' | '\\' => Some('\''),
            ' '..='~' => Some(c),
            _ => None,
        })
        .collect()
}

/// Builds one challenge: `scheme` followed by `name="value"` parameters, the first
/// after a space and the others after `", "` (RFC 9110 section 11.6.1).
pub(crate) struct Challenge {
    out: String,
    params: usize,
}

impl Challenge {
    pub(crate) fn new(scheme: &str) -> Self {
        Self {
            out: String::from(scheme),
            params: 0,
        }
    }

    /// Adds `name="value"`; `value` must already be sanitised.
    pub(crate) fn param(mut self, name: &str, value: &str) -> Self {
        self.out.push_str(if self.params == 0 { " " } else { ", " });
        self.out.push_str(name);
        self.out.push_str("=\"");
        self.out.push_str(value);
        self.out.push('"');
        self.params += 1;
        self
    }

    pub(crate) fn opt(self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes() {
        assert_eq!(sanitize("a\"b\\c\r\n\u{7f}é\t"), "a'b'c");
        assert_eq!(sanitize("x, error=\"y\""), "x, error='y'");
    }

    #[test]
    fn separators() {
        assert_eq!(Challenge::new("Bearer").finish(), "Bearer");
        assert_eq!(
            Challenge::new("DPoP")
                .param("error", "e")
                .param("algs", "ES256")
                .finish(),
            "DPoP error=\"e\", algs=\"ES256\""
        );
    }
}
