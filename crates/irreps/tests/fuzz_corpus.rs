//! Replays the committed fuzz corpora (`fuzz/corpus/<target>`: seeds, the inputs the fuzzers
//! kept, and every crash they found, after its fix) through the same checks as the fuzz targets
//! (`fuzz/fuzz_targets/irreps_checks.rs`), on stable and in seconds. A panic is a failure.

use std::path::PathBuf;

#[path = "../../../fuzz/fuzz_targets/irreps_checks.rs"]
mod irreps_checks;

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
fn irreps_corpus_gives_clean_results() {
    replay("irreps", irreps_checks::irreps);
}
