//! `hip freq MOL --hessian H`: harmonic analysis of a given Hessian.

use std::path::PathBuf;

use clap::Args;
use hip_core::io::matrix::read_matrix;
use hip_core::units::EV_KCAL_MOL;
use hip_core::{Error, Hessian, MassConvention, Result};
use hip_tasks::Vibrations;

#[derive(Args, Debug)]
pub struct FreqArgs {
    /// The molecule: an XYZ/extended-XYZ file, or FILE.h5:INDEX for a dataset sample.
    pub molecule: String,
    /// Hessian in eV/Å², 3N×3N: .npy (float64) or whitespace-separated text. For a dataset
    /// sample, omit it to use the sample's own Hessian.
    #[arg(long)]
    pub hessian: Option<PathBuf>,
    /// Masses: iupac (default; PySCF's thermo), paper (the HIP code's), isotope (most abundant).
    #[arg(long, default_value = "iupac")]
    pub masses: String,
    /// Frequencies below this (cm⁻¹) count as imaginary.
    #[arg(long, default_value_t = hip_tasks::DEFAULT_IMAGINARY_THRESHOLD_CM, allow_negative_numbers = true)]
    pub threshold: f64,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The Hessian's potential when neither --hessian nor a dataset sample gives one (a dataset
    /// sample's own Hessian is used unless --model or --potential gfn2 is given).
    #[command(flatten)]
    pub surface: crate::surface::PotentialArgs,
}

pub fn run(args: FreqArgs) -> Result<(), String> {
    run_inner(args).map_err(|e| e.to_string())
}

fn run_inner(args: FreqArgs) -> Result<()> {
    let input = crate::input::read_molecule(&args.molecule)?;
    let mol = input.molecule;
    let convention: MassConvention = args.masses.parse()?;
    let mut warnings = Vec::new();
    let hessian = match (&args.hessian, &input.sample) {
        (Some(path), _) => {
            let m = read_matrix(path)?;
            Hessian::from_shape(mol.len(), m.rows, m.cols, m.data)
                .map_err(|e| e.in_context(&path.display().to_string()))?
        }
        (None, Some(sample)) if args.surface.model.is_none() && args.surface.potential == "model" => {
            sample.hessian.clone()
        }
        (None, _) => {
            let (surface, w) = args.surface.surface(&[&mol]).map_err(|e| Error::invalid("hip freq", e))?;
            warnings = w;
            surface.predict(&mol).map_err(|e| Error::invalid("hip freq", e))?.1
        }
    };
    let masses = mol.masses(convention)?;
    let vib = Vibrations::new(&mol, &hessian, &masses)?;
    let n_imag = vib.n_imaginary(args.threshold);
    let class = vib.classify(args.threshold);
    let zpe = vib.zpe_ev();
    if args.json {
        let v = serde_json::json!({
            "frequencies_cm": vib.frequencies_cm,
            "n_imaginary": n_imag,
            "zpe_ev": zpe,
            "zpe_kcal_mol": zpe * EV_KCAL_MOL,
            "classification": class.as_str(),
            "masses_amu": masses,
            "mass_convention": args.masses,
            "rotor": vib.rotor,
            "reduced_masses_amu": vib.reduced_masses,
            "imaginary_threshold_cm": args.threshold,
            "warnings": warnings,
        });
        println!("{v}");
    } else {
        println!("molecule        {} ({} atoms, {:?} rotor)", mol.formula(), mol.len(), vib.rotor);
        println!("masses          {}", args.masses);
        println!("{:>6} {:>14} {:>16}", "mode", "freq (cm^-1)", "red. mass (amu)");
        for (k, (f, m)) in vib.frequencies_cm.iter().zip(&vib.reduced_masses).enumerate() {
            let tag = if *f < args.threshold { "  imaginary" } else { "" };
            println!("{:>6} {:>14.2} {:>16.4}{tag}", k + 1, f, m);
        }
        println!("imaginary modes {n_imag} (below {} cm^-1)", args.threshold);
        println!("ZPE             {zpe:.6} eV = {:.4} kcal/mol", zpe * EV_KCAL_MOL);
        println!("classification  {}", class.as_str());
    }
    Ok(())
}
