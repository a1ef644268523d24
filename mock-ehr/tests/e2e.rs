//! The mock EHR's tests, one binary: the authorization server per endpoint through
//! `tower::ServiceExt::oneshot` and whole flows over a real socket, the FHIR data
//! layer (`fhir`), and the FHIR API over HTTP (`fhir_api_*`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    missing_docs,
    unreachable_pub
)]

extern crate alloc;

#[path = "e2e/support.rs"]
mod support;

// The FHIR data layer (no HTTP): its own tree of modules under fhir/.
mod fhir;

#[path = "e2e/admin.rs"]
mod admin;
#[path = "e2e/audit_trail.rs"]
mod audit_trail;
#[path = "e2e/authorize.rs"]
mod authorize;
#[path = "e2e/backend.rs"]
mod backend;
#[path = "e2e/bad_input.rs"]
mod bad_input;
#[path = "e2e/console.rs"]
mod console;
#[path = "e2e/discovery.rs"]
mod discovery;
#[path = "e2e/dpop.rs"]
mod dpop;
#[path = "e2e/fhir_api_bulk.rs"]
mod fhir_api_bulk;
#[path = "e2e/fhir_api_matrix.rs"]
mod fhir_api_matrix;
#[path = "e2e/fhir_api_read.rs"]
mod fhir_api_read;
#[path = "e2e/fhir_api_search.rs"]
mod fhir_api_search;
#[path = "e2e/fhir_api_server.rs"]
mod fhir_api_server;
#[path = "e2e/fhir_api_support.rs"]
mod fhir_api_support;
#[path = "e2e/fhir_api_write.rs"]
mod fhir_api_write;
#[path = "e2e/interactive.rs"]
mod interactive;
#[path = "e2e/introspect_revoke.rs"]
mod introspect_revoke;
#[path = "e2e/mint.rs"]
mod mint;
#[path = "e2e/par.rs"]
mod par;
#[path = "e2e/refresh.rs"]
mod refresh;
#[path = "e2e/register.rs"]
mod register;
#[path = "e2e/scopes.rs"]
mod scopes;
#[path = "e2e/socket.rs"]
mod socket;
#[path = "e2e/tenants.rs"]
mod tenants;
#[path = "e2e/tls.rs"]
mod tls;
#[path = "e2e/token_code.rs"]
mod token_code;
