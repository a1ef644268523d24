//! Bulk Data export ([FHIR Bulk Data Access 2.0]): `$export` at the system level,
//! `Patient/$export` and `Group/[id]/$export`.
//!
//! - Kick-off: `GET` with `Prefer: respond-async` (else 400), parameters `_type`
//!   (comma-separated, may repeat), `_since` (resources whose `meta.lastUpdated` is
//!   after it), `_outputFormat` (`application/fhir+ndjson`, `application/ndjson`,
//!   `ndjson`). `_typeFilter`, `_elements`, `patient`, `includeAssociatedData` and
//!   `organizeOutputBy` are not supported: 400, or ignored under
//!   `Prefer: handling=lenient`. Answers 202 with `Content-Location`, the status URL
//!   `{fhir}/bulk/[job]`.
//! - Who: a SMART Backend Services token (from `client_credentials`) whose `system/`
//!   scopes allow [`Interaction::Export`] (`r` and `s`) on each exported type
//!   (`system/*.rs`, `system/Observation.rs`, v1 `system/*.read`, ...), and `Read` on
//!   the Group for a Group export. With `_type`, a type the scopes do not allow refuses
//!   the kick-off (403, as the specification's "Enforcing Authorization" asks);
//!   without it, such types are skipped and named in the manifest's `error` file. A
//!   scope's query (`system/Observation.rs?category=...`) filters that type's output.
//! - What: system level, every type with data; Patient level, the types of the R4
//!   Patient compartment, resources in some patient's compartment; Group level, the same
//!   for the Group's Patient members. `Group` itself is never exported at the Patient
//!   or Group level (R4 puts a Group in each member's compartment).
//! - Status: `GET` the status URL: 202 with `X-Progress` and `Retry-After` for the
//!   first polls (the server's `export_polls`, 2 by default; 0 finishes at once), then
//!   200 with the manifest (`transactionTime`, `request`, `requiresAccessToken: true`,
//!   `output` with `type`, `url`, `count` per type that has resources, `error`).
//!   `DELETE` cancels (202) and forgets the job and its files.
//! - Files: `{fhir}/bulk/[job]/[Type].ndjson`, `application/fhir+ndjson`, with an
//!   access token of the client that started the export (others get 404).
//! - Limits: at most [`MAX_JOBS`] jobs at once (then 429 with `Retry-After`); a job
//!   is forgotten [`JOB_TTL_SECS`] after it started. The data is taken at kick-off
//!   (`transactionTime`), so later writes do not change an export.
//!
//! [FHIR Bulk Data Access 2.0]: https://hl7.org/fhir/uv/bulkdata/STU2/export.html

use std::collections::{BTreeSet, HashMap};

use axum::http::{HeaderName, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use smartgate_core::scope::{self, Context, Interaction, ResourceType};

use crate::fhir::date::{self, format_instant};
use crate::fhir::error::{clip, operation_outcome};
use crate::fhir::{Access, FhirError, Store, parse_local_reference, patients_of};
use crate::fhir_api::auth::Caller;
use crate::fhir_api::interactions::Incoming;
use crate::fhir_api::respond::{ApiError, body_with, fhir_json, set};
use crate::fhir_api::route::ExportLevel;
use crate::fhir_api::stats;
use crate::state::AppState;

/// Most export jobs held at once.
pub(crate) const MAX_JOBS: usize = 16;
/// How long a job (and its files) is kept after its kick-off, in seconds.
pub(crate) const JOB_TTL_SECS: i64 = 3600;
/// The `Retry-After` of a job in progress, in seconds.
pub(crate) const RETRY_AFTER_SECS: u64 = 1;

const NDJSON: &str = "application/fhir+ndjson";
const UNSUPPORTED: [&str; 5] = [
    "_typeFilter",
    "_elements",
    "patient",
    "includeAssociatedData",
    "organizeOutputBy",
];

/// One output file.
#[derive(Debug, Clone)]
struct File {
    name: String,
    resource_type: String,
    ndjson: String,
    count: usize,
}

/// One export.
#[derive(Debug, Clone)]
struct Job {
    client_id: String,
    request: String,
    transaction_time: i64,
    polls_left: u32,
    polls_total: u32,
    output: Vec<File>,
    error: Vec<File>,
}

/// The export jobs of the server.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    jobs: HashMap<String, Job>,
}

/// The parameters of a kick-off.
#[derive(Debug, Default)]
struct KickOff {
    types: Option<BTreeSet<String>>,
    since: Option<i64>,
}

fn invalid(name: &str, reason: impl Into<String>) -> ApiError {
    FhirError::InvalidParameter {
        name: name.into(),
        reason: reason.into(),
    }
    .into()
}

fn parse_kickoff(req: &Incoming<'_>, served: &[String]) -> Result<KickOff, ApiError> {
    let prefer = req.header("prefer").unwrap_or_default();
    let directives: Vec<&str> = prefer.split(',').map(str::trim).collect();
    if !directives.contains(&"respond-async") {
        return Err(FhirError::BadRequest(
            "a bulk export needs the header Prefer: respond-async".into(),
        )
        .into());
    }
    let lenient = directives.contains(&"handling=lenient");
    let mut out = KickOff::default();
    let query = req.uri.query().unwrap_or_default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "_outputFormat" => {
                let v = value.replace(' ', "+");
                if !["application/fhir+ndjson", "application/ndjson", "ndjson"]
                    .contains(&v.as_str())
                {
                    return Err(invalid(
                        "_outputFormat",
                        format!("'{}' is not supported (ndjson only)", clip(&v)),
                    ));
                }
            }
            "_since" => {
                if out.since.is_some() {
                    return Err(invalid("_since", "may appear only once"));
                }
                let text = value.replace(' ', "+");
                let range = date::parse(&text).ok_or_else(|| {
                    invalid("_since", format!("'{}' is not a FHIR instant", clip(&text)))
                })?;
                out.since = Some(range.start);
            }
            "_type" => {
                let types = out.types.get_or_insert_with(BTreeSet::new);
                for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    if !served.iter().any(|s| s == t) {
                        return Err(invalid(
                            "_type",
                            format!("'{}' is not a resource type this server serves", clip(t)),
                        ));
                    }
                    types.insert(t.to_string());
                }
            }
            n if UNSUPPORTED.contains(&n) && !lenient => {
                return Err(FhirError::NotSupported(format!(
                    "the export parameter '{n}' is not supported (send Prefer: handling=lenient to ignore it)"
                ))
                .into());
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Whether a Patient- or Group-level export writes `ty`: a type of the R4 Patient
/// compartment, Group excepted.
fn patient_level_type(ty: &str) -> bool {
    ty != "Group" && ResourceType::parse(ty).is_ok_and(scope::compartment::contains)
}

/// `meta.lastUpdated` in milliseconds, if readable.
fn last_updated(resource: &Value) -> Option<i64> {
    resource
        .get("meta")
        .and_then(|m| m.get("lastUpdated"))
        .and_then(Value::as_str)
        .and_then(date::parse)
        .map(|r| r.start)
}

/// The Patient ids a Group names as members.
fn members(group: &Value) -> BTreeSet<String> {
    group
        .get("member")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("entity")?.get("reference")?.as_str())
        .filter_map(parse_local_reference)
        .filter(|(ty, _)| *ty == "Patient")
        .map(|(_, id)| id.to_string())
        .collect()
}

/// A job id: 16 random bytes in hex (a valid FHIR id, unguessable).
fn job_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| ApiError::internal("no randomness"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `$export` kick-off.
pub(crate) fn kickoff(
    state: &AppState,
    caller: &Caller,
    req: &Incoming<'_>,
    level: &ExportLevel,
    url: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let params = parse_kickoff(req, state.fhir.served())?;
    if !caller.viewer.backend {
        return Err(FhirError::Forbidden(
            "bulk export is for SMART Backend Services clients: use a client_credentials token with system/ scopes".into(),
        )
        .into());
    }
    let store = state.fhir.read();
    let candidates: Vec<String> = match level {
        ExportLevel::System => store
            .resource_types()
            .into_iter()
            .map(String::from)
            .collect(),
        _ => state
            .fhir
            .served()
            .iter()
            .filter(|t| patient_level_type(t))
            .cloned()
            .collect(),
    };
    if let (Some(types), false) = (&params.types, *level == ExportLevel::System)
        && let Some(t) = types.iter().find(|t| !patient_level_type(t))
    {
        return Err(invalid(
            "_type",
            format!(
                "{t} is not exported at the Patient or Group level (not in the Patient compartment)"
            ),
        ));
    }
    let wanted: Vec<String> = match &params.types {
        Some(types) => types.iter().cloned().collect(),
        None => candidates,
    };
    // Authorization: the Group, then each type.
    let (access, skipped, group) = timing.guard(|_| {
        let group = match level {
            ExportLevel::Group(id) => {
                let mut read = Access::none();
                caller.allow(&mut read, "Group", Interaction::Read, Some(Context::System))?;
                let visible = store
                    .read("Group", id)
                    .ok()
                    .and_then(|v| v.resource.as_ref())
                    .filter(|g| read.permits(g))
                    .ok_or_else(|| {
                        ApiError::from(FhirError::NotFound {
                            resource_type: "Group".into(),
                            id: id.clone(),
                        })
                    })?;
                Some(members(visible))
            }
            _ => None,
        };
        let mut access = Access::none();
        let mut skipped = Vec::new();
        for t in &wanted {
            match caller.allow(&mut access, t, Interaction::Export, Some(Context::System)) {
                Ok(()) => {}
                Err(e) if params.types.is_some() => return Err(e),
                Err(_) => skipped.push(t.clone()),
            }
        }
        if skipped.len() == wanted.len() && !wanted.is_empty() {
            return Err(caller.insufficient_scope(Some("system/*.rs")));
        }
        Ok((access, skipped, group))
    })?;
    let now = state.now();
    let (output, error) = timing.fhir(|| {
        let output: Vec<File> = wanted
            .iter()
            .filter(|t| !skipped.contains(t))
            .filter_map(|t| {
                export_type(&store, t, &access, level, group.as_ref(), params.since)
            })
            .collect();
        let error: Vec<File> = if skipped.is_empty() {
            Vec::new()
        } else {
            let lines: Vec<String> = skipped
                .iter()
                .map(|t| {
                    operation_outcome(
                        "warning",
                        "forbidden",
                        &format!(
                            "{t} was not exported: the access token's system/ scopes do not allow $export of it"
                        ),
                    )
                    .to_string()
                })
                .collect();
            vec![File {
                name: "errors.ndjson".into(),
                resource_type: "OperationOutcome".into(),
                count: lines.len(),
                ndjson: lines.join("\n") + "\n",
            }]
        };
        (output, error)
    });
    drop(store);
    let id = job_id()?;
    let polls = state.fhir.settings.export_polls;
    {
        let mut jobs = state.fhir.jobs();
        jobs.jobs
            .retain(|_, j| now.saturating_sub(j.transaction_time) < JOB_TTL_SECS);
        if jobs.jobs.len() >= MAX_JOBS {
            return Err(ApiError::throttled(
                60,
                format!(
                    "{MAX_JOBS} exports are already held; delete finished ones (DELETE on their status URL) or retry later"
                ),
            ));
        }
        jobs.jobs.insert(
            id.clone(),
            Job {
                client_id: caller.client_id().to_string(),
                request: url.to_string(),
                transaction_time: now,
                polls_left: polls,
                polls_total: polls,
                output,
                error,
            },
        );
    }
    let mut response = fhir_json(
        StatusCode::ACCEPTED,
        &operation_outcome(
            "information",
            "informational",
            "export started; poll the Content-Location URL",
        ),
    );
    set(
        &mut response,
        header::CONTENT_LOCATION,
        &status_url(state, &id),
    );
    Ok(response)
}

fn status_url(state: &AppState, id: &str) -> String {
    format!("{}/bulk/{id}", state.urls().fhir)
}

/// The NDJSON file of one type, or `None` when no resource qualifies.
fn export_type(
    store: &Store,
    ty: &str,
    access: &Access,
    level: &ExportLevel,
    group: Option<&BTreeSet<String>>,
    since: Option<i64>,
) -> Option<File> {
    let mut ndjson = String::new();
    let mut count = 0;
    for r in store.current(ty) {
        let in_level = match level {
            ExportLevel::System => true,
            ExportLevel::Patient => !patients_of(r).is_empty(),
            ExportLevel::Group(_) => patients_of(r)
                .iter()
                .any(|l| group.is_some_and(|g| g.contains(&l.patient_id))),
        };
        let fresh = since.is_none_or(|s| last_updated(r).is_some_and(|u| u > s));
        if in_level && fresh && access.permits(r) {
            ndjson.push_str(&r.to_string());
            ndjson.push('\n');
            count += 1;
        }
    }
    (count > 0).then(|| File {
        name: format!("{ty}.ndjson"),
        resource_type: ty.to_string(),
        ndjson,
        count,
    })
}

fn no_job(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "ERR_FHIR_NO_EXPORT_JOB",
        format!("no export job '{}' for this client", clip(id)),
    )
}

/// `GET {fhir}/bulk/[job]`: 202 with `X-Progress` and `Retry-After` while in progress,
/// then 200 with the manifest.
pub(crate) fn status(state: &AppState, caller: &Caller, id: &str) -> Result<Response, ApiError> {
    let mut jobs = state.fhir.jobs();
    let job = jobs
        .jobs
        .get_mut(id)
        .filter(|j| j.client_id == caller.client_id())
        .ok_or_else(|| no_job(id))?;
    if job.polls_left > 0 {
        let done = job.polls_total - job.polls_left;
        job.polls_left -= 1;
        let mut response = body_with(StatusCode::ACCEPTED, "application/json", Vec::new());
        set(
            &mut response,
            HeaderName::from_static("x-progress"),
            &format!("in progress ({done} of {} polls)", job.polls_total),
        );
        set(
            &mut response,
            header::RETRY_AFTER,
            &RETRY_AFTER_SECS.to_string(),
        );
        return Ok(response);
    }
    let file_url = |f: &File| format!("{}/{}", status_url(state, id), f.name);
    let entries = |files: &[File]| -> Vec<Value> {
        files
            .iter()
            .map(|f| json!({ "type": f.resource_type, "url": file_url(f), "count": f.count }))
            .collect()
    };
    let manifest = json!({
        "transactionTime": format_instant(job.transaction_time),
        "request": job.request,
        "requiresAccessToken": true,
        "output": entries(&job.output),
        "error": entries(&job.error),
    });
    Ok(body_with(
        StatusCode::OK,
        "application/json",
        serde_json::to_vec(&manifest).unwrap_or_default(),
    ))
}

/// `DELETE {fhir}/bulk/[job]`: 202, the job and its files are gone.
pub(crate) fn cancel(state: &AppState, caller: &Caller, id: &str) -> Result<Response, ApiError> {
    let mut jobs = state.fhir.jobs();
    if jobs
        .jobs
        .get(id)
        .is_none_or(|j| j.client_id != caller.client_id())
    {
        return Err(no_job(id));
    }
    jobs.jobs.remove(id);
    Ok(fhir_json(
        StatusCode::ACCEPTED,
        &operation_outcome("information", "informational", "export deleted"),
    ))
}

/// `GET {fhir}/bulk/[job]/[file]`: the NDJSON, once the export is complete.
pub(crate) fn file(
    state: &AppState,
    caller: &Caller,
    id: &str,
    name: &str,
    timing: &mut stats::Timing,
) -> Result<Response, ApiError> {
    let jobs = state.fhir.jobs();
    let job = jobs
        .jobs
        .get(id)
        .filter(|j| j.client_id == caller.client_id() && j.polls_left == 0)
        .ok_or_else(|| no_job(id))?;
    let file = job
        .output
        .iter()
        .chain(&job.error)
        .find(|f| f.name == name)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "ERR_FHIR_NO_EXPORT_FILE",
                format!("export '{}' has no file '{}'", clip(id), clip(name)),
            )
        })?;
    Ok(timing.fhir(|| body_with(StatusCode::OK, NDJSON, file.ndjson.clone().into_bytes())))
}
