//! Responses of the FHIR API: resources and Bundles as `application/fhir+json`, and
//! every refusal as an `OperationOutcome` ([R4 http], [R4 OperationOutcome]).
//!
//! | status | when | issue code |
//! | --- | --- | --- |
//! | 400 | bad search parameter or header value, malformed JSON, an id outside `[A-Za-z0-9-.]{1,64}` (`..` included), an update whose body id differs, a malformed JSON Patch, a guard `invalid_request` | `invalid`, `not-supported` |
//! | 401 | no, bad, expired, revoked or forgotten token; bad DPoP proof (with `WWW-Authenticate`, and `DPoP-Nonce` when asked) | `security` |
//! | 403 | the scopes do not allow the interaction on the type (`insufficient_scope`), or a write's new content lies outside them, or bulk export without a backend token | `forbidden` |
//! | 404 | no such resource, or one the token may not see (see [`crate::fhir_api`]); a type this server does not serve; an unknown path | `not-found`, `not-supported` |
//! | 405 | a method the path does not take (with `Allow`) | `not-supported` |
//! | 406 | an `Accept` or `_format` asking for something other than JSON | `not-supported` |
//! | 410 | a deleted resource | `deleted` |
//! | 412 | `If-Match` not the current version; conditional create matching several | `conflict`, `multiple-matches` |
//! | 413 | a body over [`MAX_BODY`](crate::MAX_BODY) | `too-long` |
//! | 415 | a body that is not `application/fhir+json` / `application/json` (JSON Patch: `application/json-patch+json`; `_search`: a form) | `not-supported` |
//! | 422 | an invalid resource (`resourceType` not the URL's, required element missing); a JSON Patch that does not apply | `invalid`, `required`, `processing` |
//! | 429 | too many bulk export jobs, or a test fault (with `Retry-After`) | `throttled` |
//! | 503 | the DPoP replay cache cannot record a proof (full of live entries) | `transient` |
//!
//! [R4 http]: https://hl7.org/fhir/R4/http.html
//! [R4 OperationOutcome]: https://hl7.org/fhir/R4/operationoutcome.html

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use smartgate_core::guard::{Authorized, Rejection};

use crate::audit::AuditEvent;
use crate::error::OAuthError;
use crate::faults::{self, Fault};
use crate::fhir::FhirError;
use crate::fhir::error::operation_outcome;
use crate::fhir_api::auth::invalid_token_challenge;
use crate::state::AppState;

/// The code system of the smartgate-core error codes, in `details.coding` of a guard
/// refusal's `OperationOutcome` (the codes of the core's README).
pub(crate) const CORE_CODE_SYSTEM: &str = "urn:smartgate:error-code";

/// The media type of FHIR JSON.
pub(crate) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// What the audit trail records as the outcome of a response (`success`, an OAuth
/// error, an `ERR_...` code), carried as a response extension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome(pub(crate) &'static str);

/// The outcome recorded for `response`.
pub(crate) fn outcome_of(response: &Response) -> &'static str {
    response
        .extensions()
        .get::<Outcome>()
        .map_or("success", |o| o.0)
}

/// A refusal, answered as an `OperationOutcome`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    issue: &'static str,
    code: &'static str,
    /// The smartgate-core error code behind a guard refusal (`ERR_DPOP_REPLAY`, ...).
    core_code: Option<&'static str>,
    diagnostics: String,
    headers: Vec<(HeaderName, String)>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        issue: &'static str,
        code: &'static str,
        diagnostics: impl Into<String>,
    ) -> Self {
        Self {
            status,
            issue,
            code,
            core_code: None,
            diagnostics: diagnostics.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub(crate) fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The guard's refusal: its status, `WWW-Authenticate`, `DPoP-Nonce`, its
    /// description and code.
    pub(crate) fn rejected(r: &Rejection) -> Self {
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNAUTHORIZED);
        let issue = match r.status {
            403 => "forbidden",
            400 => "invalid",
            // The DPoP replay store could not record the proof: the server's fault.
            503 => "transient",
            _ => "security",
        };
        let mut e = Self::new(status, issue, r.error.unwrap_or(r.code), &r.description)
            .header(header::WWW_AUTHENTICATE, &r.www_authenticate);
        e.core_code = Some(r.code);
        if let Some(nonce) = &r.dpop_nonce {
            e = e.header(HeaderName::from_static("dpop-nonce"), nonce);
        }
        e
    }

    /// 401 `invalid_token` for a token the guard accepted but the authorization server
    /// no longer stands behind.
    pub(crate) fn invalid_token(authorized: &Authorized, why: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "security", "invalid_token", why).header(
            header::WWW_AUTHENTICATE,
            invalid_token_challenge(authorized.jkt.is_some(), why),
        )
    }

    /// 413: the body is over the limit.
    pub(crate) fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-long",
            "ERR_FHIR_BODY_TOO_LARGE",
            format!(
                "request bodies are limited to {} bytes",
                crate::form::MAX_BODY
            ),
        )
    }

    /// 415: the body's media type is not `expected`.
    pub(crate) fn media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            "ERR_FHIR_UNSUPPORTED_MEDIA_TYPE",
            format!("the body must be {expected}"),
        )
    }

    /// 406: the client accepts no format this server writes.
    pub(crate) fn not_acceptable(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-supported",
            "ERR_FHIR_NOT_ACCEPTABLE",
            format!("{what}: this server writes JSON only (application/fhir+json)"),
        )
    }

    /// 405 with `Allow`.
    pub(crate) fn method(allow: &'static str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            "ERR_FHIR_METHOD_NOT_ALLOWED",
            format!("this path takes {allow}"),
        )
        .header(header::ALLOW, allow)
    }

    /// 404 for a path that names nothing here.
    pub(crate) fn no_path(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "ERR_FHIR_UNKNOWN_PATH",
            format!(
                "no FHIR interaction at '{}'",
                crate::fhir::error::clip(path)
            ),
        )
    }

    /// 422 `processing`: a JSON Patch that does not apply.
    pub(crate) fn patch_failed(why: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "processing",
            "ERR_FHIR_PATCH_FAILED",
            why,
        )
    }

    /// 429 `throttled` with `Retry-After`.
    pub(crate) fn throttled(retry_after: u64, why: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "ERR_FHIR_THROTTLED",
            why,
        )
        .header(header::RETRY_AFTER, retry_after.to_string())
    }

    /// 500, logged; the text never reaches the client.
    pub(crate) fn internal(what: impl Into<String>) -> Self {
        tracing::error!(error = %what.into(), "FHIR API internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "ERR_FHIR_INTERNAL",
            "internal error",
        )
    }
}

impl From<FhirError> for ApiError {
    fn from(e: FhirError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        Self::new(status, e.issue_type(), e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut outcome = operation_outcome("error", self.issue, &self.diagnostics);
        if let Some(issue) = outcome
            .get_mut("issue")
            .and_then(|i| i.get_mut(0))
            .and_then(Value::as_object_mut)
        {
            let details = match self.core_code {
                Some(code) => json!({
                    "coding": [{ "system": CORE_CODE_SYSTEM, "code": code }],
                    "text": self.code,
                }),
                None => json!({ "text": self.code }),
            };
            issue.insert("details".into(), details);
        }
        let mut response = fhir_json(self.status, &outcome);
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().append(name, v);
            }
        }
        response.extensions_mut().insert(Outcome(self.code));
        response
    }
}

/// `value` as FHIR JSON with `status`.
pub(crate) fn fhir_json(status: StatusCode, value: &Value) -> Response {
    body_with(
        status,
        FHIR_JSON,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

/// A body of `content_type` with `status`.
pub(crate) fn body_with(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = (status, Body::from(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Sets a header whose value is known to be visible ASCII (ETags, dates, URLs).
pub(crate) fn set(response: &mut Response, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
}

/// Middleware: the armed test faults of endpoint `fhir` (`POST /_admin/faults`), as
/// FHIR answers: `status` an OperationOutcome with that status, `rate_limit` 429
/// `throttled` with `Retry-After`, `oauth_error` that error (`invalid_token` as a 401
/// with `WWW-Authenticate`), `delay` a wait before the request runs.
pub(crate) async fn fault_layer(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(fault) = faults::take(&state, "fhir") else {
        return next.run(req).await;
    };
    let error = match fault {
        Fault::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return next.run(req).await;
        }
        Fault::Status { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let issue = if status.is_server_error() {
                "transient"
            } else {
                "processing"
            };
            ApiError::new(status, issue, "ERR_FHIR_FAULT", "forced by a test fault")
        }
        Fault::RateLimit { retry_after } => {
            ApiError::throttled(retry_after, "forced by a test fault")
        }
        Fault::OauthError { error } => {
            let error = OAuthError::from_code(&error).unwrap_or(OAuthError::ServerError);
            let e = ApiError::new(
                error.status(),
                if error == OAuthError::InvalidToken {
                    "security"
                } else {
                    "processing"
                },
                error.code(),
                "forced by a test fault",
            );
            if error == OAuthError::InvalidToken {
                e.header(
                    header::WWW_AUTHENTICATE,
                    invalid_token_challenge(false, "forced by a test fault"),
                )
            } else {
                e
            }
        }
    };
    let response = error.into_response();
    state.audit(AuditEvent::new("fhir", "fault").detail(format!(
        "{} {} -> {} (test fault)",
        req.method(),
        req.uri().path(),
        response.status().as_u16()
    )));
    response
}
