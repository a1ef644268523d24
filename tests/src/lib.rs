//! End-to-end tests of smartgate live in `tests/` beside this file.
