//! End-to-end tests of smartgate live in `tests/e2e/`; the attack matrix is described in
//! `attacks.md`. This library is empty.
