// hip-rs patch test (vendor/README.md, "Row-wise sums"): the row-wise contiguous sum gives exactly
// what the element-by-element loop gave — the same additions in the same order — for every subset
// of reduced dimensions of tensors of rank 1 to 4, in f64 and f32. Exact equality is the claim:
// the patch reorders no addition, so any rounding difference is a bug.
use candle_core::{DType, Device, Tensor};
use std::ops::AddAssign;

/// Sum over `dims` in source order, element by element (the unpatched loop's order).
fn reference<T: Copy + Default + AddAssign>(vals: &[T], shape: &[usize], dims: &[usize]) -> Vec<T> {
    let dst_shape: Vec<usize> = shape.iter().enumerate().map(|(d, &n)| if dims.contains(&d) { 1 } else { n }).collect();
    let mut dst = vec![T::default(); dst_shape.iter().product()];
    let mut idx = vec![0usize; shape.len()];
    for &v in vals {
        let mut di = 0;
        for d in 0..shape.len() {
            di = di * dst_shape[d] + if dims.contains(&d) { 0 } else { idx[d] };
        }
        dst[di] += v;
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    dst
}

#[test]
fn contiguous_sums_over_any_dims_equal_the_element_by_element_order() {
    for shape in [vec![7], vec![3, 5], vec![4, 1, 6], vec![2, 3, 4, 5], vec![5, 2, 1, 3], vec![3, 7, 2]] {
        let n: usize = shape.iter().product();
        // values with many significant bits, so that another order would round differently
        let vals: Vec<f64> = (0..n).map(|i| ((i * 7919 % 1013) as f64).sqrt() * 1.000_000_1 - 11.3).collect();
        for mask in 1u32..(1 << shape.len()) {
            let dims: Vec<usize> = (0..shape.len()).filter(|d| mask & (1 << d) != 0).collect();
            if dims == (shape.len() - dims.len()..shape.len()).collect::<Vec<_>>() {
                continue; // reduced dims all last: upstream's own path (vec_reduce_sum, SIMD in f32)
            }
            let t = Tensor::from_vec(vals.clone(), shape.as_slice(), &Device::Cpu).unwrap();
            let got: Vec<f64> = t.sum_keepdim(dims.clone()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(got, reference(&vals, &shape, &dims), "{shape:?} over {dims:?}");

            let t32 = t.to_dtype(DType::F32).unwrap();
            let vals32: Vec<f32> = t32.flatten_all().unwrap().to_vec1().unwrap();
            let got: Vec<f32> = t32.sum_keepdim(dims.clone()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(got, reference(&vals32, &shape, &dims), "{shape:?} over {dims:?} (f32)");
        }
    }
}
