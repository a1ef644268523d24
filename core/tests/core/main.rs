//! The core's integration tests: one binary (see ../../shared/STYLE.md), one module per
//! area. Spec vectors live in `../data/`, each file naming its source.

#![allow(unreachable_pub, missing_docs)]
// Test helpers may panic: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod codes;
mod common;
mod dpop;
mod fuzz_corpus;
mod guard;
mod guard_scope;
mod jwk;
mod jws;
mod jwt;
mod pkce;
mod props;
mod scope;
mod vectors;
mod wycheproof;
