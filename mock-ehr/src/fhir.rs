//! The FHIR R4 data layer of the mock EHR: no HTTP, no authorization.
//!
//! - [`data`]: deterministic synthetic patients and their records, generated in code.
//! - [`store`]: an in-memory versioned store (read, vread, create, conditional create,
//!   update with `If-Match`, delete, history) that validates every write.
//! - [`mod@search`]: FHIR search over the store, returning `searchset` Bundles with paging.
//! - [`access`]: the hook for the security layer: patient-compartment membership
//!   ([`access::patients_of`]) and mandatory filters ([`access::Access`]) that every
//!   search, include and conditional create honours.
//! - [`load`]: fixtures from a FHIR Bundle or a folder of NDJSON files.
//! - [`error`]: [`FhirError`], with its HTTP status and `OperationOutcome`.
//! - [`date`]: FHIR date/time parsing and instant / HTTP-date formatting.
//!
//! Time is a parameter everywhere (`now`, seconds since the Unix epoch); nothing here
//! reads the clock.

pub mod access;
pub mod data;
pub mod date;
pub mod error;
pub mod load;
mod params;
mod query;
pub mod search;
pub mod store;
mod validate;

pub use access::{Access, Filter, PatientLink, patients_of};
pub use error::FhirError;
pub use search::{SearchResult, search};
pub use store::{Store, Version, Write, WriteStatus};
pub use validate::validate_resource;

/// The longest id this server accepts: 64 characters, as the R4 `id` datatype allows.
pub const MAX_ID_LEN: usize = 64;

/// Whether `id` is a logical id this server accepts.
///
/// The R4 `id` datatype (`[A-Za-z0-9\-\.]{1,64}`), minus ids made only of dots (`.`,
/// `..`): the regex allows them, but they are path segments with a meaning of their
/// own and only ever arrive through path traversal attempts.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !id.bytes().all(|b| b == b'.')
}

/// Whether `resource_type` names a FHIR R4 (4.0.1) resource type this store can hold.
///
/// Every concrete R4 resource type except `Parameters` (which is never stored).
pub fn is_resource_type(resource_type: &str) -> bool {
    RESOURCE_TYPES.binary_search(&resource_type).is_ok()
}

/// The FHIR R4 (4.0.1) resource types the store accepts, sorted.
pub const RESOURCE_TYPES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// A local reference `Type/id` (optionally `Type/id/_history/n`) split into its parts.
///
/// Only relative references name a resource of this server; absolute URLs,
/// `urn:uuid:` and contained (`#x`) references give `None`, as does a reference whose
/// type is not an R4 resource type or whose id is not a valid id.
pub fn parse_local_reference(reference: &str) -> Option<(&str, &str)> {
    let mut parts = reference.split('/');
    let ty = parts.next()?;
    let id = parts.next()?;
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => {}
        (Some("_history"), Some(v), None) if valid_id(v) => {}
        _ => return None,
    }
    (is_resource_type(ty) && valid_id(id)).then_some((ty, id))
}
