//! The WebAssembly bindings of smartgate: the npm package `smartgate`.
//!
//! These are the raw exports; the package's public API (`js/api/*.js`, typed in
//! `js/index.d.ts`, specified in `shared/DESIGN.md`) wraps them. The split of work:
//! - Rust (here, on top of `smartgate_core`): every parse, every policy decision, key
//!   selection, the signature shape checks, claim checks, scope decisions, DPoP and
//!   guard decisions (the core's sans-IO steps, re-entered with the host's answers:
//!   [`dpop::DpopStep`], [`guard::GuardStep`]), and the refresh policy of remote key
//!   sets;
//! - JavaScript (the glue): type checks of JS arguments, moving bytes to the host's
//!   crypto (`node:crypto` or `crypto.subtle`) and back, caching imported host keys,
//!   `fetch`, calling the replay store, and turning error strings into
//!   `SmartgateError`s.
//!
//! Failures cross as `"<CODE> <message>"` strings ([`error`]). Nothing here panics on
//! input: the JS tests feed garbage to every export.

extern crate alloc;

pub mod args;
pub mod authz;
pub mod dpop;
pub mod error;
pub mod guard;
pub mod jwt;
pub mod keys;
pub mod pkce;
pub mod remote;
pub mod scope;
pub mod sigjob;
