//! Replays the committed fuzz corpora (`fuzz/corpus/<target>`: seeds, the inputs the fuzzers
//! kept, and every crash they found, after its fix) through the same checks as the fuzz targets
//! (`fuzz/fuzz_targets/irreps_checks.rs`), on stable and in seconds. A panic is a failure.

#[path = "../../../fuzz/fuzz_targets/irreps_checks.rs"]
mod irreps_checks;

#[path = "../../../fuzz/fuzz_targets/replay.rs"]
mod replay;
use replay::replay;

#[test]
fn irreps_corpus_gives_clean_results() {
    replay("irreps", irreps_checks::irreps);
}
