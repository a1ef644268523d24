//! Strict parsing of OAuth request parameters (query strings and
//! `application/x-www-form-urlencoded` bodies).
//!
//! - A parameter given twice is refused (RFC 6749 section 3.1: "Request and response
//!   parameters MUST NOT be included more than once").
//! - A parameter without a value is treated as omitted (same section).
//! - Unknown parameters are kept and ignored by the handlers (same section: "The
//!   authorization server MUST ignore unrecognized request parameters").
//! - Percent-encoding that does not decode to UTF-8 is refused.
//! - Bodies are limited to [`MAX_BODY`] bytes and [`MAX_PARAMS`] parameters.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};

use crate::error::AppError;

/// The largest request body accepted by any endpoint, in bytes (64 KiB).
pub const MAX_BODY: usize = 64 * 1024;
/// The most parameters a request may carry.
pub(crate) const MAX_PARAMS: usize = 64;

/// Decoded request parameters, each given at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `a=1&b=2`.
    pub(crate) fn parse(input: &[u8]) -> Result<Self, String> {
        let mut map = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(input) {
            // form_urlencoded decodes invalid UTF-8 lossily, to U+FFFD: refuse it (a
            // genuine U+FFFD in an OAuth parameter is refused along with it).
            if k.contains('\u{FFFD}') || v.contains('\u{FFFD}') {
                return Err("a parameter is not UTF-8".into());
            }
            if map.len() >= MAX_PARAMS {
                return Err(format!("more than {MAX_PARAMS} parameters"));
            }
            if map.contains_key(k.as_ref()) {
                return Err(format!("parameter {k} is repeated"));
            }
            map.insert(k.into_owned(), v.into_owned());
        }
        Ok(Self(map))
    }

    /// A parameter's value; an empty value counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A required parameter.
    pub(crate) fn require(&self, name: &str) -> Result<&str, AppError> {
        self.get(name)
            .ok_or_else(|| AppError::invalid_request(format!("missing parameter {name}")))
    }

    /// Every parameter.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// Builds from pairs (for PAR).
    pub(crate) fn from_map(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }
}

/// Whether the request's `Content-Type` is `application/x-www-form-urlencoded`
/// (parameters such as `charset` allowed).
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// An extractor for a strict form body: the right `Content-Type`, at most
/// [`MAX_BODY`] bytes, no repeated parameters. Refusals are `invalid_request` JSON.
#[derive(Debug)]
pub(crate) struct OAuthForm {
    pub(crate) headers: HeaderMap,
    pub(crate) params: Params,
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        if !is_form(&headers) {
            return Err(AppError::invalid_request(
                "Content-Type must be application/x-www-form-urlencoded",
            ));
        }
        let body = read_body(req, state).await?;
        let params = Params::parse(&body).map_err(AppError::invalid_request)?;
        Ok(Self { headers, params })
    }
}

/// Reads a body of at most [`MAX_BODY`] bytes.
pub(crate) async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|_| {
        AppError::invalid_request(format!(
            "request body unreadable or larger than {MAX_BODY} bytes"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Params::parse(b"a=1&a=2").is_err());
        assert!(Params::parse(b"a=1&b=2").is_ok());
    }

    #[test]
    fn empty_values_count_as_absent() {
        let p = Params::parse(b"a=&b=x").unwrap();
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("x"));
    }

    #[test]
    fn bad_utf8_is_refused() {
        assert!(Params::parse(b"a=%FF").is_err());
        assert_eq!(Params::parse(b"a=%C3%A9").unwrap().get("a"), Some("\u{e9}"));
    }

    #[test]
    fn too_many_parameters() {
        let many: String = (0..=MAX_PARAMS).map(|i| format!("p{i}=x&")).collect();
        assert!(Params::parse(many.as_bytes()).is_err());
    }
}
