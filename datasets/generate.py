#!/usr/bin/env python3
"""Generates hip-rs Hessian datasets (HDF5, format `hip-hessian-dataset` v1; see README.md).

    OMP_NUM_THREADS=1 python datasets/generate.py --level gfn2  --out datasets/gfn2-train.h5
    OMP_NUM_THREADS=1 python datasets/generate.py --level wb97x --out datasets/wb97x-small.h5
    python datasets/generate.py --smoke --out /tmp/smoke.h5          # tiny file, < 1 minute

Work is split into tasks: per molecule, a sampling task (`mol_*`: minimum, thermal and displaced
samples under the geometry filter) and a reaction-discovery task (`disc_*`: saddle searches from
the minimum, verified TSs, IRCs, endpoint minima; `discovery.py`), plus the hand-written reactions
(`rxn_*`). Each finished task is written atomically to `<work>/<level>/<task>.pkl.gz` (Hessians as
float32 upper triangles), so a rerun continues where it stopped and shards can be committed; the
HDF5 file is assembled from all finished tasks (`--assemble-only` re-assembles). Seeds are derived
from task names (crc32), so reruns are deterministic. A log goes to `<work>/generate.log`.
GFN2 v2 shards live in `datasets/shards-v2/` (committed); `--workers 1` leaves a core free.

Levels:
- gfn2: GFN2-xTB (tblite, `xtb.py`). Hessians by central differences of analytic gradients (0.005 bohr).
- wb97x: wB97X/6-31G(d) (PySCF, spherical d, grids.level 5). Analytic Hessians, gradients with grid
  response. Smallest molecules only (minutes per Hessian on 2 cores).
"""
import argparse
import json
import os
import pickle
import sys
import time
import traceback
import zlib

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BOHR = 0.529177210903
HARTREE_EV = 27.211386245988
KB_EV = 8.617333262e-5
FREQ_FACTOR = 521.4708983725064  # cm^-1 for lambda = 1 eV/(A^2 amu), CODATA 2018
FORMAT_NAME = "hip-hessian-dataset"
FORMAT_VERSION = 1
DATA_VERSION = 2  # v2: filtered sampling, discovered reactions with IRCs (datasets/README.md)
KINDS = ["minimum", "thermal", "displaced", "ts", "path"]
SPLITS = ["train", "val", "test"]

GFN2_SETTINGS = {
    # sampling around each minimum (v2: chemical temperatures and displacements)
    "temperatures_K": [300.0, 600.0, 1000.0],
    "thermal_per_temperature": 10,
    "sigmas_A": [0.02, 0.05, 0.08],
    "displaced_per_sigma": 8,
    "fd_step_bohr": 0.005,
    "opt_fmax_eV_A": 0.005,
    "ts_fmax_eV_A": 0.005,
    "scan_points": 13,
    "ts_thermal": {"temperatures_K": [300.0, 600.0], "per_temperature": 3},
    "min_mode_cm": 50.0,
    "max_redraws": 20,
    # the geometry filter (also checked by `hip data check`)
    "filter": {
        "min_pair_ratio": 0.7,            # closest pair >= 0.7 x (sum of covalent radii)
        "max_e_per_atom_sampled_eV": 0.3,  # thermal/displaced of a molecule: E - E_min <= 0.3 eV/atom
        "max_e_reaction_eV": 5.0,          # any sample of a reaction: E - E_min <= 5 eV (115 kcal/mol)
    },
    # single-ended reaction discovery (datasets/discovery.py)
    "discovery": {
        "low_modes": 2, "mode_amplitude_A": 0.35,
        "random_starts": 2, "random_sigma_A": 0.15,
        "h_shift_starts": 4, "h13_shift_starts": 3, "bridge_height_A": 0.75,
        "h2_starts": 2, "h2_distance_A": 1.0,
        "stretch_starts": 2, "stretch_factor": 1.6,
        "start_min_ratio": 0.55,
        "ts_fmax_eV_A": 0.01, "ts_steps": 150,
        "max_ts_per_molecule": 6,
        "irc_dx": 0.08, "irc_steps": 120, "irc_fmax_eV_A": 0.05,
        "irc_points_per_branch": 12,
        "end_fmax_eV_A": 0.005,
    },
}
WB97X_SETTINGS = {
    "basis": "6-31g*",
    "cart": False,
    "grid_level": 5,
    "conv_tol": 1e-10,
    "sigmas_A": [0.05, 0.10],
    "opt_fmax_eV_A": 0.01,
    "ts_fmax_eV_A": 0.01,
}
WB97X_MOLECULES = [
    "water", "ammonia", "methane", "hydrogen_cyanide", "carbon_monoxide", "carbon_dioxide", "formaldehyde",
    "methanol", "methylamine", "hydrogen_peroxide", "hydroxylamine", "hydrazine", "formic_acid", "acetylene",
    "ethylene", "isocyanic_acid", "methanimine", "ketene", "formamide", "ethane",
]
WB97X_REACTIONS = ["hcn_to_hnc", "hno_to_noh", "nh3_inversion", "formaldehyde_to_h2_co", "formic_acid_rotation",
                   "hydrogen_peroxide_rotation"]
SMOKE_MOLECULES = ["water", "methanol", "formic_acid"]

# ----------------------------------------------------------------------------------------------
# input lists


def read_molecules():
    out = []
    for line in open(os.path.join(HERE, "molecules.txt")):
        line = line.strip()
        if line and not line.startswith("#"):
            mid, smi = line.split()
            out.append((mid, smi))
    return out


def read_reactions():
    out = []
    for line in open(os.path.join(HERE, "reactions.txt")):
        line = line.strip()
        if line and not line.startswith("#"):
            rid, smi, drive, desc = [p.strip() for p in line.split("|")]
            out.append({"id": rid, "smiles": smi, "drive": drive.split(), "description": desc})
    return out


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def log(work, msg):
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {msg}"
    print(line, flush=True)
    with open(os.path.join(work, "generate.log"), "a") as f:
        f.write(line + "\n")


# ----------------------------------------------------------------------------------------------
# chemistry helpers


def masses_of(numbers):
    from pyscf.data import elements
    return np.array([elements.MASSES[z] for z in numbers])


def embed(smiles, seed):
    """RDKit ETKDG embedding (+ MMFF clean-up). Returns (numbers, positions, map_index)."""
    from rdkit import Chem
    from rdkit.Chem import AllChem
    params = Chem.SmilesParserParams()
    params.removeHs = False
    mol = Chem.MolFromSmiles(smiles, params)
    if mol is None or any(a.GetNumRadicalElectrons() for a in mol.GetAtoms()):
        raise ValueError(f"{smiles}: not a valid closed-shell molecule (check H counts of bracket atoms)")
    mol = Chem.AddHs(mol)
    p = AllChem.ETKDGv3()
    p.randomSeed = seed
    if AllChem.EmbedMolecule(mol, p) != 0:
        p.useRandomCoords = True
        if AllChem.EmbedMolecule(mol, p) != 0:
            raise RuntimeError(f"RDKit could not embed {smiles}")
    try:
        AllChem.MMFFOptimizeMolecule(mol, maxIters=500)
    except Exception:
        pass
    numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()])
    pos = mol.GetConformer().GetPositions()
    maps = {a.GetAtomMapNum(): a.GetIdx() for a in mol.GetAtoms() if a.GetAtomMapNum()}
    return numbers, pos, maps


def canonical(smiles):
    from rdkit import Chem
    mol = Chem.MolFromSmiles(smiles)
    for a in mol.GetAtoms():
        a.SetAtomMapNum(0)
    return Chem.MolToSmiles(Chem.RemoveHs(mol))


def vib_analysis(numbers, pos, hess):
    """PySCF-style projected harmonic analysis. Returns (freqs_cm, modes_mw (3N x k), lam)."""
    m = masses_of(numbers)
    n = len(numbers)
    com = (m[:, None] * pos).sum(0) / m.sum()
    c = pos - com
    sm = np.repeat(np.sqrt(m), 3)
    hmw = hess / np.outer(sm, sm)
    tr = []
    for a in range(3):
        v = np.zeros((n, 3))
        v[:, a] = np.sqrt(m)
        tr.append(v.ravel())
    im = np.einsum("m,mx,my->xy", m, c, c)
    im = np.eye(3) * np.trace(im) - im
    w, ax = np.linalg.eigh(im)
    w, ax = w[::-1], ax[:, ::-1]
    nrot = 0 if n == 1 else (2 if w[2] < 1e-6 * w[0] else 3)
    for k in range(nrot):
        r = np.cross(ax[:, k], c) * np.sqrt(m)[:, None]
        tr.append(r.ravel())
    q, _ = np.linalg.qr(np.array(tr).T)
    p = np.eye(3 * n) - q @ q.T
    pw, pv = np.linalg.eigh(p)
    b = pv[:, pw > 1e-7]
    lam, u = np.linalg.eigh(b.T @ hmw @ b)
    freqs = np.sign(lam) * np.sqrt(np.abs(lam)) * FREQ_FACTOR
    return freqs, b @ u, lam


def sum_rule_residual(hess):
    n = hess.shape[0] // 3
    return float(np.abs(hess.reshape(3 * n, n, 3).sum(1)).max())


class Level:
    """Energy (eV), forces (eV/A) and Hessian (eV/A^2) at one level of theory."""

    def __init__(self, name):
        self.name = name

    def calculator(self, numbers):
        if self.name == "gfn2":
            import xtb
            return xtb.TbliteAse()
        return PyscfCalculator()

    def atoms(self, numbers, pos):
        from ase import Atoms
        a = Atoms(numbers=numbers, positions=pos)
        a.calc = self.calculator(numbers)
        return a

    def energy_forces(self, numbers, pos):
        if self.name == "gfn2":
            import xtb
            return xtb.energy_forces(numbers, pos)
        a = self.atoms(numbers, pos)
        return float(a.get_potential_energy()), a.get_forces().copy()

    def hessian(self, numbers, pos):
        return self.sample(numbers, pos)["hessian"]

    def sample(self, numbers, pos):
        if self.name == "gfn2":
            import xtb
            e, f, h, asym = xtb.hessian(numbers, pos, GFN2_SETTINGS["fd_step_bohr"])
            extra = {"fd_asym": asym}
        else:
            e, f = self.energy_forces(numbers, pos)
            h = pyscf_hessian(numbers, pos)
            extra = {}
        return {"numbers": np.asarray(numbers, dtype=np.uint8), "positions": np.asarray(pos, dtype=float),
                "energy": e, "forces": f, "hessian": h, "sum_rule": sum_rule_residual(h), **extra}

    def optimize(self, numbers, pos, fmax, steps=1000, constraint=None):
        from ase.optimize import BFGS
        a = self.atoms(numbers, pos)
        if constraint is not None:
            a.set_constraint(constraint)
        opt = BFGS(a, logfile=None, maxstep=0.1)
        ok = opt.run(fmax=fmax, steps=steps)
        return a.positions.copy(), bool(ok), opt.nsteps

    def ts_search(self, numbers, pos, fmax, steps=300):
        from sella import Sella
        a = self.atoms(numbers, pos)
        opt = Sella(a, order=1, internal=True, logfile=None, trajectory=None)
        ok = opt.run(fmax=fmax, steps=steps)
        return a.positions.copy(), bool(ok), opt.nsteps


def pyscf_mole(numbers, pos):
    from pyscf import gto
    return gto.M(atom=[(int(z), p) for z, p in zip(numbers, pos)], unit="Angstrom", basis=WB97X_SETTINGS["basis"],
                 cart=WB97X_SETTINGS["cart"], verbose=0)


def pyscf_scf(numbers, pos):
    from pyscf import dft
    mf = dft.RKS(pyscf_mole(numbers, pos))
    mf.xc = "wb97x"
    mf.grids.level = WB97X_SETTINGS["grid_level"]
    mf.conv_tol = WB97X_SETTINGS["conv_tol"]
    mf.kernel()
    if not mf.converged:
        raise RuntimeError("SCF did not converge")
    return mf


def pyscf_hessian(numbers, pos):
    mf = pyscf_scf(numbers, pos)
    h = mf.Hessian().kernel()  # (N, N, 3, 3) Hartree/bohr^2
    n = len(numbers)
    H = h.transpose(0, 2, 1, 3).reshape(3 * n, 3 * n) * HARTREE_EV / BOHR**2
    return 0.5 * (H + H.T)


try:
    from ase.calculators.calculator import Calculator, all_changes

    class PyscfCalculator(Calculator):
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            mf = pyscf_scf(self.atoms.numbers, self.atoms.positions)
            g = mf.nuc_grad_method()
            g.grid_response = True
            grad = g.kernel()
            self.results = {"energy": mf.e_tot * HARTREE_EV, "forces": -grad * HARTREE_EV / BOHR}
except ImportError:  # pragma: no cover
    PyscfCalculator = None

# ----------------------------------------------------------------------------------------------
# tasks


def thermal_displacements(rng, numbers, modes_mw, lam, temperature, count):
    m = np.repeat(masses_of(numbers), 3)
    lam_min = (GFN2_SETTINGS["min_mode_cm"] / FREQ_FACTOR) ** 2
    out = []
    for _ in range(count):
        q = np.zeros(len(lam))
        real = lam > 0
        q[real] = rng.normal(size=real.sum()) * np.sqrt(KB_EV * temperature / np.maximum(lam[real], lam_min))
        out.append((modes_mw @ q / np.sqrt(m)).reshape(-1, 3))
    return out


def passes_filter(numbers, pos, energy, e_min, reaction):
    """The v2 geometry filter (settings `filter`): (ok, reason)."""
    import discovery
    flt = GFN2_SETTINGS["filter"]
    ratio = discovery.min_pair_ratio(numbers, pos)
    if ratio < flt["min_pair_ratio"]:
        return False, f"closest pair at {ratio:.2f} x covalent radii"
    de = energy - e_min
    bound = flt["max_e_reaction_eV"] if reaction else flt["max_e_per_atom_sampled_eV"] * len(numbers)
    if de > bound:
        return False, f"{de:.2f} eV above the minimum (bound {bound:.2f})"
    return True, ""


def filtered_sample(level, numbers, draw, e_min, stats, reaction=False):
    """A sample at a freshly drawn geometry that passes the filter; redraws on a failed filter or
    SCF (at most `max_redraws` times). Energies are checked before the Hessian is computed."""
    for _ in range(GFN2_SETTINGS["max_redraws"]):
        pos = draw()
        try:
            e, _ = level.energy_forces(numbers, pos)
        except Exception:  # noqa: BLE001
            stats["scf_failed"] = stats.get("scf_failed", 0) + 1
            continue
        ok, why = passes_filter(numbers, pos, e, e_min, reaction)
        if not ok:
            key = "rejected_distance" if why.startswith("closest") else "rejected_energy"
            stats[key] = stats.get(key, 0) + 1
            continue
        try:
            return level.sample(numbers, pos)
        except Exception:  # noqa: BLE001
            stats["scf_failed"] = stats.get("scf_failed", 0) + 1
    stats["gave_up"] = stats.get("gave_up", 0) + 1
    return None


def robust_sample(level, numbers, draw, tries=3):
    """A sample at a freshly drawn geometry; redraws when the electronic structure fails (the
    unfiltered v1 behaviour, still used by the wB97X level). Returns None after `tries` failures."""
    for _ in range(tries):
        try:
            return level.sample(numbers, draw())
        except Exception:  # noqa: BLE001
            continue
    return None


def gfn2_minimum(level, mid, smiles):
    """Embedding, BFGS to the level's minimum, re-optimized along any imaginary mode. Returns
    (numbers, minimum sample, freqs, mass-weighted modes, eigenvalues)."""
    cfg = GFN2_SETTINGS
    numbers, pos, _ = embed(smiles, seed_of(mid))
    pos, ok, nsteps = level.optimize(numbers, pos, cfg["opt_fmax_eV_A"])
    s = level.sample(numbers, pos)
    freqs, modes, lam = vib_analysis(numbers, pos, s["hessian"])
    tries = 0
    while freqs[0] < -10 and tries < 3:  # a saddle conformer: push along the imaginary mode
        cart = (modes[:, 0] / np.sqrt(np.repeat(masses_of(numbers), 3))).reshape(-1, 3)
        pos = pos + 0.1 * cart / np.abs(cart).max()
        pos, ok, _ = level.optimize(numbers, pos, cfg["opt_fmax_eV_A"])
        s = level.sample(numbers, pos)
        freqs, modes, lam = vib_analysis(numbers, pos, s["hessian"])
        tries += 1
    s.update(kind="minimum", n_imag=int((freqs < -10).sum()))
    return numbers, s, freqs, modes, lam


def molecule_task(level, mid, smiles, smoke=False):
    rng = np.random.default_rng(seed_of(f"{level.name}:{mid}"))
    samples = []
    stats = {}
    if level.name == "gfn2":
        cfg = GFN2_SETTINGS
        numbers, smin, freqs, modes, lam = gfn2_minimum(level, mid, smiles)
        pos, e_min = smin["positions"], smin["energy"]
        samples.append(smin)
        n_thermal = 1 if smoke else cfg["thermal_per_temperature"]
        n_disp = 1 if smoke else cfg["displaced_per_sigma"]
        for t in cfg["temperatures_K"]:
            for _ in range(n_thermal):
                s = filtered_sample(level, numbers,
                                    lambda: pos + thermal_displacements(rng, numbers, modes, lam, t, 1)[0], e_min, stats)
                if s is not None:
                    s.update(kind="thermal", temperature=t)
                    samples.append(s)
        for sigma in cfg["sigmas_A"]:
            for _ in range(n_disp):
                s = filtered_sample(level, numbers, lambda: pos + rng.normal(scale=sigma, size=pos.shape), e_min, stats)
                if s is not None:
                    s.update(kind="displaced", sigma=sigma)
                    samples.append(s)
        samples[0]["task_stats"] = stats
    else:
        cfg = WB97X_SETTINGS
        numbers, pos, _ = embed(smiles, seed_of(mid))
        gfn2 = Level("gfn2")
        pos, _, _ = gfn2.optimize(numbers, pos, GFN2_SETTINGS["opt_fmax_eV_A"])
        pos, ok, nsteps = level.optimize(numbers, pos, cfg["opt_fmax_eV_A"], steps=100)
        s = level.sample(numbers, pos)
        freqs, _, _ = vib_analysis(numbers, pos, s["hessian"])
        s.update(kind="minimum", n_imag=int((freqs < -10).sum()))
        samples.append(s)
        for sigma in cfg["sigmas_A"]:
            d = level.sample(numbers, pos + rng.normal(scale=sigma, size=pos.shape))
            d.update(kind="displaced", sigma=sigma)
            samples.append(d)
    for s in samples:
        s.update(molecule=mid, smiles=smiles)
    return samples


def set_dihedral(pos, idx, value):
    from ase import Atoms
    a = Atoms(positions=pos, numbers=[1] * len(pos))
    # move every atom on the side of idx[2] (connectivity-free: atoms closer to c than to b)
    b, c = idx[1], idx[2]
    mask = [np.linalg.norm(p - pos[c]) < np.linalg.norm(p - pos[b]) for p in pos]
    a.set_dihedral(*idx, value, mask=mask)
    return a.positions.copy()


def drive_scan(level, numbers, pos, drive, maps, npts):
    """Constrained optimizations along the drive; returns [(coordinate value, positions, energy)]."""
    from ase.constraints import FixInternals
    from ase import Atoms
    kind = drive[0]
    idx = [maps[int(k)] for k in drive[1:-1]] if kind != "planar" else [maps[int(drive[1])]]
    points = []
    a = Atoms(numbers=numbers, positions=pos)
    if kind == "planar":
        center = idx[0]
        nbrs = np.argsort(np.linalg.norm(pos - pos[center], axis=1))[1:4]
        plane = pos[nbrs]
        normal = np.cross(plane[1] - plane[0], plane[2] - plane[0])
        normal /= np.linalg.norm(normal)
        ts_guess = pos.copy()
        ts_guess[center] -= np.dot(pos[center] - plane[0], normal) * normal
        for t in np.linspace(0.0, 1.0, npts // 2 + 1):
            p = pos + t * (ts_guess - pos)
            e, _ = level.energy_forces(numbers, p)
            points.append((t, p, e))
        return points
    if kind == "torsion":
        start = a.get_dihedral(*idx)
        values = start + np.linspace(0.0, float(drive[-1]), npts)
    elif kind == "distance":
        start = a.get_distance(*idx)
        values = np.linspace(start, float(drive[-1]), npts)
    else:
        start = a.get_angle(*idx)
        values = np.linspace(start, float(drive[-1]), npts)
    p = pos.copy()
    for v in values:
        if kind == "torsion":
            p = set_dihedral(p, idx, v)
            cons = FixInternals(dihedrals_deg=[[v % 360, idx]])
        elif kind == "distance":
            i, j = idx
            d = p[i] - p[j]
            p[i] = p[j] + d / np.linalg.norm(d) * v
            cons = FixInternals(bonds=[[v, idx]])
        else:
            b = Atoms(numbers=numbers, positions=p)
            b.set_angle(*idx, min(v, 179.0))
            p = b.positions.copy()
            cons = FixInternals(angles_deg=[[min(v, 179.0), idx]])
        try:
            p, _, _ = level.optimize(numbers, p, 0.05, steps=300, constraint=cons)
        except Exception:
            pass
        e, _ = level.energy_forces(numbers, p)
        points.append((v, p.copy(), e))
    return points


def trace_reaction(level, numbers, ts, e_min, rid, stats):
    """IRC in both directions from a verified TS sample, `irc_points_per_branch` points of each
    branch (filtered) and both ends relaxed to minima. Returns (samples, reaction record)."""
    import discovery
    dcfg = GFN2_SETTINGS["discovery"]
    branches = discovery.irc(numbers, ts["positions"], dcfg)
    samples = []
    ends = {}
    for direction, pts in branches.items():
        for k, p in enumerate(discovery.even_points(pts, dcfg["irc_points_per_branch"])):
            try:
                e, _ = level.energy_forces(numbers, p)
            except Exception:  # noqa: BLE001
                stats["scf_failed"] = stats.get("scf_failed", 0) + 1
                continue
            if not passes_filter(numbers, p, e, e_min, True)[0]:
                stats["rejected_irc_point"] = stats.get("rejected_irc_point", 0) + 1
                continue
            s = level.sample(numbers, p)
            s.update(kind="path", irc_branch=direction, irc_index=k)
            samples.append(s)
        if not pts:
            continue
        try:
            q, ok = discovery.relax(numbers, pts[-1], dcfg["end_fmax_eV_A"])
            s = level.sample(numbers, q)
        except Exception:  # noqa: BLE001
            continue
        freqs, _, _ = vib_analysis(numbers, q, s["hessian"])
        if (freqs < -10).sum() == 0 and passes_filter(numbers, q, s["energy"], e_min, True)[0]:
            s.update(kind="minimum", n_imag=0, irc_end=direction)
            samples.append(s)
            ends[direction] = q
    rec = {"id": rid, "n_irc_points": sum(s["kind"] == "path" for s in samples),
           "ends_found": sorted(ends), "class": "unknown", "end_keys": {}}
    if len(ends) == 2:
        rec["class"] = discovery.classify(numbers, ends["reverse"], ends["forward"])
    for d, q in ends.items():
        rec["end_keys"][d] = discovery.graph_key(numbers, q)
    rec["ts_key"] = discovery.graph_key(numbers, ts["positions"])
    return samples, rec


def discovery_task(level, mid, smiles, smoke=False):
    """Single-ended reaction discovery from the minimum of one molecule (datasets/discovery.py)."""
    import discovery
    dcfg = GFN2_SETTINGS["discovery"]
    rng = np.random.default_rng(seed_of(f"discovery:{mid}"))
    numbers, smin, freqs, modes_mw, lam = gfn2_minimum(level, mid, smiles)
    pos, e_min = smin["positions"], smin["energy"]
    cart = modes_mw / np.sqrt(np.repeat(masses_of(numbers), 3))[:, None]
    real = np.where(freqs > 10)[0]
    starts = discovery.starts(rng, numbers, pos, cart[:, real], dcfg)
    if smoke:
        starts = starts[:2]
    stats = {"starts": len(starts), "converged": 0, "first_order": 0, "duplicates": 0, "rejected_ts": 0}
    found = []
    for label, start in starts:
        if len(found) >= dcfg["max_ts_per_molecule"]:
            break
        try:
            tpos, ok, nsteps = discovery.ts_search(numbers, start, dcfg)
        except Exception:  # noqa: BLE001
            stats["search_failed"] = stats.get("search_failed", 0) + 1
            continue
        if not ok:
            continue
        stats["converged"] += 1
        try:
            ts, tfreqs = discovery.verify_ts(numbers, tpos)
        except Exception:  # noqa: BLE001
            continue
        if ts is None:
            continue
        stats["first_order"] += 1
        if not passes_filter(numbers, tpos, ts["energy"], e_min, True)[0]:
            stats["rejected_ts"] += 1
            continue
        if any(discovery.same_structure(numbers, tpos, ts["energy"], f["positions"], f["energy"]) for f in found):
            stats["duplicates"] += 1
            continue
        ts.update(start=label, ts_steps=nsteps)
        found.append(ts)
    samples, reactions = [], []
    for k, ts in enumerate(found):
        rid = f"{mid}:ts{k}"
        s = {"numbers": np.asarray(numbers, dtype=np.uint8), "positions": ts["positions"], "energy": ts["energy"],
             "forces": ts["forces"], "hessian": ts["hessian"], "sum_rule": sum_rule_residual(ts["hessian"]),
             "fd_asym": ts["fd_asym"], "kind": "ts", "n_imag": 1, "imag_cm": ts["imag_cm"],
             "ts_steps": ts["ts_steps"], "start": ts["start"], "reaction": rid}
        path, rec = trace_reaction(level, numbers, ts, e_min, rid, stats)
        for p in path:
            p["reaction"] = rid
        rec.update(start=ts["start"], imag_cm=ts["imag_cm"], barrier_eV=ts["energy"] - e_min, source="discovered")
        reactions.append(rec)
        samples += [s] + path
    for s in samples:
        s.update(molecule=mid, smiles=smiles)
    return {"samples": samples, "reactions": reactions, "stats": stats, "min_key": discovery.graph_key(numbers, pos)}


def reaction_task(level, rxn, gfn2_result=None, smoke=False):
    rng = np.random.default_rng(seed_of(f"{level.name}:{rxn['id']}"))
    smiles = rxn["smiles"]
    numbers, pos, maps = embed(smiles, seed_of(rxn["id"]))
    cfg = GFN2_SETTINGS
    samples = []
    if level.name == "gfn2":
        pos, _, _ = level.optimize(numbers, pos, cfg["opt_fmax_eV_A"])
        points = drive_scan(level, numbers, pos, rxn["drive"], maps, cfg["scan_points"])
        energies = np.array([p[2] for p in points])
        order = np.argsort(-energies)
        ts = None
        for k in order[:3]:
            guess = points[k][1]
            try:
                tpos, ok, nsteps = level.ts_search(numbers, guess, cfg["ts_fmax_eV_A"])
            except Exception as e:  # noqa: BLE001
                continue
            h = level.hessian(numbers, tpos)
            freqs, modes, lam = vib_analysis(numbers, tpos, h)
            if ok and (freqs < -10).sum() == 1:
                ts = (tpos, h, freqs, modes, lam, nsteps)
                break
        if ts is None:
            raise RuntimeError(f"no first-order saddle found for {rxn['id']}")
        tpos, h, freqs, modes, lam, nsteps = ts
        stats = {}
        smin = level.sample(numbers, pos)
        smin.update(kind="minimum", n_imag=0)
        e_min = smin["energy"]
        tsample = level.sample(numbers, tpos)
        if not passes_filter(numbers, tpos, tsample["energy"], e_min, True)[0]:
            raise RuntimeError(f"the saddle of {rxn['id']} fails the geometry filter")
        tsample.update(kind="ts", n_imag=1, imag_cm=float(freqs[0]), ts_steps=int(nsteps))
        samples += [tsample, smin]
        path = points if not smoke else points[:2]
        for v, p, e in path:
            if passes_filter(numbers, p, e, e_min, True)[0]:
                s = level.sample(numbers, p)
                s.update(kind="path", coordinate=float(v))
                samples.append(s)
        irc_samples, rec = trace_reaction(level, numbers, tsample, e_min, rxn["id"], stats)
        samples += irc_samples
        rec.update(imag_cm=float(freqs[0]), barrier_eV=tsample["energy"] - e_min, source="hand-written",
                   description=rxn["description"])
        tt = cfg["ts_thermal"]
        for t in tt["temperatures_K"]:
            for _ in range(1 if smoke else tt["per_temperature"]):
                s = filtered_sample(level, numbers,
                                    lambda: tpos + thermal_displacements(rng, numbers, modes, lam, t, 1)[0], e_min,
                                    stats, reaction=True)
                if s is not None:
                    s.update(kind="thermal", temperature=t)
                    samples.append(s)
        for s in samples:
            s.update(reaction=rxn["id"], smiles=canonical(smiles))
        return {"samples": samples, "reactions": [rec], "stats": stats}
    else:
        if gfn2_result is None:
            raise RuntimeError("the wb97x reaction task needs the gfn2 result of the same reaction")
        g_ts = next(s for s in gfn2_result if s["kind"] == "ts")
        g_path = [s for s in gfn2_result if s["kind"] == "path"]
        numbers = g_ts["numbers"].astype(int)
        tpos, ok, nsteps = level.ts_search(numbers, g_ts["positions"], WB97X_SETTINGS["ts_fmax_eV_A"], steps=100)
        s = level.sample(numbers, tpos)
        freqs, _, _ = vib_analysis(numbers, tpos, s["hessian"])
        if (freqs < -10).sum() != 1:
            raise RuntimeError(f"wB97X TS of {rxn['id']} has {(freqs < -10).sum()} imaginary modes")
        s.update(kind="ts", n_imag=1, imag_cm=float(freqs[0]), ts_steps=int(nsteps))
        samples.append(s)
        for k in (len(g_path) // 3, (2 * len(g_path)) // 3):
            p = level.sample(numbers, g_path[k]["positions"])
            p.update(kind="path", coordinate=g_path[k].get("coordinate", float("nan")))
            samples.append(p)
    for s in samples:
        s.update(reaction=rxn["id"], smiles=canonical(smiles))
    return samples


def compact(samples):
    """Hessians as float32 upper triangles (what the HDF5 file stores) to keep shards small."""
    for s in samples:
        h = s.pop("hessian", None)
        if h is not None:
            s["hessian_triu"] = h[np.triu_indices(h.shape[0])].astype(np.float32)
    return samples


def save_shard(path, payload):
    import gzip
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb", compresslevel=6) as f:
        pickle.dump(payload, f, protocol=4)
    os.replace(tmp, path)


def load_shard(path):
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        d = pickle.load(f)
    for s in d["samples"]:
        if "hessian" not in s and "hessian_triu" in s:
            n = 3 * len(s["numbers"])
            h = np.zeros((n, n))
            h[np.triu_indices(n)] = s["hessian_triu"]
            s["hessian"] = h + np.triu(h, 1).T
    return d


def shard_path(work, level_name, name):
    return os.path.join(work, level_name, name + ".pkl.gz")


def run_task(args):
    level_name, task, work, smoke = args
    path = shard_path(work, level_name, task["name"])
    if os.path.exists(path) or os.path.exists(path[:-3]):
        return task["name"], "cached", 0.0
    level = Level(level_name)
    t0 = time.time()
    try:
        if task["type"] == "molecule":
            result = molecule_task(level, task["id"], task["smiles"], smoke)
        elif task["type"] == "discovery":
            result = discovery_task(level, task["id"], task["smiles"], smoke)
        else:
            gfn2 = None
            if level_name == "wb97x":
                gp = shard_path(work, "gfn2", "rxn_" + task["rxn"]["id"])
                if os.path.exists(gp):
                    gfn2 = load_shard(gp)["samples"]
                else:
                    gfn2 = reaction_task(Level("gfn2"), task["rxn"])["samples"]
            result = reaction_task(level, task["rxn"], gfn2, smoke)
    except Exception as e:  # noqa: BLE001
        log(work, f"FAILED {level_name}/{task['name']}: {e}\n{traceback.format_exc()}")
        with open(os.path.join(work, level_name, task["name"] + ".failed"), "w") as f:
            f.write(str(e))
        return task["name"], "failed", time.time() - t0
    if isinstance(result, list):
        result = {"samples": result}
    wall = time.time() - t0
    result["wall_s"] = wall
    result["task"] = task["name"]
    compact(result["samples"])
    save_shard(path, result)
    extra = ""
    if task["type"] == "discovery":
        extra = f", {len(result['reactions'])} TS, stats {json.dumps(result['stats'])}"
    log(work, f"done {level_name}/{task['name']}: {len(result['samples'])} samples in {wall:.1f} s{extra}")
    return task["name"], "done", wall


# ----------------------------------------------------------------------------------------------
# assembly


def assign_splits(groups, group_weight, seed=12345):
    """Split of whole groups (a group: molecules joined by a reaction, see `molecule_groups`).
    Groups with transition states are stratified 70/15/15 (in a seeded order, so val and test
    hold reactions too), the others 80/10/10. Deterministic."""
    rng = np.random.default_rng(seed)
    split = {}
    rg = sorted(g for g in groups if group_weight.get(g, 0) > 0)
    other = sorted(g for g in groups if group_weight.get(g, 0) == 0)
    for lst, fr in ((rg, (0.7, 0.15)), (other, (0.8, 0.1))):
        perm = rng.permutation(len(lst))
        n_tr = int(round(fr[0] * len(lst)))
        n_va = int(round(fr[1] * len(lst)))
        for r, k in enumerate(perm):
            split[lst[k]] = 0 if r < n_tr else (1 if r < n_tr + n_va else 2)
    return split


def molecules_by_graph(samples):
    """{bond-graph key: listed molecules whose (non-IRC-end) minimum has that graph}."""
    import discovery
    key_of = {}
    for s in samples:
        if s["kind"] == "minimum" and not s.get("irc_end") and s["molecule"] not in key_of:
            key_of[s["molecule"]] = discovery.graph_key(s["numbers"], s["positions"])
    mol_of_key = {}
    for m, k in key_of.items():
        mol_of_key.setdefault(k, []).append(m)
    return mol_of_key


def reaction_links(samples, reactions):
    """For each reaction id, the molecules it connects: its own and every listed molecule whose
    minimum has the bond graph of one of its IRC ends."""
    mol_of_key = molecules_by_graph(samples)
    return {r["id"]: {r["molecule"]} | {o for k in r.get("end_keys", {}).values() for o in mol_of_key.get(k, [])}
            for r in reactions}


def molecule_groups(samples, reactions):
    """Union of molecules that a reaction connects (`reaction_links`). Splitting by group keeps a
    test molecule out of training even when it is the product of a training molecule's reaction."""
    mol_of_key = molecules_by_graph(samples)
    parent = {m: m for m in {s["molecule"] for s in samples}}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in reactions:
        for k in r.get("end_keys", {}).values():
            for other in mol_of_key.get(k, []):
                parent[find(other)] = find(r["molecule"])
    return {m: find(m) for m in parent}


def keep_prior_splits(group_of, prior, links, fresh_split):
    """Splits for a re-assembly that keeps every molecule of an earlier file in the split it had
    there (`--keep-splits`), so that models trained on the earlier file can be graded on the new
    file's validation and test splits without leakage.

    group_of: {molecule: group}; prior: {molecule: split index} of the earlier file; links:
    {reaction id: molecules it connects} (`reaction_links`); fresh_split(groups) -> {group: split}
    for groups with no earlier molecule. A new molecule in a group with earlier molecules takes
    their split (the most held-out one, test > val > train, if they disagree). A reaction that
    connects molecules of different splits (a new reaction joining two earlier groups) would put
    a held-out molecule into another split as a product: it is dropped.
    Returns ({molecule: split}, sorted dropped reaction ids)."""
    members = {}
    for m, g in group_of.items():
        members.setdefault(g, []).append(m)
    split = {m: prior[m] for m in group_of if m in prior}
    fresh = []
    for g, ms in sorted(members.items()):
        old = {prior[m] for m in ms if m in prior}
        if not old:
            fresh.append(g)
            continue
        for m in ms:
            split.setdefault(m, max(old))
    gsplit = fresh_split(fresh) if fresh else {}
    for g in fresh:
        for m in members[g]:
            split[m] = gsplit[g]
    dropped = sorted(r for r, ms in links.items() if len({split[m] for m in ms if m in split}) > 1)
    return split, dropped


def read_prior_splits(path):
    """{molecule id: split index} of an assembled file."""
    import h5py
    with h5py.File(path, "r") as f:
        ids = [x.decode() if isinstance(x, bytes) else str(x) for x in f["molecule_id"][:]]
        names = json.loads(f.attrs["split_names"])
        if names != SPLITS:
            raise SystemExit(f"{path}: split names {names}, expected {SPLITS}")
        out = {}
        for m, s in zip(f["molecule_index"][:], f["split"][:]):
            if out.setdefault(ids[m], int(s)) != int(s):
                raise SystemExit(f"{path}: molecule {ids[m]} is in two splits")
    return out


def apply_filter(samples):
    """Drops samples that break the filter as `hip data check` reads it from the file: closest
    pair ratio, and E - E_ref with E_ref the lowest `minimum` sample of the same molecule.
    Returns (kept, dropped counts by kind)."""
    import discovery
    flt = GFN2_SETTINGS["filter"]
    e_ref = {}
    for s in samples:
        if s["kind"] == "minimum":
            e_ref[s["molecule"]] = min(e_ref.get(s["molecule"], np.inf), s["energy"])
    kept, dropped = [], {}
    for s in samples:
        de = s["energy"] - e_ref.get(s["molecule"], s["energy"])
        bound = flt["max_e_reaction_eV"] if s.get("reaction") else flt["max_e_per_atom_sampled_eV"] * len(s["numbers"])
        if discovery.min_pair_ratio(s["numbers"], s["positions"]) < flt["min_pair_ratio"] or de > bound + 1e-9:
            dropped[s["kind"]] = dropped.get(s["kind"], 0) + 1
        else:
            kept.append(s)
    return kept, dropped


def thin_irc(samples, per_branch):
    """Keeps at most `per_branch` IRC points of each branch of each reaction, evenly spread over
    the stored ones (first and last kept): the file-size valve of `--irc-points-per-branch`.
    Returns (kept, number dropped)."""
    if not per_branch:
        return samples, 0
    branches = {}
    for k, s in enumerate(samples):
        if s["kind"] == "path" and s.get("irc_branch"):
            branches.setdefault((s.get("reaction"), s["irc_branch"]), []).append(k)
    drop = set()
    for idx in branches.values():
        if len(idx) > per_branch:
            idx = sorted(idx, key=lambda k: samples[k].get("irc_index", 0))
            keep = {idx[round(j * (len(idx) - 1) / (per_branch - 1))] for j in range(per_branch)}
            drop.update(k for k in idx if k not in keep)
    return [s for k, s in enumerate(samples) if k not in drop], len(drop)


def read_shards(work, level_name):
    d = os.path.join(work, level_name)
    names = sorted(f for f in os.listdir(d) if f.endswith(".pkl") or f.endswith(".pkl.gz"))
    samples, reactions, stats, task_wall = [], [], {}, 0.0
    for f in names:
        sh = load_shard(os.path.join(d, f))
        samples.extend(sh["samples"])
        reactions.extend(sh.get("reactions", []))
        for k, v in sh.get("stats", {}).items():
            stats[k] = stats.get(k, 0) + v
        task_wall += sh.get("wall_s", 0.0)
    return samples, reactions, stats, task_wall, len(names)


def assemble(level_name, work, out, settings, smoke, wall_total, irc_per_branch=0, keep_splits=None):
    import h5py
    samples, reactions, stats, task_wall, n_shards = read_shards(work, level_name)
    if not samples:
        raise SystemExit(f"no finished task in {work}/{level_name}")
    mols = dict(read_molecules())
    by_smiles = {canonical(s): m for m, s in mols.items()}
    # molecule identity = canonical SMILES of the molecule (reaction samples: of the reactant)
    for s in samples:
        can = canonical(s["smiles"])
        s["molecule"] = by_smiles.get(can, s.get("molecule") or s.get("reaction") + "_reactant")
        s["canonical"] = can
    rxn_mol = {}
    for s in samples:
        if s.get("reaction"):
            rxn_mol.setdefault(s["reaction"], s["molecule"])
    reactions = [dict(r, molecule=rxn_mol[r["id"]]) for r in reactions if r["id"] in rxn_mol]
    dropped = {}
    if level_name == "gfn2":
        samples, dropped = apply_filter(samples)
    samples, thinned = thin_irc(samples, irc_per_branch)
    if thinned:
        settings = dict(settings, assembled_irc_points_per_branch=irc_per_branch)
        print(f"thinned IRC branches to <= {irc_per_branch} points: {thinned} path samples left out")
    present = {s.get("reaction") for s in samples if s["kind"] == "ts"}
    reactions = [r for r in reactions if r["id"] in present]
    group = molecule_groups(samples, reactions)
    ts_per_group = {}
    for s in samples:
        if s["kind"] == "ts":
            ts_per_group[group[s["molecule"]]] = ts_per_group.get(group[s["molecule"]], 0) + 1
    reaction_groups = {group[s["molecule"]] for s in samples if s.get("reaction")}
    weights = {g: max(ts_per_group.get(g, 0), 1 if g in reaction_groups else 0) for g in set(group.values())}
    dropped_rxns = []
    if keep_splits:
        split, dropped_rxns = keep_prior_splits(group, read_prior_splits(keep_splits), reaction_links(samples, reactions),
                                                lambda gs: assign_splits(gs, weights))
        gone = set(dropped_rxns)
        samples = [s for s in samples if s.get("reaction") not in gone]
        reactions = [r for r in reactions if r["id"] not in gone]
        settings = dict(settings, splits_kept_from=os.path.basename(keep_splits))
        print(f"splits kept from {keep_splits}; {len(dropped_rxns)} reactions dropped (they join splits): {dropped_rxns}")
    else:
        gsplit = assign_splits(sorted(set(group.values())), weights)
        split = {m: gsplit[g] for m, g in group.items()}
    mol_ids = sorted({s["molecule"] for s in samples})
    mol_index = {m: i for i, m in enumerate(mol_ids)}
    mol_smiles = {s["molecule"]: s["canonical"] for s in samples}
    rxn_ids = sorted({s["reaction"] for s in samples if s.get("reaction")})
    rxn_index = {r: i for i, r in enumerate(rxn_ids)}
    rxn_desc = {r["id"]: r["description"] for r in read_reactions()}
    rxn_rec = {r["id"]: r for r in reactions}
    order = sorted(range(len(samples)), key=lambda k: (mol_index[samples[k]["molecule"]], samples[k].get("reaction") or "",
                                                        KINDS.index(samples[k]["kind"]),
                                                        samples[k].get("irc_branch") or "", samples[k].get("irc_index", -1)))
    samples = [samples[k] for k in order]
    n_atoms = np.array([len(s["numbers"]) for s in samples], dtype=np.int32)
    atom_offset = np.concatenate([[0], np.cumsum(n_atoms)[:-1]]).astype(np.int64)
    tri = (3 * n_atoms * (3 * n_atoms + 1) // 2).astype(np.int64)
    hess_offset = np.concatenate([[0], np.cumsum(tri)[:-1]]).astype(np.int64)
    triu = []
    for s in samples:
        iu = np.triu_indices(3 * len(s["numbers"]))
        triu.append(s["hessian"][iu].astype(np.float32))
    # per-reaction records: TS sample, IRC-end samples, class
    ts_sample = np.full(len(rxn_ids), -1, dtype=np.int64)
    ends = np.full((len(rxn_ids), 2), -1, dtype=np.int64)
    for k, s in enumerate(samples):
        r = s.get("reaction")
        if not r:
            continue
        if s["kind"] == "ts":
            ts_sample[rxn_index[r]] = k
        if s.get("irc_end"):
            ends[rxn_index[r], 0 if s["irc_end"] == "reverse" else 1] = k
    rclass = [rxn_rec.get(r, {}).get("class", "unknown") for r in rxn_ids]
    rsource = [rxn_rec.get(r, {}).get("source", "hand-written") for r in rxn_ids]
    descr = []
    for r in rxn_ids:
        rec = rxn_rec.get(r, {})
        if r in rxn_desc:
            descr.append(rxn_desc[r])
        else:
            ek = rec.get("end_keys", {})
            descr.append(f"{rec.get('class', 'unknown')}: {ek.get('reverse', '?')} >> {ek.get('forward', '?')} "
                         f"(from start {rec.get('start', '?')})")
    str_dt = h5py.string_dtype("utf-8")
    versions = {}
    for mod in ("numpy", "h5py", "rdkit", "ase", "tblite", "pyscf", "sella"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod)
        except Exception:  # noqa: BLE001
            versions[mod] = "unavailable"
    summary = {"shards": n_shards, "discovery_stats": stats, "dropped_by_filter": dropped,
               "reactions_dropped_to_keep_splits": dropped_rxns,
               "reactions_by_class": {c: rclass.count(c) for c in sorted(set(rclass))}}
    tmp = out + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["format_name"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["data_version"] = DATA_VERSION if level_name == "gfn2" else 1
        f.attrs["level_of_theory"] = "GFN2-xTB" if level_name == "gfn2" else "wB97X/6-31G(d)"
        f.attrs["level_details"] = (
            f"tblite GFN2-xTB (accuracy 0.1); Hessian = central differences of analytic gradients, step "
            f"{GFN2_SETTINGS['fd_step_bohr']} bohr, symmetrized"
            if level_name == "gfn2" else
            f"PySCF RKS wb97x, basis 6-31G* spherical, grids.level={WB97X_SETTINGS['grid_level']}, conv_tol 1e-10; "
            "gradients with grid response; analytic Hessian (no grid-response terms), symmetrized")
        f.attrs["units"] = json.dumps({"positions": "Angstrom", "energy": "eV", "forces": "eV/Angstrom",
                                       "hessian": "eV/Angstrom^2", "temperature": "K", "sigma": "Angstrom"})
        f.attrs["hessian_storage"] = "upper triangle (row-major, diagonal included) of the symmetric 3N x 3N Hessian, float32"
        f.attrs["generator"] = "datasets/generate.py"
        f.attrs["generator_settings"] = json.dumps({"level": level_name, "smoke": smoke,
                                                    "settings": settings, "split_seed": 12345})
        f.attrs["filter"] = json.dumps(GFN2_SETTINGS["filter"] if level_name == "gfn2" else {})
        f.attrs["generation_summary"] = json.dumps(summary)
        f.attrs["software_versions"] = json.dumps(versions)
        f.attrs["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        f.attrs["wall_time_s"] = float(wall_total)
        f.attrs["task_cpu_wall_s"] = float(task_wall)
        f.attrs["split_names"] = json.dumps(SPLITS)
        f.attrs["kind_names"] = json.dumps(KINDS)
        f.create_dataset("n_atoms", data=n_atoms)
        f.create_dataset("atom_offset", data=atom_offset)
        f.create_dataset("hessian_offset", data=hess_offset)
        z = dict(compression="gzip", compression_opts=6, shuffle=True)
        f.create_dataset("atomic_numbers", data=np.concatenate([s["numbers"] for s in samples]).astype(np.uint8), **z)
        f.create_dataset("positions", data=np.concatenate([s["positions"] for s in samples]).astype(np.float64), **z)
        f.create_dataset("forces", data=np.concatenate([s["forces"] for s in samples]).astype(np.float64), **z)
        f.create_dataset("energy", data=np.array([s["energy"] for s in samples], dtype=np.float64))
        f.create_dataset("hessian_triu", data=np.concatenate(triu), chunks=(min(1 << 18, sum(map(len, triu))),), **z)
        f.create_dataset("split", data=np.array([split[s["molecule"]] for s in samples], dtype=np.uint8))
        f.create_dataset("kind", data=np.array([KINDS.index(s["kind"]) for s in samples], dtype=np.uint8))
        f.create_dataset("molecule_index", data=np.array([mol_index[s["molecule"]] for s in samples], dtype=np.int32))
        f.create_dataset("reaction_index", data=np.array([rxn_index.get(s.get("reaction"), -1) for s in samples],
                                                          dtype=np.int32))
        f.create_dataset("sum_rule_residual", data=np.array([s["sum_rule"] for s in samples], dtype=np.float64))
        f.create_dataset("temperature", data=np.array([s.get("temperature", np.nan) for s in samples]))
        f.create_dataset("sigma", data=np.array([s.get("sigma", np.nan) for s in samples]))
        f.create_dataset("irc_branch", data=np.array([{"forward": 1, "reverse": -1}.get(s.get("irc_branch")
                                                       or s.get("irc_end"), 0) for s in samples], dtype=np.int8))
        f.create_dataset("irc_index", data=np.array([s.get("irc_index", -1) for s in samples], dtype=np.int16))
        f.create_dataset("molecule_id", data=np.array(mol_ids, dtype=object), dtype=str_dt)
        f.create_dataset("molecule_smiles", data=np.array([mol_smiles[m] for m in mol_ids], dtype=object), dtype=str_dt)
        f.create_dataset("reaction_id", data=np.array(rxn_ids, dtype=object), dtype=str_dt)
        f.create_dataset("reaction_description", data=np.array(descr, dtype=object), dtype=str_dt)
        f.create_dataset("reaction_class", data=np.array(rclass, dtype=object), dtype=str_dt)
        f.create_dataset("reaction_source", data=np.array(rsource, dtype=object), dtype=str_dt)
        f.create_dataset("reaction_ts_sample", data=ts_sample)
        f.create_dataset("reaction_end_samples", data=ends)
    os.replace(tmp, out)
    n_ts = sum(s["kind"] == "ts" for s in samples)
    by_split = {SPLITS[k]: sum(1 for s in samples if s["kind"] == "ts" and split[s["molecule"]] == k) for k in range(3)}
    print(f"wrote {out}: {len(samples)} samples, {len(mol_ids)} molecules, {len(rxn_ids)} reactions, {n_ts} TS "
          f"(by split {by_split}), dropped {dropped}, {os.path.getsize(out) / 1e6:.1f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--level", choices=["gfn2", "wb97x"], default="gfn2")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default=None, help="shard directory (default: datasets/work, or a temp dir for --smoke)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="3 molecules, 1 sample per setting, no reactions (< 1 min)")
    ap.add_argument("--assemble-only", action="store_true")
    ap.add_argument("--limit", type=int, default=None, help="only the first N molecules (debugging)")
    ap.add_argument("--only", default=None, help="comma-separated substrings of task names to run (debugging)")
    ap.add_argument("--irc-points-per-branch", type=int, default=0,
                    help="at assembly, keep at most this many IRC points per branch, evenly spread (0: all; "
                         "the generator stores 12; used to keep the file under ~100 MB)")
    ap.add_argument("--reverse", action="store_true",
                    help="work through the task list from its end (a second process beside a running one: "
                         "finished shards are skipped, so the two meet in the middle)")
    ap.add_argument("--keep-splits", default=None, metavar="FILE",
                    help="at assembly, keep every molecule of this earlier assembled file in its split there (new "
                         "molecules: their group's split, or a fresh draw); reactions joining two splits are dropped")
    args = ap.parse_args()
    t0 = time.time()
    if args.work is None:
        if args.smoke:
            import tempfile
            args.work = tempfile.mkdtemp(prefix="hip-smoke-")
        else:
            args.work = os.path.join(HERE, "shards-v2" if args.level == "gfn2" else "work")
    os.makedirs(os.path.join(args.work, args.level), exist_ok=True)
    settings = GFN2_SETTINGS if args.level == "gfn2" else WB97X_SETTINGS
    tasks = []
    mols = read_molecules()
    if args.smoke:
        mols = [m for m in mols if m[0] in SMOKE_MOLECULES]
        args.level = "gfn2"
    elif args.level == "wb97x":
        mols = [m for m in mols if m[0] in WB97X_MOLECULES]
    if args.limit:
        mols = mols[: args.limit]
    # a seeded shuffle of the molecule list, so that a partial run (shards of the first sessions)
    # covers every chemical family; each molecule's sampling task is followed by its discovery
    # task, and the hand-written reactions are spread evenly through the list
    if not args.smoke and args.level == "gfn2":
        perm = np.random.default_rng(2026).permutation(len(mols))
        mols = [mols[k] for k in perm]
    rxns = [] if args.smoke else [r for r in read_reactions()
                                  if args.level == "gfn2" or r["id"] in WB97X_REACTIONS]
    every = max(1, len(mols) // max(1, len(rxns)))
    for k, (mid, smi) in enumerate(mols):
        tasks.append({"type": "molecule", "name": "mol_" + mid, "id": mid, "smiles": smi})
        if args.level == "gfn2" and (not args.smoke or mid == SMOKE_MOLECULES[-1]):
            tasks.append({"type": "discovery", "name": "disc_" + mid, "id": mid, "smiles": smi})
        if k % every == every - 1 and rxns:
            rxn = rxns.pop(0)
            tasks.append({"type": "reaction", "name": "rxn_" + rxn["id"], "rxn": rxn})
    for rxn in rxns:
        tasks.append({"type": "reaction", "name": "rxn_" + rxn["id"], "rxn": rxn})
    if args.only:
        tasks = [t for t in tasks if any(o in t["name"] for o in args.only.split(","))]
    if args.reverse:
        tasks = tasks[::-1]
    if not args.assemble_only:
        log(args.work, f"start level={args.level} tasks={len(tasks)} workers={args.workers} out={args.out}")
        jobs = [(args.level, t, args.work, args.smoke) for t in tasks]
        if args.workers > 1:
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(args.workers) as ex:
                results = list(ex.map(run_task, jobs))
        else:
            results = [run_task(j) for j in jobs]
        failed = [n for n, st, _ in results if st == "failed"]
        log(args.work, f"finished: {sum(st != 'failed' for _, st, _ in results)} ok, {len(failed)} failed {failed}")
    prev = 0.0
    stamp = os.path.join(args.work, args.level, "wall_time_s")
    if os.path.exists(stamp):
        prev = float(open(stamp).read())
    wall = prev + (time.time() - t0)
    open(stamp, "w").write(str(wall))
    assemble(args.level, args.work, args.out, settings, args.smoke, wall, args.irc_points_per_branch, args.keep_splits)


if __name__ == "__main__":
    sys.exit(main())
