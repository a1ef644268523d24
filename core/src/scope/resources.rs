//! The FHIR R4 (4.0.1) resource types, as a table shipped in the crate.
//!
//! Source: the R4 `CompartmentDefinition/patient` (version 4.0.1), whose `resource`
//! element lists every R4 resource type that can live on a server, plus `Parameters`
//! (a resource that is only ever exchanged, never stored, so no compartment names it).
//! Cross-checked against the R4 `resource-types` code system, whose other entries are
//! the abstract `Resource` and `DomainResource`: a scope cannot name an abstract type.
//! <https://hl7.org/fhir/R4/compartmentdefinition-patient.html>,
//! <https://hl7.org/fhir/R4/resourcelist.html>.

use crate::error::Error;
use crate::scope::ScopeError;

macro_rules! resource_types {
    ($($name:ident),+ $(,)?) => {
        /// A concrete FHIR R4 resource type.
        ///
        /// Names are case-sensitive, exactly as FHIR spells them (`Observation`, not
        /// `observation`). The variants are in byte order of their names, so
        /// [`ResourceType::ALL`] is sorted and [`ResourceType::parse`] is a binary search.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum ResourceType {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )+
        }

        impl ResourceType {
            /// Every R4 resource type, sorted by name.
            pub const ALL: [ResourceType; [$(stringify!($name)),+].len()] = [$(ResourceType::$name),+];

            /// The type's name as FHIR spells it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(ResourceType::$name => stringify!($name),)+
                }
            }
        }
    };
}

resource_types! {
    Account, ActivityDefinition, AdverseEvent, AllergyIntolerance, Appointment,
    AppointmentResponse, AuditEvent, Basic, Binary, BiologicallyDerivedProduct, BodyStructure,
    Bundle, CapabilityStatement, CarePlan, CareTeam, CatalogEntry, ChargeItem,
    ChargeItemDefinition, Claim, ClaimResponse, ClinicalImpression, CodeSystem, Communication,
    CommunicationRequest, CompartmentDefinition, Composition, ConceptMap, Condition, Consent,
    Contract, Coverage, CoverageEligibilityRequest, CoverageEligibilityResponse, DetectedIssue,
    Device, DeviceDefinition, DeviceMetric, DeviceRequest, DeviceUseStatement,
    DiagnosticReport, DocumentManifest, DocumentReference, EffectEvidenceSynthesis, Encounter,
    Endpoint, EnrollmentRequest, EnrollmentResponse, EpisodeOfCare, EventDefinition, Evidence,
    EvidenceVariable, ExampleScenario, ExplanationOfBenefit, FamilyMemberHistory, Flag, Goal,
    GraphDefinition, Group, GuidanceResponse, HealthcareService, ImagingStudy, Immunization,
    ImmunizationEvaluation, ImmunizationRecommendation, ImplementationGuide, InsurancePlan,
    Invoice, Library, Linkage, List, Location, Measure, MeasureReport, Media, Medication,
    MedicationAdministration, MedicationDispense, MedicationKnowledge, MedicationRequest,
    MedicationStatement, MedicinalProduct, MedicinalProductAuthorization,
    MedicinalProductContraindication, MedicinalProductIndication, MedicinalProductIngredient,
    MedicinalProductInteraction, MedicinalProductManufactured, MedicinalProductPackaged,
    MedicinalProductPharmaceutical, MedicinalProductUndesirableEffect, MessageDefinition,
    MessageHeader, MolecularSequence, NamingSystem, NutritionOrder, Observation,
    ObservationDefinition, OperationDefinition, OperationOutcome, Organization,
    OrganizationAffiliation, Parameters, Patient, PaymentNotice, PaymentReconciliation, Person,
    PlanDefinition, Practitioner, PractitionerRole, Procedure, Provenance, Questionnaire,
    QuestionnaireResponse, RelatedPerson, RequestGroup, ResearchDefinition,
    ResearchElementDefinition, ResearchStudy, ResearchSubject, RiskAssessment,
    RiskEvidenceSynthesis, Schedule, SearchParameter, ServiceRequest, Slot, Specimen,
    SpecimenDefinition, StructureDefinition, StructureMap, Subscription, Substance,
    SubstanceNucleicAcid, SubstancePolymer, SubstanceProtein, SubstanceReferenceInformation,
    SubstanceSourceMaterial, SubstanceSpecification, SupplyDelivery, SupplyRequest, Task,
    TerminologyCapabilities, TestReport, TestScript, ValueSet, VerificationResult,
    VisionPrescription,
}

impl ResourceType {
    /// Looks a type up by its exact, case-sensitive R4 name.
    ///
    /// # Errors
    /// `ERR_SCOPE_RESOURCE_UNKNOWN` for anything that is not a concrete R4 resource type
    /// (including `Resource`, `DomainResource`, R5-only types and other spellings).
    pub fn parse(name: &str) -> Result<Self, Error> {
        Self::lookup(name).ok_or_else(|| ScopeError::ResourceUnknown.into())
    }

    pub(crate) fn lookup(name: &str) -> Option<Self> {
        Self::ALL
            .binary_search_by(|t| t.name().as_bytes().cmp(name.as_bytes()))
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

impl core::fmt::Display for ResourceType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r4_has_146_concrete_types_sorted_and_unique() {
        assert_eq!(ResourceType::ALL.len(), 146);
        for pair in ResourceType::ALL.windows(2) {
            if let [a, b] = pair {
                assert!(a.name().as_bytes() < b.name().as_bytes(), "{a} !< {b}");
            }
        }
    }

    #[test]
    fn every_name_parses_to_itself() {
        for t in ResourceType::ALL {
            assert_eq!(ResourceType::lookup(t.name()), Some(t));
        }
    }

    #[test]
    fn refuses_abstract_misspelt_and_other_versions() {
        for bad in [
            "",
            "Resource",
            "DomainResource",
            "observation",
            "OBSERVATION",
            "Observation ",
            "SubstanceDefinition",
            "DeviceUsage",
            "MedicationUsage",
            "*",
            "Patient/1",
        ] {
            assert_eq!(ResourceType::lookup(bad), None, "{bad}");
            assert_eq!(
                ResourceType::parse(bad).unwrap_err().code(),
                "ERR_SCOPE_RESOURCE_UNKNOWN"
            );
        }
    }
}
