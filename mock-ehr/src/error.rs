//! The one error type of the server, [`AppError`], and its HTTP rendering.
//!
//! - OAuth errors become the JSON body of [RFC 6749 section 5.2]
//!   (`{"error", "error_description"}`), with `Cache-Control: no-store`; `invalid_client`
//!   is a 401 with `WWW-Authenticate: Basic`.
//! - Errors of the authorization endpoint that must not redirect (unknown client, an
//!   unregistered `redirect_uri`) become an HTML error page ([`AppError::Page`]).
//! - Internal errors are logged and answered with a generic `server_error`; their text
//!   never reaches the client.
//!
//! [RFC 6749 section 5.2]: https://www.rfc-editor.org/rfc/rfc6749#section-5.2

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::pages;

/// An OAuth 2.0 error code ([RFC 6749 section 5.2], [section 4.1.2.1], [RFC 7009],
/// [RFC 7591], [RFC 9126]).
///
/// [RFC 6749 section 5.2]: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
/// [section 4.1.2.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
/// [RFC 7009]: https://www.rfc-editor.org/rfc/rfc7009
/// [RFC 7591]: https://www.rfc-editor.org/rfc/rfc7591
/// [RFC 9126]: https://www.rfc-editor.org/rfc/rfc9126
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    /// `invalid_request`.
    InvalidRequest,
    /// `invalid_client`.
    InvalidClient,
    /// `invalid_grant`.
    InvalidGrant,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
    /// `access_denied`.
    AccessDenied,
    /// `unsupported_response_type`.
    UnsupportedResponseType,
    /// `server_error`.
    ServerError,
    /// `temporarily_unavailable`.
    TemporarilyUnavailable,
    /// `unsupported_token_type` (RFC 7009).
    UnsupportedTokenType,
    /// `invalid_redirect_uri` (RFC 7591).
    InvalidRedirectUri,
    /// `invalid_client_metadata` (RFC 7591).
    InvalidClientMetadata,
    /// `invalid_request_uri` (RFC 9126 / RFC 9101).
    InvalidRequestUri,
    /// `invalid_token` (RFC 6750, for a bad bearer token on introspection).
    InvalidToken,
}

impl OAuthError {
    /// Every code, for parsing.
    pub const ALL: [Self; 15] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::InvalidScope,
        Self::AccessDenied,
        Self::UnsupportedResponseType,
        Self::ServerError,
        Self::TemporarilyUnavailable,
        Self::UnsupportedTokenType,
        Self::InvalidRedirectUri,
        Self::InvalidClientMetadata,
        Self::InvalidRequestUri,
        Self::InvalidToken,
    ];

    /// The code on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidToken => "invalid_token",
        }
    }

    /// Parses a code on the wire.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    /// The HTTP status this error is answered with from a JSON endpoint.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidClient | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Every error a handler returns.
#[non_exhaustive]
#[derive(Debug)]
pub enum AppError {
    /// An OAuth error answered as RFC 6749 section 5.2 JSON.
    OAuth {
        /// The error code.
        error: OAuthError,
        /// A human-readable `error_description`.
        description: String,
    },
    /// An HTML error page (the authorization endpoint when it may not redirect).
    Page {
        /// The HTTP status.
        status: StatusCode,
        /// The OAuth error code shown on the page.
        error: OAuthError,
        /// What went wrong, for the person in front of the browser.
        description: String,
    },
    /// Too many requests: 429 with `Retry-After`, body an OAuth error JSON.
    RateLimited {
        /// Seconds until the caller may try again.
        retry_after: u64,
    },
    /// A JSON error of the admin API (`{"error": ...}`), with its status.
    Admin {
        /// The HTTP status.
        status: StatusCode,
        /// What was refused.
        message: String,
    },
    /// An internal failure: logged, answered with a generic `server_error`.
    Internal(String),
}

impl AppError {
    /// An OAuth error.
    pub fn oauth(error: OAuthError, description: impl Into<String>) -> Self {
        Self::OAuth {
            error,
            description: description.into(),
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::oauth(OAuthError::InvalidRequest, description)
    }

    /// `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::oauth(OAuthError::InvalidClient, description)
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::oauth(OAuthError::InvalidGrant, description)
    }

    /// An HTML error page with status 400.
    pub fn page(error: OAuthError, description: impl Into<String>) -> Self {
        Self::Page {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
        }
    }

    /// A 400 from the admin API.
    pub fn admin(message: impl Into<String>) -> Self {
        Self::Admin {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// An internal error (logged, never shown).
    pub fn internal(what: impl Into<String>) -> Self {
        Self::Internal(what.into())
    }

    /// The OAuth error code, when this is an OAuth error or page.
    pub fn oauth_code(&self) -> Option<OAuthError> {
        match self {
            Self::OAuth { error, .. } | Self::Page { error, .. } => Some(*error),
            Self::RateLimited { .. } => Some(OAuthError::TemporarilyUnavailable),
            Self::Internal(_) => Some(OAuthError::ServerError),
            Self::Admin { .. } => None,
        }
    }
}

impl From<smartgate_core::Error> for AppError {
    fn from(e: smartgate_core::Error) -> Self {
        Self::internal(format!("core: {} ({e})", e.code()))
    }
}

/// Headers every token-bearing or error response carries (RFC 6749 section 5.1).
pub(crate) fn no_store(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn oauth_json(status: StatusCode, error: OAuthError, description: &str) -> Response {
    let body = json!({ "error": error.code(), "error_description": description });
    let mut response = (status, axum::Json(body)).into_response();
    no_store(&mut response);
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            Self::OAuth { error, description } => {
                let mut response = oauth_json(error.status(), error, &description);
                if error == OAuthError::InvalidClient {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"mock-ehr\""),
                    );
                }
                response
            }
            Self::Page {
                status,
                error,
                description,
            } => {
                let mut response =
                    (status, Html(pages::error_page(error.code(), &description))).into_response();
                no_store(&mut response);
                response
            }
            Self::RateLimited { retry_after } => {
                let mut response = oauth_json(
                    StatusCode::TOO_MANY_REQUESTS,
                    OAuthError::TemporarilyUnavailable,
                    "rate limit exceeded; retry later",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
            Self::Admin { status, message } => {
                (status, axum::Json(json!({ "error": message }))).into_response()
            }
            Self::Internal(what) => {
                tracing::error!(error = %what, "internal error");
                oauth_json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    OAuthError::ServerError,
                    "internal error",
                )
            }
        }
    }
}
