//! What the FHIR API serves, for the CapabilityStatement at `{fhir}/metadata`: the
//! resource types (those with search parameters of their own, plus any other type
//! the loaded data holds), per type the interactions and the search parameters the
//! data layer implements (from [`crate::fhir::search::supported_param_types`]), and the
//! Bulk Data export operations, and the audit trail's read-only `AuditEvent`s. Nothing
//! is listed that is not served.

use serde_json::{Value, json};

use crate::fhir::{self, search};
use crate::state::AppState;

/// The resource types served: [`search::searchable_types`] and the types `data` holds,
/// sorted.
pub(crate) fn served_types(data: &fhir::Store) -> Vec<String> {
    let mut types: Vec<String> = search::searchable_types()
        .iter()
        .copied()
        .chain(data.resource_types())
        .map(String::from)
        .collect();
    types.sort();
    types.dedup();
    types
}

/// The interactions every served type takes.
const INTERACTIONS: [&str; 8] = [
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "create",
    "search-type",
];

fn resource(resource_type: &str) -> Value {
    let params = search::supported_param_types(resource_type);
    let includes: Vec<String> = params
        .iter()
        .filter(|(_, kind)| *kind == "reference")
        .map(|(name, _)| format!("{resource_type}:{name}"))
        .collect();
    let search_params: Vec<Value> = params
        .iter()
        .map(|(name, kind)| json!({ "name": name, "type": kind }))
        .collect();
    let interactions: Vec<Value> = INTERACTIONS
        .iter()
        .map(|code| json!({ "code": code }))
        .collect();
    let mut r = json!({
        "type": resource_type,
        "interaction": interactions,
        "versioning": "versioned-update",
        "readHistory": true,
        "updateCreate": true,
        "conditionalCreate": true,
        "conditionalRead": "not-supported",
        "conditionalUpdate": false,
        "conditionalDelete": "not-supported",
        "searchInclude": includes,
        "searchParam": search_params,
    });
    if resource_type == "Patient"
        && let Some(obj) = r.as_object_mut()
    {
        obj.insert(
            "operation".into(),
            json!([{
                "name": "export",
                "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
            }]),
        );
    }
    if resource_type == "Group"
        && let Some(obj) = r.as_object_mut()
    {
        obj.insert(
            "operation".into(),
            json!([{
                "name": "export",
                "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
            }]),
        );
    }
    r
}

/// `AuditEvent`: the audit trail, read and search only ([`super::audit_events`]).
fn audit_event() -> Value {
    let search_params: Vec<Value> = search::supported_param_types(super::audit_events::TYPE)
        .iter()
        .map(|(name, kind)| json!({ "name": name, "type": kind }))
        .collect();
    json!({
        "type": super::audit_events::TYPE,
        "documentation": "The server's audit trail, read-only, for user/AuditEvent.rs or system/AuditEvent.rs tokens",
        "interaction": [{ "code": "read" }, { "code": "search-type" }],
        "versioning": "no-version",
        "readHistory": false,
        "updateCreate": false,
        "searchParam": search_params,
    })
}

/// The CapabilityStatement's `rest[0]` without `security` (discovery adds that).
pub(crate) fn rest(state: &AppState) -> Value {
    let mut resources: Vec<Value> = state
        .fhir
        .served()
        .iter()
        .filter(|t| *t != super::audit_events::TYPE)
        .map(|t| resource(t))
        .collect();
    resources.push(audit_event());
    json!({
        "mode": "server",
        "resource": resources,
        "operation": [{
            "name": "export",
            "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
        }],
    })
}
