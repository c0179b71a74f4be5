//! Fuzz target: `irreps_checks::irreps`.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod irreps_checks;

fuzz_target!(|data: &[u8]| irreps_checks::irreps(data));
