//! Per-op statistics (hip-rs patch, `vendor/README.md`): calls, seconds, floating-point
//! operations and elements of every storage op, by op name, for the roofline of issue 35.
//!
//! Off by default: each op then pays one relaxed atomic load and the product of its shape's dims. [`enable`] turns counting on for
//! the whole process; [`take`] returns the counts so far and clears them. Times are wall time
//! of the op's kernel (`Instant`), from the op's entry to its result, allocation included.
//! Flops are counted for matmul (`2·b·m·n·k`); other ops count their elements (output elements
//! for element-wise and index ops, input elements for reductions and copies).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static ON: AtomicBool = AtomicBool::new(false);
static STATS: Mutex<BTreeMap<&'static str, OpStat>> = Mutex::new(BTreeMap::new());
static BY_LAYOUT: AtomicBool = AtomicBool::new(false);
static LAYOUT_STATS: Mutex<BTreeMap<String, OpStat>> = Mutex::new(BTreeMap::new());

/// Totals of one op name.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OpStat {
    /// Number of calls.
    pub calls: u64,
    /// Wall time in the op, seconds.
    pub seconds: f64,
    /// Floating-point operations (matmul only; 0 for the others).
    pub flops: u64,
    /// Elements processed (see the module docs).
    pub elements: u64,
}

/// Turns counting on or off for the whole process.
pub fn enable(on: bool) {
    ON.store(on, Ordering::Relaxed)
}

/// Whether counting is on.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The counts so far, by op name; clears them.
pub fn take() -> BTreeMap<&'static str, OpStat> {
    std::mem::take(&mut *STATS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Also counts binary ops and reductions by layout (with [`enable`] on): the op name, the
/// shape, each operand's strides (0 where broadcast) and the reduced dims, as the key of a
/// second table ([`take_by_layout`]). Formats a key per op: for finding which layouts an op's
/// time goes to, not for timing the whole.
pub fn enable_by_layout(on: bool) {
    BY_LAYOUT.store(on, Ordering::Relaxed)
}

/// The counts by layout so far (see [`enable_by_layout`]); clears them.
pub fn take_by_layout() -> BTreeMap<String, OpStat> {
    std::mem::take(&mut *LAYOUT_STATS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Times one op from its creation to its drop (when counting is on).
pub(crate) struct Scope {
    name: &'static str,
    flops: u64,
    elements: u64,
    start: Option<Instant>,
    layout: Option<String>,
}

/// The scope of one op whose by-layout key is `key()` (only called when both tables are on).
pub(crate) fn scope_keyed(name: &'static str, elements: usize, key: impl FnOnce() -> String) -> Scope {
    let mut s = scope(name, 0, elements);
    if s.start.is_some() && BY_LAYOUT.load(Ordering::Relaxed) {
        s.layout = Some(format!("{name} {}", key()));
    }
    s
}

/// The scope of one op: `flops` and `elements` as in the module docs.
pub(crate) fn scope(name: &'static str, flops: u64, elements: usize) -> Scope {
    let start = if ON.load(Ordering::Relaxed) { Some(Instant::now()) } else { None };
    Scope { name, flops, elements: elements as u64, start, layout: None }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            let seconds = start.elapsed().as_secs_f64();
            let mut stats = STATS.lock().unwrap_or_else(|e| e.into_inner());
            let s = stats.entry(self.name).or_default();
            s.calls += 1;
            s.seconds += seconds;
            s.flops += self.flops;
            s.elements += self.elements;
            drop(stats);
            if let Some(key) = self.layout.take() {
                let mut stats = LAYOUT_STATS.lock().unwrap_or_else(|e| e.into_inner());
                let s = stats.entry(key).or_default();
                s.calls += 1;
                s.seconds += seconds;
                s.elements += self.elements;
            }
        }
    }
}
