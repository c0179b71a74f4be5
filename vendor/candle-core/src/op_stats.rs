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

/// Times one op from its creation to its drop (when counting is on).
pub(crate) struct Scope {
    name: &'static str,
    flops: u64,
    elements: u64,
    start: Option<Instant>,
}

/// The scope of one op: `flops` and `elements` as in the module docs.
pub(crate) fn scope(name: &'static str, flops: u64, elements: usize) -> Scope {
    let start = if ON.load(Ordering::Relaxed) { Some(Instant::now()) } else { None };
    Scope { name, flops, elements: elements as u64, start }
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
        }
    }
}
