//! The smartgate mock EHR: a SMART authorization server and FHIR R4 server.
//!
//! Built so far: [`fhir`], the FHIR R4 data layer (deterministic synthetic data, a
//! versioned in-memory store, search, fixture loading). The HTTP server and the
//! authorization server arrive with the next mock EHR issues and call this API.
#![forbid(unsafe_code)]

extern crate alloc;

pub mod fhir;
