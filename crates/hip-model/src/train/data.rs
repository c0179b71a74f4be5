//! Which samples a run sees: selection (spread over a split, by kind), the epoch pool with
//! repeats, the seeded shuffle, and reading a split from a dataset file.

#[cfg(feature = "hdf5")]
use crate::{Error, Result};
use hip_core::io::dataset::Sample;
use irreps::rotation::SplitMix64;
use std::collections::BTreeMap;

use super::*;

/// Indices of at most `max` of `len` samples spread evenly over them (`k · len / max`), or all
/// when `max` is 0 or not smaller than `len`. Datasets are ordered by molecule, so a prefix
/// would see only the first molecules; a spread sees all of them.
pub fn spread_indices(len: usize, max: usize) -> Vec<usize> {
    if max == 0 || max >= len { (0..len).collect() } else { (0..max).map(|k| k * len / max).collect() }
}

/// Positions, in a list of sample kinds, of the samples whose kind is in `kinds` (empty: all),
/// spread to at most `max` with [`spread_indices`]: the one selection rule of
/// [`training_indices`] and [`load_split_of_kinds`].
pub fn kind_spread<'a>(sample_kinds: impl IntoIterator<Item = &'a str>, kinds: &[String], max: usize) -> Vec<usize> {
    let of_kinds: Vec<usize> = sample_kinds
        .into_iter()
        .enumerate()
        .filter(|(_, kind)| kinds.is_empty() || kinds.iter().any(|k| k == kind))
        .map(|(i, _)| i)
        .collect();
    spread_indices(of_kinds.len(), max).into_iter().map(|k| of_kinds[k]).collect()
}

/// Indices of the training samples used: those of [`TrainConfig::kinds`], spread to at most
/// [`TrainConfig::max_train`] ([`kind_spread`]).
pub fn training_indices(samples: &[Sample], cfg: &TrainConfig) -> Vec<usize> {
    kind_spread(samples.iter().map(|s| s.kind.as_str()), &cfg.kinds, cfg.max_train)
}

/// The sample indices of one epoch before shuffling: index `i` appears `repeats[kinds[i]]` times
/// (once for a kind not in `repeats`).
pub fn epoch_pool(kinds: &[&str], repeats: &BTreeMap<String, usize>) -> Vec<usize> {
    weighted_epoch_pool(kinds, repeats, &[])
}

/// [`epoch_pool`] with a further per-index factor: index `i` appears
/// `repeats[kinds[i]] × item_repeats[i]` times (`item_repeats` empty: 1 for every index).
pub fn weighted_epoch_pool(kinds: &[&str], repeats: &BTreeMap<String, usize>, item_repeats: &[usize]) -> Vec<usize> {
    let times = |i: usize, k: &str| repeats.get(k).copied().unwrap_or(1) * item_repeats.get(i).copied().unwrap_or(1);
    kinds.iter().enumerate().flat_map(|(i, k)| std::iter::repeat_n(i, times(i, k))).collect()
}

pub(super) fn shuffled(idx: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    let mut order = idx.to_vec();
    let mut rng = SplitMix64(seed.wrapping_mul(0x9E37_79B9).wrapping_add(epoch as u64));
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Reads the samples of `split` from a dataset file (cargo feature `hdf5`).
#[cfg(feature = "hdf5")]
pub fn load_split(path: &std::path::Path, split: &str) -> Result<Vec<Sample>> {
    load_split_spread(path, split, 0)
}

/// At most `max` samples of `split` (0: all), spread evenly over it with [`spread_indices`], read
/// from the file without reading the rest: the same samples as `load_split` followed by the
/// spread, for a fraction of the I/O (a 4,000-sample subset of a 23,000-sample split).
#[cfg(feature = "hdf5")]
pub fn load_split_spread(path: &std::path::Path, split: &str, max: usize) -> Result<Vec<Sample>> {
    load_split_of_kinds(path, split, &[], max)
}

/// At most `max` samples of `split` whose kind is in `kinds` (empty: all), spread evenly over
/// them: what [`training_indices`] picks from the split with `kinds` and `max_train = max`,
/// without reading the other samples.
#[cfg(feature = "hdf5")]
pub fn load_split_of_kinds(path: &std::path::Path, split: &str, kinds: &[String], max: usize) -> Result<Vec<Sample>> {
    let ds = hip_core::io::dataset::Dataset::open(path)?;
    let idx = ds.indices_in_split(split);
    kind_spread(idx.iter().map(|&i| ds.kind_of(i)), kinds, max)
        .into_iter()
        .map(|k| ds.sample(idx[k]).map_err(Error::from))
        .collect()
}
