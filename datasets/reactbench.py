"""ReactBench reactions at GFN2-xTB: the standard ASE + Sella pipeline (the peer of `hip bench
reactions`) and the training data of the direct-Hessian issue, from one set of stages.

Input: a ReactBench-format set (`datasets/reactbench/ts1x.tar.gz` or a folder of `NAME.xyz`
files, two frames each: reactant, product) and a list of names (`train.txt`, `test.txt`, ...).

Pipeline, per reaction (`run_reaction`, one stage per function):
1. `relax_ends`   BFGS of R and P (fmax 0.01 eV/Å, ≤ 500 steps); a bond-graph change is recorded.
2. `neb`          CI-NEB (ASE, IDPP interpolation, 8 interior images, improved tangent, FIRE):
                  0.5 eV/Å without climbing, then 0.05 eV/Å climbing (≤ 200 + 500 steps). An IDPP
                  band whose image has atoms closer than 0.5 × covalent radii or an SCF failure is
                  replaced by the linear band.
3. `ts_search`    Sella order 1 from the highest image, internal coordinates, ≤ 50 steps, fmax
                  0.01 eV/Å; the exact (FD) Hessian every step (`--hessian-every 1`, the peer) or
                  at the start only (`--hessian-every 0`; the data generator, with ≤ 150 steps).
4. `verify`       the FD Hessian at the end point: "TS success" = converged and exactly one mode
                  below −10 cm⁻¹ (mass-weighted, projected).
5. `irc_ends`     Sella IRC both ways (dx 0.08, ≤ 80 steps), both ends relaxed (BFGS 0.01 eV/Å);
                  "intended" = the two ends have the bond graphs of R and P (either order; the
                  graphs of the input frames, as ReactBench checks).

Modes:
    python datasets/reactbench.py peer --names datasets/reactbench/test.txt --out FILE.jsonl
        one JSON line per reaction (resumable: finished names are skipped)
    python datasets/reactbench.py generate --names datasets/reactbench/gen.txt --work DIR
        the same stages (Hessian at the start of the TS search only) plus samples with FD Hessians
        (R, P, NEB images, TS, displaced TSs, IRC points, IRC ends), one shard per reaction in
        DIR/gfn2/rb_NAME.pkl.gz (the format of generate.py; resumable)
    python datasets/reactbench.py check [--work DIR]
        exits 1 if a generated minimum (R, P or IRC end) has the bond graph of a test-half or
        validation molecule (the shards must not leak them as products)
    python datasets/reactbench.py split
        writes datasets/reactbench/val.txt and gen.txt: a validation part of the train half
        (whole molecule groups, about 1/6) kept out of the generated data
The test half never enters `generate`: it refuses any name in test.txt.
"""
import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import time
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import discovery  # noqa: E402
import xtb  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RB_DIR = os.path.join(HERE, "reactbench")
DEFAULT_SET = os.path.join(RB_DIR, "ts1x.tar.gz")

SETTINGS = {
    "end_fmax_eV_A": 0.01, "end_steps": 500,
    "neb_images": 8, "neb_k": 0.1, "neb_fmax_stage1": 0.5, "neb_steps_stage1": 200,
    "neb_fmax_eV_A": 0.05, "neb_steps": 500, "idpp_min_ratio": 0.5,
    "ts_fmax_eV_A": 0.01, "ts_steps": 50, "ts_steps_generate": 150, "imag_threshold_cm": -10.0,
    "irc_dx": 0.08, "irc_steps": 80, "irc_fmax_eV_A": 0.05, "irc_points_per_branch": 4,
    "displaced_sigma_A": 0.05, "displaced_count": 4, "mode_step_A": 0.1,
    "val_fraction": 1 / 6,
}


class Counter:
    """Gradient and Hessian calls of one reaction (the peer's cost columns)."""

    def __init__(self):
        self.grad = 0
        self.hess = 0


COUNT = Counter()


def energy_forces(numbers, pos):
    """xtb.energy_forces; an SCF that does not converge is run once more with a damped mixer
    (0.1, 1000 iterations), as hip-xtb does: it converges to the same state where the default
    mixer oscillates (stretched bonds along a band)."""
    COUNT.grad += 1
    try:
        return xtb.energy_forces(numbers, pos)
    except xtb.XtbError:
        calc = xtb._calculator(numbers, np.asarray(pos) / xtb.BOHR)
        calc.set("max-iter", 1000)
        calc.set("mixer-damping", 0.1)
        r = xtb._singlepoint(calc)
        return float(r.get("energy")) * xtb.HARTREE_EV, -np.array(r.get("gradient")) * xtb.HARTREE_EV / xtb.BOHR


def fd_hessian(numbers, pos):
    """(energy, forces, Hessian, fd asymmetry) by central differences (xtb.hessian)."""
    COUNT.hess += 1
    COUNT.grad += 6 * len(numbers) + 1
    return xtb.hessian(numbers, pos)


def calculator():
    from ase.calculators.calculator import Calculator, all_changes

    class _Counted(Calculator):
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            e, f = energy_forces(self.atoms.numbers, self.atoms.positions)
            self.results = {"energy": e, "forces": f}

    return _Counted()


def atoms(numbers, pos):
    from ase import Atoms
    a = Atoms(numbers=numbers, positions=pos)
    a.calc = calculator()
    return a


# ----------------------------------------------------------------------------------------------
# input


def read_names(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def parse_two_frames(text, where):
    """(numbers, R, P) from a two-frame XYZ text; one clear error otherwise."""
    from ase.io import read
    frames = read(io.StringIO(text), index=":", format="xyz")
    if len(frames) != 2:
        raise ValueError(f"{where}: {len(frames)} frames, expected 2 (reactant, product)")
    r, p = frames
    if list(r.numbers) != list(p.numbers):
        raise ValueError(f"{where}: reactant and product have different atoms")
    return r.numbers.copy(), r.positions.copy(), p.positions.copy()


def read_set(path, names):
    """{name: (numbers, R, P)} for `names` from a tarball or a folder of NAME.xyz files."""
    out = {}
    if os.path.isdir(path):
        for n in names:
            with open(os.path.join(path, n + ".xyz")) as f:
                out[n] = parse_two_frames(f.read(), f"{path}/{n}.xyz")
        return out
    wanted = set(names)
    with tarfile.open(path) as t:
        for m in t.getmembers():
            stem = os.path.basename(m.name)[:-4] if m.name.endswith(".xyz") else None
            if stem in wanted:
                out[stem] = parse_two_frames(t.extractfile(m).read().decode(), f"{path}:{m.name}")
    missing = wanted - set(out)
    if missing:
        raise ValueError(f"{path}: no reaction named {sorted(missing)[:5]}")
    return out


# ----------------------------------------------------------------------------------------------
# stages


def relax_ends(numbers, r, p):
    from ase.optimize import BFGS
    out = []
    for pos in (r, p):
        a = atoms(numbers, pos)
        ok = BFGS(a, logfile=None, maxstep=0.1).run(fmax=SETTINGS["end_fmax_eV_A"], steps=SETTINGS["end_steps"])
        out.append((a.positions.copy(), bool(ok)))
    return out


def band_is_sane(numbers, images):
    return all(discovery.min_pair_ratio(numbers, im.positions) >= SETTINGS["idpp_min_ratio"] for im in images[1:-1])


def make_band(numbers, r, p):
    """IDPP band (linear if IDPP puts atoms on top of each other). Returns (images, method)."""
    from ase.mep import NEB
    for method in ("idpp", "linear"):
        images = [atoms(numbers, r)] + [atoms(numbers, r) for _ in range(SETTINGS["neb_images"])] + [atoms(numbers, p)]
        band = NEB(images, k=SETTINGS["neb_k"], climb=False, method="improvedtangent")
        band.interpolate(method=method)
        if band_is_sane(numbers, images):
            return images, method
    return images, "linear-insane"


def neb(numbers, r, p):
    """CI-NEB; returns (images positions, energies, converged, steps, interpolation)."""
    from ase.mep import NEB
    from ase.optimize import FIRE
    images, method = make_band(numbers, r, p)
    steps = 0
    ok = False
    for climb, fmax, nmax in ((False, SETTINGS["neb_fmax_stage1"], SETTINGS["neb_steps_stage1"]),
                              (True, SETTINGS["neb_fmax_eV_A"], SETTINGS["neb_steps"])):
        band = NEB(images, k=SETTINGS["neb_k"], climb=climb, method="improvedtangent")
        opt = FIRE(band, logfile=None)
        ok = bool(opt.run(fmax=fmax, steps=nmax))
        steps += opt.nsteps
    energies = [im.get_potential_energy() for im in images]
    return [im.positions.copy() for im in images], energies, ok, steps, method


def ts_search(numbers, guess, hessian_every):
    """Sella order 1 (internal coordinates, Cartesian if they fail). (positions, converged, steps)."""
    from sella import Sella
    last = None
    for internal in (True, False):
        a = atoms(numbers, guess)
        kw = {"diag_every_n": 1} if hessian_every == 1 else {}
        try:
            opt = Sella(a, order=1, internal=internal, logfile=None, trajectory=None,
                        hessian_function=lambda at: fd_hessian(at.numbers, at.positions)[2], **kw)
            steps = SETTINGS["ts_steps"] if hessian_every == 1 else SETTINGS["ts_steps_generate"]
            ok = opt.run(fmax=SETTINGS["ts_fmax_eV_A"], steps=steps)
            return a.positions.copy(), bool(ok), int(opt.nsteps)
        except Exception as e:  # noqa: BLE001  (internal-coordinate and SCF failures)
            last = e
    raise RuntimeError(f"Sella failed: {last}")


def verify(numbers, pos):
    """(number of modes below the threshold, frequencies, sample dict with the FD Hessian)."""
    from generate import vib_analysis
    e, f, h, asym = fd_hessian(numbers, pos)
    freqs, modes, lam = vib_analysis(numbers, pos, h)
    n_imag = int((freqs < SETTINGS["imag_threshold_cm"]).sum())
    return n_imag, freqs, modes, {"positions": np.asarray(pos), "energy": e, "forces": f, "hessian": h, "fd_asym": asym}


def irc_ends(numbers, ts_pos):
    """Both IRC branches and their relaxed ends: ({direction: [points]}, {direction: end})."""
    from ase.optimize import BFGS
    from sella import IRC
    a = atoms(numbers, ts_pos)
    opt = IRC(a, logfile=None, trajectory=None, dx=SETTINGS["irc_dx"], eta=1e-4, gamma=0.1, keep_going=True,
              hessian_function=lambda at: fd_hessian(at.numbers, at.positions)[2])
    branches, ends = {}, {}
    for direction in ("forward", "reverse"):
        traj = []
        opt.attach(lambda: traj.append(a.positions.copy()), interval=1)
        try:
            opt.run(fmax=SETTINGS["irc_fmax_eV_A"], steps=SETTINGS["irc_steps"], direction=direction)
        except Exception:  # noqa: BLE001  keep what was traced
            pass
        opt.observers.clear()
        pts = [q for q in traj if np.abs(q - ts_pos).max() > 1e-6]
        branches[direction] = pts
        if pts:
            b = atoms(numbers, pts[-1])
            BFGS(b, logfile=None, maxstep=0.1).run(fmax=SETTINGS["end_fmax_eV_A"], steps=SETTINGS["end_steps"])
            ends[direction] = b.positions.copy()
    return branches, ends


def is_intended(numbers, ends, r, p):
    if len(ends) != 2:
        return False
    gr, gp = discovery.bonds(numbers, r), discovery.bonds(numbers, p)
    ga, gb = discovery.bonds(numbers, ends["reverse"]), discovery.bonds(numbers, ends["forward"])
    return (ga == gr and gb == gp) or (ga == gp and gb == gr)


# ----------------------------------------------------------------------------------------------
# one reaction


def run_reaction(name, numbers, r_in, p_in, hessian_every):
    """The pipeline on one reaction: (record, stage outputs for the data generator)."""
    COUNT.grad = COUNT.hess = 0
    t0 = time.time()
    rec = {"name": name, "n_atoms": int(len(numbers))}
    out = {}
    (r, r_ok), (p, p_ok) = relax_ends(numbers, r_in, p_in)
    rec["ends_relaxed"] = r_ok and p_ok
    rec["end_graph_changed"] = [discovery.bonds(numbers, r) != discovery.bonds(numbers, r_in),
                                discovery.bonds(numbers, p) != discovery.bonds(numbers, p_in)]
    out["ends"] = (r, p)
    band, energies, neb_ok, neb_steps, interp = neb(numbers, r, p)
    rec.update(neb_converged=neb_ok, neb_steps=neb_steps, interpolation=interp)
    out["band"] = band
    hi = int(np.argmax(energies[1:-1])) + 1
    tpos, ts_ok, ts_steps = ts_search(numbers, band[hi], hessian_every)
    rec.update(ts_converged=ts_ok, ts_steps=ts_steps)
    n_imag, freqs, modes, ts_sample = verify(numbers, tpos)
    rec.update(n_imag=n_imag, imag_cm=float(freqs[0]), ts_success=bool(ts_ok and n_imag == 1))
    rec["barrier_eV"] = float(ts_sample["energy"] - energy_forces(numbers, r)[0])
    out.update(ts=ts_sample, ts_modes=modes, ts_freqs=freqs)
    rec["intended"] = False
    if rec["ts_success"]:
        branches, ends = irc_ends(numbers, tpos)
        rec["irc_ends"] = len(ends)
        rec["intended"] = is_intended(numbers, ends, r_in, p_in)
        out.update(branches=branches, irc_ends=ends)
    rec.update(grad_calls=COUNT.grad, hessian_calls=COUNT.hess, seconds=round(time.time() - t0, 2))
    return rec, out


# ----------------------------------------------------------------------------------------------
# data generation: samples from the stage outputs


def samples_of(name, numbers, out, rng):
    """Samples with FD Hessians, filtered as data v2 (E_ref = the lower relaxed end)."""
    from generate import passes_filter, sum_rule_residual
    r, p = out["ends"]
    geoms = [(r, {"kind": "minimum", "irc_end": "reactant"}), (p, {"kind": "minimum", "irc_end": "product"})]
    geoms += [(q, {"kind": "path", "neb_image": k}) for k, q in enumerate(out["band"][1:-1], 1)]
    ts = out["ts"]
    is_ts = "irc_ends" in out
    if is_ts:
        v = out["ts_modes"][:, 0].reshape(-1, 3) / np.sqrt(discovery_masses(numbers))[:, None]
        v /= np.linalg.norm(v)
        for s in (-1.0, 1.0):
            geoms.append((ts["positions"] + s * SETTINGS["mode_step_A"] * v, {"kind": "displaced", "along_mode": s}))
        for _ in range(SETTINGS["displaced_count"]):
            d = rng.normal(scale=SETTINGS["displaced_sigma_A"], size=ts["positions"].shape)
            geoms.append((ts["positions"] + d, {"kind": "displaced", "sigma": SETTINGS["displaced_sigma_A"]}))
        for direction, pts in out["branches"].items():
            for k, q in enumerate(discovery.even_points(pts, SETTINGS["irc_points_per_branch"])):
                geoms.append((q, {"kind": "path", "irc_branch": direction, "irc_index": k}))
        for direction, q in out["irc_ends"].items():
            geoms.append((q, {"kind": "minimum", "irc_end": direction}))
    e_min = min(energy_forces(numbers, r)[0], energy_forces(numbers, p)[0])
    samples, rejected = [], 0
    for pos, meta in geoms:
        try:
            e, f, h, asym = fd_hessian(numbers, pos)
        except Exception:  # noqa: BLE001
            rejected += 1
            continue
        if not passes_filter(numbers, pos, e, e_min, True)[0]:
            rejected += 1
            continue
        samples.append(dict(meta, positions=np.asarray(pos), energy=e, forces=f, hessian=h, fd_asym=asym))
    if is_ts and passes_filter(numbers, ts["positions"], ts["energy"], e_min, True)[0]:
        samples.append(dict(ts, kind="ts", n_imag=1, imag_cm=float(out["ts_freqs"][0])))
    key = discovery.graph_key(numbers, r)
    for s in samples:
        s.update(numbers=np.asarray(numbers, dtype=np.uint8), sum_rule=sum_rule_residual(s["hessian"]),
                 reaction=f"rb:{name}", molecule=f"rb:{key}", smiles=key, source="reactbench-train")
    return samples, rejected


def discovery_masses(numbers):
    from generate import masses_of
    return masses_of(numbers)


# ----------------------------------------------------------------------------------------------
# the validation part of the train half


def molecule_groups(items):
    """Union of reactions that share a molecule (bond graph of R or P): {name: group}."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for name, (numbers, r, p) in items.items():
        kr, kp = discovery.graph_key(numbers, r), discovery.graph_key(numbers, p)
        parent[find("rxn:" + name)] = find("mol:" + kr)
        parent[find("mol:" + kp)] = find("mol:" + kr)
    return {name: find("rxn:" + name) for name in items}


def write_split():
    names = read_names(os.path.join(RB_DIR, "train.txt"))
    group = molecule_groups(read_set(DEFAULT_SET, names))
    ranked = sorted(set(group.values()), key=lambda g: hashlib.sha256(g.encode()).hexdigest())
    target = round(SETTINGS["val_fraction"] * len(names))
    val = set()
    for g in ranked:
        if len(val) >= target:
            break
        val |= {n for n in names if group[n] == g}
    gen = [n for n in names if n not in val]
    for fname, lst in (("val.txt", [n for n in names if n in val]), ("gen.txt", gen)):
        with open(os.path.join(RB_DIR, fname), "w") as f:
            f.write("\n".join(lst) + "\n")
    print(f"val {len(val)} / gen {len(gen)} reactions ({len(set(group[n] for n in val))} molecule groups held out)")


# ----------------------------------------------------------------------------------------------
# drivers


def done_names(jsonl):
    if not os.path.exists(jsonl):
        return set()
    with open(jsonl) as f:
        return {json.loads(ln)["name"] for ln in f if ln.strip()}


def peer(args):
    names = read_names(args.names)
    done = done_names(args.out)
    todo = [n for n in names if n not in done]
    items = read_set(args.set, todo)
    for k, name in enumerate(todo, 1):
        numbers, r, p = items[name]
        try:
            rec, _ = run_reaction(name, numbers, r, p, args.hessian_every)
        except Exception as e:  # noqa: BLE001
            rec = {"name": name, "error": str(e)[:300], "ts_success": False, "intended": False}
        rec.update(provider="gfn2-ase-sella", hessian_every=args.hessian_every)
        with open(args.out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(f"[{k}/{len(todo)}] {name}: ts {rec.get('ts_success')} intended {rec.get('intended')} "
              f"{rec.get('seconds', '-')} s", flush=True)


def generate(args):
    import generate as gen
    names = read_names(args.names)
    test = set(read_names(os.path.join(RB_DIR, "test.txt"))) | set(read_names(os.path.join(RB_DIR, "val.txt")))
    leaked = sorted(set(names) & test)
    if leaked:
        raise SystemExit(f"{args.names}: {len(leaked)} names of the test half or the validation part, e.g. {leaked[:3]}")
    d = os.path.join(args.work, "gfn2")
    os.makedirs(d, exist_ok=True)
    order = sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())
    for name in order:
        path = os.path.join(d, f"rb_{name}.pkl.gz")
        if os.path.exists(path) or os.path.exists(path[:-7] + ".failed"):
            continue
        numbers, r, p = read_set(args.set, [name])[name]
        t0 = time.time()
        try:
            rec, out = run_reaction(name, numbers, r, p, hessian_every=0)
            samples, rejected = samples_of(name, numbers, out, np.random.default_rng(gen.seed_of("rb:" + name)))
        except Exception as e:  # noqa: BLE001
            gen.log(args.work, f"FAILED rb/{name}: {e}\n{traceback.format_exc()}")
            with open(path[:-7] + ".failed", "w") as f:
                f.write(str(e))
            continue
        rec.update(rejected=rejected, grad_calls=COUNT.grad, hessian_calls=COUNT.hess)
        wall = time.time() - t0
        payload = {"samples": gen.compact(samples), "reactions": [], "record": rec, "wall_s": wall,
                   "task": f"rb_{name}", "settings": SETTINGS, "stats": {}}
        gen.save_shard(path, payload)
        gen.log(args.work, f"done rb/{name}: {len(samples)} samples in {wall:.1f} s; ts {rec['ts_success']} "
                           f"intended {rec['intended']}")


def assemble(args):
    """The finished shards into one HDF5 file of the project's format (`generate.assemble`): its
    own molecule groups and train/val/test split (by reactant bond graph, as generate.py groups
    molecules), the v2 filter. Molecules are keyed by their bond-graph key (`smiles` of a shard:
    RDKit cannot parse every radical key, so a key it refuses is its own canonical form)."""
    import tempfile
    import generate as gen
    original = gen.canonical

    def canonical(key):
        try:
            return original(key)
        except Exception:  # noqa: BLE001  a key RDKit does not parse is kept as it is
            return key

    gen.canonical = canonical
    src = os.path.join(args.work, "gfn2")
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "gfn2"))
        for f in sorted(os.listdir(src)):
            if f.startswith("rb_") and f.endswith(".pkl.gz"):
                os.symlink(os.path.abspath(os.path.join(src, f)), os.path.join(tmp, "gfn2", f))
        gen.assemble("gfn2", tmp, args.out, {"source": "ReactBench train half (gen.txt)", **SETTINGS}, False, 0.0)
    check_file(args.out)


def held_out_keys():
    """Bond-graph keys of the reactants and products of the test half and the validation part."""
    held = read_names(os.path.join(RB_DIR, "test.txt")) + read_names(os.path.join(RB_DIR, "val.txt"))
    keys = set()
    for numbers, r, p in read_set(DEFAULT_SET, held).values():
        keys |= {discovery.graph_key(numbers, r), discovery.graph_key(numbers, p)}
    return keys


def check_file(path):
    """The assembled file has no test-half or validation molecule (by reactant bond graph)."""
    import h5py
    bad = held_out_keys()
    with h5py.File(path, "r") as f:
        ids = [x.decode() if isinstance(x, bytes) else x for x in f["molecule_id"][:]]
    leaked = [m for m in ids if m.removeprefix("rb:") in bad]
    if leaked:
        raise SystemExit(f"{path}: {len(leaked)} molecules of the test half or the validation part, e.g. {leaked[:2]}")
    print(f"{path}: {len(ids)} molecules, none of the test half or the validation part")


def check(args):
    import generate as gen
    keys = held_out_keys()
    d = os.path.join(args.work, "gfn2")
    n, leaks = 0, []
    for f in sorted(x for x in os.listdir(d) if x.endswith(".pkl.gz")):
        for smp in gen.load_shard(os.path.join(d, f))["samples"]:
            if smp["kind"] == "minimum":
                n += 1
                if discovery.graph_key(smp["numbers"].astype(int), smp["positions"]) in keys:
                    leaks.append(smp["reaction"])
    print(f"{n} minimum samples; {len(leaks)} with the bond graph of a held-out molecule {sorted(set(leaks))[:10]}")
    if leaks:
        raise SystemExit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    a = sub.add_parser("peer")
    a.add_argument("--set", default=DEFAULT_SET)
    a.add_argument("--names", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--hessian-every", type=int, default=1, choices=[0, 1])
    g = sub.add_parser("generate")
    g.add_argument("--set", default=DEFAULT_SET)
    g.add_argument("--names", default=os.path.join(RB_DIR, "gen.txt"))
    g.add_argument("--work", default=os.path.join(HERE, "shards-rb"))
    c = sub.add_parser("check")
    c.add_argument("--work", default=os.path.join(HERE, "shards-rb"))
    sub.add_parser("split")
    asm = sub.add_parser("assemble")
    asm.add_argument("--out", default=os.path.join(HERE, "gfn2-rb.h5"))
    asm.add_argument("--work", default=os.path.join(HERE, "shards-rb"))
    args = ap.parse_args()
    {"peer": peer, "generate": generate, "check": check, "split": lambda _: write_split(),
     "assemble": assemble}[args.mode](args)


if __name__ == "__main__":
    main()
