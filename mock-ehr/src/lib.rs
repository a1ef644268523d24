//! The smartgate mock EHR: a SMART authorization server and FHIR R4 server.
//!
//! Not built yet: the server arrives with the mock EHR issues.
