//! The FHIR R4 Patient compartment, as a table shipped in the crate.
//!
//! Source: the R4 (4.0.1) `CompartmentDefinition/patient`,
//! <https://hl7.org/fhir/R4/compartmentdefinition-patient.html> (JSON:
//! `compartmentdefinition-patient.json` in the R4 definitions). For each resource type it
//! names the search parameters whose value, a reference to the Patient, puts a resource in
//! that patient's compartment: an Observation is in it when its `subject` or its
//! `performer` is the patient. A resource is in the compartment when *any* of its
//! parameters matches (the compartment search is the union of one search per parameter).
//!
//! Types the definition lists without a parameter (Practitioner, Organization,
//! Medication, Location, ...) are not in the Patient compartment; [`params`] returns an
//! empty slice for them.
//!
//! The identity of a compartment is the Patient itself ("There is an instance of the
//! patient compartment for each patient resource, and the identity of the compartment is
//! the same as the patient"), so the in-context `Patient` resource is in its own
//! compartment by id, as well as any Patient that names it through `link`.

use super::ResourceType;

/// The search parameters that link `resource_type` to a Patient in the R4 Patient
/// compartment; empty when the type is not in that compartment.
///
/// For `Patient` this is `["link"]`; the patient itself is in its compartment by `_id`
/// (see the module documentation).
pub fn params(resource_type: ResourceType) -> &'static [&'static str] {
    use ResourceType::*;
    match resource_type {
        Account => &["subject"],
        AdverseEvent => &["subject"],
        AllergyIntolerance => &["patient", "recorder", "asserter"],
        Appointment => &["actor"],
        AppointmentResponse => &["actor"],
        AuditEvent => &["patient"],
        Basic => &["patient", "author"],
        BodyStructure => &["patient"],
        CarePlan => &["patient", "performer"],
        CareTeam => &["patient", "participant"],
        ChargeItem => &["subject"],
        Claim => &["patient", "payee"],
        ClaimResponse => &["patient"],
        ClinicalImpression => &["subject"],
        Communication => &["subject", "sender", "recipient"],
        CommunicationRequest => &["subject", "sender", "recipient", "requester"],
        Composition => &["subject", "author", "attester"],
        Condition => &["patient", "asserter"],
        Consent => &["patient"],
        Coverage => &["policy-holder", "subscriber", "beneficiary", "payor"],
        CoverageEligibilityRequest => &["patient"],
        CoverageEligibilityResponse => &["patient"],
        DetectedIssue => &["patient"],
        DeviceRequest => &["subject", "performer"],
        DeviceUseStatement => &["subject"],
        DiagnosticReport => &["subject"],
        DocumentManifest => &["subject", "author", "recipient"],
        DocumentReference => &["subject", "author"],
        Encounter => &["patient"],
        EnrollmentRequest => &["subject"],
        EpisodeOfCare => &["patient"],
        ExplanationOfBenefit => &["patient", "payee"],
        FamilyMemberHistory => &["patient"],
        Flag => &["patient"],
        Goal => &["patient"],
        Group => &["member"],
        ImagingStudy => &["patient"],
        Immunization => &["patient"],
        ImmunizationEvaluation => &["patient"],
        ImmunizationRecommendation => &["patient"],
        Invoice => &["subject", "patient", "recipient"],
        List => &["subject", "source"],
        MeasureReport => &["patient"],
        Media => &["subject"],
        MedicationAdministration => &["patient", "performer", "subject"],
        MedicationDispense => &["subject", "patient", "receiver"],
        MedicationRequest => &["subject"],
        MedicationStatement => &["subject"],
        MolecularSequence => &["patient"],
        NutritionOrder => &["patient"],
        Observation => &["subject", "performer"],
        Patient => &["link"],
        Person => &["patient"],
        Procedure => &["patient", "performer"],
        Provenance => &["patient"],
        QuestionnaireResponse => &["subject", "author"],
        RelatedPerson => &["patient"],
        RequestGroup => &["subject", "participant"],
        ResearchSubject => &["individual"],
        RiskAssessment => &["subject"],
        Schedule => &["actor"],
        ServiceRequest => &["subject", "performer"],
        Specimen => &["subject"],
        SupplyDelivery => &["patient"],
        SupplyRequest => &["subject"],
        VisionPrescription => &["patient"],
        _ => &[],
    }
}

/// Whether a resource of this type can be in a Patient compartment (by a link parameter,
/// or, for `Patient`, by being the patient).
pub fn contains(resource_type: ResourceType) -> bool {
    !params(resource_type).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r4_patient_compartment_has_66_linked_types() {
        let linked = ResourceType::ALL.iter().filter(|t| contains(**t)).count();
        assert_eq!(linked, 66);
    }

    /// Rows quoted from compartmentdefinition-patient (R4 4.0.1).
    #[test]
    fn r4_compartmentdefinition_patient_rows() {
        use ResourceType::*;
        let rows: &[(ResourceType, &[&str])] = &[
            (Observation, &["subject", "performer"]),
            (Encounter, &["patient"]),
            (Condition, &["patient", "asserter"]),
            (MedicationRequest, &["subject"]),
            (AllergyIntolerance, &["patient", "recorder", "asserter"]),
            (Immunization, &["patient"]),
            (Patient, &["link"]),
            (
                Coverage,
                &["policy-holder", "subscriber", "beneficiary", "payor"],
            ),
            (
                CommunicationRequest,
                &["subject", "sender", "recipient", "requester"],
            ),
            (
                MedicationAdministration,
                &["patient", "performer", "subject"],
            ),
            (ResearchSubject, &["individual"]),
            (Group, &["member"]),
            (Practitioner, &[]),
            (Organization, &[]),
            (Medication, &[]),
            (Location, &[]),
            (Task, &[]),
            (Parameters, &[]),
        ];
        for (t, p) in rows {
            assert_eq!(params(*t), *p, "{t}");
        }
    }
}
