//! `hip reaction R.xyz P.xyz`, `hip neb R.xyz P.xyz`, `hip irc TS.xyz`: the reaction tools of
//! `hip_tasks::reaction` on the model.

use std::path::{Path, PathBuf};

use clap::Args;
use hip_core::Molecule;
use hip_core::Potential;
use hip_core::io::xyz::{write_xyz, write_xyz_frames};
use hip_tasks::reaction::{interpolate, irc, neb, pipeline};

use crate::input::read_molecule;
use crate::surface::{PotentialArgs, Surface};

type CliResult = Result<(), String>;

/// Reactant, product and the band between them (`hip reaction`, `hip neb`).
#[derive(Args, Debug)]
pub struct Endpoints {
    /// Reactant (XYZ or FILE.h5:INDEX), or one XYZ file with two frames: reactant, product
    /// (ReactBench's format).
    pub reactant: String,
    /// Product, same atoms in the same order (omit when the first file has both frames).
    pub product: Option<String>,
    #[command(flatten)]
    pub surface: PotentialArgs,
    /// Images of the band, end points included (10: eight intermediate images, as the standard
    /// ASE CI-NEB recipe of the reaction benchmark's peer).
    #[arg(long, default_value_t = 10)]
    pub images: usize,
}

impl Endpoints {
    /// Reactant, product, the potential and the domain warnings of both.
    fn read(&self) -> Result<(Molecule, Molecule, Surface, Vec<String>), String> {
        let (r, p) = match &self.product {
            None => hip_core::io::reaction::read_pair(Path::new(&self.reactant)).map_err(|e| e.to_string())?,
            Some(product) => {
                let r = read_molecule(&self.reactant).map_err(|e| e.to_string())?.molecule;
                let p = read_molecule(product).map_err(|e| e.to_string())?.molecule;
                hip_core::io::reaction::check_pair(&r, &p, &format!("{}, {product}", self.reactant))
                    .map_err(|e| e.to_string())?;
                (r, p)
            }
        };
        let (pot, warnings) = self.surface.surface(&[&r, &p])?;
        Ok((r, p, pot, warnings))
    }
}

#[derive(Args, Debug)]
pub struct ReactionArgs {
    #[command(flatten)]
    pub ends: Endpoints,
    /// Output folder: band.xyz, ts.xyz, irc.xyz, profile.png/.svg, summary.json.
    #[arg(short = 'o', long, default_value = "reaction-out")]
    pub output: PathBuf,
    /// Correct each fresh Hessian of the TS search with K measured Hessian-vector products of
    /// the model's gradient (`hip ts --mode-probes`; `reports/v2/probe/README.md`).
    #[arg(long, default_value_t = 0)]
    pub mode_probes: usize,
    /// Print the summary JSON.
    #[arg(long)]
    pub json: bool,
}

/// A spinner on stderr when it is a terminal (hidden otherwise, so logs stay clean).
fn spinner() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new_spinner();
    b.enable_steady_tick(std::time::Duration::from_millis(200));
    b
}

fn comment(what: &str, e: f64) -> String {
    format!("{what} energy={e:.8}")
}

fn irc_frames<'a>(ts: &'a Molecule, r: &'a irc::IrcResult) -> Vec<(&'a Molecule, String)> {
    let mut frames: Vec<(&Molecule, String)> =
        r.reverse.path.iter().zip(&r.reverse.energies).rev().map(|(m, e)| (m, comment("irc-reverse", *e))).collect();
    frames.push((ts, comment("ts", r.ts_energy)));
    frames.extend(r.forward.path.iter().zip(&r.forward.energies).map(|(m, e)| (m, comment("irc-forward", *e))));
    frames
}

fn profile(dir: &Path, band: &neb::NebResult, path: Option<&irc::IrcResult>) -> Result<(), String> {
    let e0 = band.energies[0];
    let mut series = vec![hip_bench::plots::Series {
        label: "NEB band".into(),
        points: band
            .energies
            .iter()
            .enumerate()
            .map(|(k, e)| (k as f64 / (band.energies.len() - 1) as f64, e - e0))
            .collect(),
        spread: Vec::new(),
        reference: false,
    }];
    if let Some(r) = path {
        let mut pts: Vec<f64> = r.reverse.energies.iter().rev().copied().collect();
        pts.push(r.ts_energy);
        pts.extend(&r.forward.energies);
        let n = pts.len().max(2) - 1;
        series.push(hip_bench::plots::Series {
            label: "IRC (reverse → TS → forward)".into(),
            points: pts.iter().enumerate().map(|(k, e)| (k as f64 / n as f64, e - e0)).collect(),
            spread: Vec::new(),
            reference: false,
        });
    }
    hip_bench::plots::profile_plot(
        &dir.join("profile"),
        "Reaction energy profile",
        "path (fraction)",
        "E − E(R) (eV)",
        &series,
    )
}

pub fn reaction(a: ReactionArgs) -> CliResult {
    let (r, p, pot, warnings) = a.ends.read()?;
    std::fs::create_dir_all(&a.output).map_err(|e| format!("{}: {e}", a.output.display()))?;
    let bar = spinner();
    let mut opts =
        pipeline::PipelineOptions { n_images: a.ends.images, progress: Some(bar.clone()), ..Default::default() };
    opts.ts.mode_probes = a.mode_probes;
    let out = pipeline::run(&pot, &r, &p, &opts).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let err = |e: hip_core::Error| e.to_string();
    let band: Vec<(&Molecule, String)> =
        out.neb.images.iter().zip(&out.neb.energies).map(|(m, e)| (m, comment("neb", *e))).collect();
    write_xyz_frames(&a.output.join("band.xyz"), &band).map_err(err)?;
    write_xyz(&a.output.join("ts.xyz"), &out.ts.molecule, &comment("ts", out.ts.energy)).map_err(err)?;
    if let Some(ir) = &out.irc {
        write_xyz_frames(&a.output.join("irc.xyz"), &irc_frames(&out.ts.molecule, ir)).map_err(err)?;
    }
    profile(&a.output, &out.neb, out.irc.as_ref())?;
    let mut v = serde_json::to_value(&out).map_err(|e| e.to_string())?;
    v["method"] = serde_json::json!(a.ends.surface.label());
    v["potential"] = serde_json::json!(pot.name());
    v["reactant"] = serde_json::json!(a.ends.reactant);
    v["product"] = serde_json::json!(a.ends.product.as_deref().unwrap_or("(second frame)"));
    v["warnings"] = serde_json::json!(warnings);
    v["criteria"] = serde_json::json!({
        "ts_success": "TS search converged (Gaussian thresholds) with exactly one mode below -10 cm^-1 by the same Hessian method",
        "intended": "one IRC end has the reactant's bond graph and the other the product's (1.2 x covalent radii); when both share a graph, the closer by RMSD after alignment, below 0.25 A",
    });
    hip_core::io::atomic::write(
        &a.output.join("summary.json"),
        serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?,
    )
    .map_err(err)?;
    if a.json {
        println!("{v}");
    } else {
        println!(
            "NEB           converged={} steps={} max force {:.3} eV/Å, climbing image {:?}",
            out.neb.converged, out.neb.steps, out.neb.max_force, out.neb.climbing
        );
        println!("TS search     converged={} steps={} E={:.6} eV", out.ts.converged, out.ts.steps, out.ts.energy);
        println!("TS success    {} (one imaginary mode below -10 cm^-1)", out.ts_success);
        if let (Some(ends), Some(d)) = (&out.ends, &out.end_rmsd) {
            println!(
                "IRC ends      forward {:?} (RMSD to R/P {:.3}/{:.3} Å), reverse {:?} ({:.3}/{:.3} Å)",
                ends[0], d[0][0], d[0][1], ends[1], d[1][0], d[1][1]
            );
        }
        println!("intended      {}", out.intended);
        println!(
            "written       {}/{{band.xyz, ts.xyz, irc.xyz, profile.png, profile.svg, summary.json}}",
            a.output.display()
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct NebArgs {
    #[command(flatten)]
    pub ends: Endpoints,
    /// The relaxed band (multi-frame XYZ).
    #[arg(short = 'o', long, default_value = "band.xyz")]
    pub output: PathBuf,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

pub fn neb_cmd(a: NebArgs) -> CliResult {
    let (r, p, pot, warnings) = a.ends.read()?;
    let p = interpolate::aligned(&r, &p).map_err(|e| e.to_string())?;
    let (band, initial) = interpolate::initial_band(&r, &p, a.ends.images).map_err(|e| e.to_string())?;
    if let Some(why) = &initial.idpp_problem {
        eprintln!("warning: IDPP band rejected ({why}); {} band used", initial.method);
    }
    let bar = spinner();
    let out = neb::neb_with_progress(&pot, band, &neb::NebOptions::default(), &bar).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let frames: Vec<(&Molecule, String)> =
        out.images.iter().zip(&out.energies).map(|(m, e)| (m, comment("neb", *e))).collect();
    write_xyz_frames(&a.output, &frames).map_err(|e| e.to_string())?;
    if a.json {
        let mut v = serde_json::to_value(&out).map_err(|e| e.to_string())?;
        v["warnings"] = serde_json::json!(warnings);
        println!("{v}");
    } else {
        println!(
            "NEB converged={} steps={} max force {:.3} eV/Å, climbing image {:?}; band written to {}",
            out.converged,
            out.steps,
            out.max_force,
            out.climbing,
            a.output.display()
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct IrcArgs {
    /// The transition state.
    pub ts: String,
    #[command(flatten)]
    pub surface: PotentialArgs,
    /// Step length, amu^½·Å.
    #[arg(long, default_value_t = 0.05)]
    pub step: f64,
    /// The path reverse → TS → forward (multi-frame XYZ).
    #[arg(short = 'o', long, default_value = "irc.xyz")]
    pub output: PathBuf,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

pub fn irc_cmd(a: IrcArgs) -> CliResult {
    let ts = read_molecule(&a.ts).map_err(|e| e.to_string())?.molecule;
    let (pot, warnings) = a.surface.surface(&[&ts])?;
    let opts = irc::IrcOptions { step: a.step, ..Default::default() };
    let out = irc::irc(&pot, &ts, &opts).map_err(|e| e.to_string())?;
    write_xyz_frames(&a.output, &irc_frames(&ts, &out)).map_err(|e| e.to_string())?;
    if a.json {
        let mut v = serde_json::to_value(&out).map_err(|e| e.to_string())?;
        v["warnings"] = serde_json::json!(warnings);
        println!("{v}");
    } else {
        for (name, b) in [("forward", &out.forward), ("reverse", &out.reverse)] {
            println!(
                "{name:<8} {} points, ended: {}, end E = {:.6} eV",
                b.path.len(),
                b.end_reason,
                b.end_report.as_ref().map_or(f64::NAN, |r| r.energy)
            );
        }
        println!("written  {}", a.output.display());
    }
    Ok(())
}
