//! One FHIR request, start to end: the route, the guard (with the interaction the route
//! and method name, so the scopes are checked in the same call), the format checks,
//! then the interaction itself ([`read`], [`write`], [`search`], [`super::bulk`]).

mod read;
mod write;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use smartgate_core::scope::{self, Interaction, ResourceType};

use crate::fhir::{self, Access, Version};
use crate::fhir_api::auth::{self, Caller, Credentials};
use crate::fhir_api::respond::{ApiError, fhir_json, set};
use crate::fhir_api::route::{self, Route};
use crate::fhir_api::{AuditInfo, audit_events, bulk, stats};
use crate::state::AppState;

/// The parts of a request the interactions read.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a Bytes,
}

/// The longest request line kept in an audit event.
const SUMMARY_MAX: usize = 240;

impl Incoming<'_> {
    /// `METHOD /path?query`, cut to a sensible length, for the audit trail. The
    /// values of parameters that could carry a credential ([`SECRET_PARAMS`]: an
    /// RFC 6750 `access_token` query parameter, ...) are replaced by `[redacted]`.
    pub(crate) fn summary(&self) -> String {
        let target = match self.uri.query() {
            None => self.uri.path().to_string(),
            Some(q) => format!("{}?{}", self.uri.path(), redact_query(q)),
        };
        let mut s = format!("{} {target}", self.method);
        if s.len() > SUMMARY_MAX {
            let mut end = SUMMARY_MAX;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            s.push_str("...");
        }
        s
    }

    /// A header's value as text (`None` when absent or not visible ASCII).
    pub(crate) fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every field of a header joined with `", "` (RFC 9110 section 5.3), as the guard
    /// wants them.
    fn joined(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// Whether the body's `Content-Type` is one of `types` (parameters ignored).
    pub(crate) fn content_type_is(&self, types: &[&str]) -> bool {
        self.header(header::CONTENT_TYPE)
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| types.iter().any(|t| m.trim().eq_ignore_ascii_case(t)))
    }

    fn is_get(&self) -> bool {
        matches!(*self.method, Method::GET | Method::HEAD)
    }
}

/// Query parameters whose values never reach the audit trail.
pub(crate) const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
];

/// `query` with the values of [`SECRET_PARAMS`] replaced by `[redacted]` (names
/// compared after percent-decoding, case-insensitively).
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded: String = form_urlencoded::parse(name.as_bytes())
                .map(|(n, _)| n.into_owned())
                .next()
                .unwrap_or_default();
            if !value.is_empty()
                && SECRET_PARAMS
                    .iter()
                    .any(|s| decoded.eq_ignore_ascii_case(s))
            {
                format!("{name}=[redacted]")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The media types of a FHIR JSON body.
pub(crate) const JSON_TYPES: &[&str] = &["application/fhir+json", "application/json"];

/// Runs one request and answers it (errors included).
pub(crate) fn handle(
    state: &AppState,
    req: &Incoming<'_>,
    audit: &mut AuditInfo,
    timing: &mut stats::Timing,
) -> Response {
    match run(state, req, audit, timing) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn run(
    state: &AppState,
    req: &Incoming<'_>,
    audit: &mut AuditInfo,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let route = route::parse(req.uri.path(), |t| {
        t == audit_events::TYPE || state.fhir.serves(t)
    });
    let search_query = match (&route, req.method) {
        (Ok(Route::Type(_)), m) if m == Method::GET || m == Method::HEAD => {
            Some(req.uri.query().unwrap_or_default().to_string())
        }
        (Ok(Route::Search(_)), &Method::POST) => Some(post_search_query(req)),
        _ => None,
    };
    let decoded: Vec<(String, String)> = search_query
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let pairs: Vec<(&str, &str)> = decoded
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let fhir_request = route
        .as_ref()
        .ok()
        .and_then(|r| interaction_of(r, req.method))
        .and_then(|(ty, i)| ResourceType::parse(ty).ok().map(|rt| (rt, i)))
        .map(|(rt, i)| scope::Request::new(rt, i).with_params(&pairs));
    let url = format!(
        "{}{}",
        state.urls().base,
        req.uri
            .path_and_query()
            .map_or(req.uri.path(), |p| p.as_str())
    );
    let credentials = Credentials {
        method: req.method.as_str(),
        url: &url,
        authorization: req.joined("authorization"),
        dpop: req.joined("dpop"),
    };
    let caller =
        timing.guard(|t| auth::authenticate(state, &credentials, fhir_request, audit, t))?;
    let route = route?;
    check_format(
        req,
        search_query.as_deref(),
        matches!(route, Route::BulkFile(..)),
    )?;
    let m = req.method;
    if route_type(&route) == Some(audit_events::TYPE) {
        return audit_events::handle(
            state,
            &caller,
            &route,
            m,
            search_query.as_deref().unwrap_or(""),
        );
    }
    match route {
        Route::Type(ty) if req.is_get() => search(
            state,
            &caller,
            &ty,
            search_query.as_deref().unwrap_or(""),
            timing,
        ),
        Route::Type(ty) if m == Method::POST => write::create(state, &caller, req, &ty, timing),
        Route::Type(_) => Err(ApiError::method("GET, HEAD, POST")),
        Route::Search(ty) if m == Method::POST => {
            if !req.content_type_is(&["application/x-www-form-urlencoded"]) {
                return Err(ApiError::media_type("application/x-www-form-urlencoded"));
            }
            search(
                state,
                &caller,
                &ty,
                search_query.as_deref().unwrap_or(""),
                timing,
            )
        }
        Route::Search(_) => Err(ApiError::method("POST")),
        Route::Instance(ty, id) if req.is_get() => {
            read::read(state, &caller, req, &ty, &id, timing)
        }
        Route::Instance(ty, id) if m == Method::PUT => {
            write::update(state, &caller, req, &ty, &id, timing)
        }
        Route::Instance(ty, id) if m == Method::PATCH => {
            write::patch(state, &caller, req, &ty, &id, timing)
        }
        Route::Instance(ty, id) if m == Method::DELETE => {
            write::delete(state, &caller, &ty, &id, timing)
        }
        Route::Instance(..) => Err(ApiError::method("GET, HEAD, PUT, PATCH, DELETE")),
        Route::History(ty, id) if req.is_get() => read::history(state, &caller, &ty, &id, timing),
        Route::Version(ty, id, vid) if req.is_get() => {
            read::vread(state, &caller, &ty, &id, &vid, timing)
        }
        Route::History(..) | Route::Version(..) => Err(ApiError::method("GET, HEAD")),
        Route::Export(level) if m == Method::GET => {
            bulk::kickoff(state, &caller, req, &level, &url, timing)
        }
        Route::Export(_) => Err(ApiError::method("GET")),
        Route::BulkStatus(job) if m == Method::GET => bulk::status(state, &caller, &job),
        Route::BulkStatus(job) if m == Method::DELETE => bulk::cancel(state, &caller, &job),
        Route::BulkStatus(_) => Err(ApiError::method("GET, DELETE")),
        Route::BulkFile(job, file) if m == Method::GET => {
            bulk::file(state, &caller, &job, &file, timing)
        }
        Route::BulkFile(..) => Err(ApiError::method("GET")),
    }
}

/// The resource type a route is about (none for bulk export routes).
fn route_type(route: &Route) -> Option<&str> {
    match route {
        Route::Type(t)
        | Route::Search(t)
        | Route::Instance(t, _)
        | Route::History(t, _)
        | Route::Version(t, _, _) => Some(t),
        Route::Export(_) | Route::BulkStatus(_) | Route::BulkFile(..) => None,
    }
}

/// The query of `POST [type]/_search`: the URL's parameters and the form body's, as
/// one query string (FHIR allows both at once). A body that is not a form is refused
/// later (415), after authentication.
fn post_search_query(req: &Incoming<'_>) -> String {
    let url = req.uri.query().unwrap_or_default();
    let body = if req.content_type_is(&["application/x-www-form-urlencoded"]) {
        String::from_utf8_lossy(req.body).into_owned()
    } else {
        String::new()
    };
    match (url.is_empty(), body.is_empty()) {
        (true, _) => body,
        (false, true) => url.to_string(),
        (false, false) => format!("{url}&{body}"),
    }
}

/// The resource type and interaction the guard checks for `route` and `method`; `None`
/// for bulk export routes (authorized per exported type) and methods a path does not
/// take.
fn interaction_of<'r>(route: &'r Route, method: &Method) -> Option<(&'r str, Interaction)> {
    let get = *method == Method::GET || *method == Method::HEAD;
    match route {
        Route::Type(ty) if get => Some((ty, Interaction::Search)),
        Route::Type(ty) if *method == Method::POST => Some((ty, Interaction::Create)),
        Route::Search(ty) if *method == Method::POST => Some((ty, Interaction::Search)),
        Route::Instance(ty, _) if get => Some((ty, Interaction::Read)),
        Route::Instance(ty, _) if *method == Method::PUT => Some((ty, Interaction::Update)),
        Route::Instance(ty, _) if *method == Method::PATCH => Some((ty, Interaction::Patch)),
        Route::Instance(ty, _) if *method == Method::DELETE => Some((ty, Interaction::Delete)),
        Route::History(ty, _) if get => Some((ty, Interaction::History)),
        Route::Version(ty, _, _) if get => Some((ty, Interaction::Vread)),
        _ => None,
    }
}

/// 406 unless the client accepts JSON (`Accept`, `_format`); NDJSON too for bulk files.
fn check_format(req: &Incoming<'_>, query: Option<&str>, ndjson: bool) -> Result<(), ApiError> {
    const JSON: &[&str] = &[
        "*/*",
        "application/*",
        "application/fhir+json",
        "application/json",
        "application/json+fhir",
        "json",
    ];
    const NDJSON: &[&str] = &["application/fhir+ndjson", "application/ndjson", "ndjson"];
    let ok = |m: &str| {
        let m = m.trim();
        JSON.iter()
            .chain(if ndjson { NDJSON } else { &[] })
            .any(|t| m.eq_ignore_ascii_case(t))
    };
    if let Some(accept) = req.header(header::ACCEPT)
        && !accept.trim().is_empty()
        && !accept
            .split(',')
            .any(|r| ok(r.split(';').next().unwrap_or_default()))
    {
        return Err(ApiError::not_acceptable("Accept"));
    }
    let format = form_urlencoded::parse(
        query
            .unwrap_or(req.uri.query().unwrap_or_default())
            .as_bytes(),
    )
    .find(|(n, _)| n == "_format")
    .map(|(_, v)| v.replace(' ', "+"));
    if let Some(f) = format
        && !ok(&f)
    {
        return Err(ApiError::not_acceptable("_format"));
    }
    Ok(())
}

/// `GET [type]?...` and `POST [type]/_search`: the token's search grant on the type
/// filters the matches; `_include`d resources must pass the token's read grant on
/// their own type (types it cannot read are left out).
fn search(
    state: &AppState,
    caller: &Caller,
    ty: &str,
    query: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let access = timing.guard(|_| {
        let mut access = Access::none();
        caller.allow(&mut access, ty, Interaction::Search, None)?;
        for target in include_targets(state, ty, query) {
            if target != ty {
                // A type the token may not read stays out of the Bundle.
                let _ = caller.allow(&mut access, &target, Interaction::Read, None);
            }
        }
        Ok::<_, ApiError>(access)
    })?;
    timing.fhir(|| {
        let store = state.fhir.read();
        let result = fhir::search(&store, &state.urls().fhir, ty, query, &access)?;
        Ok(fhir_json(StatusCode::OK, &result.bundle))
    })
}

/// The types `_include` parameters of `query` may bring in: the `:Target` when given,
/// else every served type.
fn include_targets(state: &AppState, ty: &str, query: &str) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "_include" {
            continue;
        }
        let parts: Vec<&str> = value.split(':').collect();
        match parts.as_slice() {
            [source, _, target] if *source == ty => targets.push((*target).to_string()),
            _ => targets.extend(state.fhir.served().iter().cloned()),
        }
    }
    targets.sort();
    targets.dedup();
    targets
}

/// Adds `ETag` and `Last-Modified` of `version`.
pub(crate) fn version_headers(response: &mut Response, version: &Version) {
    set(response, header::ETAG, &version.etag());
    set(response, header::LAST_MODIFIED, &version.last_modified());
}

/// The version's resource as a 200 (or `status`) with its `ETag` and `Last-Modified`.
pub(crate) fn resource_response(status: StatusCode, version: &Version) -> Response {
    let body = version.resource.as_ref().cloned().unwrap_or_default();
    let mut response = fhir_json(status, &body);
    version_headers(&mut response, version);
    response
}

/// The `{fhir}/[type]/[id]/_history/[vid]` of a version.
pub(crate) fn version_url(state: &AppState, version: &Version) -> String {
    format!(
        "{}/{}/{}/_history/{}",
        state.urls().fhir,
        version.resource_type,
        version.id,
        version.version_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_query_are_redacted() {
        assert_eq!(
            redact_query("name=x&access_token=eyJ.a.b&_count=2&Access%5FToken=t2&code=c&code="),
            "name=x&access_token=[redacted]&_count=2&Access%5FToken=[redacted]&code=[redacted]&code="
        );
        assert_eq!(redact_query("a&b=1"), "a&b=1");
    }
}
