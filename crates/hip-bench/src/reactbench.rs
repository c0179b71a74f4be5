//! `hip bench reactions`: a ReactBench-format set of reactions (two-frame XYZ files, reactant then
//! product, in a folder or a `.tar.gz`) through `hip_tasks::reaction::pipeline` with each chosen
//! Hessian provider, one JSON line per reaction and provider ([`ReactionRecord`]).
//!
//! Providers: `direct` (the HIP head every step: the paper's protocol), `direct-probes` (direct +
//! 8 measured Hessian-vector products per fresh Hessian), `autodiff`, `quasi-newton` (direct at
//! step 0, Bofill updates after), and `gfn2` (GFN2-xTB, finite-difference Hessians every step).
//!
//! Grading, twice:
//! - **own** (the paper's protocol): TS search converged within 50 RS-P-RFO steps with exactly one
//!   mode below −10 cm⁻¹ by the Hessian that drove the search;
//! - **graded**: the same with *one* Hessian per surface — the model's autodiff Hessian for every
//!   model provider, GFN2-xTB's for GFN2 — so that providers of one surface are compared by one
//!   ruler.
//!
//! `intended`: the IRC ends have the bond graphs of the input R and P (1.2 × covalent radii; RMSD
//! when both share a graph), the pipeline's verdict, counted only after an own TS success (the IRC
//! runs from there), as ReactBench does.

use std::cell::Cell;
use std::io::Read;
use std::path::Path;

use hip_core::{EnergyForces, Hessian, MassConvention, Molecule, Potential};
use hip_tasks::Vibrations;
use hip_tasks::optimize::ts::TsOptions;
use hip_tasks::reaction::pipeline;
use hip_tasks::vibrations::DEFAULT_IMAGINARY_THRESHOLD_CM;
use serde::{Deserialize, Serialize};

/// Every provider, in report order.
pub const PROVIDERS: [&str; 5] = ["direct", "direct-probes", "autodiff", "quasi-newton", "gfn2"];
/// RS-P-RFO step limit of a TS success (ReactBench, the paper).
pub const MAX_TS_STEPS: usize = 50;
/// Mode probes of `direct-probes`.
pub const PROBES: usize = 8;

/// One reaction of a set.
#[derive(Clone, Debug)]
pub struct Reaction {
    /// Name (the file stem, e.g. `rxn102`).
    pub name: String,
    /// Reactant.
    pub reactant: Molecule,
    /// Product.
    pub product: Molecule,
}

fn parse(name: &str, text: &str, source: &str) -> hip_core::Result<Reaction> {
    let frames = hip_core::io::xyz::parse_xyz(text, Path::new(source))?;
    let (reactant, product) = hip_core::io::reaction::pair_from_frames(frames, source)?;
    Ok(Reaction { name: name.to_string(), reactant, product })
}

/// The reactions of a set (a folder of `NAME.xyz` files or a `.tar.gz` of them), in `names`'
/// order, or all in name order when `names` is `None`. A name not in the set, a file that is not
/// two frames of the same atoms, or an unreadable archive is an error naming it.
pub fn read_set(path: &Path, names: Option<&[String]>) -> hip_core::Result<Vec<Reaction>> {
    let mut texts: std::collections::BTreeMap<String, (String, String)> = Default::default();
    let io = |e: std::io::Error| hip_core::Error::io(path, e);
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io)? {
            let p = entry.map_err(io)?.path();
            if p.extension().and_then(|e| e.to_str()) == Some("xyz") {
                let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
                let text = std::fs::read_to_string(&p).map_err(|e| hip_core::Error::io(&p, e))?;
                texts.insert(stem, (text, p.display().to_string()));
            }
        }
    } else {
        let file = std::fs::File::open(path).map_err(io)?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in archive.entries().map_err(io)? {
            let mut entry = entry.map_err(io)?;
            let inner = entry.path().map_err(io)?.to_path_buf();
            if inner.extension().and_then(|e| e.to_str()) != Some("xyz") {
                continue;
            }
            let stem = inner.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(io)?;
            texts.insert(stem, (text, format!("{}:{}", path.display(), inner.display())));
        }
    }
    let wanted: Vec<String> = match names {
        Some(n) => n.to_vec(),
        None => texts.keys().cloned().collect(),
    };
    wanted
        .iter()
        .map(|n| match texts.get(n) {
            Some((text, source)) => parse(n, text, source),
            None => Err(hip_core::Error::invalid(path.display().to_string(), format!("no reaction named {n}"))),
        })
        .collect()
}

/// Reaction names, one per line (`#` comments and blank lines skipped).
pub fn read_names(path: &Path) -> hip_core::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| hip_core::Error::io(path, e))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect())
}

/// A potential that counts its calls.
pub struct Counted<'a> {
    inner: &'a dyn Potential,
    /// Energy+force calls.
    pub grad: Cell<usize>,
    /// Hessian calls.
    pub hess: Cell<usize>,
}

impl std::fmt::Debug for Counted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Counted({}, {} gradients, {} Hessians)", self.inner.name(), self.grad.get(), self.hess.get())
    }
}

impl<'a> Counted<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a dyn Potential) -> Self {
        Counted { inner, grad: Cell::new(0), hess: Cell::new(0) }
    }
}

impl Potential for Counted<'_> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn energy_forces(&self, mol: &Molecule) -> hip_core::Result<EnergyForces> {
        self.grad.set(self.grad.get() + 1);
        self.inner.energy_forces(mol)
    }
    fn hessian(&self, mol: &Molecule) -> hip_core::Result<Hessian> {
        self.hess.set(self.hess.get() + 1);
        self.inner.hessian(mol)
    }
    fn rigid_body_invariant(&self) -> bool {
        self.inner.rigid_body_invariant()
    }
    fn diagnostics(&self) -> std::collections::BTreeMap<String, f64> {
        self.inner.diagnostics()
    }
}

/// The TS-search settings of a provider (`hessian_every`, mode probes).
pub fn ts_options(provider: &str) -> Result<TsOptions, String> {
    let base = TsOptions { max_steps: MAX_TS_STEPS, ..Default::default() };
    Ok(match provider {
        "direct" | "autodiff" | "gfn2" => TsOptions { hessian_every: 1, ..base },
        "direct-probes" => TsOptions { hessian_every: 1, mode_probes: PROBES, ..base },
        "quasi-newton" => TsOptions { hessian_every: usize::MAX, ..base },
        other => return Err(format!("unknown provider {other} ({})", PROVIDERS.join(", "))),
    })
}

/// Modes below −10 cm⁻¹ of `h` at `mol` (IUPAC masses, projected).
pub fn n_imaginary(mol: &Molecule, h: &Hessian) -> hip_core::Result<usize> {
    let vib = Vibrations::new(mol, h, &mol.masses(MassConvention::Iupac)?)?;
    Ok(vib.n_imaginary(DEFAULT_IMAGINARY_THRESHOLD_CM))
}

/// One reaction with one provider.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ReactionRecord {
    /// Reaction.
    pub name: String,
    /// Provider.
    pub provider: String,
    /// Atoms.
    pub n_atoms: usize,
    /// The run ended with an error (or the time cap): its message; every success field is false.
    pub error: Option<String>,
    /// Relaxing R or P on the surface changed its bond graph.
    pub end_graph_changed: bool,
    /// The NEB converged.
    pub neb_converged: bool,
    /// How the band that was relaxed was made (`idpp`, `linear`, `… between the input ends`).
    pub band: String,
    /// The TS search converged within the step limit.
    pub ts_converged: bool,
    /// TS-search steps (of the search the result comes from).
    pub ts_steps: usize,
    /// TS searches tried (`pipeline::TS_STARTS`; records from before retries: 0).
    #[serde(default)]
    pub ts_searches: usize,
    /// The search the result comes from, 1-based (0: records from before retries).
    #[serde(default)]
    pub ts_attempt: usize,
    /// Modes below −10 cm⁻¹ at the end of the search by the search's own Hessian.
    pub n_imag_own: Option<usize>,
    /// The same by the surface's grader.
    pub n_imag_graded: Option<usize>,
    /// TS success by the search's own Hessian (the paper's protocol).
    pub ts_success_own: bool,
    /// TS success by the grader.
    pub ts_success_graded: bool,
    /// The IRC from the TS connects R and P.
    pub intended: bool,
    /// E(TS) − E(R relaxed), eV, when the search converged.
    pub barrier_ev: Option<f64>,
    /// Energy+force calls of the whole pipeline, including the 6N + 1 singlepoints of each
    /// finite-difference GFN2-xTB Hessian (as the peer counts them; see
    /// [`fd_gradients_included`](Self::fd_gradients_included)).
    pub gradient_calls: usize,
    /// `gradient_calls` includes the finite-difference Hessians' singlepoints (false in records
    /// of gfn2 runs from before 2026-12-07's second session: [`summarize`] adds them).
    #[serde(default)]
    pub fd_gradients_included: bool,
    /// Hessian calls of the whole pipeline (grading not included).
    pub hessian_calls: usize,
    /// Wall time, s (with a shared band: the band's time plus this provider's own).
    pub seconds: f64,
    /// The ends and the band were computed once for this record and others of the same surface
    /// ([`run_reaction_shared`]); counts and seconds are still this provider's as if alone.
    #[serde(default)]
    pub shared_band: bool,
    /// The surface's own counters at the end of the run ([`Potential::diagnostics`]; GFN2-xTB:
    /// SCF second tries, failures and their seconds), band included.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub diagnostics: std::collections::BTreeMap<String, f64>,
}

impl ReactionRecord {
    /// The record of a run that ended with `error` after `seconds` (a time cap, a worker that
    /// died): every success field false, no counts.
    pub fn failed(name: &str, provider: &str, error: String, seconds: f64) -> Self {
        ReactionRecord {
            name: name.into(),
            provider: provider.into(),
            error: Some(error),
            seconds,
            ..Default::default()
        }
    }
}

/// Pipeline knobs under study (chosen on the validation part of the train half; recorded in the
/// summary). The defaults are `hip reaction`'s.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Knobs {
    /// RS-P-RFO climbs the lowest mode after every fresh Hessian (`TsOptions::follow_lowest`).
    pub follow_lowest: bool,
    /// TS searches per reaction (`PipelineOptions::ts_attempts`; 0 here means the pipeline's
    /// default, 1: the climbing image's lowest mode only, the paper's protocol).
    #[serde(default)]
    pub ts_attempts: usize,
}

/// Singlepoints (energy+gradient calls) inside one Hessian call of `provider`: 6N + 1 for
/// GFN2-xTB's central differences (`hip_xtb::Gfn2::energy_forces_hessian`), 0 for the model's
/// Hessians (a forward or backward pass, not a gradient call).
pub fn fd_singlepoints(provider: &str, n_atoms: usize) -> usize {
    if provider == "gfn2" { 6 * n_atoms + 1 } else { 0 }
}

/// Runs `reaction` on `surface` with `provider`'s settings and grades the end of the TS search
/// with `grader`, the surface's one Hessian — `None` when that is the surface's own Hessian (then
/// the search's classification of its end point is the grade, not computed twice). Errors of the
/// pipeline are recorded, not returned.
pub fn run_reaction(
    reaction: &Reaction,
    provider: &str,
    surface: &dyn Potential,
    grader: Option<&dyn Potential>,
    knobs: Knobs,
) -> Result<ReactionRecord, String> {
    let one = [ProviderRun { provider, surface, grader }];
    let mut rec = None;
    run_reaction_shared(reaction, &one, knobs, f64::INFINITY, |e| {
        if let SharedEvent::Record(r) = e {
            rec = Some(*r);
        }
    })?;
    rec.ok_or_else(|| format!("{}: no record", reaction.name))
}

/// One provider of [`run_reaction_shared`]: its name, the surface it searches on (with its
/// Hessian) and its grader (as in [`run_reaction`]).
#[derive(Clone, Copy)]
pub struct ProviderRun<'a> {
    /// Provider name ([`PROVIDERS`]).
    pub provider: &'a str,
    /// The surface with the provider's Hessian.
    pub surface: &'a dyn Potential,
    /// The surface's grader, when not the provider's own Hessian.
    pub grader: Option<&'a dyn Potential>,
}

impl std::fmt::Debug for ProviderRun<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProviderRun({} on {})", self.provider, self.surface.name())
    }
}

/// What [`run_reaction_shared`] reports, in order.
#[derive(Clone, Debug)]
pub enum SharedEvent {
    /// The ends and the band are relaxed (wall seconds so far).
    BandDone(f64),
    /// One provider's record (as [`run_reaction`] would have made it alone).
    Record(Box<ReactionRecord>),
}

/// Runs `reaction` with several providers whose surfaces have the same energies and forces (the
/// model with its direct, direct + probes and autodiff Hessians): the ends and the band — which
/// use energies and forces only — once, on the first provider's surface, then each provider's
/// TS searches and IRC from that band. Each record is what the provider gets alone (the pipeline
/// is deterministic): its `seconds`, gradient and Hessian calls include the band's, and a
/// provider whose band + search time is past `cap_s` is recorded as a time-cap error, as a run
/// alone under that cap would be. `shared_band` marks records of a group of two or more.
pub fn run_reaction_shared(
    reaction: &Reaction,
    providers: &[ProviderRun],
    knobs: Knobs,
    cap_s: f64,
    mut emit: impl FnMut(SharedEvent),
) -> Result<(), String> {
    let Some(first) = providers.first() else { return Ok(()) };
    let options = |provider: &str| -> Result<pipeline::PipelineOptions, String> {
        let mut opts = pipeline::PipelineOptions { ts: ts_options(provider)?, ..Default::default() };
        opts.ts.follow_lowest = knobs.follow_lowest;
        if knobs.ts_attempts > 0 {
            opts.ts_attempts = knobs.ts_attempts;
        }
        Ok(opts)
    };
    let t0 = std::time::Instant::now();
    let counted = Counted::new(first.surface);
    let band = pipeline::band(&counted, &reaction.reactant, &reaction.product, &options(first.provider)?);
    let band_s = t0.elapsed().as_secs_f64();
    let band_calls = (counted.grad.get(), counted.hess.get());
    emit(SharedEvent::BandDone(band_s));
    for pr in providers {
        let opts = options(pr.provider)?;
        let t1 = std::time::Instant::now();
        let counted = Counted::new(pr.surface);
        let out = match &band {
            Ok(b) => pipeline::search_band(&counted, b, &opts).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let mut rec = ReactionRecord {
            name: reaction.name.clone(),
            provider: pr.provider.into(),
            n_atoms: reaction.reactant.len(),
            shared_band: providers.len() > 1,
            ..Default::default()
        };
        fill_record(&mut rec, out, pr.grader);
        let (grad, hess) = (band_calls.0 + counted.grad.get(), band_calls.1 + counted.hess.get());
        rec.gradient_calls = grad + hess * fd_singlepoints(pr.provider, rec.n_atoms);
        rec.fd_gradients_included = true;
        rec.hessian_calls = hess;
        rec.seconds = band_s + t1.elapsed().as_secs_f64();
        rec.diagnostics = pr.surface.diagnostics();
        if rec.seconds > cap_s {
            rec = ReactionRecord::failed(&rec.name, &rec.provider, format!("time cap of {cap_s} s"), cap_s);
        }
        emit(SharedEvent::Record(Box::new(rec)));
    }
    Ok(())
}

/// The verdicts of a pipeline run (or its error) in `rec`, the end of the TS search graded by
/// `grader` (the search's own classification when `None`).
fn fill_record(
    rec: &mut ReactionRecord,
    out: Result<pipeline::PipelineResult, String>,
    grader: Option<&dyn Potential>,
) {
    let out = match out {
        Err(e) => {
            rec.error = Some(e);
            return;
        }
        Ok(out) => out,
    };
    rec.end_graph_changed = out.end_relaxation.as_ref().is_some_and(|e| e.iter().any(|x| x.graph_changed));
    rec.neb_converged = out.neb.converged;
    rec.band = out.initial_band.method.clone();
    rec.ts_converged = out.ts.converged && out.ts.steps <= MAX_TS_STEPS;
    rec.ts_steps = out.ts.steps;
    rec.ts_searches = out.ts_attempts.len();
    rec.ts_attempt = 1 + out.ts_chosen;
    rec.n_imag_own = out.ts.final_point.as_ref().map(|f| f.n_imaginary);
    rec.ts_success_own = out.ts_success && rec.ts_converged;
    rec.intended = out.intended && rec.ts_success_own;
    if rec.ts_converged {
        let e_r = out.end_relaxation.as_ref().map(|e| e[0].energies[1]);
        rec.barrier_ev = e_r.map(|e| out.ts.energy - e);
        let graded = match grader {
            Some(g) => g.hessian(&out.ts.molecule).and_then(|h| n_imaginary(&out.ts.molecule, &h)).map(Some),
            None => Ok(rec.n_imag_own),
        };
        match graded {
            Ok(n) => {
                rec.n_imag_graded = n;
                rec.ts_success_graded = n == Some(1);
            }
            Err(e) => rec.error = Some(format!("grader: {e}")),
        }
    }
}

/// The records of a JSON-lines file (an absent file: none). A line that is not a record is an
/// error naming its line number: a file another program wrote is not silently half-read.
pub fn read_records(path: &Path) -> hip_core::Result<Vec<ReactionRecord>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(hip_core::Error::io(path, e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(k, l)| serde_json::from_str(l).map_err(|e| hip_core::Error::parse(path, k + 1, e.to_string())))
        .collect()
}

/// The records of the ASE + Sella peer (`datasets/reactbench.py peer`, one JSON object per line)
/// as [`ReactionRecord`]s of provider `provider`: its TS success is by GFN2-xTB's own Hessian, so
/// it counts as both the own and the graded success. A line that cannot be read is an error naming
/// it.
pub fn read_peer_records(path: &Path, provider: &str) -> hip_core::Result<Vec<ReactionRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| hip_core::Error::io(path, e))?;
    let mut out = Vec::new();
    for (k, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| hip_core::Error::parse(path, k + 1, e.to_string()))?;
        let name = v["name"].as_str().ok_or_else(|| hip_core::Error::parse(path, k + 1, "no reaction name"))?;
        let flag = |key: &str| v[key].as_bool().unwrap_or(false);
        let count = |key: &str| v[key].as_u64().unwrap_or(0) as usize;
        out.push(ReactionRecord {
            name: name.into(),
            provider: provider.into(),
            n_atoms: count("n_atoms"),
            error: v["error"].as_str().map(String::from),
            end_graph_changed: v["end_graph_changed"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x.as_bool() == Some(true))),
            neb_converged: flag("neb_converged"),
            band: v["interpolation"].as_str().unwrap_or_default().into(),
            ts_converged: flag("ts_converged"),
            ts_steps: count("ts_steps"),
            ts_searches: 1,
            ts_attempt: 1,
            n_imag_own: v["n_imag"].as_u64().map(|n| n as usize),
            n_imag_graded: v["n_imag"].as_u64().map(|n| n as usize),
            ts_success_own: flag("ts_success"),
            ts_success_graded: flag("ts_success"),
            intended: flag("intended"),
            barrier_ev: v["barrier_eV"].as_f64(),
            gradient_calls: count("grad_calls"),
            fd_gradients_included: true,
            hessian_calls: count("hessian_calls"),
            seconds: v["seconds"].as_f64().unwrap_or(0.0),
            shared_band: false,
            diagnostics: Default::default(),
        });
    }
    Ok(out)
}

/// The `(reaction, provider)` pairs still to run: every pair of `names` × `providers` without a
/// record, reactions outer, in order.
pub fn todo(names: &[String], providers: &[String], done: &[ReactionRecord]) -> Vec<(String, String)> {
    let have: std::collections::HashSet<(&str, &str)> =
        done.iter().map(|r| (r.name.as_str(), r.provider.as_str())).collect();
    names
        .iter()
        .flat_map(|n| providers.iter().map(move |p| (n.clone(), p.clone())))
        .filter(|(n, p)| !have.contains(&(n.as_str(), p.as_str())))
        .collect()
}

/// Counts of one provider.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ProviderSummary {
    /// Provider.
    pub provider: String,
    /// Reactions run.
    pub runs: usize,
    /// Runs that ended with an error or the time cap.
    pub errors: usize,
    /// TS successes by the search's own Hessian.
    pub ts_success_own: usize,
    /// TS successes by the surface's grader.
    pub ts_success_graded: usize,
    /// Intended.
    pub intended: usize,
    /// Median barrier of the graded successes, eV.
    pub median_barrier_ev: Option<f64>,
    /// Mean TS-search steps of the converged searches (none converged: `None`).
    pub mean_ts_steps: Option<f64>,
    /// Mean energy+force calls per run (finite-difference Hessians' singlepoints included).
    pub mean_gradient_calls: f64,
    /// Mean Hessian calls per run.
    pub mean_hessian_calls: f64,
    /// Mean wall time per run, s.
    pub mean_seconds: f64,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { 0.5 * (v[m - 1] + v[m]) })
}

/// Summary of `provider`'s records among `records` restricted to `names` (the reactions every
/// compared provider has finished, so that counts are over the same reactions).
pub fn summarize(records: &[ReactionRecord], provider: &str, names: &[String]) -> ProviderSummary {
    let set: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let rs: Vec<&ReactionRecord> =
        records.iter().filter(|r| r.provider == provider && set.contains(r.name.as_str())).collect();
    let n = rs.len().max(1) as f64;
    let conv: Vec<&&ReactionRecord> = rs.iter().filter(|r| r.ts_converged).collect();
    ProviderSummary {
        provider: provider.into(),
        runs: rs.len(),
        errors: rs.iter().filter(|r| r.error.is_some()).count(),
        ts_success_own: rs.iter().filter(|r| r.ts_success_own).count(),
        ts_success_graded: rs.iter().filter(|r| r.ts_success_graded).count(),
        intended: rs.iter().filter(|r| r.intended).count(),
        median_barrier_ev: median(rs.iter().filter(|r| r.ts_success_graded).filter_map(|r| r.barrier_ev).collect()),
        mean_ts_steps: (!conv.is_empty())
            .then(|| conv.iter().map(|r| r.ts_steps as f64).sum::<f64>() / conv.len() as f64),
        mean_gradient_calls: rs
            .iter()
            .map(|r| {
                let fd =
                    if r.fd_gradients_included { 0 } else { r.hessian_calls * fd_singlepoints(&r.provider, r.n_atoms) };
                (r.gradient_calls + fd) as f64
            })
            .sum::<f64>()
            / n,
        mean_hessian_calls: rs.iter().map(|r| r.hessian_calls as f64).sum::<f64>() / n,
        mean_seconds: rs.iter().map(|r| r.seconds).sum::<f64>() / n,
    }
}

/// Reactions every one of `providers` has a record of, in `names`' order.
pub fn common_names(records: &[ReactionRecord], providers: &[String], names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| providers.iter().all(|p| records.iter().any(|r| &r.name == *n && &r.provider == p)))
        .cloned()
        .collect()
}

/// One reaction's verdicts: `(name, [(provider, graded TS success, intended)])`.
pub type Verdicts = (String, Vec<(String, bool, bool)>);

/// Reactions where the providers disagree on graded TS success or on intended.
pub fn disagreements(records: &[ReactionRecord], providers: &[String], names: &[String]) -> Vec<Verdicts> {
    names
        .iter()
        .filter_map(|n| {
            let row: Vec<(String, bool, bool)> = providers
                .iter()
                .filter_map(|p| records.iter().find(|r| &r.name == n && &r.provider == p))
                .map(|r| (r.provider.clone(), r.ts_success_graded, r.intended))
                .collect();
            let split = |f: fn(&(String, bool, bool)) -> bool| row.iter().any(f) && !row.iter().all(f);
            (split(|x| x.1) || split(|x| x.2)).then(|| (n.clone(), row))
        })
        .collect()
}

/// The summary table in Markdown (the paper's columns plus our cost columns).
pub fn markdown(summaries: &[ProviderSummary], n_reactions: usize) -> String {
    let pct = |k: usize| if n_reactions == 0 { 0.0 } else { 100.0 * k as f64 / n_reactions as f64 };
    let mut s = String::from(
        "| provider | TS success (own Hessian) | TS success (one grader per surface) | intended | errors | median barrier (eV) | TS steps | gradient calls | Hessian calls | s / reaction |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for p in summaries {
        s += &format!(
            "| {} | {} ({:.0} %) | {} ({:.0} %) | {} ({:.0} %) | {} | {} | {} | {:.0} | {:.1} | {:.1} |\n",
            p.provider,
            p.ts_success_own,
            pct(p.ts_success_own),
            p.ts_success_graded,
            pct(p.ts_success_graded),
            p.intended,
            pct(p.intended),
            p.errors,
            p.median_barrier_ev.map_or("–".into(), |b| format!("{b:.2}")),
            p.mean_ts_steps.map_or("–".into(), |s| format!("{s:.1}")),
            p.mean_gradient_calls,
            p.mean_hessian_calls,
            p.mean_seconds
        );
    }
    s
}
