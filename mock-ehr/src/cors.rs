//! CORS: discovery, JWKS and `metadata` are open to any origin; the token-side
//! endpoints only to origins some registered client declared (its `origins`, or the
//! origins of its redirect URIs).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

const ALLOW_HEADERS: &str = "authorization, content-type, dpop";

/// Middleware: `Access-Control-Allow-Origin: *` (no credentials), preflight answered.
pub(crate) async fn open(req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        preflight_headers(&mut response, HeaderValue::from_static("*"));
        return response;
    }
    let mut response = next.run(req).await;
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Middleware: CORS for origins registered by a client; other origins get no CORS
/// headers (the browser then hides the response).
pub(crate) async fn registered(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| origin_registered(&state, o));
    if req.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let (true, Some(origin)) = (allowed, origin) {
            preflight_headers(&mut response, origin);
        }
        return response;
    }
    let mut response = next.run(req).await;
    if let (true, Some(origin)) = (allowed, origin) {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// Whether some registered client declared `origin`.
pub(crate) fn origin_registered(state: &AppState, origin: &str) -> bool {
    state
        .store()
        .directory
        .clients
        .values()
        .any(|c| c.origins.iter().any(|o| o == origin))
}

fn preflight_headers(response: &mut Response, origin: HeaderValue) {
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}
