#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| smartgate_core::fuzzing::pkce(data));
