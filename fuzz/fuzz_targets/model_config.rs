//! Fuzz target: `model_checks::model_config`.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod model_checks;

fuzz_target!(|data: &[u8]| model_checks::model_config(data));
