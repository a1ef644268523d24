//! End-to-end tests of smartgate:
//! - `flows`: whole SMART flows as a client runs them, against a mock EHR started in
//!   this process, over sockets (the table is in the README's "End-to-end flows");
//! - `attacks`: the attack matrix (`attack_<row>`, one test per row of the table in
//!   `attacks.md` and the README's Security section), each row against the core
//!   directly and, where it is a network attack, against a running mock EHR.
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

mod attacks;
mod flows;
mod http;
