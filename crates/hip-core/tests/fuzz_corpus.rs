//! Replays the committed fuzz corpora (`fuzz/corpus/<target>`: seeds, the inputs the fuzzers
//! kept, and every crash they found, after its fix) through the same checks as the fuzz targets
//! (`fuzz/fuzz_targets/core_checks.rs`), on stable and in seconds. A panic is a failure.

use std::path::PathBuf;

#[path = "../../../fuzz/fuzz_targets/core_checks.rs"]
mod core_checks;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    for path in corpus(target) {
        let data = std::fs::read(&path).expect("readable corpus file");
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("{target}: {} panics", path.display());
        }
    }
}

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
    for path in corpus("dataset") {
        let data = std::fs::read(&path).expect("readable corpus file");
        // libfuzzer-sys decodes a structured input exactly so
        let Ok(input) = dataset_input::Input::arbitrary_take_rest(arbitrary::Unstructured::new(&data)) else {
            continue;
        };
        if std::panic::catch_unwind(|| dataset_input::run(&input, &dir)).is_err() {
            panic!("dataset: {} panics", path.display());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dataset_tables_corpus_gives_clean_results() {
    replay("dataset_tables", core_checks::dataset_tables);
}
