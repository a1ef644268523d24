//! [`FhirError`]: every refusal of the data layer, with its HTTP status and the
//! `OperationOutcome` to send ([R4 OperationOutcome], [R4 RESTful API]).
//!
//! [R4 OperationOutcome]: https://hl7.org/fhir/R4/operationoutcome.html
//! [R4 RESTful API]: https://hl7.org/fhir/R4/http.html

use core::fmt;

use serde_json::{Value, json};

/// The longest piece of client input an error message repeats.
const ECHO_MAX: usize = 80;

/// Why the data layer refused a request.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FhirError {
    /// A search parameter, header or query value that cannot be used. 400, `invalid`.
    InvalidParameter {
        /// The parameter (or header) name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A logical id outside `[A-Za-z0-9-.]{1,64}` (or made only of dots). 400, `invalid`.
    InvalidId(String),
    /// A request body that is not a usable resource for this interaction (not a JSON
    /// object; on update, no `id` or an `id` that differs from the URL, as
    /// [R4 update](https://hl7.org/fhir/R4/http.html#update) requires). 400, `invalid`.
    BadRequest(String),
    /// A search modifier, prefix or feature this server does not implement.
    /// 400, `not-supported`.
    NotSupported(String),
    /// The caller's access does not cover this resource type or condition. 403, `forbidden`.
    Forbidden(String),
    /// Not a FHIR R4 resource type this server holds. 404, `not-supported`.
    UnknownType(String),
    /// No resource with this type and id has ever existed. 404, `not-found`.
    NotFound {
        /// The resource type.
        resource_type: String,
        /// The logical id.
        id: String,
    },
    /// The resource exists but not this version. 404, `not-found`.
    VersionNotFound {
        /// The resource type.
        resource_type: String,
        /// The logical id.
        id: String,
        /// The version asked for.
        version: String,
    },
    /// The resource (or this version of it) is deleted. 410, `deleted`.
    Gone {
        /// The resource type.
        resource_type: String,
        /// The logical id.
        id: String,
        /// The version id of the deletion.
        version: u64,
    },
    /// `If-Match` names a version that is not the current one (or the resource has no
    /// current version). 412, `conflict`.
    PreconditionFailed(String),
    /// A conditional create's criteria matched more than one resource. 412,
    /// `multiple-matches`.
    MultipleMatches {
        /// How many resources matched.
        count: usize,
    },
    /// The resource breaks a rule of FHIR or of this server: `resourceType` different
    /// from the URL, malformed `meta`. 422, `invalid`.
    InvalidResource(String),
    /// An element the resource type requires (R4 cardinality `1..`) is missing. 422,
    /// `required`.
    MissingElement {
        /// The resource type.
        resource_type: String,
        /// The element, `[x]` for a choice type (`medication[x]`).
        element: &'static str,
    },
}

impl FhirError {
    /// The HTTP status code to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidParameter { .. }
            | Self::InvalidId(_)
            | Self::BadRequest(_)
            | Self::NotSupported(_) => 400,
            Self::Forbidden(_) => 403,
            Self::UnknownType(_) | Self::NotFound { .. } | Self::VersionNotFound { .. } => 404,
            Self::Gone { .. } => 410,
            Self::PreconditionFailed(_) | Self::MultipleMatches { .. } => 412,
            Self::InvalidResource(_) | Self::MissingElement { .. } => 422,
        }
    }

    /// The `OperationOutcome.issue.code` (R4 value set `issue-type`).
    pub fn issue_type(&self) -> &'static str {
        match self {
            Self::InvalidParameter { .. }
            | Self::InvalidId(_)
            | Self::BadRequest(_)
            | Self::InvalidResource(_) => "invalid",
            Self::NotSupported(_) | Self::UnknownType(_) => "not-supported",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound { .. } | Self::VersionNotFound { .. } => "not-found",
            Self::Gone { .. } => "deleted",
            Self::PreconditionFailed(_) => "conflict",
            Self::MultipleMatches { .. } => "multiple-matches",
            Self::MissingElement { .. } => "required",
        }
    }

    /// A stable code for this kind of error, such as `ERR_FHIR_NOT_FOUND`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameter { .. } => "ERR_FHIR_INVALID_PARAMETER",
            Self::InvalidId(_) => "ERR_FHIR_INVALID_ID",
            Self::BadRequest(_) => "ERR_FHIR_BAD_REQUEST",
            Self::NotSupported(_) => "ERR_FHIR_NOT_SUPPORTED",
            Self::Forbidden(_) => "ERR_FHIR_FORBIDDEN",
            Self::UnknownType(_) => "ERR_FHIR_UNKNOWN_TYPE",
            Self::NotFound { .. } => "ERR_FHIR_NOT_FOUND",
            Self::VersionNotFound { .. } => "ERR_FHIR_VERSION_NOT_FOUND",
            Self::Gone { .. } => "ERR_FHIR_GONE",
            Self::PreconditionFailed(_) => "ERR_FHIR_PRECONDITION_FAILED",
            Self::MultipleMatches { .. } => "ERR_FHIR_MULTIPLE_MATCHES",
            Self::InvalidResource(_) => "ERR_FHIR_INVALID_RESOURCE",
            Self::MissingElement { .. } => "ERR_FHIR_MISSING_ELEMENT",
        }
    }

    /// The `OperationOutcome` resource that explains this error: one issue, severity
    /// `error`, [`issue_type`](Self::issue_type) as its code, the message as
    /// `diagnostics`, and [`code`](Self::code) as `details.text`.
    pub fn operation_outcome(&self) -> Value {
        let mut outcome = operation_outcome("error", self.issue_type(), &self.to_string());
        if let Some(issue) = outcome
            .get_mut("issue")
            .and_then(|i| i.get_mut(0))
            .and_then(Value::as_object_mut)
        {
            issue.insert("details".into(), json!({ "text": self.code() }));
        }
        outcome
    }
}

/// An `OperationOutcome` with one issue (for warnings and informational outcomes too).
///
/// `severity` is `fatal`, `error`, `warning` or `information`; `code` an R4 issue type.
pub fn operation_outcome(severity: &str, code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": severity, "code": code, "diagnostics": diagnostics }],
    })
}

/// `s`, cut to a length fit to repeat in a message.
pub(crate) fn clip(s: &str) -> String {
    match s.char_indices().nth(ECHO_MAX) {
        Some((at, _)) => format!("{}...", s.get(..at).unwrap_or_default()),
        None => s.into(),
    }
}

impl fmt::Display for FhirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter '{}': {reason}", clip(name))
            }
            Self::InvalidId(id) => write!(
                f,
                "invalid id '{}': ids are 1 to 64 characters of A-Z, a-z, 0-9, '-' and '.'",
                clip(id)
            ),
            Self::BadRequest(reason) | Self::NotSupported(reason) | Self::Forbidden(reason) => {
                f.write_str(reason)
            }
            Self::UnknownType(ty) => {
                write!(
                    f,
                    "'{}' is not a FHIR R4 resource type this server holds",
                    clip(ty)
                )
            }
            Self::NotFound { resource_type, id } => write!(f, "{resource_type}/{id} is not known"),
            Self::VersionNotFound {
                resource_type,
                id,
                version,
            } => {
                write!(f, "{resource_type}/{id} has no version '{}'", clip(version))
            }
            Self::Gone {
                resource_type,
                id,
                version,
            } => {
                write!(f, "{resource_type}/{id} was deleted (version {version})")
            }
            Self::PreconditionFailed(reason) => write!(f, "precondition failed: {reason}"),
            Self::MultipleMatches { count } => write!(
                f,
                "the conditional criteria matched {count} resources; they must match at most one"
            ),
            Self::InvalidResource(reason) => write!(f, "invalid resource: {reason}"),
            Self::MissingElement {
                resource_type,
                element,
            } => {
                write!(f, "invalid resource: {resource_type}.{element} is required")
            }
        }
    }
}

impl core::error::Error for FhirError {}
