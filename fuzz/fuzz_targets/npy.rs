//! Fuzz target: `core_checks::npy`.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod core_checks;

fuzz_target!(|data: &[u8]| core_checks::npy(data));
