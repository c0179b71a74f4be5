//! From reactant and product to a verified TS (ReactBench-style, method page section 8):
//! relax R and P on the potential (BFGS; a changed bond graph is reported) → align P onto R →
//! IDPP band (linear when IDPP gives a bad guess; if the NEB fails on it, the linear band, then
//! the band between the input ends) → climbing-image NEB → RS-P-RFO from the climbing image with
//! the potential's Hessian → frequency check (exactly one mode below −10 cm⁻¹) → IRC both ways →
//! RFO of both ends → **intended** when one end is R and the other is P.
//!
//! An end *is* R (or P) when its bond graph (pairs closer than 1.2 × the sum of the bond radii of `hip_core::elements::bond_radius`)
//! equals R's; when R and P share a graph (conformational changes, inversions) the end is the
//! one of them it is closer to by RMSD after alignment, which must be below `rmsd_tolerance`.

use hip_core::{Molecule, Potential, Result, elements};

use super::align::{rmsd, same_atoms};
use super::interpolate::{InitialBand, aligned, initial_band};
use super::irc::{IrcOptions, IrcResult, irc};
use super::neb::{NebOptions, NebResult, neb};
use crate::optimize::{Report, bfgs, ts};
use crate::vibrations::DEFAULT_IMAGINARY_THRESHOLD_CM;

/// Pipeline settings.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    /// Images of the band, end points included (10: eight intermediate, ASE's usual CI-NEB).
    pub n_images: usize,
    /// Relax R and P on the potential before the band (the band's ends must be minima of the
    /// surface it is relaxed on).
    pub relax_ends: bool,
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
            n_images: 10,
            relax_ends: true,
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

/// One end relaxed on the potential.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EndRelaxation {
    /// BFGS converged.
    pub converged: bool,
    /// BFGS steps.
    pub steps: usize,
    /// Energy before and after, eV.
    pub energies: [f64; 2],
    /// The relaxed end's bond graph differs from the input's (the intended check still uses the
    /// input's graph, as ReactBench does).
    pub graph_changed: bool,
}

/// The whole run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PipelineResult {
    /// R and P relaxed on the potential (when `relax_ends`).
    pub end_relaxation: Option<[EndRelaxation; 2]>,
    /// The NEB's errors on the bands tried before the one that worked (linear, then between the
    /// input ends), if any.
    pub neb_retry: Option<String>,
    /// How the band the NEB relaxed was made (IDPP; linear when the IDPP band was a bad guess or
    /// the NEB failed on it; or either between the input ends).
    pub initial_band: InitialBand,
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

/// Bond graph: sorted pairs closer than 1.2 × the sum of bond radii ([`elements::bond_radius`]).
pub fn bond_graph(mol: &Molecule) -> Result<Vec<(usize, usize)>> {
    let r: Vec<f64> = mol.numbers.iter().map(|&z| elements::bond_radius(z)).collect::<Result<_>>()?;
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

fn relax_end(pot: &dyn Potential, mol: &Molecule) -> Result<(Molecule, EndRelaxation)> {
    let opts = bfgs::BfgsOptions { classify: false, max_steps: 300, ..Default::default() };
    let e0 = pot.energy_forces(mol)?.energy;
    let r = bfgs::minimize(pot, mol, &opts)?;
    let graph_changed = bond_graph(&r.molecule)? != bond_graph(mol)?;
    let rec = EndRelaxation { converged: r.converged, steps: r.steps, energies: [e0, r.energy], graph_changed };
    Ok((r.molecule, rec))
}

/// The relaxed band from `r` to `p` (aligned): NEB on the initial band; if that fails (a potential
/// that refuses an image: nearly coincident atoms, an SCF that does not converge), on the linear
/// band, then on the initial band between the input ends `fallback` (when the ends were relaxed).
/// Returns the band, how it was made, and the errors of the tries that failed.
fn relaxed_band(
    pot: &dyn Potential,
    (r, p): (&Molecule, &Molecule),
    fallback: Option<(&Molecule, &Molecule)>,
    opts: &PipelineOptions,
) -> Result<(InitialBand, NebResult, Option<String>)> {
    let run = |band: Vec<Molecule>| match &opts.progress {
        Some(b) => super::neb::neb_with_progress(pot, band, &opts.neb, b),
        None => neb(pot, band, &opts.neb),
    };
    let (band, initial) = initial_band(r, p, opts.n_images)?;
    let mut errors = Vec::new();
    match run(band) {
        Ok(b) => return Ok((initial, b, None)),
        Err(e) => errors.push(format!("{} band: {e}", initial.method)),
    }
    if initial.method == "idpp" {
        match run(super::interpolate::linear(r, p, opts.n_images)?) {
            Ok(b) => return Ok((InitialBand { method: "linear".into(), ..initial }, b, Some(errors.join("; ")))),
            Err(e) => errors.push(format!("linear band: {e}")),
        }
    }
    if let Some((r0, p0)) = fallback {
        let p0 = if pot.rigid_body_invariant() { aligned(r0, p0)? } else { p0.clone() };
        let (band, init0) = initial_band(r0, &p0, opts.n_images)?;
        let method = format!("{} between the input ends", init0.method);
        match run(band) {
            Ok(b) => return Ok((InitialBand { method, ..init0 }, b, Some(errors.join("; ")))),
            Err(e) => errors.push(format!("{method}: {e}")),
        }
    }
    Err(hip_core::Error::invalid("NEB", errors.join("; ")))
}

/// Runs the pipeline on `pot` from reactant `r` to product `p` (same atoms, same order).
pub fn run(pot: &dyn Potential, r: &Molecule, p: &Molecule, opts: &PipelineOptions) -> Result<PipelineResult> {
    same_atoms(r, p, "reaction")?;
    let stage = |m: &str| {
        if let Some(b) = &opts.progress {
            b.set_message(m.to_string());
        }
    };
    let (r_in, p_in) = (r, p);
    let (r, p, end_relaxation) = if opts.relax_ends {
        stage("relaxing R and P");
        let (r, a) = relax_end(pot, r_in).map_err(|e| e.in_context("relaxing the reactant"))?;
        let (p, b) = relax_end(pot, p_in).map_err(|e| e.in_context("relaxing the product"))?;
        (r, p, Some([a, b]))
    } else {
        (r_in.clone(), p_in.clone(), None)
    };
    let p = if pot.rigid_body_invariant() { aligned(&r, &p)? } else { p };
    stage("IDPP band");
    let fallback = opts.relax_ends.then_some((r_in, p_in));
    let (initial, band, neb_retry) = relaxed_band(pot, (&r, &p), fallback, opts).map_err(|e| e.in_context("NEB"))?;
    stage("TS search from the climbing image");
    let t = ts::search(pot, band.ts_guess(), &opts.ts).map_err(|e| e.in_context("TS search"))?;
    let n_imag =
        t.final_point.as_ref().map(|f| f.spectrum.iter().filter(|&&x| x < DEFAULT_IMAGINARY_THRESHOLD_CM).count());
    let ts_success = t.converged && n_imag == Some(1);
    let (mut path, mut ends, mut end_rmsd, mut intended) = (None, None, None, false);
    if ts_success {
        stage("IRC");
        let ir = irc(pot, &t.molecule, &opts.irc).map_err(|e| e.in_context("IRC"))?;
        let (mf, df) = classify_end(&ir.forward.end, r_in, p_in, opts.rmsd_tolerance)?;
        let (mr, dr) = classify_end(&ir.reverse.end, r_in, p_in, opts.rmsd_tolerance)?;
        intended =
            matches!((mf, mr), (EndMatch::Reactant, EndMatch::Product) | (EndMatch::Product, EndMatch::Reactant));
        ends = Some([mf, mr]);
        end_rmsd = Some([df, dr]);
        path = Some(ir);
    }
    Ok(PipelineResult {
        end_relaxation,
        neb_retry,
        initial_band: initial,
        neb: band,
        ts: t,
        ts_success,
        irc: path,
        ends,
        end_rmsd,
        intended,
    })
}
