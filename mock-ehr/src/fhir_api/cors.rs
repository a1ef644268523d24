//! CORS for the FHIR API: only origins some registered client declared (its `origins`,
//! or the origins of its redirect URIs), as on the token endpoint; other origins get
//! no CORS headers, so the browser hides the response. Preflights list the FHIR
//! methods and headers, and responses expose the headers a FHIR client reads.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cors::origin_registered;
use crate::state::AppState;

const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "authorization, dpop, content-type, accept, if-match, \
     if-none-match, if-none-exist, prefer";
const EXPOSE_HEADERS: &str = "etag, last-modified, location, content-location, \
     www-authenticate, dpop-nonce, retry-after, x-progress";

/// Middleware: CORS for registered origins.
pub(crate) async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| origin_registered(&state, o));
    let mut response = if req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if allowed {
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        r
    } else {
        let mut r = next.run(req).await;
        if allowed {
            r.headers_mut().insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
        r
    };
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
