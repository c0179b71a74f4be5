//! Replays the committed fuzz corpora (`fuzz/corpus/<target>`: seeds, the inputs the fuzzers
//! kept, and every crash they found, after its fix) through the same checks as the fuzz targets
//! (`fuzz/fuzz_targets/core_checks.rs`), on stable and in seconds. A panic is a failure.

#[path = "../../../fuzz/fuzz_targets/core_checks.rs"]
mod core_checks;

#[path = "../../../fuzz/fuzz_targets/replay.rs"]
mod replay;
use replay::replay;

#[test]
fn xyz_corpus_gives_clean_results() {
    replay("xyz", core_checks::xyz);
}

#[test]
fn npy_corpus_gives_clean_results() {
    replay("npy", core_checks::npy);
}

#[test]
fn text_matrix_corpus_gives_clean_results() {
    replay("text_matrix", core_checks::text_matrix);
}

#[path = "../../../fuzz/fuzz_targets/dataset_input.rs"]
mod dataset_input;

#[test]
fn dataset_corpus_gives_clean_results() {
    use arbitrary::Arbitrary;
    let dir = std::env::temp_dir().join(format!("hip-dataset-corpus-{}", std::process::id()));
    replay("dataset", |data: &[u8]| {
        // libfuzzer-sys decodes a structured input exactly so
        if let Ok(input) = dataset_input::Input::arbitrary_take_rest(arbitrary::Unstructured::new(data)) {
            dataset_input::run(&input, &dir);
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dataset_tables_corpus_gives_clean_results() {
    replay("dataset_tables", core_checks::dataset_tables);
}
