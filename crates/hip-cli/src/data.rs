//! `hip data info|check FILE`.

use std::path::PathBuf;

use clap::Subcommand;
use hip_core::Result;
use hip_core::io::dataset::Dataset;

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
    /// Full validation of every sample; exits non-zero on the first problem.
    Check {
        /// The HDF5 dataset.
        file: PathBuf,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Info { file, json } => {
            let ds = Dataset::open(&file)?;
            let info = ds.info()?;
            if json {
                let v = serde_json::json!({
                    "path": info.path,
                    "n_samples": info.n_samples,
                    "level_of_theory": info.level_of_theory,
                    "n_molecules": info.n_molecules,
                    "n_reactions": info.n_reactions,
                    "by_split": info.by_split,
                    "by_kind": info.by_kind,
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
                println!("hessian storage  {}", info.hessian_layout);
                println!("size             {:.2} MB", info.file_size_bytes as f64 / 1e6);
            }
            Ok(())
        }
        DataCommand::Check { file, json } => {
            let ds = Dataset::open(&file)?;
            ds.validate()?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"path": file.display().to_string(), "ok": true, "n_samples": ds.len()})
                );
            } else {
                println!("{}: OK ({} samples checked)", file.display(), ds.len());
            }
            Ok(())
        }
    }
}

fn fmt_map(m: &std::collections::BTreeMap<String, usize>) -> String {
    m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("  ")
}
