//! The results (`reports/results.json`, stable keys) and the Markdown report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::peer::PeerResult;
use crate::speed::SpeedRow;
use crate::ts_bench::{TsRun, TsSummary};

/// The paper's speed-up of direct over autodiff Hessians (GPU, EquiformerV2), for reference.
pub const PAPER_SPEEDUP: [(usize, f64); 4] = [(5, 6.5), (10, 11.7), (20, 29.5), (30, 64.0)];

/// Where and how the numbers were made.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Meta {
    /// UTC date.
    pub date: String,
    /// `git rev-parse HEAD` if available.
    pub commit: String,
    /// The command line.
    pub command: String,
    /// CPU model and core count.
    pub machine: String,
    /// Rayon/BLAS threads used.
    pub threads: String,
    /// Model used for speed and accuracy.
    pub model: String,
    /// Quick mode.
    pub quick: bool,
    /// Device and precision the models ran on (e.g. `cpu f64`); empty in older results: CPU f64.
    #[serde(default)]
    pub compute: String,
}

/// Speed ratios at one size.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RatioRow {
    /// Atoms.
    pub n_atoms: usize,
    /// t(autodiff) / t(direct+forces): **like for like**, both return energy, forces and the
    /// Hessian (the headline ratio).
    #[serde(default)]
    pub autodiff_over_direct_with_forces: Option<f64>,
    /// t(fd) / t(direct+forces), like for like.
    #[serde(default)]
    pub fd_over_direct_with_forces: Option<f64>,
    /// t(autodiff) / t(direct): the Hessian-only direct call against autodiff (which computes
    /// energy and forces on the way).
    pub autodiff_over_direct: Option<f64>,
    /// t(fd) / t(direct).
    pub fd_over_direct: Option<f64>,
    /// t(direct) / t(energy+forces).
    pub direct_over_energy_forces: Option<f64>,
    /// t(direct_with_forces) / t(energy+forces): energy, forces and direct Hessian in one call.
    #[serde(default)]
    pub direct_with_forces_over_energy_forces: Option<f64>,
}

/// Frequencies on reference minima (a cross-level check when the model is trained on GFN2).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FreqCheck {
    /// Dataset.
    pub data: String,
    /// Minima compared.
    pub n_molecules: usize,
    /// Mean |Δν̃| (400–4000 cm⁻¹ modes), cm⁻¹.
    pub frequency_mae_cm: f64,
    /// Mean |ΔZPE|, eV.
    pub zpe_mae_ev: f64,
    /// Per molecule: (name, reference ZPE, model ZPE), eV.
    pub zpe: Vec<(String, f64, f64)>,
}

/// TS-search results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TsResults {
    /// Every run.
    pub runs: Vec<TsRun>,
    /// Summary by Hessian type.
    pub summary: BTreeMap<String, TsSummary>,
}

/// Geometry-optimization study results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OptResults {
    /// Every run.
    pub runs: Vec<crate::opt_bench::OptRun>,
    /// Summary by method.
    pub summary: BTreeMap<String, crate::opt_bench::OptSummary>,
}

/// Reaction-benchmark results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReactionResults {
    /// Every run.
    pub runs: Vec<crate::reaction_bench::ReactionRun>,
    /// Summary by Hessian type.
    pub summary: BTreeMap<String, crate::reaction_bench::ReactionSummary>,
}

/// Everything a run measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    /// Provenance.
    pub meta: Meta,
    /// `{n_atoms, provider, median_ms, peak_rss_mb}` rows.
    pub speed: Vec<SpeedRow>,
    /// Ratios measured in the same run.
    pub ratios: Vec<RatioRow>,
    /// Fitted exponents `t ∝ N^k` per provider.
    pub scaling: BTreeMap<String, f64>,
    /// Block-sparse direct Hessians (the model's cutoff Hessian graph) of large systems.
    pub large: Vec<SpeedRow>,
    /// The PyTorch/e3nn peer, if it was run.
    #[serde(default)]
    pub peer: Option<PeerResult>,
    /// Section-6 metrics per provider (snake_case keys).
    pub accuracy: BTreeMap<String, serde_json::Value>,
    /// Frequencies/ZPE on reference minima.
    pub frequencies: Option<FreqCheck>,
    /// TS searches.
    pub ts_search: Option<TsResults>,
    /// Reactant → product pipelines.
    #[serde(default)]
    pub reactions: Option<ReactionResults>,
    /// The geometry-optimization study.
    #[serde(default)]
    pub optimizations: Option<OptResults>,
    /// ΔZPE of reactions per Hessian method.
    #[serde(default)]
    pub delta_zpe: Option<crate::zpe_bench::ZpeResults>,
    /// Per-epoch training histories of the evaluated models (label → epochs).
    #[serde(default)]
    pub learning_curves: BTreeMap<String, Vec<hip_model::train::EpochRecord>>,
    /// The paper's speed-up curve (reference only).
    pub paper_speedup: Vec<(usize, f64)>,
    /// Notes (gaps, skipped parts).
    pub notes: Vec<String>,
    /// Sections measured by the caller (the ReactBench subset, the DFT check), shown before the
    /// plots.
    #[serde(default)]
    pub sections: Vec<Section>,
}

/// A section measured outside [`crate::run`]: its title, its Markdown body and its numbers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    pub markdown: String,
    pub data: serde_json::Value,
}

/// The accuracy metrics per sample kind (minimum, thermal, displaced, ts, path): one row per
/// kind and provider, from each provider's `by_kind`.
fn per_kind_table(s: &mut String, r: &Results) {
    let cols: [(&str, &str, usize); 10] = [
        ("energy_mae_ev", "E MAE (eV)", 3),
        ("forces_mae_ev_a", "F MAE (eV/Å)", 3),
        ("hessian_mae", "H MAE (eV/Å²)", 3),
        ("eigenvalue_mae", "eig MAE", 3),
        ("lambda1_mae", "λ₁ MAE", 3),
        ("cos_v1", "\\|cos v₁\\|", 3),
        ("neg_count_agreement", "neg-count agr.", 2),
        ("ts_agreement", "TS agr.", 2),
        ("frequency_mae_cm", "freq MAE (cm⁻¹)", 1),
        ("zpe_error_ev", "ZPE err (eV)", 4),
    ];
    let mut kinds: Vec<&String> = r
        .accuracy
        .values()
        .filter_map(|v| v.get("by_kind").and_then(|k| k.as_object()))
        .flat_map(|m| m.keys())
        .collect();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### Per sample kind
"
    );
    let _ = writeln!(
        s,
        "| kind | provider | n | {} |\n| --- | --- | ---: |{}",
        cols.iter().map(|c| c.1).collect::<Vec<_>>().join(" | "),
        " ---: |".repeat(cols.len())
    );
    for kind in kinds {
        for (prov, v) in &r.accuracy {
            let Some(k) = v.get("by_kind").and_then(|b| b.get(kind.as_str())) else { continue };
            let get =
                |key: &str| k.get(key).or_else(|| k.get("hessian").and_then(|h| h.get(key))).and_then(|x| x.as_f64());
            let cells: Vec<String> =
                cols.iter().map(|&(key, _, d)| get(key).map_or("–".into(), |x| format!("{x:.d$}"))).collect();
            let n = k.get("n_samples").and_then(|x| x.as_u64()).unwrap_or(0);
            let _ = writeln!(s, "| {kind} | {prov} | {n} | {} |", cells.join(" | "));
        }
    }
    let _ = writeln!(s);
}

/// The geometry-optimization study: one row per optimizer.
fn optimization_table(s: &mut String, o: &OptResults) {
    let starts = o.summary.values().map(|x| x.runs).max().unwrap_or(0);
    let _ = writeln!(
        s,
        "## Geometry optimization from displaced minima ({starts} starts: test-split minima, σ = 0.03 and 0.1 Å)\n\n\
         Gaussian \"gau\" thresholds, ≤ {} steps (FIRE ≤ {}); success: converged with no imaginary mode below \
         −10 cm⁻¹ by the autodiff Hessian of the model (one grader for every optimizer).\n",
        crate::opt_bench::MAX_STEPS,
        crate::opt_bench::FIRE_MAX_STEPS
    );
    let _ = writeln!(
        s,
        "| optimizer | converged | minimum (graded) | median steps | gradient calls | Hessian calls | s per run |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for m in crate::opt_bench::METHODS {
        let Some(x) = o.summary.get(m) else { continue };
        let _ = writeln!(
            s,
            "| {m} | {}/{} | {}/{} | {:.0} | {:.1} | {:.1} | {:.2} |",
            x.converged,
            x.runs,
            x.success,
            x.runs,
            x.median_steps,
            x.mean_gradient_calls,
            x.mean_hessian_calls,
            x.mean_seconds
        );
    }
    let _ = writeln!(s);
}

/// ΔΔZPE MAE per Hessian method.
fn zpe_table(s: &mut String, z: &crate::zpe_bench::ZpeResults) {
    let _ = writeln!(
        s,
        "## ΔZPE of reactions ({} test-split reactions: ZPE(P) − ZPE(R) at the reference IRC-end minima)\n",
        z.rows.len()
    );
    let _ = writeln!(s, "| Hessian | ΔΔZPE MAE (eV) |\n| --- | ---: |");
    for (m, v) in &z.ddzpe_mae_ev {
        let _ = writeln!(s, "| {m} | {v:.4} |");
    }
    let _ = writeln!(s);
}

/// Training provenance of the evaluated models: epochs, CPU hours and the last validation numbers.
fn training_table(s: &mut String, r: &Results) {
    let _ = writeln!(s, "## Training (per-epoch validation; plots: learning curves)\n");
    let _ = writeln!(
        s,
        "| model | epochs | training CPU h | val E MAE (eV) | val F MAE (eV/Å) | val H MAE (eV/Å²) |\n| --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for (label, h) in &r.learning_curves {
        let Some(last) = h.last() else { continue };
        let cpu = last.budget_s();
        let g = |x: f64| if x.is_finite() { format!("{x:.4}") } else { "–".into() };
        let _ = writeln!(
            s,
            "| {label} | {} | {:.2} | {} | {} | {} |",
            last.epoch,
            cpu / 3600.0,
            g(last.val_energy_mae),
            g(last.val_forces_mae),
            g(last.val_hessian_mae)
        );
    }
    let _ = writeln!(s);
    if let (Some(ef), Some(mace)) =
        (r.learning_curves.get(EF_LABEL), r.learning_curves.get(crate::reference_curve::MACE_LABEL))
    {
        if let Some(ratio) = crate::reference_curve::force_ratio(ef, mace) {
            let bar = crate::reference_curve::MACE_FORCE_RATIO_BAR;
            let _ = writeln!(
                s,
                "E+F baseline against the MACE reference (same training data and validation samples, each at the end of its CPU budget): val F MAE ratio {ratio:.2}× ({}; the bar is ≤ {bar}×).\n",
                if ratio <= bar { "a real baseline" } else { "weaker than the reference" }
            );
        }
    }
}

/// The label of the E+F baseline's learning curve.
pub const EF_LABEL: &str = "E+F baseline";

/// The peer against us at one size: three ratios of median times, each of equal outputs where
/// the name says so.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerRatio {
    /// Atoms.
    pub n_atoms: usize,
    /// t(peer E+F) / t(our energy_forces): framework against framework, the same outputs.
    pub energy_forces: Option<f64>,
    /// t(peer autograd E+F+H) / t(our autodiff E+F+H): framework against framework.
    pub autodiff_over_autodiff: Option<f64>,
    /// t(peer autograd E+F+H) / t(our direct_with_forces E+F+H): the method and framework
    /// together, like for like in outputs.
    pub autodiff_over_direct_with_forces: Option<f64>,
}

/// Per peer size, its ratios to our medians at the same size (`None` where we have no row).
pub fn peer_ratios(r: &Results, p: &PeerResult) -> Vec<PeerRatio> {
    let ours = |n: usize, prov: &str| {
        r.speed.iter().find(|x| x.n_atoms == n && x.provider == prov).map(|x| x.median_ms).filter(|&t| t > 0.0)
    };
    p.rows
        .iter()
        .map(|x| PeerRatio {
            n_atoms: x.n_atoms,
            energy_forces: ours(x.n_atoms, "energy_forces").map(|t| x.energy_forces_ms / t),
            autodiff_over_autodiff: ours(x.n_atoms, "autodiff").map(|t| x.autograd_hessian_ms / t),
            autodiff_over_direct_with_forces: ours(x.n_atoms, "direct_with_forces").map(|t| x.autograd_hessian_ms / t),
        })
        .collect()
}

fn f(x: Option<f64>, d: usize) -> String {
    x.map_or("–".into(), |v| format!("{v:.d$}"))
}

/// The Markdown report.
pub fn markdown(r: &Results, plots: &[(&str, &str)]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# hip-rs benchmark report\n");
    let m = &r.meta;
    let _ = writeln!(
        s,
        "| | |\n| --- | --- |\n| date | {} |\n| commit | `{}` |\n| command | `{}` |\n| machine | {} |\n| threads | {} |\n| model | {} |\n| mode | {} |\n",
        m.date,
        m.commit,
        m.command,
        m.machine,
        m.threads,
        m.model,
        if m.quick { "quick" } else { "full" }
    );
    if !r.speed.is_empty() {
        let compute = if r.meta.compute.is_empty() { "cpu f64" } else { r.meta.compute.as_str() };
        let _ = writeln!(s, "## Time per Hessian (same model and weights, {compute})\n");
        let _ = writeln!(
            s,
            "Every provider is timed alike: one warm-up call each, then interleaved rounds (A B C …) until each has at \
             least the stated number of runs and the rounds took at least the time budget; median (min–max) ms. \
             **Like for like** (first table): `direct+forces` (energy, forces and the direct Hessian from one call: \
             forward + one backward pass) against `autodiff` and `FD`, which also return energy and forces. \
             `energy+forces` is one energy+force evaluation, the unit of cost.\n"
        );
        let mut sizes: Vec<usize> = r.speed.iter().map(|x| x.n_atoms).collect();
        sizes.dedup();
        let get = |n: usize, p: &str| r.speed.iter().find(|x| x.n_atoms == n && x.provider == p);
        let t = |n: usize, p: &str| {
            get(n, p).map_or("–".to_string(), |x| match (x.min_ms, x.max_ms) {
                (Some(a), Some(b)) => format!("{:.2} ({a:.2}–{b:.2})", x.median_ms),
                _ => format!("{:.2}", x.median_ms),
            })
        };
        let runs = |n: usize| {
            r.speed.iter().filter(|x| x.n_atoms == n).map(|x| x.runs).min().map_or("–".into(), |k| k.to_string())
        };
        let _ = writeln!(
            s,
            "| atoms | energy+forces ms | direct+forces ms | autodiff ms | FD ms | **AD/(direct+forces)** | FD/(direct+forces) | runs (fewest) |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for &n in &sizes {
            let ra = r.ratios.iter().find(|x| x.n_atoms == n).cloned().unwrap_or_default();
            let _ = writeln!(
                s,
                "| {n} | {} | {} | {} | {} | {} | {} | {} |",
                t(n, "energy_forces"),
                t(n, "direct_with_forces"),
                t(n, "autodiff"),
                t(n, "fd"),
                f(ra.autodiff_over_direct_with_forces, 1),
                f(ra.fd_over_direct_with_forces, 1),
                runs(n)
            );
        }
        let _ = writeln!(
            s,
            "\nHessian only (`HipModel::hessian`: for `direct` one forward pass, no backward pass; autodiff and FD still \
             compute energy and forces on the way, so these ratios favour `direct`):\n"
        );
        let _ = writeln!(
            s,
            "| atoms | direct ms | AD/direct | FD/direct | direct/(E+F) | (direct+forces)/(E+F) | direct peak MB | AD peak MB | FD peak MB |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for &n in &sizes {
            let mb = |p: &str| get(n, p).and_then(|x| x.peak_rss_mb);
            let ra = r.ratios.iter().find(|x| x.n_atoms == n).cloned().unwrap_or_default();
            let _ = writeln!(
                s,
                "| {n} | {} | {} | {} | {} | {} | {} | {} | {} |",
                t(n, "direct"),
                f(ra.autodiff_over_direct, 1),
                f(ra.fd_over_direct, 1),
                f(ra.direct_over_energy_forces, 2),
                f(ra.direct_with_forces_over_energy_forces, 2),
                f(mb("direct"), 1),
                f(mb("autodiff"), 1),
                f(mb("fd"), 1)
            );
        }
        let _ = writeln!(
            s,
            "\nPaper (GPU, EquiformerV2, for reference only): AD/direct = 6.5×, 11.7×, 29.5×, 64× at 5, 10, 20, 30 atoms.\n"
        );
        if !r.scaling.is_empty() {
            let _ = writeln!(
                s,
                "Fitted scaling exponents (t ∝ N^k): {}\n",
                r.scaling.iter().map(|(k, v)| format!("{k} {v:.2}")).collect::<Vec<_>>().join(", ")
            );
        }
    }
    if !r.large.is_empty() {
        let _ = writeln!(
            s,
            "## Direct Hessians of large systems (block-sparse, the model's cutoff Hessian graph)\n\n\
             Alkane bundles of constant density; one 3×3 block per atom and per atom pair within `hessian_cutoff`, \
             no dense buffer (`HipModel::hessian_blocks`).\n\n| atoms | direct ms | stored pairs | pairs per atom |\n| ---: | ---: | ---: | ---: |"
        );
        for x in &r.large {
            let p = x.n_pairs.unwrap_or(0);
            let _ = writeln!(s, "| {} | {:.1} | {p} | {:.1} |", x.n_atoms, x.median_ms, p as f64 / x.n_atoms as f64);
        }
        let k = |key: &str| r.scaling.get(key).map_or("–".to_string(), |v| format!("{v:.2}"));
        let _ = writeln!(
            s,
            "\nFitted exponents: t ∝ N^k with k = {} over all these sizes and k = {} from 1,000 atoms on; \
             t ∝ (stored pairs)^k with k = {}. Pairs per atom grow until the system is several cutoff \
             radii across, so the exponent in N approaches the one in pairs only for large N.",
            k("direct_blocks_large"),
            k("direct_blocks_large_from_1000"),
            k("direct_blocks_vs_pairs")
        );
        let _ = writeln!(s);
    }
    if let Some(p) = &r.peer {
        let _ = writeln!(
            s,
            "## Peer: PyTorch + e3nn\n\n\
             `crates/hip-bench/peers/e3nn_peer.py`: the same irreps, layers, cutoff and radial basis in e3nn {} / torch {}, \
             f64, random weights, {} threads (ours: the threads above), same alkanes, the same timing protocol \
             (warm-up, interleaved rounds, median [min–max] of `runs` timed runs; a separate process, so not \
             interleaved with ours). Ratios are peer / ours of medians: E+F against our E+F and autograd against \
             our autodiff compare the frameworks (same outputs); autograd against our direct+forces compares \
             the method and framework together (both return E, F and H).\n\n\
             | atoms | runs | peer E+F ms | peer autograd E+F+H ms | peer E+F / our E+F | peer AD / our AD | peer AD / our direct+forces |\n\
             | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            p.e3nn, p.torch, p.threads
        );
        let spread = |med: f64, lo: Option<f64>, hi: Option<f64>, d: usize| match lo.zip(hi) {
            Some((lo, hi)) => format!("{med:.d$} [{lo:.d$}–{hi:.d$}]"),
            None => format!("{med:.d$}"),
        };
        for (x, q) in p.rows.iter().zip(peer_ratios(r, p)) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                x.n_atoms,
                if x.runs > 0 { x.runs.to_string() } else { "–".into() },
                spread(x.energy_forces_ms, x.energy_forces_min_ms, x.energy_forces_max_ms, 2),
                spread(x.autograd_hessian_ms, x.autograd_hessian_min_ms, x.autograd_hessian_max_ms, 1),
                f(q.energy_forces, 2),
                f(q.autodiff_over_autodiff, 2),
                f(q.autodiff_over_direct_with_forces, 1)
            );
        }
        let _ = writeln!(s);
    }
    if !r.accuracy.is_empty() {
        let _ = writeln!(s, "## Accuracy (section-6 metrics, test split)\n");
        let keys = [
            "n_samples",
            "energy_mae_ev",
            "forces_mae_ev_a",
            "hessian_mae",
            "asymmetry",
            "eigenvalue_mae",
            "cos_v1",
            "lambda1_mae",
            "neg_count_agreement",
            "ts_agreement",
            "frequency_mae_cm",
            "zpe_error_ev",
            "ms_per_hessian",
        ];
        let provs: Vec<&String> = r.accuracy.keys().collect();
        let _ = writeln!(
            s,
            "| metric | {} |\n| --- |{}",
            provs.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" | "),
            " ---: |".repeat(provs.len())
        );
        for k in keys {
            let row: Vec<String> = provs
                .iter()
                .map(|p| {
                    let v = &r.accuracy[*p];
                    let x = v.get(k).or_else(|| v.get("hessian").and_then(|h| h.get(k)));
                    x.and_then(|x| x.as_f64()).map_or("–".into(), |x| {
                        if x.abs() < 1e-3 && x != 0.0 { format!("{x:.2e}") } else { format!("{x:.4}") }
                    })
                })
                .collect();
            let _ = writeln!(s, "| {k} | {} |", row.join(" | "));
        }
        let _ = writeln!(s);
        per_kind_table(&mut s, r);
    }
    if !r.learning_curves.is_empty() {
        training_table(&mut s, r);
    }
    if let Some(o) = &r.optimizations {
        optimization_table(&mut s, o);
    }
    if let Some(z) = &r.delta_zpe {
        zpe_table(&mut s, z);
    }
    if let Some(fc) = &r.frequencies {
        let _ = writeln!(s, "## Frequencies and ZPE on reference minima ({})\n", fc.data);
        let _ = writeln!(
            s,
            "{} minima: frequency MAE {:.1} cm⁻¹ (400–4000 cm⁻¹ modes), ZPE MAE {:.4} eV.\n",
            fc.n_molecules, fc.frequency_mae_cm, fc.zpe_mae_ev
        );
        let _ = writeln!(s, "| molecule | reference ZPE eV | model ZPE eV |\n| --- | ---: | ---: |");
        for (n, a, b) in &fc.zpe {
            let _ = writeln!(s, "| {n} | {a:.4} | {b:.4} |");
        }
        let _ = writeln!(s);
    }
    if let Some(ts) = &r.ts_search {
        let _ = writeln!(s, "## Transition-state search from displaced transition states (RS-P-RFO, ≤ 50 steps)\n");
        let _ = writeln!(
            s,
            "Every endpoint is graded by the same reference, the autodiff Hessian of the model that was searched (the exact \
             Hessian of that surface), whatever Hessian drove the search; *is the reference TS*: RMSD after alignment below \
             {} Å. The last column is how often the search's own Hessian agrees with the grader. `hip_probe{k}`: the \
             direct Hessian corrected before each step by {k} Hessian-vector products of the model's gradient along the \
             followed and the lowest modes ({} gradient calls; `hip ts --mode-probes {k}`).\n",
            crate::ts_bench::MATCH_RMSD,
            2 * crate::ts_bench::REPORT_PROBES,
            k = crate::ts_bench::REPORT_PROBES
        );
        let _ = writeln!(
            s,
            "| Hessian | runs | converged | converged with 1 imaginary mode (graded) | … and is the reference TS | mean steps | mean Hessian calls | mean gradient calls | mean s | own classification agrees |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for (k, v) in &ts.summary {
            let _ = writeln!(
                s,
                "| {k} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.2} | {}/{} |",
                v.runs,
                v.converged,
                v.success,
                v.matches_reference,
                v.mean_steps,
                v.mean_hessian_calls,
                v.mean_energy_calls,
                v.mean_seconds,
                v.own_agrees,
                v.runs
            );
        }
        for (k, v) in ts.summary.iter().filter(|(_, v)| v.errors > 0) {
            let _ = writeln!(
                s,
                "\n{k}: {} of {} searches stopped with an error (counted as not converged).",
                v.errors, v.runs
            );
        }
        let _ = writeln!(s);
    }
    if let Some(rx) = &r.reactions {
        let _ = writeln!(s, "## Reactions: reactant → product (IDPP → CI-NEB → RS-P-RFO → IRC)\n");
        let _ = writeln!(
            s,
            "Test-split reactions with a stored TS and both IRC-end minima; R and P are the reference IRC ends. The three \
             Hessians drive the TS search and the IRC from the same NEB band. Graded as above: a TS success is converged with \
             one imaginary mode by the model's autodiff Hessian; *reference TS*: RMSD after alignment below {} Å; barrier \
             error: model `E(TS) − E(R)` minus the reference, over the graded successes; *intended*: the IRC ends are R and \
             P (the pipeline's bond-graph and RMSD criteria).\n",
            crate::ts_bench::MATCH_RMSD
        );
        let _ = writeln!(
            s,
            "| Hessian | reactions | TS converged | TS success (graded) | own count | reference TS | IRC intended | barrier MAE (eV) | mean TS steps | mean s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for (k, v) in &rx.summary {
            let _ = writeln!(
                s,
                "| {k} | {} | {} | {} | {} | {} | {} | {:.3} | {:.1} | {:.2} |",
                v.runs,
                v.ts_converged,
                v.ts_success,
                v.own_ts_success,
                v.matches_reference,
                v.intended,
                v.barrier_mae_ev,
                v.mean_ts_steps,
                v.mean_seconds
            );
        }
        let _ = writeln!(s);
    }
    for sec in &r.sections {
        let _ = writeln!(s, "## {}\n\n{}\n", sec.title, sec.markdown.trim_end());
    }
    if !plots.is_empty() {
        let _ = writeln!(s, "## Plots\n");
        for (title, file) in plots {
            let _ = writeln!(s, "**{title}**\n\n![{title}]({file})\n");
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "## Notes\n");
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}
