//! The WebAssembly bindings of smartgate (npm package `smartgate`).
//!
//! Not built yet: the JavaScript API of `../shared/DESIGN.md` arrives with the WASM
//! issue. Until then this crate only proves the core links into a `cdylib`.
