//! The paths under `{base}/fhir`, read from the raw (not percent-decoded) request path:
//! an id is checked as it was sent, so `..`, `%2e%2e` or `a%2Fb` never reach the
//! store as anything but an invalid id.

use crate::fhir::{self, FhirError};
use crate::fhir_api::respond::ApiError;

/// The level of a Bulk Data export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExportLevel {
    /// `GET [base]/$export`.
    System,
    /// `GET [base]/Patient/$export`.
    Patient,
    /// `GET [base]/Group/[id]/$export`.
    Group(String),
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `[type]`: search (GET) and create (POST).
    Type(String),
    /// `[type]/_search`: search (POST).
    Search(String),
    /// `[type]/[id]`: read, update, patch, delete.
    Instance(String, String),
    /// `[type]/[id]/_history`.
    History(String, String),
    /// `[type]/[id]/_history/[vid]`.
    Version(String, String, String),
    /// A bulk export kick-off.
    Export(ExportLevel),
    /// `bulk/[job]`: a bulk export's status (GET) or cancellation (DELETE).
    BulkStatus(String),
    /// `bulk/[job]/[file]`: one output file.
    BulkFile(String, String),
}

/// Reads `path` (the request path, `/fhir/...`). `serves` says whether a resource type
/// is served.
///
/// # Errors
/// 404 for an unknown path or a type not served; 400 for an invalid id.
pub(crate) fn parse(path: &str, serves: impl Fn(&str) -> bool) -> Result<Route, ApiError> {
    let rest = path
        .strip_prefix("/fhir/")
        .ok_or_else(|| ApiError::no_path(path))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segments: Vec<&str> = rest.split('/').collect();
    let id = |s: &str| -> Result<String, ApiError> {
        if fhir::valid_id(s) {
            Ok(s.to_string())
        } else {
            Err(FhirError::InvalidId(s.into()).into())
        }
    };
    match segments.as_slice() {
        ["$export"] => return Ok(Route::Export(ExportLevel::System)),
        ["bulk", job] => return Ok(Route::BulkStatus(id(job)?)),
        ["bulk", job, file] => return Ok(Route::BulkFile(id(job)?, id(file)?)),
        _ => {}
    }
    let Some((ty, tail)) = segments.split_first() else {
        return Err(ApiError::no_path(path));
    };
    if !fhir::is_resource_type(ty) || !serves(ty) {
        return Err(FhirError::UnknownType((*ty).into()).into());
    }
    let ty = (*ty).to_string();
    // The segment after the type is an id unless it is `_search`, `_history` or an
    // operation: check it first, so `Patient/../x` is an invalid id, not a lost path.
    if let Some(first) = tail.first()
        && !matches!(*first, "_search" | "_history")
        && !first.starts_with('$')
    {
        id(first)?;
    }
    match tail {
        [] => Ok(Route::Type(ty)),
        ["_search"] => Ok(Route::Search(ty)),
        ["$export"] if ty == "Patient" => Ok(Route::Export(ExportLevel::Patient)),
        ["_history"] => Err(FhirError::NotSupported(
            "type-level history is not supported; ask for one resource's _history".into(),
        )
        .into()),
        [op, ..] if op.starts_with('$') => Err(FhirError::NotSupported(format!(
            "the operation '{}' is not supported here",
            fhir::error::clip(op)
        ))
        .into()),
        [i] => Ok(Route::Instance(ty, id(i)?)),
        [i, "$export"] if ty == "Group" => Ok(Route::Export(ExportLevel::Group(id(i)?))),
        [i, "_history"] => Ok(Route::History(ty, id(i)?)),
        [i, "_history", v] => Ok(Route::Version(ty, id(i)?, id(v)?)),
        _ => Err(ApiError::no_path(path)),
    }
}
