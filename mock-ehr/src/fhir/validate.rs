//! The checks every write (and every loaded fixture) passes: a JSON object of the right
//! `resourceType`, a usable `meta` and `id`, and the elements R4 requires of its type.

use serde_json::{Map, Value};

use crate::fhir::FhirError;
use crate::fhir::error::clip;

/// Elements each type requires (R4 cardinality `1..`); `x[x]` is a choice element.
const REQUIRED: &[(&str, &[&str])] = &[
    ("AllergyIntolerance", &["patient"]),
    ("Bundle", &["type"]),
    ("CarePlan", &["status", "intent", "subject"]),
    ("Condition", &["subject"]),
    ("DiagnosticReport", &["status", "code"]),
    ("DocumentReference", &["status", "content"]),
    ("Encounter", &["status", "class"]),
    ("Goal", &["lifecycleStatus", "description", "subject"]),
    ("Group", &["type", "actual"]),
    (
        "Immunization",
        &["status", "vaccineCode", "patient", "occurrence[x]"],
    ),
    (
        "MedicationRequest",
        &["status", "intent", "subject", "medication[x]"],
    ),
    ("Observation", &["status", "code"]),
    ("Procedure", &["status", "subject"]),
];

/// Checks `body` as a resource of `resource_type` for a write: a JSON object whose
/// `resourceType` is `resource_type`, whose `meta` (if any) is an object, and which
/// has every element the type requires (R4 cardinality `1..`, for the types this
/// server knows: Observation `status` and `code`, Encounter `status` and `class`,
/// MedicationRequest `status`, `intent`, `subject`, `medication[x]`, ...).
///
/// # Errors
/// [`FhirError::BadRequest`] when `body` is not an object; [`FhirError::InvalidResource`]
/// for a missing or different `resourceType` or a bad `meta`;
/// [`FhirError::MissingElement`] for a missing required element.
pub fn validate_resource(resource_type: &str, body: &Value) -> Result<(), FhirError> {
    let Some(obj) = body.as_object() else {
        return Err(FhirError::BadRequest(
            "the body is not a JSON object".into(),
        ));
    };
    match obj.get("resourceType") {
        Some(Value::String(t)) if t == resource_type => {}
        Some(Value::String(t)) => {
            return Err(FhirError::InvalidResource(format!(
                "resourceType is '{}' but the request is for {resource_type}",
                clip(t)
            )));
        }
        _ => return Err(FhirError::InvalidResource("resourceType is missing".into())),
    }
    if obj.get("meta").is_some_and(|m| !m.is_object()) {
        return Err(FhirError::InvalidResource("meta is not an object".into()));
    }
    if obj.get("id").is_some_and(|i| !i.is_string()) {
        return Err(FhirError::InvalidResource("id is not a string".into()));
    }
    let required = REQUIRED
        .iter()
        .find(|(t, _)| *t == resource_type)
        .map_or(&[][..], |(_, r)| r);
    for element in required {
        if !present(obj, element) {
            return Err(FhirError::MissingElement {
                resource_type: resource_type.into(),
                element,
            });
        }
    }
    Ok(())
}

fn present(obj: &Map<String, Value>, element: &str) -> bool {
    let usable = |v: &Value| match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => !s.is_empty(),
        _ => true,
    };
    match element.strip_suffix("[x]") {
        Some(prefix) => obj.iter().any(|(k, v)| {
            k.strip_prefix(prefix)
                .and_then(|rest| rest.chars().next())
                .is_some_and(char::is_uppercase)
                && usable(v)
        }),
        None => obj.get(element).is_some_and(usable),
    }
}
