//! The per-op counters behind `examples/roofline.rs` (vendored candle-core's `op_stats`): off,
//! nothing is counted; on, every storage op is counted by name with its flops (matmul:
//! 2·b·m·n·k, exact integers) and elements; `take` clears; asked for, binary ops and sums are also
//! counted by layout. One test function, because the
//! counters are process-wide and tests of one binary run in parallel threads.

use candle_core::op_stats;
use candle_core::{DType, Device, Tensor};

#[test]
fn op_stats_count_matmul_flops_and_elementwise_elements_only_when_on() {
    let (m, k, n) = (7usize, 5usize, 3usize);
    let a = Tensor::ones((m, k), DType::F64, &Device::Cpu).unwrap();
    let b = Tensor::ones((k, n), DType::F64, &Device::Cpu).unwrap();
    op_stats::enable(false);
    op_stats::take();
    let _ = a.matmul(&b).unwrap();
    assert!(op_stats::take().is_empty(), "counting while off");

    op_stats::enable(true);
    let c = a.matmul(&b).unwrap();
    let _ = (&c * &c).unwrap();
    let _ = (&c * &c).unwrap();
    op_stats::enable(false);
    let stats = op_stats::take();
    let mm = stats.get("matmul").expect("matmul counted");
    assert_eq!((mm.calls, mm.flops, mm.elements), (1, 2 * (m * k * n) as u64, (m * n) as u64));
    let mul = stats.get("mul").expect("mul counted");
    assert_eq!((mul.calls, mul.flops, mul.elements), (2, 0, 2 * (m * n) as u64));
    assert!(mm.seconds >= 0.0 && mul.seconds >= 0.0);
    assert!(op_stats::take().is_empty(), "take clears");
    // the product is unchanged by counting: every entry is k
    assert!(c.flatten_all().unwrap().to_vec1::<f64>().unwrap().iter().all(|&x| x == k as f64));

    // by layout: binary ops keyed by shape and each operand's strides (0: broadcast), sums by
    // shape and reduced dims; nothing in that table unless asked
    op_stats::enable(true);
    let _ = (&c * &c).unwrap();
    assert!(op_stats::take_by_layout().is_empty(), "by-layout counting while off");
    op_stats::enable_by_layout(true);
    let w = Tensor::ones((m, 1), DType::F64, &Device::Cpu).unwrap();
    let _ = c.broadcast_mul(&w).unwrap();
    let _ = c.sum_keepdim(0).unwrap();
    op_stats::enable_by_layout(false);
    op_stats::enable(false);
    op_stats::take();
    let layouts = op_stats::take_by_layout();
    let keys: Vec<&String> = layouts.keys().collect();
    assert_eq!(
        keys,
        [&format!("mul [{m}, {n}] strides [{n}, 1] · [1, 0]"), &format!("reduce [{m}, {n}] strides [{n}, 1] over [0]")]
    );
    assert!(layouts.values().all(|s| s.calls == 1 && s.elements == (m * n) as u64));
}
