//! The request the guard checks.

use core::fmt;

use crate::scope;

/// One request, as the guard sees it. Its `Debug` output leaves out the credentials.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) now: i64,
    pub(crate) authorization: Option<&'a str>,
    pub(crate) dpop: Option<&'a str>,
    pub(crate) client_certificate_thumbprint: Option<&'a str>,
    pub(crate) fhir: Option<scope::Request<'a>>,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: Option<&str>| v.map(|_| "..");
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("now", &self.now)
            .field("authorization", &redacted(self.authorization))
            .field("dpop", &redacted(self.dpop))
            .field(
                "client_certificate_thumbprint",
                &self.client_certificate_thumbprint,
            )
            .field("fhir", &self.fhir)
            .finish()
    }
}

impl<'a> Request<'a> {
    /// A request with its method (as received: case matters), its absolute URL
    /// (`https://host/path?query`, as the client addressed it) and the time.
    pub fn new(method: &'a str, url: &'a str, now: i64) -> Self {
        Self {
            method,
            url,
            now,
            authorization: None,
            dpop: None,
            client_certificate_thumbprint: None,
            fhir: None,
        }
    }

    /// The `Authorization` field value. Several fields must be passed joined with
    /// `", "` (RFC 9110 section 5.3), and are then refused as multiple credentials.
    #[must_use]
    pub fn authorization(mut self, value: &'a str) -> Self {
        self.authorization = Some(value);
        self
    }

    /// The `DPoP` field value. Several fields must be passed joined with `", "`, and
    /// are then refused (RFC 9449 section 4.3, check 1).
    #[must_use]
    pub fn dpop(mut self, value: &'a str) -> Self {
        self.dpop = Some(value);
        self
    }

    /// The SHA-256 thumbprint of the DER client certificate of the TLS connection
    /// (RFC 8705 section 3.1), as a TLS terminator or edge platform reports it:
    /// base64url (as in `x5t#S256`) or 64 hex digits of either case. Compared as
    /// bytes with the token's `cnf["x5t#S256"]`.
    #[must_use]
    pub fn client_certificate_thumbprint(mut self, x5t_s256: &'a str) -> Self {
        self.client_certificate_thumbprint = Some(x5t_s256);
        self
    }

    /// The FHIR interaction the request performs (resource type, interaction, search
    /// parameters): the guard then also checks that the token's SMART scopes grant it
    /// ([`Guard::authorize`](super::Guard::authorize)), and answers 403
    /// `insufficient_scope` naming a scope that would.
    #[must_use]
    pub fn fhir(mut self, interaction: scope::Request<'a>) -> Self {
        self.fhir = Some(interaction);
        self
    }
}
