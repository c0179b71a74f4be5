//! Fuzz target: `model_checks::checkpoint`.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod model_checks;

fuzz_target!(|data: &[u8]| model_checks::checkpoint(data));
