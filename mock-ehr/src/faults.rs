//! Forced faults: the next N calls of an endpoint fail (or slow down) as a test asks
//! (`POST /_admin/faults`). A faulted call changes no other state.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, OAuthError};
use crate::state::AppState;

/// The endpoints a fault can target.
pub(crate) const ENDPOINTS: [&str; 7] = [
    "authorize",
    "token",
    "introspect",
    "revoke",
    "par",
    "register",
    "jwks",
];

/// The longest delay a fault may ask for, in milliseconds.
pub(crate) const MAX_DELAY_MS: u64 = 30_000;

/// What a faulted call does.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Answer with this OAuth error (JSON, or a redirect from `authorize`).
    OauthError {
        /// The code, such as `invalid_client` or `temporarily_unavailable`.
        error: String,
    },
    /// Answer with this HTTP status and a `server_error` body.
    Status {
        /// 400 to 599.
        status: u16,
    },
    /// Answer 429 with `Retry-After`.
    RateLimit {
        /// Seconds.
        retry_after: u64,
    },
    /// Wait, then handle the call normally.
    Delay {
        /// Milliseconds, at most [`MAX_DELAY_MS`].
        ms: u64,
    },
}

/// A fault armed for the next `remaining` calls of `endpoint`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// One of [`ENDPOINTS`].
    pub endpoint: String,
    /// How many calls it affects (at least 1).
    #[serde(alias = "count")]
    pub remaining: u32,
    /// What happens.
    pub fault: Fault,
}

impl FaultRule {
    /// Checks the rule's values.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !ENDPOINTS.contains(&self.endpoint.as_str()) {
            return Err(format!("endpoint must be one of {ENDPOINTS:?}"));
        }
        if self.remaining == 0 {
            return Err("count must be at least 1".into());
        }
        match &self.fault {
            Fault::OauthError { error } if OAuthError::from_code(error).is_none() => {
                Err(format!("unknown OAuth error code {error:?}"))
            }
            Fault::Status { status } if !(400..=599).contains(status) => {
                Err("status must be 400 to 599".into())
            }
            Fault::Delay { ms } if *ms > MAX_DELAY_MS => {
                Err(format!("delay at most {MAX_DELAY_MS} ms"))
            }
            _ => Ok(()),
        }
    }
}

/// Takes one armed fault for `endpoint`, if any.
pub(crate) fn take(state: &AppState, endpoint: &str) -> Option<Fault> {
    let mut store = state.store();
    let index = store.faults.iter().position(|r| r.endpoint == endpoint)?;
    let rule = store.faults.get_mut(index)?;
    rule.remaining = rule.remaining.saturating_sub(1);
    let fault = rule.fault.clone();
    if rule.remaining == 0 {
        store.faults.remove(index);
    }
    Some(fault)
}

/// The response of a fault that answers instead of the handler (`None` for a delay,
/// after which the handler runs).
pub(crate) async fn respond(fault: Fault) -> Option<Response> {
    match fault {
        Fault::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        Fault::OauthError { error } => {
            let error = OAuthError::from_code(&error).unwrap_or(OAuthError::ServerError);
            Some(AppError::oauth(error, "forced by a test fault").into_response())
        }
        Fault::Status { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({
                "error": "server_error",
                "error_description": "forced by a test fault",
            });
            Some((status, axum::Json(body)).into_response())
        }
        Fault::RateLimit { retry_after } => {
            Some(AppError::RateLimited { retry_after }.into_response())
        }
    }
}

/// Middleware: applies armed faults of `endpoint` before the handler.
pub(crate) async fn layer(
    State((state, endpoint)): State<(AppState, &'static str)>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(fault) = take(&state, endpoint)
        && let Some(response) = respond(fault).await
    {
        return response;
    }
    next.run(req).await
}
