//! Fuzz target: `core_checks::dataset_tables`.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod core_checks;

fuzz_target!(|data: &[u8]| core_checks::dataset_tables(data));
