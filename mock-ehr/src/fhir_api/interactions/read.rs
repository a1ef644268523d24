//! read, vread and history of one resource. A resource the token may not see answers
//! exactly as one that never existed (404): see the crate's `fhir_api` docs.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use smartgate_core::scope::Interaction;

use super::{Incoming, resource_response, version_headers};
use crate::fhir::{Access, FhirError, Store};
use crate::fhir_api::auth::Caller;
use crate::fhir_api::respond::{ApiError, fhir_json};
use crate::fhir_api::stats;
use crate::state::AppState;

/// The 404 of a resource that does not exist, or that the caller may not see.
pub(crate) fn not_found(ty: &str, id: &str) -> ApiError {
    FhirError::NotFound {
        resource_type: ty.into(),
        id: id.into(),
    }
    .into()
}

/// Whether `ty/id` has a version and its last resource (before any deletion) is one
/// `access` permits: the caller may know the resource exists. `Ok(false)` for a
/// resource that exists but is hidden; `Err` 404 for one that never existed.
pub(crate) fn visible(
    store: &Store,
    access: &Access,
    ty: &str,
    id: &str,
) -> Result<bool, ApiError> {
    let history = store.history(ty, id).map_err(ApiError::from)?;
    Ok(history
        .iter()
        .rev()
        .find_map(|v| v.resource.as_ref())
        .is_some_and(|r| access.permits(r)))
}

/// Fails with 404 unless the caller may see `ty/id` (see [`visible`]).
pub(crate) fn require_visible(
    store: &Store,
    access: &Access,
    ty: &str,
    id: &str,
) -> Result<(), ApiError> {
    if visible(store, access, ty, id)? {
        Ok(())
    } else {
        Err(not_found(ty, id))
    }
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, `*` included).
fn none_match(header: &str, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header
        .split(',')
        .any(|t| t.trim() == "*" || strip(t) == strip(etag))
}

/// `GET [type]/[id]`: the current version with `ETag` and `Last-Modified`; 304 when
/// `If-None-Match` names it; 410 for a deleted resource the caller could see.
pub(super) fn read(
    state: &AppState,
    caller: &Caller,
    req: &Incoming<'_>,
    ty: &str,
    id: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let access = timing.guard(|_| caller.access(ty, Interaction::Read))?;
    timing.fhir(|| {
        let store = state.fhir.read();
        require_visible(&store, &access, ty, id)?;
        let version = store.read(ty, id)?;
        if let Some(inm) = req.header(header::IF_NONE_MATCH)
            && none_match(inm, &version.etag())
        {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            version_headers(&mut response, version);
            return Ok(response);
        }
        Ok(resource_response(StatusCode::OK, version))
    })
}

/// `GET [type]/[id]/_history/[vid]`: that version, if its content is one the caller
/// may see.
pub(super) fn vread(
    state: &AppState,
    caller: &Caller,
    ty: &str,
    id: &str,
    vid: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let access = timing.guard(|_| caller.access(ty, Interaction::Vread))?;
    timing.fhir(|| {
        let store = state.fhir.read();
        require_visible(&store, &access, ty, id)?;
        let version = store.vread(ty, id, vid)?;
        match &version.resource {
            Some(r) if access.permits(r) => Ok(resource_response(StatusCode::OK, version)),
            _ => Err(FhirError::VersionNotFound {
                resource_type: ty.into(),
                id: id.into(),
                version: vid.into(),
            }
            .into()),
        }
    })
}

/// `GET [type]/[id]/_history`: the history Bundle, newest first, without the versions
/// whose content the caller may not see (deletions are kept).
pub(super) fn history(
    state: &AppState,
    caller: &Caller,
    ty: &str,
    id: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let access = timing.guard(|_| caller.access(ty, Interaction::History))?;
    timing.fhir(|| {
        let store = state.fhir.read();
        require_visible(&store, &access, ty, id)?;
        let mut bundle = store.history_bundle(&state.urls().fhir, ty, id)?;
        if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
            entries.retain(|e| e.get("resource").is_none_or(|r| access.permits(r)));
            let total = entries.len();
            if let Some(obj) = bundle.as_object_mut() {
                obj.insert("total".into(), total.into());
            }
        }
        Ok(fhir_json(StatusCode::OK, &bundle))
    })
}
