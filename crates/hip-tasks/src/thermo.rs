//! Harmonic-oscillator / rigid-rotor / ideal-gas thermochemistry, term by term as
//! `pyscf.hessian.thermo.thermo`, in eV and eV/K.

use hip_core::units::{ATMOSPHERE, ATOMIC_MASS, BOLTZMANN, BOLTZMANN_EV, PLANCK, hc_ev_cm};
use hip_core::{Error, Result};

use crate::vibrations::{RotorType, principal_axes, rotor_type};

/// Conditions and molecular data a thermochemistry evaluation needs.
#[derive(Clone, Debug)]
pub struct ThermoInput<'a> {
    /// Positions, Å.
    pub positions: &'a [[f64; 3]],
    /// Masses, amu.
    pub masses: &'a [f64],
    /// Vibrational wavenumbers, cm⁻¹ (imaginary as negative; only positive ones count).
    pub frequencies_cm: &'a [f64],
    /// Rotational symmetry number σ.
    pub symmetry_number: f64,
    /// Spin multiplicity (electronic entropy `k ln(2S+1)`).
    pub multiplicity: u32,
    /// Temperature, K.
    pub temperature: f64,
    /// Pressure, Pa (default 1 atm).
    pub pressure: f64,
}

impl<'a> ThermoInput<'a> {
    /// 298.15 K, 1 atm, σ = 1, singlet.
    pub fn new(positions: &'a [[f64; 3]], masses: &'a [f64], frequencies_cm: &'a [f64]) -> Self {
        ThermoInput {
            positions,
            masses,
            frequencies_cm,
            symmetry_number: 1.0,
            multiplicity: 1,
            temperature: 298.15,
            pressure: ATMOSPHERE,
        }
    }
}

/// Energies in eV, entropies and heat capacities in eV/K. `E = U` (internal energy),
/// `H = U + pV` (ideal gas: adds `kT` to translation), `G = H − TS`. The electronic energy is
/// not included (add the potential energy yourself).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Thermo {
    /// Zero-point energy.
    pub zpe: f64,
    /// Translational internal energy, enthalpy, entropy, Cv.
    pub e_trans: f64,
    #[allow(missing_docs)]
    pub h_trans: f64,
    #[allow(missing_docs)]
    pub s_trans: f64,
    #[allow(missing_docs)]
    pub cv_trans: f64,
    /// Rotational.
    pub e_rot: f64,
    #[allow(missing_docs)]
    pub s_rot: f64,
    #[allow(missing_docs)]
    pub cv_rot: f64,
    /// Vibrational (including the ZPE).
    pub e_vib: f64,
    #[allow(missing_docs)]
    pub s_vib: f64,
    #[allow(missing_docs)]
    pub cv_vib: f64,
    /// Electronic entropy `k ln(multiplicity)`.
    pub s_elec: f64,
    /// Totals.
    pub e_tot: f64,
    #[allow(missing_docs)]
    pub h_tot: f64,
    #[allow(missing_docs)]
    pub s_tot: f64,
    #[allow(missing_docs)]
    pub g_tot: f64,
    #[allow(missing_docs)]
    pub cv_tot: f64,
    #[allow(missing_docs)]
    pub cp_tot: f64,
}

/// Evaluates the partition functions at `input.temperature`.
pub fn thermo(input: &ThermoInput) -> Result<Thermo> {
    let t = input.temperature;
    if !(t.is_finite() && t > 0.0 && input.pressure.is_finite() && input.pressure > 0.0) {
        return Err(Error::invalid(
            "thermochemistry",
            format!("temperature {t} K and pressure {} Pa must be positive", input.pressure),
        ));
    }
    if input.symmetry_number <= 0.0 || input.multiplicity == 0 {
        return Err(Error::invalid("thermochemistry", "symmetry number and multiplicity must be positive"));
    }
    let k = BOLTZMANN_EV;
    let kt = k * t;
    let mut r = Thermo { s_elec: k * f64::from(input.multiplicity).ln(), ..Default::default() };

    // Translation: q = (2π m k T / h²)^{3/2} k T / p.
    let mass_kg: f64 = input.masses.iter().sum::<f64>() * ATOMIC_MASS;
    let q_trans = (2.0 * std::f64::consts::PI * mass_kg * BOLTZMANN * t / (PLANCK * PLANCK)).powf(1.5) * BOLTZMANN * t
        / input.pressure;
    r.s_trans = k * (2.5 + q_trans.ln());
    r.cv_trans = 1.5 * k;
    r.e_trans = 1.5 * kt;
    r.h_trans = 2.5 * kt;

    // Rotation: rotational constants B = h / (8π² I) in Hz, I in kg m².
    let (moments, _) = principal_axes(input.positions, input.masses);
    let to_si = ATOMIC_MASS * 1e-20;
    let b_hz = |i: f64| PLANCK / (8.0 * std::f64::consts::PI.powi(2) * i * to_si);
    match rotor_type(input.positions, input.masses) {
        RotorType::Atom => {}
        RotorType::Linear => {
            let q_rot = BOLTZMANN * t / (input.symmetry_number * PLANCK * b_hz(moments[0]));
            r.s_rot = k * (1.0 + q_rot.ln());
            r.cv_rot = k;
            r.e_rot = kt;
        }
        RotorType::Nonlinear => {
            let abc: f64 = moments.iter().map(|&i| b_hz(i)).product();
            let q_rot =
                (BOLTZMANN * t / PLANCK).powf(1.5) * std::f64::consts::PI.sqrt() / (input.symmetry_number * abc.sqrt());
            r.s_rot = k * (1.5 + q_rot.ln());
            r.cv_rot = 1.5 * k;
            r.e_rot = 1.5 * kt;
        }
    }

    // Vibration: θ_v = h c ν̃ / k over real modes.
    let hc = hc_ev_cm();
    let mut sum_theta = 0.0;
    for &nu in input.frequencies_cm.iter().filter(|&&f| f > 0.0) {
        let theta = hc * nu / k;
        sum_theta += theta;
        let rt = theta / t.max(1e-14);
        let e = (-rt).exp();
        r.s_vib += k * (rt * e / (1.0 - e) - (1.0 - e).ln());
        r.cv_vib += k * e * rt * rt / ((1.0 - e) * (1.0 - e));
        r.e_vib += kt * rt * e / (1.0 - e);
    }
    r.zpe = 0.5 * k * sum_theta;
    r.e_vib += r.zpe;

    r.e_tot = r.e_trans + r.e_rot + r.e_vib;
    r.h_tot = r.h_trans + r.e_rot + r.e_vib;
    r.s_tot = r.s_elec + r.s_trans + r.s_rot + r.s_vib;
    r.g_tot = r.h_tot - t * r.s_tot;
    r.cv_tot = r.cv_trans + r.cv_rot + r.cv_vib;
    r.cp_tot = r.cv_tot + k;
    Ok(r)
}
