//! Edge spherical harmonics on candle tensors (differentiable to any order), by the same
//! solid-harmonic recurrence as [`irreps::spherical_harmonics`] (polar axis y, component
//! normalization, `normalize = true`); tested against it.

use candle_core::Tensor;

use crate::Result;

/// `Y^0 ⊕ ... ⊕ Y^lmax` of the rows of `vectors` (`(E, 3)`, non-zero) → `(E, (lmax+1)²)`.
pub fn spherical_harmonics(vectors: &Tensor, lmax: usize) -> Result<Tensor> {
    let norm = vectors.sqr()?.sum_keepdim(1)?.sqrt()?;
    let u = vectors.broadcast_div(&norm)?;
    // Relabel: X = z, Y = x, Z = y (unit vectors: r² = 1).
    let (x, y, z) = (u.narrow(1, 2, 1)?, u.narrow(1, 0, 1)?, u.narrow(1, 1, 1)?);
    let ones = x.ones_like()?;
    let idx = |l: usize, m: isize| (l * l + l) as isize + m;
    let mut v: Vec<Option<Tensor>> = vec![None; (lmax + 1) * (lmax + 1)];
    v[0] = Some(ones.clone());
    let get = |v: &Vec<Option<Tensor>>, l: usize, m: isize| v[idx(l, m) as usize].clone();
    for l in 0..lmax {
        let lf = l as f64;
        let a = ((if l == 0 { 2.0 } else { 1.0 }) * (2.0 * lf + 1.0) / (2.0 * lf + 2.0)).sqrt();
        let cll = get(&v, l, l as isize).expect("computed");
        let sll = if l == 0 { None } else { get(&v, l, -(l as isize)) };
        let (c_new, s_new) = match &sll {
            None => ((x.mul(&cll)? * a)?, (y.mul(&cll)? * a)?),
            Some(s) => (((x.mul(&cll)? - y.mul(s)?)? * a)?, ((y.mul(&cll)? + x.mul(s)?)? * a)?),
        };
        v[idx(l + 1, l as isize + 1) as usize] = Some(c_new);
        v[idx(l + 1, -(l as isize) - 1) as usize] = Some(s_new);
        for m in 0..=l {
            let mf = m as f64;
            let denom = ((lf + mf + 1.0) * (lf - mf + 1.0)).sqrt();
            let k1 = (2.0 * lf + 1.0) / denom;
            let k2 = ((lf + mf) * (lf - mf)).sqrt() / denom;
            for sign in [1isize, -1] {
                if m == 0 && sign == -1 {
                    continue;
                }
                let mm = sign * m as isize;
                let cur = get(&v, l, mm).expect("computed");
                let mut out = (z.mul(&cur)? * k1)?;
                if l >= 1 && m < l {
                    out = (out - (get(&v, l - 1, mm).expect("computed") * k2)?)?;
                }
                v[idx(l + 1, mm) as usize] = Some(out);
            }
        }
    }
    let mut cols = Vec::with_capacity(v.len());
    for l in 0..=lmax {
        let s = (2.0 * l as f64 + 1.0).sqrt();
        for m in -(l as isize)..=(l as isize) {
            cols.push((get(&v, l, m).expect("computed") * s)?);
        }
    }
    Ok(Tensor::cat(&cols, 1)?)
}
