//! Training samples read from the file while training (`hip train --stream`): memory bounded by
//! one window of samples whatever the file's size, for data at the paper's scale (HORM's 1.8 M
//! Hessians) on a machine whose memory holds a fraction of it.
//!
//! - the sample tables (split, kind, molecule, offsets) are in memory, as
//!   [`hip_core::io::dataset::Dataset`] keeps them (tens of bytes per sample);
//! - an epoch's order is shuffled by blocks ([`block_shuffled`]): blocks of [`BLOCK`] consecutive
//!   entries of the epoch pool in a seeded random order, then the entries inside each window of
//!   [`window_len`] shuffled — every sample once per epoch (times its repeats), a window's reads
//!   are `window / BLOCK` runs of neighbouring samples of the file;
//! - the samples of one window are read when the loop reaches it ([`Window`]) and dropped after.
//!
//! Not the in-memory order: a streamed run and an in-memory run of the same config see the
//! samples in different orders (each deterministic in the seed and resumable by epoch).

use std::collections::HashMap;
use std::path::Path;

use hip_core::io::dataset::{Dataset, Sample};
use irreps::rotation::SplitMix64;

use super::{TrainConfig, kind_spread};
use crate::{Error, Result};

/// Entries of the epoch pool per shuffled block (neighbours in the file).
pub const BLOCK: usize = 64;

/// Batches per window: a window holds at most `batch_size × WINDOW_BATCHES` samples.
pub const WINDOW_BATCHES: usize = 128;

/// Entries per window for batches of `batch_size`.
pub fn window_len(batch_size: usize) -> usize {
    batch_size.max(1) * WINDOW_BATCHES
}

/// The training samples of one dataset file, read on demand.
#[derive(Debug)]
pub struct StreamSource {
    ds: Dataset,
    /// File indices of the training samples used, in file order.
    idx: Vec<usize>,
}

impl StreamSource {
    /// The `train` split of `path`, the kinds of `cfg.kinds`, spread to `cfg.max_train`
    /// ([`kind_spread`], as the in-memory path selects), from the tables alone.
    pub fn open(path: &Path, cfg: &TrainConfig) -> Result<Self> {
        let ds = Dataset::open(path)?;
        let split = ds.indices_in_split("train");
        let idx = kind_spread(split.iter().map(|&i| ds.kind_of(i)), &cfg.kinds, cfg.max_train)
            .into_iter()
            .map(|k| split[k])
            .collect();
        Ok(StreamSource { ds, idx })
    }

    /// Training samples.
    pub fn len(&self) -> usize {
        self.idx.len()
    }

    /// No training samples.
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    /// Kind of training sample `k`.
    pub fn kind(&self, k: usize) -> &str {
        self.ds.kind_of(self.idx[k])
    }

    /// Molecule index of training sample `k`.
    pub fn molecule(&self, k: usize) -> usize {
        self.ds.molecule_index_of(self.idx[k])
    }

    /// Training sample `k`, read from the file.
    pub fn read(&self, k: usize) -> Result<Sample> {
        self.ds.sample(self.idx[k]).map_err(Error::from)
    }

    /// At most `max` training samples spread over the set (for the statistics of a fresh model).
    pub fn spread(&self, max: usize) -> Result<Vec<Sample>> {
        super::spread_indices(self.len(), max).into_iter().map(|k| self.read(k)).collect()
    }
}

/// The epoch's order for streaming: `pool` (sorted, as [`super::epoch_pool`] makes it) cut into
/// blocks of [`BLOCK`] entries, the blocks shuffled, then the entries inside each window of
/// `window` entries shuffled. A permutation of `pool`, a function of `(seed, epoch)` only.
pub fn block_shuffled(pool: &[usize], seed: u64, epoch: usize, window: usize) -> Vec<usize> {
    let blocks: Vec<&[usize]> = pool.chunks(BLOCK).collect();
    let mut rng = SplitMix64(seed.wrapping_mul(0x9E37_79B9).wrapping_add(epoch as u64) ^ 0x5EED_B10C);
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    shuffle(&mut order, &mut rng);
    let mut out: Vec<usize> = order.iter().flat_map(|&b| blocks[b].iter().copied()).collect();
    for w in out.chunks_mut(window.max(1)) {
        shuffle(w, &mut rng);
    }
    out
}

fn shuffle(v: &mut [usize], rng: &mut SplitMix64) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// The samples of the window being trained on: read (in file order) when the loop enters it.
#[derive(Debug, Default)]
pub struct Window {
    index: Option<usize>,
    samples: HashMap<usize, Sample>,
}

impl Window {
    /// The samples of window `w` of `order` (windows of `len` entries), read unless held.
    pub fn load(&mut self, source: &StreamSource, order: &[usize], w: usize, len: usize) -> Result<()> {
        if self.index == Some(w) {
            return Ok(());
        }
        self.samples.clear();
        let lo = (w * len).min(order.len());
        let mut want: Vec<usize> = order[lo..((w + 1) * len).min(order.len())].to_vec();
        want.sort_unstable();
        want.dedup();
        for k in want {
            self.samples.insert(k, source.read(k)?);
        }
        self.index = Some(w);
        Ok(())
    }

    /// Sample `k` of the window.
    pub fn get(&self, k: usize) -> Result<&Sample> {
        self.samples.get(&k).ok_or_else(|| Error::Input(format!("sample {k} is not in the window read")))
    }
}
