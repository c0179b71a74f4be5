//! The report's sections measured outside `hip_bench::run`: a fixed subset of ReactBench's test
//! half through `hip bench reactions` (with a pointer to the committed full run) and the DFT
//! check (the model and GFN2-xTB against ωB97X/6-31G(d)).

use std::path::{Path, PathBuf};

use hip_bench::report::Section;
use hip_model::{HessianMethod, HipModel};

use crate::bench::ReportArgs;
use crate::reactbench::{ReactionsArgs, run_reactions};
use crate::surface::Surface;

/// The committed full run of the test half (`hip bench reactions` on all 482), referenced from
/// the report.
pub const FULL_RUN: &str = "reports/reactbench/test/README.md";
/// The committed records of the ASE + Sella peer on GFN2-xTB over the test half.
pub const PEER_RECORDS: &str = "reports/reactbench/test/peer-gfn2.jsonl";

/// The time cap per reaction and provider in the report, s.
pub const REPORT_CAP_S: u64 = 300;

/// The first `a.reactbench` reactions of the test half (a fixed subset: the list's order is the
/// project's split file's) with every model provider and GFN2-xTB where this build has it, graded
/// as `hip bench reactions` grades; a fresh run each time (its folder's records are replaced).
pub fn reactbench(a: &ReportArgs) -> Result<Option<Section>, String> {
    if a.reactbench == 0 {
        return Ok(None);
    }
    let names = Path::new("datasets/reactbench/test.txt");
    let set = PathBuf::from("datasets/reactbench/ts1x.tar.gz");
    if !names.exists() || !set.exists() {
        return Ok(Some(skipped("ReactBench", &format!("{} or {} is missing", names.display(), set.display()))));
    }
    let mut providers: Vec<String> = ["direct", "direct-probes", "autodiff"].map(String::from).to_vec();
    let gfn2 = Surface::gfn2();
    if gfn2.is_ok() {
        providers.push("gfn2".into());
    }
    let out = a.out.join("reactbench-test-subset");
    let _ = std::fs::remove_file(out.join("runs.jsonl"));
    let args = ReactionsArgs {
        set,
        names: Some(names.to_path_buf()),
        limit: Some(a.reactbench),
        providers,
        model: a.model.clone(),
        out: out.clone(),
        workers: 2,
        // a third of the full run's cap: a few test reactions (two of the first four with GFN2-xTB)
        // run past 900 s in our pipeline; the report records them as time-cap errors instead
        cap: REPORT_CAP_S,
        summary_only: false,
        peer: Path::new(PEER_RECORDS).exists().then(|| PathBuf::from(PEER_RECORDS)),
        follow_lowest: false,
        ts_attempts: 1,
    };
    eprintln!("[bench] ReactBench: the first {} reactions of the test half", a.reactbench);
    let (md, data) = run_reactions(&args)?;
    let mut text = String::new();
    if let Err(e) = gfn2 {
        text += &format!("GFN2-xTB left out: {e}.\n\n");
    }
    // the summary without its title line, which the section's title replaces
    text += md.split_once('\n').map_or(md.as_str(), |(_, rest)| rest).trim_start();
    text += &format!(
        "\n\nThe peer's rows are its committed records (`{PEER_RECORDS}`), not rerun here. The full test half \
         (482 reactions, every provider): {}.\n",
        if Path::new(FULL_RUN).exists() { format!("`{FULL_RUN}`") } else { "not committed yet".into() }
    );
    Ok(Some(Section {
        title: format!("ReactBench: the first {} reactions of the test half (`{}`)", a.reactbench, out.display()),
        markdown: text,
        data,
    }))
}

/// The shipped model (direct and autodiff) and GFN2-xTB (where this build has it) against
/// ωB97X/6-31G(d) on HORM's sample and the high-level set: all samples and TSs apart.
pub fn dft(a: &ReportArgs, model: &HipModel) -> Result<Option<Section>, String> {
    let sets: Vec<(String, PathBuf)> = [("HORM sample (T1x geometries)", &a.horm), ("wb97x-small.h5", &a.high_level)]
        .into_iter()
        .filter(|(_, p)| p.exists())
        .map(|(l, p)| (l.to_string(), p.clone()))
        .collect();
    if sets.is_empty() {
        return Ok(None);
    }
    let gfn2 = Surface::gfn2();
    let mut providers: Vec<hip_bench::dft_check::Provider<'_>> = vec![
        ("model, direct".into(), Box::new(|m: &hip_core::Molecule| model.predict(m, HessianMethod::Direct))),
        ("model, autodiff".into(), Box::new(|m: &hip_core::Molecule| model.predict(m, HessianMethod::Autodiff))),
    ];
    let mut text = String::from(
        "ωB97X/6-31G(d) references: HORM's public sample (`datasets/horm/sample_100.h5`, imported from the \
         vendored LMDB by `datasets/horm.py`) and `datasets/wb97x-small.h5` (all splits: no model here saw a DFT \
         sample). Mass-weighted, Eckart-projected eigen-metrics (IUPAC masses); frequencies over the reference's \
         modes of 400–4000 cm⁻¹; means over samples. GFN2-xTB is the level the model is trained on: the floor of \
         any model trained on it alone. Paper (HIP, HORM T1x-val): H MAE 0.030, λ₁ MAE 0.031, |cos v₁| 0.982.\n\n",
    );
    match &gfn2 {
        Ok(g) => providers.push(("GFN2-xTB itself".into(), Box::new(|m: &hip_core::Molecule| g.prediction(m)))),
        Err(e) => text += &format!("GFN2-xTB left out: {e}.\n\n"),
    }
    let rows = hip_bench::dft_check::run(&sets, &providers, true).map_err(|e| e.to_string())?;
    text += &hip_bench::dft_check::markdown(&rows);
    let data = serde_json::to_value(&rows).map_err(|e| e.to_string())?;
    Ok(Some(Section { title: "Against DFT (ωB97X/6-31G(d)), graded like the paper".into(), markdown: text, data }))
}

fn skipped(what: &str, why: &str) -> Section {
    Section { title: what.into(), markdown: format!("Not run: {why}.\n"), data: serde_json::Value::Null }
}
