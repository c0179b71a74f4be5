//! Corpus replay for the stable tests (`crates/*/tests/fuzz_corpus.rs` include this file by
//! path): every committed file of `fuzz/corpus/<target>` through a check; a panic fails.

use std::path::PathBuf;

/// The files of `fuzz/corpus/<target>`, sorted; panics when there are none.
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

/// Runs `check` on every corpus file of `target`, naming the file that panics.
pub fn replay(target: &str, check: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    for path in corpus(target) {
        let data = std::fs::read(&path).expect("readable corpus file");
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("{target}: {} panics", path.display());
        }
    }
}
