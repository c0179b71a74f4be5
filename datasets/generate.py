#!/usr/bin/env python3
"""Generates hip-rs Hessian datasets (HDF5, format `hip-hessian-dataset` v1; see README.md).

    OMP_NUM_THREADS=1 python datasets/generate.py --level gfn2  --out datasets/gfn2-train.h5
    OMP_NUM_THREADS=1 python datasets/generate.py --level wb97x --out datasets/wb97x-small.h5
    python datasets/generate.py --smoke --out /tmp/smoke.h5          # tiny file, < 1 minute

Work is split into tasks (one molecule, or one reaction, at one level). Each finished task is
written atomically to `<work>/<level>/<task>.pkl`, so a rerun continues where it stopped; the
HDF5 file is assembled from all finished tasks at the end (`--assemble-only` re-assembles).
Seeds are derived from task names (crc32), so reruns are deterministic. Two worker processes
by default; a log goes to `<work>/generate.log`.

Levels:
- gfn2: GFN2-xTB (tblite). Hessians by central differences of analytic gradients (0.005 bohr).
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
KINDS = ["minimum", "thermal", "displaced", "ts", "path"]
SPLITS = ["train", "val", "test"]

GFN2_SETTINGS = {
    "temperatures_K": [300.0, 1000.0, 2000.0],
    "thermal_per_temperature": 7,
    "sigmas_A": [0.05, 0.10, 0.15],
    "displaced_per_sigma": 6,
    "fd_step_bohr": 0.005,
    "opt_fmax_eV_A": 0.005,
    "ts_fmax_eV_A": 0.005,
    "scan_points": 13,
    "ts_thermal": {"temperatures_K": [300.0, 1000.0], "per_temperature": 3},
    "min_mode_cm": 50.0,
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
            from tblite.ase import TBLite
            return TBLite(method="GFN2-xTB", verbosity=0)
        return PyscfCalculator()

    def atoms(self, numbers, pos):
        from ase import Atoms
        a = Atoms(numbers=numbers, positions=pos)
        a.calc = self.calculator(numbers)
        return a

    def energy_forces(self, numbers, pos):
        a = self.atoms(numbers, pos)
        return float(a.get_potential_energy()), a.get_forces().copy()

    def hessian(self, numbers, pos):
        if self.name == "gfn2":
            a = self.atoms(numbers, pos)
            h = GFN2_SETTINGS["fd_step_bohr"] * BOHR
            n = len(numbers)
            H = np.zeros((3 * n, 3 * n))
            x0 = pos.copy()
            for k in range(3 * n):
                for sgn in (1, -1):
                    x = x0.copy()
                    x[k // 3, k % 3] += sgn * h
                    a.positions = x
                    f = a.get_forces()
                    H[:, k] += -sgn * f.ravel() / (2 * h)
            return 0.5 * (H + H.T)
        return pyscf_hessian(numbers, pos)

    def sample(self, numbers, pos):
        e, f = self.energy_forces(numbers, pos)
        h = self.hessian(numbers, pos)
        return {"numbers": np.asarray(numbers, dtype=np.uint8), "positions": np.asarray(pos, dtype=float),
                "energy": e, "forces": f, "hessian": h, "sum_rule": sum_rule_residual(h)}

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


def robust_sample(level, numbers, draw, tries=3):
    """A sample at a freshly drawn geometry; redraws when the electronic structure fails (e.g. an
    SCF that does not converge at a wild 2000 K geometry). Returns None after `tries` failures."""
    for _ in range(tries):
        try:
            return level.sample(numbers, draw())
        except Exception:  # noqa: BLE001
            continue
    return None


def molecule_task(level, mid, smiles, smoke=False):
    rng = np.random.default_rng(seed_of(f"{level.name}:{mid}"))
    numbers, pos, _ = embed(smiles, seed_of(mid))
    samples = []
    if level.name == "gfn2":
        cfg = GFN2_SETTINGS
        pos, ok, nsteps = level.optimize(numbers, pos, cfg["opt_fmax_eV_A"])
        h = level.hessian(numbers, pos)
        freqs, modes, lam = vib_analysis(numbers, pos, h)
        tries = 0
        while freqs[0] < -10 and tries < 3:  # a saddle conformer: push along the imaginary mode
            cart = (modes[:, 0] / np.sqrt(np.repeat(masses_of(numbers), 3))).reshape(-1, 3)
            pos = pos + 0.1 * cart / np.abs(cart).max()
            pos, ok, _ = level.optimize(numbers, pos, cfg["opt_fmax_eV_A"])
            h = level.hessian(numbers, pos)
            freqs, modes, lam = vib_analysis(numbers, pos, h)
            tries += 1
        e, f = level.energy_forces(numbers, pos)
        samples.append({"numbers": numbers.astype(np.uint8), "positions": pos, "energy": e, "forces": f, "hessian": h,
                        "sum_rule": sum_rule_residual(h), "kind": "minimum", "n_imag": int((freqs < -10).sum())})
        n_thermal = 1 if smoke else cfg["thermal_per_temperature"]
        n_disp = 1 if smoke else cfg["displaced_per_sigma"]
        for t in cfg["temperatures_K"]:
            for _ in range(n_thermal):
                s = robust_sample(level, numbers, lambda: pos + thermal_displacements(rng, numbers, modes, lam, t, 1)[0])
                if s is not None:
                    s.update(kind="thermal", temperature=t)
                    samples.append(s)
        for sigma in cfg["sigmas_A"]:
            for _ in range(n_disp):
                s = robust_sample(level, numbers, lambda: pos + rng.normal(scale=sigma, size=pos.shape))
                if s is not None:
                    s.update(kind="displaced", sigma=sigma)
                    samples.append(s)
    else:
        cfg = WB97X_SETTINGS
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
        e, f = level.energy_forces(numbers, tpos)
        samples.append({"numbers": numbers.astype(np.uint8), "positions": tpos, "energy": e, "forces": f, "hessian": h,
                        "sum_rule": sum_rule_residual(h), "kind": "ts", "n_imag": 1,
                        "imag_cm": float(freqs[0]), "ts_steps": int(nsteps)})
        path = points if not smoke else points[:2]
        for v, p, _ in path:
            s = level.sample(numbers, p)
            s.update(kind="path", coordinate=float(v))
            samples.append(s)
        h0 = level.hessian(numbers, pos)
        e0, f0 = level.energy_forces(numbers, pos)
        samples.append({"numbers": numbers.astype(np.uint8), "positions": pos, "energy": e0, "forces": f0, "hessian": h0,
                        "sum_rule": sum_rule_residual(h0), "kind": "minimum"})
        tt = cfg["ts_thermal"]
        for t in tt["temperatures_K"]:
            for _ in range(1 if smoke else tt["per_temperature"]):
                s = robust_sample(level, numbers, lambda: tpos + thermal_displacements(rng, numbers, modes, lam, t, 1)[0])
                if s is not None:
                    s.update(kind="thermal", temperature=t)
                    samples.append(s)
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


def run_task(args):
    level_name, task, work, smoke = args
    path = os.path.join(work, level_name, task["name"] + ".pkl")
    if os.path.exists(path):
        return task["name"], "cached", 0.0
    level = Level(level_name)
    t0 = time.time()
    try:
        if task["type"] == "molecule":
            samples = molecule_task(level, task["id"], task["smiles"], smoke)
        else:
            gfn2 = None
            if level_name == "wb97x":
                gp = os.path.join(work, "gfn2", "rxn_" + task["rxn"]["id"] + ".pkl")
                if os.path.exists(gp):
                    gfn2 = pickle.load(open(gp, "rb"))["samples"]
                else:
                    gfn2 = reaction_task(Level("gfn2"), task["rxn"])
            samples = reaction_task(level, task["rxn"], gfn2, smoke)
    except Exception as e:  # noqa: BLE001
        log(work, f"FAILED {level_name}/{task['name']}: {e}\n{traceback.format_exc()}")
        with open(os.path.join(work, level_name, task["name"] + ".failed"), "w") as f:
            f.write(str(e))
        return task["name"], "failed", time.time() - t0
    wall = time.time() - t0
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump({"samples": samples, "wall_s": wall}, f, protocol=4)
    os.replace(tmp, path)
    log(work, f"done {level_name}/{task['name']}: {len(samples)} samples in {wall:.1f} s")
    return task["name"], "done", wall


# ----------------------------------------------------------------------------------------------
# assembly


def assign_splits(groups, reaction_groups, seed=12345):
    """80/10/10 by molecule; molecules with reactions are stratified (60/20/20) so val and test
    hold reactions too. Deterministic."""
    rng = np.random.default_rng(seed)
    split = {}
    rg = sorted(g for g in groups if g in reaction_groups)
    other = sorted(g for g in groups if g not in reaction_groups)
    for lst, fr in ((rg, (0.6, 0.2)), (other, (0.8, 0.1))):
        perm = rng.permutation(len(lst))
        n_tr = int(round(fr[0] * len(lst)))
        n_va = int(round(fr[1] * len(lst)))
        for r, k in enumerate(perm):
            split[lst[k]] = 0 if r < n_tr else (1 if r < n_tr + n_va else 2)
    return split


def assemble(level_name, work, out, settings, smoke, wall_total):
    import h5py
    shards = sorted(f for f in os.listdir(os.path.join(work, level_name)) if f.endswith(".pkl"))
    samples, task_wall = [], 0.0
    for f in shards:
        d = pickle.load(open(os.path.join(work, level_name, f), "rb"))
        samples.extend(d["samples"])
        task_wall += d["wall_s"]
    if not samples:
        raise SystemExit(f"no finished task in {work}/{level_name}")
    mols = dict(read_molecules())
    by_smiles = {canonical(s): m for m, s in mols.items()}
    # molecule identity = canonical SMILES of the molecule (reaction samples: of the reactant)
    for s in samples:
        can = canonical(s["smiles"])
        s["molecule"] = by_smiles.get(can, s.get("molecule") or s.get("reaction") + "_reactant")
        s["canonical"] = can
    mol_ids = sorted({s["molecule"] for s in samples})
    mol_index = {m: i for i, m in enumerate(mol_ids)}
    mol_smiles = {s["molecule"]: s["canonical"] for s in samples}
    rxn_ids = sorted({s["reaction"] for s in samples if s.get("reaction")})
    rxn_index = {r: i for i, r in enumerate(rxn_ids)}
    rxn_desc = {r["id"]: r["description"] for r in read_reactions()}
    reaction_groups = {s["molecule"] for s in samples if s.get("reaction")}
    split = assign_splits(mol_ids, reaction_groups)
    order = sorted(range(len(samples)), key=lambda k: (mol_index[samples[k]["molecule"]], samples[k].get("reaction") or "",
                                                        KINDS.index(samples[k]["kind"])))
    samples = [samples[k] for k in order]
    n_atoms = np.array([len(s["numbers"]) for s in samples], dtype=np.int32)
    atom_offset = np.concatenate([[0], np.cumsum(n_atoms)[:-1]]).astype(np.int64)
    tri = (3 * n_atoms * (3 * n_atoms + 1) // 2).astype(np.int64)
    hess_offset = np.concatenate([[0], np.cumsum(tri)[:-1]]).astype(np.int64)
    triu = []
    for s in samples:
        iu = np.triu_indices(3 * len(s["numbers"]))
        triu.append(s["hessian"][iu].astype(np.float32))
    str_dt = h5py.string_dtype("utf-8")
    versions = {}
    for mod in ("numpy", "h5py", "rdkit", "ase", "tblite", "pyscf", "sella"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod)
        except Exception:  # noqa: BLE001
            versions[mod] = "unavailable"
    tmp = out + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["format_name"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["level_of_theory"] = "GFN2-xTB" if level_name == "gfn2" else "wB97X/6-31G(d)"
        f.attrs["level_details"] = (
            "tblite GFN2-xTB; Hessian = central differences of analytic gradients, step 0.005 bohr, symmetrized"
            if level_name == "gfn2" else
            f"PySCF RKS wb97x, basis 6-31G* spherical, grids.level={WB97X_SETTINGS['grid_level']}, conv_tol 1e-10; "
            "gradients with grid response; analytic Hessian (no grid-response terms), symmetrized")
        f.attrs["units"] = json.dumps({"positions": "Angstrom", "energy": "eV", "forces": "eV/Angstrom",
                                       "hessian": "eV/Angstrom^2", "temperature": "K", "sigma": "Angstrom"})
        f.attrs["hessian_storage"] = "upper triangle (row-major, diagonal included) of the symmetric 3N x 3N Hessian, float32"
        f.attrs["generator"] = "datasets/generate.py"
        f.attrs["generator_settings"] = json.dumps({"level": level_name, "smoke": smoke,
                                                    "settings": settings, "split_seed": 12345})
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
        f.create_dataset("molecule_id", data=np.array(mol_ids, dtype=object), dtype=str_dt)
        f.create_dataset("molecule_smiles", data=np.array([mol_smiles[m] for m in mol_ids], dtype=object), dtype=str_dt)
        f.create_dataset("reaction_id", data=np.array(rxn_ids, dtype=object), dtype=str_dt)
        f.create_dataset("reaction_description", data=np.array([rxn_desc.get(r, "") for r in rxn_ids], dtype=object),
                         dtype=str_dt)
    os.replace(tmp, out)
    print(f"wrote {out}: {len(samples)} samples, {len(mol_ids)} molecules, {len(rxn_ids)} reactions, "
          f"{os.path.getsize(out) / 1e6:.1f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--level", choices=["gfn2", "wb97x"], default="gfn2")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default=None, help="shard directory (default: datasets/work, or a temp dir for --smoke)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="3 molecules, 1 sample per setting, no reactions (< 1 min)")
    ap.add_argument("--assemble-only", action="store_true")
    ap.add_argument("--limit", type=int, default=None, help="only the first N molecules (debugging)")
    args = ap.parse_args()
    t0 = time.time()
    if args.work is None:
        if args.smoke:
            import tempfile
            args.work = tempfile.mkdtemp(prefix="hip-smoke-")
        else:
            args.work = os.path.join(HERE, "work")
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
    for mid, smi in mols:
        tasks.append({"type": "molecule", "name": "mol_" + mid, "id": mid, "smiles": smi})
    if not args.smoke:
        for rxn in read_reactions():
            if args.level == "wb97x" and rxn["id"] not in WB97X_REACTIONS:
                continue
            tasks.append({"type": "reaction", "name": "rxn_" + rxn["id"], "rxn": rxn})
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
    assemble(args.level, args.work, args.out, settings, args.smoke, wall)


if __name__ == "__main__":
    sys.exit(main())
