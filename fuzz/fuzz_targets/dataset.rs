//! HDF5 datasets: structured fuzzing of the *contents* of a well-formed HDF5 container (the
//! container format itself is libhdf5's to parse); see `dataset_input.rs`. Opening the file must
//! give a dataset whose every sample reads, or a clean error: never a panic, an overflow or a
//! giant allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod dataset_input;

fuzz_target!(|inp: dataset_input::Input| {
    let dir = std::env::temp_dir().join(format!("hip-fuzz-dataset-{}", std::process::id()));
    dataset_input::run(&inp, &dir);
});
