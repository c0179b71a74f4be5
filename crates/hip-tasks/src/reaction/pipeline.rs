//! From reactant and product to a verified TS (ReactBench-style, method page section 8):
//! relax R and P on the potential (BFGS; a changed bond graph is reported) → P in R's frame
//! (aligned unless the two already share one: `interpolate::band_frame`) →
//! IDPP band (linear when IDPP gives a bad guess; if the NEB fails on it, the linear band, then
//! the band between the input ends) → climbing-image NEB → RS-P-RFO from the climbing image with
//! the potential's Hessian → frequency check (exactly one mode below −10 cm⁻¹) → IRC both ways →
//! RFO of both ends → **intended** when one end is R and the other is P.
//!
//! With `ts_attempts > 1` (default 1) a TS search that fails (not converged, not one imaginary
//! mode) or whose IRC does not connect R and P is retried, up to `ts_attempts` searches in all
//! ([`TS_STARTS`]): from the climbing image climbing its lowest mode (the paper's protocol, and
//! the only search with `ts_attempts = 1`), from the climbing image climbing the mode closest to
//! the band's tangent, and from the climbing image's higher neighbour. The result is the first search whose IRC is intended, else the first that found a
//! first-order saddle, else the first.
//!
//! An end *is* R (or P) when its bond graph (pairs closer than 1.2 × the sum of the bond radii of `hip_core::elements::bond_radius`)
//! equals R's; when R and P share a graph (conformational changes, inversions) the end is the
//! one of them it is closer to by RMSD after alignment, which must be below `rmsd_tolerance`.

use hip_core::{Molecule, Potential, Result, elements};

use super::align::{rmsd, same_atoms};
use super::interpolate::{InitialBand, band_frame, initial_band};
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
    /// TS searches at most (see the module docs). Default 1, the climbing image's lowest mode:
    /// on the 30 validation reactions of ReactBench's train half (`reports/reactbench/val30`)
    /// retries (26 extra searches in 13 reactions) found not one more intended reaction or TS —
    /// every result came from the first search.
    pub ts_attempts: usize,
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
            ts_attempts: 1,
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
    /// The TS search of the result (see the module docs).
    pub ts: Report,
    /// Every TS search tried, in order.
    pub ts_attempts: Vec<TsAttempt>,
    /// Index in `ts_attempts` of the search the result comes from.
    pub ts_chosen: usize,
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

/// Where the TS searches of the pipeline start, in the order tried.
pub const TS_STARTS: [&str; 3] = [
    "climbing image, lowest mode",
    "climbing image, mode along the band tangent",
    "higher neighbour of the climbing image, lowest mode",
];

/// One TS search of the pipeline.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TsAttempt {
    /// Where it started ([`TS_STARTS`]).
    pub start: String,
    /// Converged within the step limit.
    pub converged: bool,
    /// RS-P-RFO steps.
    pub steps: usize,
    /// Modes below −10 cm⁻¹ at its end, if classified.
    pub n_imaginary: Option<usize>,
    /// Converged with exactly one such mode.
    pub ts_success: bool,
    /// Its IRC connects R and P (`None`: no IRC, the search failed).
    pub intended: Option<bool>,
    /// The potential's error that ended this search or its IRC, if one did (the next start is
    /// then tried; the pipeline fails only when every start does).
    pub error: Option<String>,
}

impl TsAttempt {
    fn ran(start: &str, s: &Searched) -> Self {
        TsAttempt {
            start: start.into(),
            converged: s.report.converged,
            steps: s.report.steps,
            n_imaginary: s.n_imaginary,
            ts_success: s.ts_success,
            intended: s.irc.is_some().then_some(s.intended),
            error: None,
        }
    }

    fn failed(start: &str, e: &hip_core::Error) -> Self {
        TsAttempt {
            start: start.into(),
            converged: false,
            steps: 0,
            n_imaginary: None,
            ts_success: false,
            intended: None,
            error: Some(e.to_string()),
        }
    }
}

/// A TS search with its IRC, if it found a first-order saddle.
struct Searched {
    report: Report,
    /// Modes below −10 cm⁻¹ at its end, if classified.
    n_imaginary: Option<usize>,
    ts_success: bool,
    irc: Option<(IrcResult, [EndMatch; 2], [[f64; 2]; 2])>,
    intended: bool,
}

/// The start geometry and TS options of attempt `k` ([`TS_STARTS`]), `None` if the band has no
/// such start (a climbing image with no intermediate neighbour).
fn ts_start<'b>(band: &'b NebResult, opts: &ts::TsOptions, k: usize) -> Option<(&'b Molecule, ts::TsOptions)> {
    let ci = band.ts_guess_index();
    match k {
        0 => Some((&band.images[ci], opts.clone())),
        1 => {
            let guide = band.tangent_at(ci)?;
            Some((&band.images[ci], ts::TsOptions { guide: Some(guide), ..opts.clone() }))
        }
        2 => {
            let m = band.images.len();
            let neighbours = [ci.checked_sub(1), Some(ci + 1)];
            let k = neighbours
                .into_iter()
                .flatten()
                .filter(|&j| j > 0 && j + 1 < m)
                .max_by(|&a, &b| band.energies[a].total_cmp(&band.energies[b]))?;
            Some((&band.images[k], opts.clone()))
        }
        _ => None,
    }
}

/// One TS search from `start`, its frequency check and, for a first-order saddle, its IRC.
fn search_and_verify(
    pot: &dyn Potential,
    start: &Molecule,
    ts_opts: &ts::TsOptions,
    (r_in, p_in): (&Molecule, &Molecule),
    opts: &PipelineOptions,
) -> Result<Searched> {
    let t = ts::search(pot, start, ts_opts).map_err(|e| e.in_context("TS search"))?;
    let n_imaginary =
        t.final_point.as_ref().map(|f| f.spectrum.iter().filter(|&&x| x < DEFAULT_IMAGINARY_THRESHOLD_CM).count());
    let ts_success = t.converged && n_imaginary == Some(1);
    if !ts_success {
        return Ok(Searched { report: t, n_imaginary, ts_success, irc: None, intended: false });
    }
    // with probes, the IRC's transition vector comes from the Hessian refined along its lowest
    // modes, as the search's classification of its end did
    let refined = crate::optimize::probe::ProbeRefined { inner: pot, probes: ts_opts.mode_probes };
    let irc_pot: &dyn Potential = if ts_opts.mode_probes > 0 { &refined } else { pot };
    let ir = irc(irc_pot, &t.molecule, &opts.irc).map_err(|e| e.in_context("IRC"))?;
    let (mf, df) = classify_end(&ir.forward.end, r_in, p_in, opts.rmsd_tolerance)?;
    let (mr, dr) = classify_end(&ir.reverse.end, r_in, p_in, opts.rmsd_tolerance)?;
    let intended =
        matches!((mf, mr), (EndMatch::Reactant, EndMatch::Product) | (EndMatch::Product, EndMatch::Reactant));
    Ok(Searched { report: t, n_imaginary, ts_success, irc: Some((ir, [mf, mr], [df, dr])), intended })
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

/// The relaxed band from `r` to `p` (in a common frame, [`band_frame`]): NEB on the initial band; if that fails (a potential
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
        let p0 = if pot.rigid_body_invariant() { band_frame(r0, p0)? } else { p0.clone() };
        let (band, init0) = initial_band(r0, &p0, opts.n_images)?;
        let method = format!("{} between the input ends", init0.method);
        match run(band) {
            Ok(b) => return Ok((InitialBand { method, ..init0 }, b, Some(errors.join("; ")))),
            Err(e) => errors.push(format!("{method}: {e}")),
        }
    }
    Err(hip_core::Error::invalid("NEB", errors.join("; ")))
}

/// The part of the pipeline that uses only energies and forces: the ends relaxed and the relaxed
/// band. Potentials with the same energies and forces (the model with any of its Hessians) get
/// the same `Band`, so a benchmark of several Hessians on one surface computes it once
/// ([`search_band`]).
#[derive(Clone, Debug)]
pub struct Band {
    /// The input reactant and product.
    pub input: [Molecule; 2],
    /// R and P relaxed on the potential (when `relax_ends`).
    pub end_relaxation: Option<[EndRelaxation; 2]>,
    /// How the band the NEB relaxed was made.
    pub initial: InitialBand,
    /// The relaxed band.
    pub neb: NebResult,
    /// The NEB's errors on the bands tried before the one that worked, if any.
    pub neb_retry: Option<String>,
}

/// Shows the pipeline's stage on its progress line, if any.
fn stage(opts: &PipelineOptions, m: &str) {
    if let Some(b) = &opts.progress {
        b.set_message(m.to_string());
    }
}

/// Relaxes the ends of the reaction from `r` to `p` (same atoms, same order) and its band on
/// `pot`: the pipeline up to the TS search.
pub fn band(pot: &dyn Potential, r: &Molecule, p: &Molecule, opts: &PipelineOptions) -> Result<Band> {
    same_atoms(r, p, "reaction")?;
    let (r_in, p_in) = (r, p);
    let (r, p, end_relaxation) = if opts.relax_ends {
        stage(opts, "relaxing R and P");
        let (r, a) = relax_end(pot, r_in).map_err(|e| e.in_context("relaxing the reactant"))?;
        let (p, b) = relax_end(pot, p_in).map_err(|e| e.in_context("relaxing the product"))?;
        (r, p, Some([a, b]))
    } else {
        (r_in.clone(), p_in.clone(), None)
    };
    let p = if pot.rigid_body_invariant() { band_frame(&r, &p)? } else { p };
    stage(opts, "IDPP band");
    let fallback = opts.relax_ends.then_some((r_in, p_in));
    let (initial, neb, neb_retry) = relaxed_band(pot, (&r, &p), fallback, opts).map_err(|e| e.in_context("NEB"))?;
    Ok(Band { input: [r_in.clone(), p_in.clone()], end_relaxation, initial, neb, neb_retry })
}

/// Runs the pipeline on `pot` from reactant `r` to product `p` (same atoms, same order):
/// [`band`], then [`search_band`].
pub fn run(pot: &dyn Potential, r: &Molecule, p: &Molecule, opts: &PipelineOptions) -> Result<PipelineResult> {
    search_band(pot, &band(pot, r, p, opts)?, opts)
}

/// The pipeline from a relaxed band on: TS searches from it with `pot`'s Hessian, their
/// frequency checks and IRCs. `band` must come from a potential with `pot`'s energies and forces.
pub fn search_band(pot: &dyn Potential, band: &Band, opts: &PipelineOptions) -> Result<PipelineResult> {
    let (r_in, p_in) = (&band.input[0], &band.input[1]);
    let (initial, neb_retry, end_relaxation) =
        (band.initial.clone(), band.neb_retry.clone(), band.end_relaxation.clone());
    let band = &band.neb;
    // every search in the order tried; `searched[i]` is `None` where attempt `i` failed
    let (mut attempts, mut searched, mut first_error) = (Vec::new(), Vec::new(), None);
    for k in 0..opts.ts_attempts.clamp(1, TS_STARTS.len()) {
        let Some((start, ts_opts)) = ts_start(band, &opts.ts, k) else { continue };
        stage(opts, &format!("TS search {}: {}", k + 1, TS_STARTS[k]));
        match search_and_verify(pot, start, &ts_opts, (r_in, p_in), opts) {
            Ok(s) => {
                attempts.push(TsAttempt::ran(TS_STARTS[k], &s));
                let done = s.intended;
                searched.push(Some(s));
                if done {
                    break;
                }
            }
            Err(e) => {
                attempts.push(TsAttempt::failed(TS_STARTS[k], &e));
                first_error.get_or_insert(e);
                searched.push(None);
            }
        }
    }
    let first = |ok: fn(&Searched) -> bool| searched.iter().position(|s| s.as_ref().is_some_and(ok));
    let pick = first(|s| s.intended).or_else(|| first(|s| s.ts_success)).or_else(|| first(|_| true));
    let Some(pick) = pick else {
        return Err(first_error.unwrap_or_else(|| hip_core::Error::invalid("TS search", "the band has no start")));
    };
    let chosen = searched.swap_remove(pick).expect("picked among the searches that ran");
    let (path, ends, end_rmsd) = match chosen.irc {
        Some((ir, m, d)) => (Some(ir), Some(m), Some(d)),
        None => (None, None, None),
    };
    Ok(PipelineResult {
        end_relaxation,
        neb_retry,
        initial_band: initial,
        neb: band.clone(),
        ts: chosen.report,
        ts_attempts: attempts,
        ts_chosen: pick,
        ts_success: chosen.ts_success,
        irc: path,
        ends,
        end_rmsd,
        intended: chosen.intended,
    })
}
