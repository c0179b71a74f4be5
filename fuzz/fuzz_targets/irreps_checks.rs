//! What the irreps fuzz target checks, shared with the corpus replay test
//! (`crates/irreps/tests/fuzz_corpus.rs` includes this file by path).

use irreps::Irreps;

/// Irreps strings (e3nn syntax): parse or a clean error; a parsed value prints and re-parses to
/// itself, and its bookkeeping (dim, slices, simplify, sort) does not overflow or panic.
pub fn irreps(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ir) = text.parse::<Irreps>() {
        let again: Irreps = ir.to_string().parse().expect("printed irreps parse");
        assert_eq!(again, ir);
        let _ = (ir.dim(), ir.slices(), ir.simplify(), ir.sort(), ir.lmax());
    }
}
