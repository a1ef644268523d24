//! create, update, patch and delete. Every check runs before the store is touched, and
//! the store applies a write whole or not at all, so a refused write changes nothing.
//!
//! A write needs the scope letter of its interaction (`c`, `u`, `d`; the guard checks
//! it), then: the stored resource, if any, must be one the token may see (else 404, as
//! for a read), and the resource as it will be stored must be one the token may write
//! (else 403 `forbidden`: creating an Observation for another patient under a
//! `patient/` scope, say).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use smartgate_core::scope::Interaction;

use super::read::require_visible;
use super::{Incoming, JSON_TYPES, resource_response, version_url};
use crate::fhir::date::format_instant;
use crate::fhir::error::operation_outcome;
use crate::fhir::{Access, FhirError, Write, validate_resource};
use crate::fhir_api::auth::Caller;
use crate::fhir_api::patch;
use crate::fhir_api::respond::{ApiError, fhir_json, set};
use crate::fhir_api::stats;
use crate::state::AppState;

/// The media type of a JSON Patch document (RFC 6902).
const JSON_PATCH: &str = "application/json-patch+json";

/// Parses a JSON body of one of `types`.
fn json_body(req: &Incoming<'_>, types: &[&str], what: &str) -> Result<Value, ApiError> {
    if !req.content_type_is(types) {
        return Err(ApiError::media_type(what));
    }
    serde_json::from_slice(req.body)
        .map_err(|e| FhirError::BadRequest(format!("the body is not valid JSON: {e}")).into())
}

/// `resource` as the store will keep it: `id` as given (or none, for a create),
/// `meta.lastUpdated` now. Scope filters on `_id` or `_lastUpdated` then see what
/// will be stored, not what the client claimed.
fn as_stored(resource: &Value, id: Option<&str>, now: i64) -> Value {
    let mut probe = resource.clone();
    if let Some(obj) = probe.as_object_mut() {
        match id {
            Some(id) => {
                obj.insert("id".into(), Value::String(id.into()));
            }
            None => {
                obj.remove("id");
            }
        }
        let meta = obj
            .entry("meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert("lastUpdated".into(), Value::String(format_instant(now)));
        }
    }
    probe
}

/// 403 unless `access` permits `resource` as it will be stored.
fn require_writable(access: &Access, resource: &Value, ty: &str) -> Result<(), ApiError> {
    if access.permits(resource) {
        Ok(())
    } else {
        Err(FhirError::Forbidden(format!(
            "this {ty} lies outside what the access token may write (another patient's, or not matching the scope's query)"
        ))
        .into())
    }
}

/// The answer to a successful create or update, as `Prefer: return=` asks
/// (`representation` by default, `minimal`, `OperationOutcome`).
fn written(state: &AppState, req: &Incoming<'_>, write: &Write) -> Response {
    let status = StatusCode::from_u16(write.status.http_status()).unwrap_or(StatusCode::OK);
    let prefer = req
        .header("prefer")
        .and_then(|p| {
            p.split(',')
                .find_map(|d| d.trim().strip_prefix("return="))
                .map(str::trim)
        })
        .unwrap_or("representation");
    let mut response = match prefer {
        "minimal" => status.into_response(),
        "OperationOutcome" => fhir_json(
            status,
            &operation_outcome(
                "information",
                "informational",
                &format!(
                    "{}/{} is at version {}",
                    write.version.resource_type, write.version.id, write.version.version_id
                ),
            ),
        ),
        _ => resource_response(status, &write.version),
    };
    super::version_headers(&mut response, &write.version);
    if status == StatusCode::CREATED {
        set(
            &mut response,
            header::LOCATION,
            &version_url(state, &write.version),
        );
    }
    response
}

/// `POST [type]` (with `If-None-Exist`): 201 with `Location`; 200 with the match when
/// the criteria match one resource the token may read.
pub(super) fn create(
    state: &AppState,
    caller: &Caller,
    req: &Incoming<'_>,
    ty: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let body = json_body(req, JSON_TYPES, "application/fhir+json")?;
    let (access, readable) = timing.guard(|_| {
        let access = caller.access(ty, Interaction::Create)?;
        // Conditional criteria only ever match what the token may read, so they
        // cannot reveal anything else.
        let readable = caller
            .access(ty, Interaction::Read)
            .unwrap_or_else(|_| Access::none());
        Ok::<_, ApiError>((access, readable))
    })?;
    let now = state.now();
    timing.fhir(|| {
        validate_resource(ty, &body)?;
        require_writable(&access, &as_stored(&body, None, now), ty)?;
        let mut store = state.fhir.write();
        let write = match req.header("if-none-exist") {
            Some(criteria) => store.create_if_none_exist(ty, body, criteria, &readable, now)?,
            None => store.create(ty, body, now)?,
        };
        Ok(written(state, req, &write))
    })
}

/// `PUT [type]/[id]` (with `If-Match`): 200, or 201 when it creates.
pub(super) fn update(
    state: &AppState,
    caller: &Caller,
    req: &Incoming<'_>,
    ty: &str,
    id: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let body = json_body(req, JSON_TYPES, "application/fhir+json")?;
    let access = timing.guard(|_| caller.access(ty, Interaction::Update))?;
    let now = state.now();
    timing.fhir(|| {
        let mut store = state.fhir.write();
        match require_visible(&store, &access, ty, id) {
            Ok(()) => {}
            // A new id: update creates it.
            Err(e) if e.status() == StatusCode::NOT_FOUND && store.history(ty, id).is_err() => {}
            Err(e) => return Err(e),
        }
        validate_resource(ty, &body)?;
        require_writable(&access, &as_stored(&body, Some(id), now), ty)?;
        let write = store.update(ty, id, body, req.header(header::IF_MATCH), now)?;
        Ok(written(state, req, &write))
    })
}

/// `PATCH [type]/[id]` with a JSON Patch (RFC 6902) body, `If-Match` honoured.
pub(super) fn patch(
    state: &AppState,
    caller: &Caller,
    req: &Incoming<'_>,
    ty: &str,
    id: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let operations = json_body(req, &[JSON_PATCH], JSON_PATCH)?;
    let access = timing.guard(|_| caller.access(ty, Interaction::Patch))?;
    let now = state.now();
    timing.fhir(|| {
        let mut store = state.fhir.write();
        require_visible(&store, &access, ty, id)?;
        let current = store.read(ty, id)?.resource.clone().unwrap_or_default();
        let patched = patch::apply(current, &operations)?;
        validate_resource(ty, &patched)?;
        require_writable(&access, &as_stored(&patched, Some(id), now), ty)?;
        let write = store.update(ty, id, patched, req.header(header::IF_MATCH), now)?;
        Ok(written(state, req, &write))
    })
}

/// `DELETE [type]/[id]`: 204 (also for one already deleted).
pub(super) fn delete(
    state: &AppState,
    caller: &Caller,
    ty: &str,
    id: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let access = timing.guard(|_| caller.access(ty, Interaction::Delete))?;
    let now = state.now();
    timing.fhir(|| {
        let mut store = state.fhir.write();
        require_visible(&store, &access, ty, id)?;
        let version = store.delete(ty, id, now)?;
        let mut response = StatusCode::NO_CONTENT.into_response();
        set(&mut response, header::ETAG, &version.etag());
        Ok(response)
    })
}
