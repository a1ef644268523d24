//! End-to-end tests of smartgate: whole SMART flows as a client runs them (`flows`,
//! against a mock EHR in this process, over sockets), and the attack matrix (`attack_<row>`, one test per row
//! of the table in `attacks.md` and the README's Security section), each row against
//! the core directly and, where it is a network attack, against a running mock EHR.
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
