#!/usr/bin/env python3
"""ωB97X/6-31G(d) labels for reaction-rich geometries (issue 36, item 4): the small ReactBench
train-half samples of `gfn2-rb.h5` relabelled with PySCF, for a DFT fine-tune of the model.

    python3 datasets/dft_rb.py select     # writes datasets/shards-dft/selection.json (deterministic)
    OMP_NUM_THREADS=1 python3 datasets/dft_rb.py run [--hours H] [--limit N]
                                          # one sample per shard, in selection order; resumable
    python3 datasets/dft_rb.py assemble --out datasets/wb97x-rb.h5 [--limit N]

Stages, one function each:
1. `select`   the source's samples with ≤ `--max-atoms` atoms (default 12: a few CPU minutes per
              Hessian) of its train and val splits whose composition is not that of any sample of
              the evaluation set (`--exclude`, default the HORM sample: Transition1x geometries, as
              ReactBench's are; a shared composition would be the only way to share a geometry, so
              none is shared by geometry either). Order: reactions shuffled (seed 0); round-robin over
              them, each reaction giving its next sample by kind (TS, path, minimum, displaced) — so
              any prefix of the list is a spread, reaction-rich subset (the learning curve against
              the number of DFT Hessians reads prefixes).
2. `run`      for each selected sample in order: one SCF (RKS ωB97X, 6-31G(d) spherical, grid level
              5, conv_tol 1e-10; a second-order SCF if the first does not converge), gradient with
              grid response, analytic Hessian (no grid response; symmetrized) — the settings of
              `generate.py`'s `wb97x` level. Each sample is written atomically to
              `shards-dft/wb97x/sNNNNN.npz` (NNNNN: the source sample index; numpy arrays only,
              read back with allow_pickle=False) with its CPU and wall seconds; a failure writes
              `sNNNNN.failed` with the reason and is not retried. One thread.
3. `assemble` the finished shards of the first `--limit` selected samples into the project's
              HDF5 format (`README.md`), metadata (kind, split, reaction, molecule) from the source.
"""
import argparse
import json
import os
import sys
import time
import traceback

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402

WORK = os.path.join(HERE, "shards-dft")
LEVEL = "wb97x"
KIND_PRIORITY = ["ts", "path", "minimum", "displaced", "thermal"]
ELEMENTS = [1, 6, 7, 8]


# ----------------------------------------------------------------------------------------------
# reading the source files


class Source:
    """The per-sample arrays of a project HDF5 file that selection and assembly need."""

    def __init__(self, path):
        import h5py
        with h5py.File(path, "r") as f:
            self.path = path
            self.n_atoms = f["n_atoms"][:]
            self.atom_offset = f["atom_offset"][:]
            self.numbers = f["atomic_numbers"][:]
            self.positions = f["positions"][:]
            self.kind = f["kind"][:]
            self.split = f["split"][:]
            self.kind_names = json.loads(f.attrs["kind_names"])
            self.split_names = json.loads(f.attrs["split_names"])
            self.reaction_index = f["reaction_index"][:] if "reaction_index" in f else np.full(len(self.kind), -1)
            self.molecule_index = f["molecule_index"][:]
            self.molecule_id = [_text(s) for s in f["molecule_id"][:]]
            self.molecule_smiles = [_text(s) for s in f["molecule_smiles"][:]]
            self.reaction_id = [_text(s) for s in f["reaction_id"][:]] if "reaction_id" in f else []
            self.reaction_description = (
                [_text(s) for s in f["reaction_description"][:]] if "reaction_description" in f else [])
            nan = np.full(len(self.kind), np.nan)
            self.sigma = f["sigma"][:] if "sigma" in f else nan
            self.temperature = f["temperature"][:] if "temperature" in f else nan
            self.level = _text(f.attrs.get("level_of_theory", "?"))

    def __len__(self):
        return len(self.kind)

    def atoms(self, i):
        o, n = self.atom_offset[i], self.n_atoms[i]
        return self.numbers[o:o + n], self.positions[o:o + n]

    def composition(self, i):
        z, _ = self.atoms(i)
        return tuple(int((z == e).sum()) for e in ELEMENTS) + (int(len(z) - np.isin(z, ELEMENTS).sum()),)


def _text(s):
    return s.decode() if isinstance(s, bytes) else str(s)


# ----------------------------------------------------------------------------------------------
# 1. select


def select(src, exclude, max_atoms, seed=0):
    """Indices of `src` in the order described in the module doc, and a summary."""
    banned = {exclude.composition(i) for i in range(len(exclude))}
    splits = {src.split_names.index("train"), src.split_names.index("val")}
    by_reaction = {}
    dropped = {"atoms": 0, "split": 0, "composition": 0}
    for i in range(len(src)):
        if src.n_atoms[i] > max_atoms:
            dropped["atoms"] += 1
        elif src.split[i] not in splits:
            dropped["split"] += 1
        elif src.composition(i) in banned:
            dropped["composition"] += 1
        else:
            by_reaction.setdefault(int(src.reaction_index[i]), []).append(i)
    rank = {k: KIND_PRIORITY.index(src.kind_names[k]) for k in range(len(src.kind_names))}
    rng = np.random.default_rng(seed)
    queues = []
    for r in sorted(by_reaction):
        idx = by_reaction[r]
        order = rng.permutation(len(idx))  # random within a kind, kinds by priority
        queues.append(sorted((idx[j] for j in order), key=lambda i: rank[src.kind[i]]))
    queues = [queues[j] for j in rng.permutation(len(queues))]
    out = []
    depth = 0
    while any(depth < len(q) for q in queues):
        out.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    summary = {
        "source": os.path.relpath(src.path, HERE), "exclude": os.path.relpath(exclude.path, HERE),
        "max_atoms": max_atoms, "seed": seed, "selected": len(out), "reactions": len(queues),
        "dropped": dropped, "excluded_compositions_HCNO": sorted(list(c[:4]) for c in banned),
        "kinds": {k: int(sum(src.kind_names[src.kind[i]] == k for i in out)) for k in KIND_PRIORITY},
        "splits": {s: int(sum(src.split_names[src.split[i]] == s for i in out)) for s in ("train", "val")},
    }
    return out, summary


def cmd_select(a):
    src, exclude = Source(a.source), Source(a.exclude)
    order, summary = select(src, exclude, a.max_atoms)
    # geometry check against the evaluation set, independent of the composition rule: no selected
    # sample may have an evaluation sample of the same atoms within 0.1 Å RMSD (sorted distances)
    summary["closest_evaluation_geometry_A"] = closest_geometry(src, order, exclude)
    os.makedirs(a.work, exist_ok=True)
    with open(os.path.join(a.work, "selection.json"), "w") as f:
        json.dump({"summary": summary, "order": [int(i) for i in order]}, f, indent=1)
    print(json.dumps(summary, indent=1))


def closest_geometry(src, order, exclude):
    """The smallest RMS difference of sorted interatomic distances (Å) between a selected sample and an
    evaluation sample of the same element counts; None when no pair shares element counts."""
    def fingerprint(z, x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(d[np.triu_indices(len(z), 1)])
    ev = {}
    for j in range(len(exclude)):
        ev.setdefault(exclude.composition(j), []).append(fingerprint(*exclude.atoms(j)))
    best = None
    for i in order:
        for fp in ev.get(src.composition(i), []):
            r = float(np.sqrt(np.mean((fingerprint(*src.atoms(i)) - fp) ** 2)))
            best = r if best is None else min(best, r)
    return best


# ----------------------------------------------------------------------------------------------
# 2. run


def label(numbers, pos):
    """ωB97X/6-31G(d) energy (eV), forces (eV/Å) and symmetrized Hessian (eV/Å²) from one SCF."""
    from pyscf import dft
    mf = dft.RKS(generate.pyscf_mole(numbers, pos))
    mf.xc = "wb97x"
    mf.grids.level = generate.WB97X_SETTINGS["grid_level"]
    mf.conv_tol = generate.WB97X_SETTINGS["conv_tol"]
    mf.kernel()
    if not mf.converged:
        mf = mf.newton()
        mf.kernel()
        if not mf.converged:
            raise RuntimeError("SCF did not converge (DIIS, then second order)")
    g = mf.nuc_grad_method()
    g.grid_response = True
    grad = g.kernel()
    h = mf.Hessian().kernel()  # (N, N, 3, 3) Hartree/bohr^2
    n = len(numbers)
    H = h.transpose(0, 2, 1, 3).reshape(3 * n, 3 * n) * generate.HARTREE_EV / generate.BOHR**2
    return mf.e_tot * generate.HARTREE_EV, -grad * generate.HARTREE_EV / generate.BOHR, 0.5 * (H + H.T)


def shard_path(work, i, ext):
    return os.path.join(work, LEVEL, f"s{i:05d}.{ext}")


def run_one(src, i, work):
    numbers, pos = src.atoms(i)
    t0, c0 = time.time(), time.process_time()
    e, f, h = label(numbers, pos)
    out = shard_path(work, i, "npz")
    tmp = out + ".tmp.npz"
    np.savez_compressed(tmp, source_index=np.int64(i), numbers=numbers.astype(np.uint8), positions=pos,
                        energy=np.float64(e), forces=f, hessian=h,
                        cpu_s=np.float64(time.process_time() - c0), wall_s=np.float64(time.time() - t0))
    os.replace(tmp, out)
    return time.process_time() - c0


def cmd_run(a):
    with open(os.path.join(a.work, "selection.json")) as fh:
        sel = json.load(fh)
    src = Source(os.path.join(HERE, sel["summary"]["source"]))
    os.makedirs(os.path.join(a.work, LEVEL), exist_ok=True)
    order = sel["order"][:a.limit] if a.limit else sel["order"]
    t_start = time.time()
    for i in order:
        if a.hours and time.time() - t_start > a.hours * 3600:
            break
        if os.path.exists(shard_path(a.work, i, "npz")) or os.path.exists(shard_path(a.work, i, "failed")):
            continue
        try:
            cpu = run_one(src, i, a.work)
            generate.log(a.work, f"done s{i:05d}: {src.n_atoms[i]} atoms, {src.kind_names[src.kind[i]]}, {cpu:.0f} CPU s")
        except Exception as e:  # noqa: BLE001
            with open(shard_path(a.work, i, "failed"), "w") as fh:
                fh.write(f"{e}\n")
            generate.log(a.work, f"FAILED s{i:05d}: {e}\n{traceback.format_exc()}")


# ----------------------------------------------------------------------------------------------
# 3. assemble


def load_shard(path):
    """One sample's arrays; numpy arrays only (no pickles), keys and shapes checked. Any problem is
    a ValueError naming the file."""
    import zipfile
    try:
        with np.load(path, allow_pickle=False) as d:
            s = {k: d[k] for k in d.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a shard of numpy arrays ({e})") from None
    missing = [k for k in ("numbers", "positions", "energy", "forces", "hessian", "cpu_s") if k not in s]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    n = len(s["numbers"])
    if s["positions"].shape != (n, 3) or s["forces"].shape != (n, 3) or s["hessian"].shape != (3 * n, 3 * n):
        raise ValueError(f"{path}: inconsistent array shapes")
    return s


def software_versions():
    import importlib.metadata as md
    return {p: md.version(p) for p in ("numpy", "h5py", "pyscf")}


def cmd_assemble(a):
    import h5py
    with open(os.path.join(a.work, "selection.json")) as fh:
        sel = json.load(fh)
    src = Source(os.path.join(HERE, sel["summary"]["source"]))
    order = sel["order"][:a.limit] if a.limit else sel["order"]
    done = [i for i in order if os.path.exists(shard_path(a.work, i, "npz"))]
    failed = [i for i in order if os.path.exists(shard_path(a.work, i, "failed"))]
    if not done:
        sys.exit(f"{a.work}: no finished shards among the first {len(order)} selected samples")
    try:
        shards = [load_shard(shard_path(a.work, i, "npz")) for i in done]
    except ValueError as e:
        sys.exit(str(e))
    for i, s in zip(done, shards):
        z, x = src.atoms(i)
        if not (np.array_equal(s["numbers"], z) and np.array_equal(s["positions"], x)):
            sys.exit(f"{shard_path(a.work, i, 'npz')}: atoms differ from source sample {i}")
    mols = sorted({int(src.molecule_index[i]) for i in done})
    rxns = sorted({int(src.reaction_index[i]) for i in done if src.reaction_index[i] >= 0})
    mol_map, rxn_map = {m: k for k, m in enumerate(mols)}, {r: k for k, r in enumerate(rxns)}
    n = np.array([len(s["numbers"]) for s in shards])
    hsize = (3 * n) * (3 * n + 1) // 2
    str_dt = h5py.string_dtype()
    cpu = float(sum(float(s["cpu_s"]) for s in shards))
    with h5py.File(a.out, "w") as f:
        f["n_atoms"] = n.astype(np.int32)
        f["atom_offset"] = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
        f["hessian_offset"] = np.concatenate([[0], np.cumsum(hsize)[:-1]]).astype(np.int64)
        f["atomic_numbers"] = np.concatenate([s["numbers"] for s in shards]).astype(np.uint8)
        f["positions"] = np.concatenate([s["positions"] for s in shards])
        f["forces"] = np.concatenate([s["forces"] for s in shards])
        f["energy"] = np.array([float(s["energy"]) for s in shards])
        f["hessian_triu"] = np.concatenate(
            [s["hessian"][np.triu_indices(3 * len(s["numbers"]))] for s in shards]).astype(np.float32)
        f["sum_rule_residual"] = np.array([generate.sum_rule_residual(s["hessian"]) for s in shards])
        f["kind"] = src.kind[done].astype(np.uint8)
        f["split"] = src.split[done].astype(np.uint8)
        f["sigma"] = src.sigma[done]
        f["temperature"] = src.temperature[done]
        f["source_index"] = np.array(done, dtype=np.int64)
        f["molecule_index"] = np.array([mol_map[int(src.molecule_index[i])] for i in done], dtype=np.int32)
        f["molecule_id"] = np.array([src.molecule_id[m] for m in mols], dtype=object).astype(str_dt)
        f["molecule_smiles"] = np.array([src.molecule_smiles[m] for m in mols], dtype=object).astype(str_dt)
        f["reaction_index"] = np.array([rxn_map.get(int(src.reaction_index[i]), -1) for i in done], dtype=np.int32)
        f["reaction_id"] = np.array([src.reaction_id[r] for r in rxns], dtype=object).astype(str_dt)
        f["reaction_description"] = np.array(
            [src.reaction_description[r] if src.reaction_description else "" for r in rxns], dtype=object).astype(str_dt)
        attrs = {
            "format_name": generate.FORMAT_NAME, "format_version": generate.FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "generator": "datasets/dft_rb.py",
            "generator_settings": json.dumps({"level": LEVEL, "settings": generate.WB97X_SETTINGS,
                                              "selection": sel["summary"], "limit": a.limit,
                                              "failed_source_indices": failed}),
            "level_of_theory": "wB97X/6-31G(d)",
            "level_details": ("PySCF RKS wb97x, basis 6-31G* spherical, grids.level=5, conv_tol 1e-10; gradients "
                              "with grid response; analytic Hessian (no grid-response terms), symmetrized; "
                              f"geometries: {src.level} samples of {sel['summary']['source']}"),
            "kind_names": json.dumps(src.kind_names), "split_names": json.dumps(src.split_names),
            "hessian_storage": ("upper triangle (row-major, diagonal included) of the symmetric 3N x 3N Hessian, "
                                "float32"),
            "units": json.dumps({"positions": "Angstrom", "energy": "eV", "forces": "eV/Angstrom",
                                 "hessian": "eV/Angstrom^2", "temperature": "K", "sigma": "Angstrom"}),
            "software_versions": json.dumps(software_versions()),
            "task_cpu_wall_s": cpu,
        }
        for k, v in attrs.items():
            f.attrs[k] = v
    print(f"{a.out}: {len(done)} samples ({len(failed)} failed, {len(order) - len(done) - len(failed)} not run), "
          f"{len(mols)} molecules, {len(rxns)} reactions, {cpu:.0f} CPU s of labels")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default=WORK)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select")
    s.add_argument("--source", default=os.path.join(HERE, "gfn2-rb.h5"))
    s.add_argument("--exclude", default=os.path.join(HERE, "horm", "sample_100.h5"))
    s.add_argument("--max-atoms", type=int, default=12)
    r = sub.add_parser("run")
    r.add_argument("--hours", type=float, default=0.0, help="stop starting samples after this many hours")
    r.add_argument("--limit", type=int, default=0, help="only the first N selected samples")
    m = sub.add_parser("assemble")
    m.add_argument("--out", default=os.path.join(HERE, "wb97x-rb.h5"))
    m.add_argument("--limit", type=int, default=0)
    a = p.parse_args()
    {"select": cmd_select, "run": cmd_run, "assemble": cmd_assemble}[a.cmd](a)


if __name__ == "__main__":
    main()
