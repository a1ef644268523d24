//! The hook for the security layer: which patients a resource belongs to, and the
//! mandatory conditions a caller's access places on every resource it sees.
//!
//! Patient compartment membership follows the R4 (4.0.1)
//! [CompartmentDefinition/patient]: a resource is in patient P's compartment when one
//! of the listed search parameters of its type refers to `Patient/P`. For example an
//! Observation is in the compartment of its `subject` *and* of any Patient among its
//! `performer`s; a Condition of its subject and of a Patient `asserter`; a Group of
//! each Patient `member`. Types this server has no rule for are in no compartment,
//! so a compartment filter never lets them through (fail closed).
//!
//! Only relative references (`Patient/pat-003`, optionally with `/_history/n`) count:
//! an absolute URL may name another server's patient.
//!
//! [CompartmentDefinition/patient]: https://hl7.org/fhir/R4/compartmentdefinition-patient.html

use alloc::collections::BTreeMap;

use serde_json::Value;

use crate::fhir::error::clip;
use crate::fhir::params::{self, Clause};
use crate::fhir::{FhirError, is_resource_type, parse_local_reference, valid_id};

/// Per resource type: (compartment search parameter, the element it searches), from
/// the R4 Patient CompartmentDefinition and the R4 SearchParameter expressions.
const COMPARTMENT: &[(&str, &[(&str, &str)])] = &[
    (
        "AllergyIntolerance",
        &[
            ("patient", "patient"),
            ("recorder", "recorder"),
            ("asserter", "asserter"),
        ],
    ),
    (
        "CarePlan",
        &[
            ("patient", "subject"),
            ("performer", "activity.detail.performer"),
        ],
    ),
    (
        "CareTeam",
        &[
            ("patient", "subject"),
            ("participant", "participant.member"),
        ],
    ),
    (
        "Condition",
        &[("patient", "subject"), ("asserter", "asserter")],
    ),
    ("DiagnosticReport", &[("subject", "subject")]),
    (
        "DocumentReference",
        &[("subject", "subject"), ("author", "author")],
    ),
    ("Encounter", &[("patient", "subject")]),
    ("Goal", &[("patient", "subject")]),
    ("Group", &[("member", "member.entity")]),
    ("Immunization", &[("patient", "patient")]),
    ("MedicationRequest", &[("subject", "subject")]),
    (
        "Observation",
        &[("subject", "subject"), ("performer", "performer")],
    ),
    ("Patient", &[("link", "link.other")]),
    (
        "Procedure",
        &[("patient", "subject"), ("performer", "performer.actor")],
    ),
];

/// One reason a resource is in a patient's compartment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PatientLink {
    /// The patient's logical id.
    pub patient_id: String,
    /// The compartment search parameter (`subject`, `performer`, `patient`, ...), or
    /// `_id` for a Patient itself.
    pub param: &'static str,
    /// The element holding the reference (`subject`, `performer.actor`, ...), or `id`.
    pub element: &'static str,
}

/// The resource types that can be in a patient compartment here, with their
/// compartment parameters (the R4 CompartmentDefinition rows this server implements).
pub fn compartment_params(resource_type: &str) -> &'static [(&'static str, &'static str)] {
    COMPARTMENT
        .iter()
        .find(|(ty, _)| *ty == resource_type)
        .map_or(&[], |(_, params)| params)
}

/// Which patients `resource` belongs to, and through which field, per the R4 Patient
/// CompartmentDefinition. A Patient belongs to itself (`_id`) and to the patients its
/// `link.other` names. Sorted, without duplicates; empty for a resource in no patient
/// compartment (Practitioner, Organization, a type without a rule here).
pub fn patients_of(resource: &Value) -> Vec<PatientLink> {
    let Some(ty) = resource.get("resourceType").and_then(Value::as_str) else {
        return Vec::new();
    };
    let mut links = Vec::new();
    if ty == "Patient"
        && let Some(id) = resource.get("id").and_then(Value::as_str)
    {
        links.push(PatientLink {
            patient_id: id.into(),
            param: "_id",
            element: "id",
        });
    }
    for (param, element) in compartment_params(ty) {
        for value in params::collect(resource, element) {
            let target = value
                .get("reference")
                .and_then(Value::as_str)
                .and_then(parse_local_reference);
            if let Some(("Patient", id)) = target {
                links.push(PatientLink {
                    patient_id: id.into(),
                    param,
                    element,
                });
            }
        }
    }
    links.sort();
    links.dedup();
    links
}

/// Whether `resource` is in the compartment of patient `patient_id`: the same answer
/// as looking for `patient_id` in [`patients_of`], without building the list (this
/// runs for every candidate of every search under a `patient/` scope).
pub fn in_patient_compartment(resource: &Value, patient_id: &str) -> bool {
    let Some(ty) = resource.get("resourceType").and_then(Value::as_str) else {
        return false;
    };
    if ty == "Patient" && resource.get("id").and_then(Value::as_str) == Some(patient_id) {
        return true;
    }
    compartment_params(ty).iter().any(|(_, element)| {
        params::collect(resource, element).iter().any(|value| {
            let target = value
                .get("reference")
                .and_then(Value::as_str)
                .and_then(parse_local_reference);
            matches!(target, Some(("Patient", id)) if id == patient_id)
        })
    })
}

/// One condition a resource must meet to be visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// The resource is in this patient's compartment (see [`patients_of`]): a SMART
    /// `patient/` scope in the context of this patient.
    PatientCompartment(String),
    /// The resource matches a search parameter of its type, written as in a query
    /// string but URL-decoded: `name` may carry a modifier (`family:exact`), `value`
    /// may list alternatives separated by commas (an OR). A SMART v2 scope such as
    /// `patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory`
    /// gives `Param { name: "category", value: "http://...|laboratory" }`.
    Param {
        /// The parameter name, with an optional `:modifier`.
        name: String,
        /// The value, URL-decoded.
        value: String,
    },
}

#[derive(Debug, Clone)]
enum Rule {
    Compartment(String),
    Clause(Clause),
}

impl Rule {
    fn holds(&self, resource: &Value) -> bool {
        match self {
            Self::Compartment(patient) => in_patient_compartment(resource, patient),
            Self::Clause(clause) => clause.matches(resource),
        }
    }
}

/// What a caller may see: either everything, or per resource type a list of grants,
/// each a set of [`Filter`]s that must all hold (grants of a type are ORed, as several
/// SMART scopes on one type are).
///
/// Every search (matches and `_include`d resources) and every conditional create
/// honours it; for read, vread, history and writes the caller asks [`Access::permits`].
/// A type without a grant is invisible; grants on `*` apply to every type (and can
/// only use `_id`, `_lastUpdated` and compartment filters).
#[derive(Debug, Clone)]
pub struct Access {
    grants: Option<BTreeMap<String, Vec<Vec<Rule>>>>,
}

impl Access {
    /// Everything is visible (system use, tests, `user/*.*`-like access).
    pub fn unrestricted() -> Self {
        Self { grants: None }
    }

    /// Nothing is visible until [`allow`](Self::allow) grants something.
    pub fn none() -> Self {
        Self {
            grants: Some(BTreeMap::new()),
        }
    }

    /// Whether this access has no restriction at all.
    pub fn is_unrestricted(&self) -> bool {
        self.grants.is_none()
    }

    /// Grants resources of `resource_type` (or `*`, any type) that meet every filter in
    /// `all_of` (an empty list grants the whole type). Has no effect on an
    /// [`unrestricted`](Self::unrestricted) access, but still checks the filters.
    ///
    /// # Errors
    /// Refuses, rather than ignores, what it cannot enforce:
    /// [`FhirError::UnknownType`] for an unknown type; [`FhirError::Forbidden`] for a
    /// filter parameter this server does not support on that type, or an unusable
    /// value or modifier; [`FhirError::InvalidId`] for a bad patient id.
    pub fn allow(&mut self, resource_type: &str, all_of: &[Filter]) -> Result<(), FhirError> {
        if resource_type != "*" && !is_resource_type(resource_type) {
            return Err(FhirError::UnknownType(resource_type.into()));
        }
        let mut rules = Vec::with_capacity(all_of.len());
        for filter in all_of {
            rules.push(match filter {
                Filter::PatientCompartment(id) if valid_id(id) => Rule::Compartment(id.clone()),
                Filter::PatientCompartment(id) => return Err(FhirError::InvalidId(id.clone())),
                Filter::Param { name, value } => {
                    Rule::Clause(compile(resource_type, name, value).map_err(|e| {
                        FhirError::Forbidden(format!(
                            "the access condition {}={} cannot be enforced on {resource_type}: {e}",
                            clip(name),
                            clip(value)
                        ))
                    })?)
                }
            });
        }
        if let Some(grants) = &mut self.grants {
            grants.entry(resource_type.into()).or_default().push(rules);
        }
        Ok(())
    }

    /// Whether any resource of `resource_type` can be visible.
    pub fn permits_type(&self, resource_type: &str) -> bool {
        self.grants
            .as_ref()
            .is_none_or(|g| g.contains_key(resource_type) || g.contains_key("*"))
    }

    /// Whether `resource` is visible: some grant on its type (or on `*`) has all its
    /// filters met. A value without a `resourceType` string is never visible under a
    /// restricted access.
    pub fn permits(&self, resource: &Value) -> bool {
        let Some(grants) = &self.grants else {
            return true;
        };
        let Some(ty) = resource.get("resourceType").and_then(Value::as_str) else {
            return false;
        };
        [ty, "*"]
            .iter()
            .filter_map(|t| grants.get(*t))
            .flatten()
            .any(|rules| rules.iter().all(|r| r.holds(resource)))
    }
}

fn compile(resource_type: &str, name: &str, value: &str) -> Result<Clause, FhirError> {
    let (base, modifier) = match name.split_once(':') {
        Some((b, m)) => (b, Some(m)),
        None => (name, None),
    };
    let def = params::lookup(resource_type, base).ok_or_else(|| FhirError::InvalidParameter {
        name: name.into(),
        reason: "not a search parameter of this type on this server".into(),
    })?;
    Clause::parse(def, modifier, value)
}
