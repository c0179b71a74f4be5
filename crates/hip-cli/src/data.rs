//! `hip data info|check FILE`.

use std::path::PathBuf;

use clap::Subcommand;
use hip_core::Result;
use std::collections::BTreeMap;

use hip_core::io::dataset::{Dataset, Filter};

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Counts per split, kind and element; atoms per sample; level of theory; size.
    Info {
        /// The HDF5 dataset.
        file: PathBuf,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Full validation of every sample, and of the geometry filter the file declares (its
    /// `filter` attribute; `--filter v2` applies the data-v2 filter to any file); exits non-zero
    /// on the first problem.
    Check {
        /// The HDF5 dataset.
        file: PathBuf,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// `declared` (the file's own filter, if any) or `v2` (datasets/README.md).
        #[arg(long, default_value = "declared")]
        filter: String,
    },
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Info { file, json } => {
            let ds = Dataset::open(&file)?;
            let info = ds.info()?;
            if json {
                let stats = ds.kind_stats()?;
                let per_kind: serde_json::Map<String, serde_json::Value> = stats
                    .iter()
                    .map(|(k, st)| {
                        (
                            k.clone(),
                            serde_json::json!({
                                "count": st.count,
                                "force_rms_ev_a": st.force_rms,
                                "max_force_ev_a": st.max_force,
                                "min_distance_a": st.min_distance,
                                "min_pair_ratio_covalent": st.min_pair_ratio,
                                "max_energy_above_minimum_ev": finite(st.max_energy_above_minimum),
                            }),
                        )
                    })
                    .collect();
                let classes = count(ds.reaction_classes());
                let v = serde_json::json!({
                    "path": info.path,
                    "n_samples": info.n_samples,
                    "level_of_theory": info.level_of_theory,
                    "n_molecules": info.n_molecules,
                    "n_reactions": info.n_reactions,
                    "by_split": info.by_split,
                    "by_kind": info.by_kind,
                    "per_kind": per_kind,
                    "reactions_by_class": classes,
                    "bond_rearranging_ts": ds.bond_rearranging_ts(),
                    "ts_by_split": ts_by_split(&ds),
                    "filter": ds.declared_filter().map(|f| serde_json::json!({
                        "min_pair_ratio": f.min_pair_ratio,
                        "max_e_per_atom_sampled_eV": f.max_e_per_atom_sampled_ev,
                        "max_e_reaction_eV": f.max_e_reaction_ev,
                    })),
                    "atoms_by_element": info.atoms_by_element,
                    "atoms": {"min": info.atoms_min, "mean": info.atoms_mean, "max": info.atoms_max},
                    "hessian_layout": info.hessian_layout,
                    "file_size_bytes": info.file_size_bytes,
                });
                println!("{v}");
            } else {
                println!("file             {}", info.path);
                println!("level of theory  {}", info.level_of_theory);
                println!("samples          {}", info.n_samples);
                println!("molecules        {}", info.n_molecules);
                println!("reactions        {}", info.n_reactions);
                println!(
                    "atoms/sample     min {}  mean {:.1}  max {}",
                    info.atoms_min, info.atoms_mean, info.atoms_max
                );
                println!("by split         {}", fmt_map(&info.by_split));
                println!("by kind          {}", fmt_map(&info.by_kind));
                println!("atoms by element {}", fmt_map(&info.atoms_by_element));
                for (k, st) in ds.kind_stats()? {
                    println!(
                        "  {k:<10} {:>6} samples  F rms {:.3} max {:.2} eV/Å  closest {:.3} Å ({:.2} × cov. radii)",
                        st.count, st.force_rms, st.max_force, st.min_distance, st.min_pair_ratio
                    );
                }
                if !ds.reaction_classes().is_empty() {
                    println!("reaction classes {}", fmt_map(&count(ds.reaction_classes())));
                    println!("bond-rearranging TS {}", ds.bond_rearranging_ts());
                }
                println!("TS by split      {}", fmt_map(&ts_by_split(&ds)));
                println!("hessian storage  {}", info.hessian_layout);
                println!("size             {:.2} MB", info.file_size_bytes as f64 / 1e6);
            }
            Ok(())
        }
        DataCommand::Check { file, json, filter } => {
            let ds = Dataset::open(&file)?;
            ds.validate()?;
            let f = match filter.as_str() {
                "declared" => ds.declared_filter(),
                "v2" => Some(Filter::V2),
                other => {
                    return Err(hip_core::Error::invalid(
                        "--filter",
                        format!("unknown filter \"{other}\" (expected declared or v2)"),
                    ));
                }
            };
            if let Some(f) = &f {
                ds.check_filter(f)?;
            }
            let filtered = if f.is_some() { "geometry filter passed" } else { "no geometry filter declared" };
            if json {
                println!(
                    "{}",
                    serde_json::json!({"path": file.display().to_string(), "ok": true, "n_samples": ds.len(),
                                       "filter_checked": f.is_some()})
                );
            } else {
                println!("{}: OK ({} samples checked; {filtered})", file.display(), ds.len());
            }
            Ok(())
        }
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn count(items: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for c in items {
        *m.entry(c.clone()).or_insert(0) += 1;
    }
    m
}

fn ts_by_split(ds: &Dataset) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in (0..ds.len()).filter(|&i| ds.kind_of(i) == "ts") {
        *m.entry(ds.split_of(i).to_string()).or_insert(0) += 1;
    }
    m
}

fn fmt_map(m: &BTreeMap<String, usize>) -> String {
    m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("  ")
}
