//! # hip-bench — direct vs autodiff vs finite-difference Hessians
//!
//! [`speed`] (time per Hessian, ratios, scaling exponents), [`memory`] (peak RSS per provider in
//! its own process), [`accuracy`] (section-6 metrics and parity data), [`ts_bench`] (TS searches
//! from displaced transition states), [`plots`] (SVG + PNG with a bundled font), [`report`]
//! (`REPORT.md`, `results.json`), [`baseline`] (regression checks on ratios and accuracy) and
//! [`peer`] (the PyTorch/e3nn peer script's timings).
//! [`run`] ties them together for `hip bench` and `hip report`.

pub mod accuracy;
pub mod baseline;
pub mod device_check;
pub mod dft_check;
pub mod memory;
pub mod molecules;
pub mod opt_bench;
pub mod peer;
pub mod plots;
pub mod reactbench;
pub mod reaction_bench;
pub mod reference_curve;
pub mod report;
pub mod speed;
pub mod ts_bench;
pub mod zpe_bench;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hip_core::Molecule;
use hip_core::io::dataset::{Dataset, Sample};
use hip_model::{HessianMethod, HipModel};
use report::{FreqCheck, RatioRow, Results, TsResults};

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Sizes for the provider comparison.
    pub sizes: Vec<usize>,
    /// Run autodiff/FD only up to this size.
    pub max_slow_atoms: usize,
    /// Sizes for block-sparse direct-only runs (the model's cutoff Hessian graph).
    pub large_sizes: Vec<usize>,
    /// Run the PyTorch/e3nn peer script (path) on the provider-comparison sizes.
    pub peer: Option<PathBuf>,
    /// Timed runs of every provider, at least (interleaved protocol, `speed` module docs).
    pub reps: usize,
    /// Time the interleaved rounds take at least, per size, s.
    pub budget_s: f64,
    /// Measure memory in child processes (needs `exe`).
    pub memory: bool,
    /// The `hip` executable for memory probes.
    pub exe: Option<PathBuf>,
    /// Model checkpoint passed to probes (None: embedded default).
    pub model_path: Option<PathBuf>,
    /// Accuracy: dataset, split, max samples.
    pub accuracy: Option<(PathBuf, String, usize)>,
    /// The E+F baseline model for accuracy.
    pub ef_model: Option<Arc<HipModel>>,
    /// Frequencies/ZPE on the minima of this dataset.
    pub freq_data: Option<PathBuf>,
    /// TS searches on the `ts` samples of these datasets (path, split filter or "all").
    pub ts_data: Vec<(PathBuf, String)>,
    /// Include autodiff in the TS searches.
    pub ts_autodiff: bool,
    /// At most this many transition states per dataset in the TS searches, spread evenly over
    /// the file's order (molecules, then reactions); 0: all.
    pub max_ts: usize,
    /// The reaction benchmark on the test-split reactions of this dataset (with stored IRC ends).
    pub reaction_data: Option<PathBuf>,
    /// At most this many reactions, spread evenly over the file's order; 0: all.
    pub max_reactions: usize,
    /// The geometry-optimization study on this many minima of the test split of this dataset
    /// (each displaced by σ = 0.03 and 0.1 Å); 0: off.
    pub opt_data: Option<(PathBuf, usize)>,
    /// ΔZPE of at most this many test-split reactions (IRC-end pairs) of this dataset; 0: all.
    pub zpe_data: Option<(PathBuf, usize)>,
    /// Per-epoch training histories to plot (label, history from the checkpoint's metadata).
    pub learning_curves: Vec<(String, Vec<hip_model::train::EpochRecord>)>,
    /// Output directory for plots and reports.
    pub out_dir: PathBuf,
    /// Metadata.
    pub meta: report::Meta,
    /// Progress messages on stderr.
    pub verbose: bool,
    /// Sections the caller measured (the ReactBench subset, the DFT check), copied into the
    /// results and shown before the plots.
    pub sections: Vec<report::Section>,
}

/// Stage-level progress on stderr: an indicatif bar on a terminal, one line per stage otherwise
/// (logs, CI).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
}

impl Progress {
    fn new(o: &Options) -> Self {
        use std::io::IsTerminal;
        let stages = o.sizes.len()
            + o.large_sizes.len()
            + usize::from(o.peer.is_some())
            + o.accuracy.as_ref().map_or(0, |_| 2 + usize::from(o.ef_model.is_some()))
            + usize::from(o.freq_data.is_some())
            + usize::from(!o.ts_data.is_empty());
        let tty = std::io::stderr().is_terminal();
        let bar = (o.verbose && tty).then(|| {
            let b = indicatif::ProgressBar::new(stages as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("[{elapsed_precise}] [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Progress { bar, lines: o.verbose && !tty }
    }

    /// Starts the next stage.
    fn stage(&self, msg: &str) {
        if let Some(b) = &self.bar {
            if !b.message().is_empty() {
                b.inc(1);
            }
            b.set_message(msg.to_string());
        }
        if self.lines {
            eprintln!("[bench] {msg}");
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Child-process memory probe: runs one Hessian with `provider` on an `n`-atom alkane and returns
/// `(resident set before, peak during)` in kB, the high-water mark reset just before the call
/// ([`memory`]). No warm-up call: freed memory stays resident in the allocator, so a second
/// call would measure only what the first did not leave behind.
pub fn memory_probe(model: &HipModel, provider: &str, n: usize) -> Result<(u64, u64), String> {
    let mol = molecules::alkane(n);
    let call = || -> hip_model::Result<()> {
        match provider {
            "energy_forces" => drop(model.predict_energy_forces(&mol)?),
            "direct_with_forces" => drop(model.predict(&mol, HessianMethod::Direct)?),
            p => drop(model.hessian(&mol, p.parse::<HessianMethod>()?)?),
        }
        Ok(())
    };
    let before = memory::reset_high_water_mark()?;
    call().map_err(|e| e.to_string())?;
    Ok((before, memory::vm_hwm_kb()?))
}

/// Peak memory of one call above the resident set before it, MB, from a child process; an
/// error (naming the provider and size) when it cannot be measured.
fn probe_in_child(o: &Options, provider: &str, n: usize, dtype: candle_core::DType) -> Result<f64, String> {
    let what = format!("memory probe of {provider} at {n} atoms");
    let exe = o.exe.as_ref().ok_or_else(|| format!("{what}: no executable to run the probe in"))?;
    let mut cmd = std::process::Command::new(exe);
    let dtype = if dtype == candle_core::DType::F32 { "f32" } else { "f64" };
    cmd.args(["bench-probe", "--provider", provider, "--atoms", &n.to_string(), "--dtype", dtype]);
    if let Some(m) = &o.model_path {
        cmd.arg("--model").arg(m);
    }
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("{what}: unreadable output ({e})"))?;
    let (b, p) = (v["baseline_kb"].as_f64(), v["peak_kb"].as_f64());
    let (b, p) = b.zip(p).ok_or_else(|| format!("{what}: output without baseline_kb/peak_kb: {v}"))?;
    Ok((p - b).max(0.0) / 1024.0)
}

fn spread(samples: &[Sample], max: usize) -> Vec<&Sample> {
    if max == 0 || max >= samples.len() {
        return samples.iter().collect();
    }
    (0..max).map(|k| &samples[k * samples.len() / max]).collect()
}

/// The peer's timings as plot series (autograd Hessian, energy+forces), min–max as error bars.
fn peer_series(r: &Results) -> Vec<plots::Series> {
    let Some(p) = &r.peer else { return vec![] };
    let spread = |lo: fn(&peer::PeerRow) -> Option<f64>, hi: fn(&peer::PeerRow) -> Option<f64>| {
        p.rows.iter().map(|x| lo(x).zip(hi(x))).collect::<Option<Vec<_>>>().unwrap_or_default()
    };
    vec![
        plots::Series {
            label: "peer autograd E+F+H (PyTorch/e3nn)".into(),
            points: p.rows.iter().map(|x| (x.n_atoms as f64, x.autograd_hessian_ms)).collect(),
            spread: spread(|x| x.autograd_hessian_min_ms, |x| x.autograd_hessian_max_ms),
            reference: false,
        },
        plots::Series {
            label: "peer energy+forces (PyTorch/e3nn)".into(),
            points: p.rows.iter().map(|x| (x.n_atoms as f64, x.energy_forces_ms)).collect(),
            spread: spread(|x| x.energy_forces_min_ms, |x| x.energy_forces_max_ms),
            reference: false,
        },
    ]
}

/// Runs what `o` asks for with `model` and writes `results.json`, `REPORT.md` and plots into
/// `o.out_dir`.
pub fn run(model: Arc<HipModel>, o: &Options) -> Result<Results, String> {
    std::fs::create_dir_all(&o.out_dir).map_err(|e| format!("{}: {e}", o.out_dir.display()))?;
    let mut r = Results {
        meta: o.meta.clone(),
        paper_speedup: report::PAPER_SPEEDUP.to_vec(),
        sections: o.sections.clone(),
        ..Default::default()
    };
    let err = |e: hip_model::Error| e.to_string();
    let progress = Progress::new(o);
    r.learning_curves = o.learning_curves.iter().filter(|(_, h)| !h.is_empty()).cloned().collect();
    let n_params = model.params.numel();
    r.notes.push(format!(
        "model tensor memory: {n_params} parameters = {:.1} KB (f64); a block-sparse Hessian holds 72 bytes per atom and per stored pair (+16 for the pair index)",
        n_params as f64 * 8.0 / 1024.0
    ));
    // speed
    for &n in &o.sizes {
        progress.stage(&format!("timing providers at {n} atoms"));
        let mol = molecules::alkane(n);
        let skip: Vec<&str> = if n > o.max_slow_atoms { vec!["autodiff", "fd"] } else { vec![] };
        let mut rows = speed::time_providers(&model, &mol, o.reps, o.budget_s, &skip).map_err(err)?;
        if o.memory {
            for row in &mut rows {
                row.peak_rss_mb = Some(probe_in_child(o, &row.provider, n, model.dtype())?);
            }
        }
        r.speed.extend(rows);
        r.ratios.push(RatioRow {
            n_atoms: n,
            autodiff_over_direct_with_forces: speed::ratio_to(&r.speed, "autodiff", "direct_with_forces", n),
            fd_over_direct_with_forces: speed::ratio_to(&r.speed, "fd", "direct_with_forces", n),
            autodiff_over_direct: speed::ratio(&r.speed, "autodiff", n),
            fd_over_direct: speed::ratio(&r.speed, "fd", n),
            direct_over_energy_forces: speed::ratio(&r.speed, "energy_forces", n).map(|x| 1.0 / x),
            direct_with_forces_over_energy_forces: speed::ratio(&r.speed, "direct_with_forces", n)
                .zip(speed::ratio(&r.speed, "energy_forces", n))
                .map(|(a, b)| a / b),
        });
    }
    for p in ["energy_forces", "direct", "direct_with_forces", "autodiff", "fd"] {
        if let Some(k) = speed::scaling_exponent(&r.speed, p, 10) {
            r.scaling.insert(p.into(), k);
        }
    }
    if !o.large_sizes.is_empty() {
        for &n in &o.large_sizes {
            progress.stage(&format!("block-sparse direct Hessian at {n} atoms"));
            let mol = molecules::alkane_bundle(n);
            let mut pairs = 0;
            let mut calls: Vec<speed::Call> = vec![(
                "direct_blocks",
                Box::new(|| {
                    pairs = model.hessian_blocks(&mol)?.pairs().len();
                    Ok(())
                }),
            )];
            let times = speed::time_interleaved(&mut calls, if n > 300 { 1 } else { 3 }, 0.0).map_err(err)?;
            drop(calls);
            r.large.push(speed::SpeedRow { n_pairs: Some(pairs), ..speed::row_of(n, "direct_blocks", &times[0]) });
        }
        if let Some(k) = speed::scaling_exponent(&r.large, "direct_blocks", 100) {
            r.scaling.insert("direct_blocks_large".into(), k);
        }
        if let Some(k) = speed::scaling_exponent(&r.large, "direct_blocks", 1000) {
            r.scaling.insert("direct_blocks_large_from_1000".into(), k);
        }
        if let Some(k) = speed::pair_scaling_exponent(&r.large, "direct_blocks") {
            r.scaling.insert("direct_blocks_vs_pairs".into(), k);
        }
    }
    if let Some(script) = &o.peer {
        let sizes: Vec<usize> = o.sizes.iter().copied().filter(|&n| n <= o.max_slow_atoms).collect();
        let threads = hip_model::num_threads();
        progress.stage(&format!("peer (PyTorch/e3nn, {threads} threads) at {sizes:?} atoms"));
        match peer::run_peer(script, &sizes, threads, o.reps, o.budget_s) {
            Ok(p) => r.peer = Some(p),
            Err(e) => r.notes.push(format!("peer not run: {e}")),
        }
    }
    // accuracy
    let mut parity_sets: Vec<(String, accuracy::ParityData)> = Vec::new();
    if let Some((data, split, max)) = &o.accuracy {
        match hip_model::train::load_split(data, split) {
            Ok(samples) if !samples.is_empty() => {
                let pick = spread(&samples, *max);
                for (label, m, method) in
                    [("direct", &model, HessianMethod::Direct), ("autodiff", &model, HessianMethod::Autodiff)]
                {
                    progress.stage(&format!("accuracy {label} on {} samples", pick.len()));
                    let rep = accuracy::accuracy(m, &pick, method).map_err(err)?;
                    r.accuracy.insert(label.into(), serde_json::to_value(&rep).map_err(|e| e.to_string())?);
                    let few: Vec<&Sample> = pick.iter().take(12).copied().collect();
                    parity_sets.push((label.into(), accuracy::parity(m, &few, method, 60).map_err(err)?));
                }
                if let Some(ef) = &o.ef_model {
                    progress.stage("accuracy of the E+F baseline (autodiff)");
                    let rep = accuracy::accuracy(ef, &pick, HessianMethod::Autodiff).map_err(err)?;
                    r.accuracy
                        .insert("ef_baseline_autodiff".into(), serde_json::to_value(&rep).map_err(|e| e.to_string())?);
                    let few: Vec<&Sample> = pick.iter().take(12).copied().collect();
                    parity_sets.push((
                        "E+F baseline (AD)".into(),
                        accuracy::parity(ef, &few, HessianMethod::Autodiff, 60).map_err(err)?,
                    ));
                }
            }
            Ok(_) => r.notes.push(format!("{}: no samples in split {split}; accuracy skipped", data.display())),
            Err(e) => r.notes.push(format!("accuracy skipped: {e}")),
        }
    }
    // frequencies on reference minima
    if let Some(path) = &o.freq_data {
        progress.stage(&format!("frequencies and ZPE on the minima of {}", path.display()));
        match frequencies(&model, path) {
            Ok(fc) => r.frequencies = Some(fc),
            Err(e) => r.notes.push(format!("frequency check skipped: {e}")),
        }
    }
    // TS searches
    if !o.ts_data.is_empty() {
        let (cases, notes) = ts_bench::cases(&model, &o.ts_data, o.max_ts);
        r.notes.extend(notes);
        progress.stage(&format!("TS searches from {} transition states", cases.len()));
        let runs =
            ts_bench::ts_searches(model.clone(), &cases, &[0.05, 0.1], 1, o.ts_autodiff).map_err(|e| e.to_string())?;
        let mut summary = std::collections::BTreeMap::new();
        for l in ts_bench::report_variants(true).iter().map(|v| v.label) {
            let s = ts_bench::summarize(&runs, l);
            if s.runs > 0 {
                summary.insert(l.to_string(), s);
            }
        }
        r.ts_search = Some(TsResults { runs, summary });
    }
    if let Some(path) = &o.reaction_data {
        match reaction_cases(&model, path, o.max_reactions) {
            Ok(cases) => {
                progress.stage(&format!("reactant → product pipelines on {} reactions", cases.len()));
                let runs = reaction_bench::reaction_runs(model.clone(), &cases).map_err(|e| e.to_string())?;
                let mut summary = std::collections::BTreeMap::new();
                for l in ["hip", "autodiff", "quasi_newton"] {
                    summary.insert(l.to_string(), reaction_bench::summarize(&runs, l));
                }
                r.reactions = Some(report::ReactionResults { runs, summary });
            }
            Err(e) => r.notes.push(format!("reaction benchmark skipped: {e}")),
        }
    }
    if let Some((path, max)) = &o.opt_data {
        match test_minima(&model, path, *max) {
            Ok(minima) => {
                let starts = opt_bench::starts(&minima, &OPT_SIGMAS);
                progress.stage(&format!("geometry optimizations from {} displaced minima", starts.len()));
                let runs = opt_bench::optimizations(model.clone(), &starts).map_err(|e| e.to_string())?;
                let summary =
                    opt_bench::METHODS.iter().map(|m| (m.to_string(), opt_bench::summarize(&runs, m))).collect();
                r.optimizations = Some(report::OptResults { runs, summary });
            }
            Err(e) => r.notes.push(format!("optimization study skipped: {e}")),
        }
    }
    if let Some((path, max)) = &o.zpe_data {
        match reaction_end_pairs(&model, path, *max) {
            Ok(pairs) => {
                progress.stage(&format!("ΔZPE of {} reactions", pairs.len()));
                let mut methods = vec![
                    ("direct", &*model, HessianMethod::Direct),
                    ("autodiff", &*model, HessianMethod::Autodiff),
                    ("fd", &*model, HessianMethod::FiniteDifference { delta: 0.01 }),
                ];
                if let Some(ef) = &o.ef_model {
                    methods.push(("ef_baseline_autodiff", &**ef, HessianMethod::Autodiff));
                }
                r.delta_zpe = Some(zpe_bench::delta_zpe(&pairs, &methods)?);
            }
            Err(e) => r.notes.push(format!("ΔZPE skipped: {e}")),
        }
    }
    // plots
    let mut plots: Vec<(&str, &str)> = Vec::new();
    let stem = |name: &str| o.out_dir.join(name);
    if !r.speed.is_empty() {
        let series = |p: &str| {
            let rows: Vec<_> = r.speed.iter().filter(|x| x.provider == p).collect();
            plots::Series {
                label: p.into(),
                points: rows.iter().map(|x| (x.n_atoms as f64, x.median_ms)).collect(),
                spread: rows.iter().map(|x| x.min_ms.zip(x.max_ms)).collect::<Option<Vec<_>>>().unwrap_or_default(),
                reference: false,
            }
        };
        plots::line_plot(
            &stem("time_vs_atoms"),
            "Time per call (median; bars: min–max of the timed runs)",
            "atoms",
            "ms",
            &[
                series("direct"),
                series("direct_with_forces"),
                series("autodiff"),
                series("fd"),
                series("energy_forces"),
            ]
            .into_iter()
            .chain(peer_series(&r))
            .collect::<Vec<_>>(),
        )?;
        plots.push(("Time per Hessian vs atoms (log-log)", "time_vs_atoms.svg"));
        let sp = |f: fn(&RatioRow) -> Option<f64>, label: &str| plots::Series {
            label: label.into(),
            points: r.ratios.iter().filter_map(|x| f(x).map(|v| (x.n_atoms as f64, v))).collect(),
            spread: Vec::new(),
            reference: false,
        };
        let paper = plots::Series {
            label: "paper AD/direct (GPU, EquiformerV2; reference)".into(),
            points: report::PAPER_SPEEDUP.iter().map(|&(n, v)| (n as f64, v)).collect(),
            spread: Vec::new(),
            reference: true,
        };
        plots::line_plot(
            &stem("speedup_vs_atoms"),
            "Speed-up of direct Hessians",
            "atoms",
            "t(method) / t(direct)",
            &[
                sp(|x| x.autodiff_over_direct_with_forces, "autodiff / (direct+forces), like for like"),
                sp(|x| x.fd_over_direct_with_forces, "FD / (direct+forces), like for like"),
                sp(|x| x.autodiff_over_direct, "autodiff / direct Hessian only"),
                paper,
            ]
            .into_iter()
            .chain(r.peer.as_ref().map(|p| {
                plots::Series {
                    label: "peer autograd (PyTorch/e3nn) / (direct+forces)".into(),
                    points: report::peer_ratios(&r, p)
                        .into_iter()
                        .filter_map(|x| x.autodiff_over_direct_with_forces.map(|v| (x.n_atoms as f64, v)))
                        .collect(),
                    spread: Vec::new(),
                    reference: false,
                }
            }))
            .collect::<Vec<_>>(),
        )?;
        plots.push(("Speed-up vs atoms", "speedup_vs_atoms.svg"));
        if r.speed.iter().any(|x| x.peak_rss_mb.is_some()) {
            let mem = |p: &str| plots::Series {
                label: p.into(),
                points: r
                    .speed
                    .iter()
                    .filter(|x| x.provider == p)
                    .filter_map(|x| x.peak_rss_mb.map(|m| (x.n_atoms as f64, m.max(0.01))))
                    .collect(),
                spread: Vec::new(),
                reference: false,
            };
            plots::line_plot(
                &stem("memory_vs_atoms"),
                "Peak memory above baseline",
                "atoms",
                "MB",
                &[mem("direct"), mem("autodiff"), mem("fd"), mem("energy_forces")],
            )?;
            plots.push(("Peak memory vs atoms", "memory_vs_atoms.svg"));
        }
    }
    if !r.learning_curves.is_empty() {
        learning_curve_plots(&r, &stem, &mut plots)?;
    }
    if let Some(opt) = &r.optimizations {
        let groups: Vec<(String, Vec<f64>)> = opt_bench::METHODS
            .iter()
            .map(|m| {
                let steps = opt.runs.iter().filter(|x| x.method == *m && x.converged).map(|x| x.steps as f64).collect();
                (m.to_string(), steps)
            })
            .collect();
        plots::box_plot(&stem("optimization_steps"), "Steps to convergence (converged runs)", "steps", &groups)?;
        plots.push(("Geometry optimization: steps to convergence", "optimization_steps.svg"));
    }
    if !r.large.is_empty() {
        let s = plots::Series {
            label: "direct, block-sparse (cutoff Hessian graph)".into(),
            points: r.large.iter().map(|x| (x.n_atoms as f64, x.median_ms)).collect(),
            spread: Vec::new(),
            reference: false,
        };
        plots::line_plot(&stem("large_direct"), "Direct Hessian, large systems", "atoms", "ms", &[s])?;
        plots.push(("Direct Hessian of large systems", "large_direct.svg"));
    }
    if !parity_sets.is_empty() {
        type Pick = fn(&accuracy::ParityData) -> &Vec<(f64, f64)>;
        let kinds: [(&str, &str, &str, &str, bool, Pick, &str); 3] = [
            (
                "parity_hessian.svg",
                "Hessian entries",
                "reference (eV/Å²)",
                "predicted (eV/Å²)",
                true,
                |d| &d.entries,
                "Parity: Hessian entries",
            ),
            (
                "parity_eigenvalues.svg",
                "Projected mass-weighted eigenvalues",
                "reference",
                "predicted",
                true,
                |d| &d.eigenvalues,
                "Parity: eigenvalues",
            ),
            (
                "frequency_errors.svg",
                "Frequency errors",
                "reference (cm⁻¹)",
                "predicted − reference (cm⁻¹)",
                false,
                |d| &d.frequency_errors,
                "Frequency errors",
            ),
        ];
        for (svg, title, xl, yl, diagonal, pick, caption) in kinds {
            let sets: Vec<(String, Vec<(f64, f64)>)> =
                parity_sets.iter().map(|(l, d)| (l.clone(), pick(d).clone())).collect();
            plots::scatter_plot(&stem(svg.trim_end_matches(".svg")), title, xl, yl, &sets, diagonal)?;
            plots.push((caption, svg));
        }
    }
    progress.finish();
    write_outputs(&r, &o.out_dir, &plots)?;
    Ok(r)
}

/// The test-split reactions of `path` with a TS sample and both IRC ends whose elements the model
/// knows, at most `max` of them spread over the file; R is the reverse end, P the forward one.
pub fn reaction_cases(model: &HipModel, path: &Path, max: usize) -> Result<Vec<reaction_bench::ReactionCase>, String> {
    let ds = Dataset::open(path).map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    for (name, ts, r, p) in test_reactions(&ds)? {
        let [t, r, p] = [ts, r, p].map(|i| ds.sample(i));
        let (t, r, p) = (t.map_err(|e| e.to_string())?, r.map_err(|e| e.to_string())?, p.map_err(|e| e.to_string())?);
        if !t.molecule.numbers.iter().all(|z| model.config.species_index(*z).is_some()) {
            continue;
        }
        all.push(reaction_bench::ReactionCase {
            name,
            barrier_ev: t.energy - r.energy,
            reactant: r.molecule,
            product: p.molecule,
            ts: t.molecule,
        });
    }
    Ok(hip_model::train::spread_indices(all.len(), max).into_iter().map(|k| all[k].clone()).collect())
}

/// Displacements of the optimization study, Å.
pub const OPT_SIGMAS: [f64; 2] = [0.03, 0.1];

/// At most `max` minima of the test split of `path` (spread over the file's order) whose
/// elements the model knows, named `molecule_id#index`.
pub fn test_minima(model: &HipModel, path: &Path, max: usize) -> Result<Vec<(String, Molecule)>, String> {
    let ds = Dataset::open(path).map_err(|e| e.to_string())?;
    let idx: Vec<usize> = (0..ds.len()).filter(|&i| ds.split_of(i) == "test" && ds.kind_of(i) == "minimum").collect();
    let mut all = Vec::new();
    for k in hip_model::train::spread_indices(idx.len(), max) {
        let s = ds.sample(idx[k]).map_err(|e| e.to_string())?;
        if s.molecule.len() > 1 && s.molecule.numbers.iter().all(|z| model.config.species_index(*z).is_some()) {
            all.push((format!("{}#{}", s.molecule_id, s.index), s.molecule));
        }
    }
    Ok(all)
}

/// `(name, TS, reactant, product)` sample indices of the test-split reactions of `ds` that have a
/// stored TS and both IRC ends.
fn test_reactions(ds: &Dataset) -> Result<Vec<(String, usize, usize, usize)>, String> {
    let mut out = Vec::new();
    for (k, (ts, ends)) in ds.reaction_samples().map_err(|e| e.to_string())?.into_iter().enumerate() {
        let (Some(ts), [Some(r), Some(p)]) = (ts, ends) else { continue };
        if ds.split_of(ts) == "test" {
            out.push((ds.reaction_ids.get(k).cloned().unwrap_or_else(|| format!("reaction {k}")), ts, r, p));
        }
    }
    Ok(out)
}

/// The reactant and product (reverse and forward IRC-end minima, with their reference Hessians)
/// of at most `max` test-split reactions of `path` (spread; 0: all).
pub fn reaction_end_pairs(model: &HipModel, path: &Path, max: usize) -> Result<Vec<(String, Sample, Sample)>, String> {
    let ds = Dataset::open(path).map_err(|e| e.to_string())?;
    let ends = test_reactions(&ds)?;
    let mut out = Vec::new();
    for k in hip_model::train::spread_indices(ends.len(), max) {
        let (name, _, r, p) = &ends[k];
        let (r, p) = (ds.sample(*r).map_err(|e| e.to_string())?, ds.sample(*p).map_err(|e| e.to_string())?);
        if [&r, &p].iter().all(|s| s.molecule.numbers.iter().all(|z| model.config.species_index(*z).is_some())) {
            out.push((name.clone(), r, p));
        }
    }
    Ok(out)
}

/// Frequencies/ZPE of the model (direct) on every minimum of `path` against its Hessians.
pub fn frequencies(model: &HipModel, path: &Path) -> Result<FreqCheck, String> {
    let ds = Dataset::open(path).map_err(|e| e.to_string())?;
    let (mut per, mut zpe) = (Vec::new(), Vec::new());
    for i in 0..ds.len() {
        if ds.kind_of(i) != "minimum" {
            continue;
        }
        let s = ds.sample(i).map_err(|e| e.to_string())?;
        if !s.molecule.numbers.iter().all(|z| model.config.species_index(*z).is_some()) || s.molecule.len() < 2 {
            continue;
        }
        let p = model.predict(&s.molecule, HessianMethod::Direct).map_err(|e| e.to_string())?;
        let masses = s.molecule.masses(hip_core::MassConvention::Iupac).map_err(|e| e.to_string())?;
        let vr = hip_tasks::Vibrations::new(&s.molecule, &s.hessian, &masses).map_err(|e| e.to_string())?;
        let vp = hip_tasks::Vibrations::new(&s.molecule, &p.hessian, &masses).map_err(|e| e.to_string())?;
        zpe.push((s.molecule_id.clone(), vr.zpe_ev(), vp.zpe_ev()));
        per.push(hip_tasks::metrics::compare_analysed(&p.hessian, &s.hessian, &vp, &vr));
    }
    if per.is_empty() {
        return Err(format!("{}: no minima with known elements", path.display()));
    }
    let avg = hip_tasks::metrics::average(&per);
    Ok(FreqCheck {
        data: path.display().to_string(),
        n_molecules: per.len(),
        frequency_mae_cm: avg.frequency_mae_cm.unwrap_or(f64::NAN),
        zpe_mae_ev: avg.zpe_error_ev,
        zpe,
    })
}

/// Validation F and H MAE against training CPU hours (the budget clock `cpu_s`, summed over
/// resumed runs), one series per model, log–log.
fn learning_curve_plots(
    r: &Results,
    stem: &dyn Fn(&str) -> PathBuf,
    plots: &mut Vec<(&'static str, &'static str)>,
) -> Result<(), String> {
    let series = |pick: fn(&hip_model::train::EpochRecord) -> f64| -> Vec<plots::Series> {
        r.learning_curves
            .iter()
            .map(|(label, h)| plots::Series {
                label: label.clone(),
                points: h.iter().map(|e| (e.budget_s() / 3600.0, pick(e))).collect(),
                spread: Vec::new(),
                reference: false,
            })
            .filter(|s| s.points.iter().any(|p| p.1.is_finite()))
            .collect()
    };
    plots::line_plot(
        &stem("learning_forces"),
        "Validation force MAE during training",
        "training CPU hours",
        "val F MAE (eV/Å)",
        &series(|e| e.val_forces_mae),
    )?;
    plots.push(("Learning curves: forces", "learning_forces.svg"));
    let h = series(|e| e.val_hessian_mae);
    if !h.is_empty() {
        plots::line_plot(
            &stem("learning_hessian"),
            "Validation Hessian MAE (direct) during training",
            "training CPU hours",
            "val H MAE (eV/Å²)",
            &h,
        )?;
        plots.push(("Learning curves: Hessian", "learning_hessian.svg"));
    }
    Ok(())
}

/// Writes `results.json` and `REPORT.md`.
pub fn write_outputs(r: &Results, dir: &Path, plots: &[(&str, &str)]) -> Result<(), String> {
    let json = serde_json::to_string_pretty(r).map_err(|e| e.to_string())?;
    hip_core::io::atomic::write(&dir.join("results.json"), json).map_err(|e| e.to_string())?;
    hip_core::io::atomic::write(&dir.join("REPORT.md"), report::markdown(r, plots)).map_err(|e| e.to_string())
}

/// Machine description for reports.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cpu}, {} logical cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::OS
    )
}
