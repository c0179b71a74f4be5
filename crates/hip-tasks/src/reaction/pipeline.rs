//! From reactant and product to a verified TS (ReactBench-style, method page section 8):
//! align P onto R → IDPP band → climbing-image NEB → RS-P-RFO from the climbing image with the
//! potential's Hessian → frequency check (exactly one mode below −10 cm⁻¹) → IRC both ways →
//! RFO of both ends → **intended** when one end is R and the other is P.
//!
//! An end *is* R (or P) when its bond graph (pairs closer than 1.2 × the sum of covalent radii)
//! equals R's; when R and P share a graph (conformational changes, inversions) the end is the
//! one of them it is closer to by RMSD after alignment, which must be below `rmsd_tolerance`.

use hip_core::{Molecule, Potential, Result, elements};

use super::align::{rmsd, same_atoms};
use super::interpolate::{aligned, idpp_band};
use super::irc::{IrcOptions, IrcResult, irc};
use super::neb::{NebOptions, NebResult, neb};
use crate::optimize::{Report, ts};
use crate::vibrations::DEFAULT_IMAGINARY_THRESHOLD_CM;

/// Pipeline settings.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    /// Images of the band, end points included.
    pub n_images: usize,
    /// NEB settings.
    pub neb: NebOptions,
    /// TS-search settings.
    pub ts: ts::TsOptions,
    /// IRC settings.
    pub irc: IrcOptions,
    /// RMSD below which an IRC end counts as R or P when their bond graphs are equal, Å.
    pub rmsd_tolerance: f64,
    /// Progress line (stage, NEB step and force), if any.
    pub progress: Option<indicatif::ProgressBar>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            n_images: 9,
            neb: NebOptions::default(),
            ts: ts::TsOptions::default(),
            irc: IrcOptions::default(),
            rmsd_tolerance: 0.25,
            progress: None,
        }
    }
}

/// What an IRC end turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndMatch {
    /// The reactant.
    Reactant,
    /// The product.
    Product,
    /// Neither.
    Other,
}

/// The whole run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PipelineResult {
    /// The relaxed band.
    pub neb: NebResult,
    /// The TS search from the climbing image.
    pub ts: Report,
    /// Converged with exactly one imaginary mode below −10 cm⁻¹ (by the potential's Hessian).
    pub ts_success: bool,
    /// The IRC from the TS (when the TS search succeeded).
    pub irc: Option<IrcResult>,
    /// What the forward and reverse IRC ends are.
    pub ends: Option<[EndMatch; 2]>,
    /// RMSD (after alignment) of the forward and reverse ends to R and to P, Å.
    pub end_rmsd: Option<[[f64; 2]; 2]>,
    /// One end is R and the other is P.
    pub intended: bool,
}

/// Bond graph: sorted pairs closer than 1.2 × the sum of covalent radii.
pub fn bond_graph(mol: &Molecule) -> Result<Vec<(usize, usize)>> {
    let r: Vec<f64> = mol.numbers.iter().map(|&z| elements::covalent_radius(z)).collect::<Result<_>>()?;
    let mut out = Vec::new();
    for i in 0..mol.len() {
        for j in i + 1..mol.len() {
            let d = (0..3).map(|k| (mol.positions[i][k] - mol.positions[j][k]).powi(2)).sum::<f64>().sqrt();
            if d < 1.2 * (r[i] + r[j]) {
                out.push((i, j));
            }
        }
    }
    Ok(out)
}

fn classify_end(end: &Molecule, r: &Molecule, p: &Molecule, tol: f64) -> Result<(EndMatch, [f64; 2])> {
    let (ge, gr, gp) = (bond_graph(end)?, bond_graph(r)?, bond_graph(p)?);
    let d = [rmsd(r, end)?, rmsd(p, end)?];
    let m = if gr != gp {
        if ge == gr {
            EndMatch::Reactant
        } else if ge == gp {
            EndMatch::Product
        } else {
            EndMatch::Other
        }
    } else if ge != gr || d[0].min(d[1]) > tol {
        EndMatch::Other
    } else if d[0] <= d[1] {
        EndMatch::Reactant
    } else {
        EndMatch::Product
    };
    Ok((m, d))
}

/// Runs the pipeline on `pot` from reactant `r` to product `p` (same atoms, same order).
pub fn run(pot: &dyn Potential, r: &Molecule, p: &Molecule, opts: &PipelineOptions) -> Result<PipelineResult> {
    same_atoms(r, p, "reaction")?;
    let p = if pot.rigid_body_invariant() { aligned(r, p)? } else { p.clone() };
    let stage = |m: &str| {
        if let Some(b) = &opts.progress {
            b.set_message(m.to_string());
        }
    };
    stage("IDPP band");
    let band = idpp_band(r, &p, opts.n_images)?;
    let band = match &opts.progress {
        Some(b) => super::neb::neb_with_progress(pot, band, &opts.neb, b)?,
        None => neb(pot, band, &opts.neb)?,
    };
    stage("TS search from the climbing image");
    let t = ts::search(pot, band.ts_guess(), &opts.ts)?;
    let n_imag =
        t.final_point.as_ref().map(|f| f.spectrum.iter().filter(|&&x| x < DEFAULT_IMAGINARY_THRESHOLD_CM).count());
    let ts_success = t.converged && n_imag == Some(1);
    let (mut path, mut ends, mut end_rmsd, mut intended) = (None, None, None, false);
    if ts_success {
        stage("IRC");
        let ir = irc(pot, &t.molecule, &opts.irc)?;
        let (mf, df) = classify_end(&ir.forward.end, r, &p, opts.rmsd_tolerance)?;
        let (mr, dr) = classify_end(&ir.reverse.end, r, &p, opts.rmsd_tolerance)?;
        intended =
            matches!((mf, mr), (EndMatch::Reactant, EndMatch::Product) | (EndMatch::Product, EndMatch::Reactant));
        ends = Some([mf, mr]);
        end_rmsd = Some([df, dr]);
        path = Some(ir);
    }
    Ok(PipelineResult { neb: band, ts: t, ts_success, irc: path, ends, end_rmsd, intended })
}
