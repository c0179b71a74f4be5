"""Single-ended reaction discovery at GFN2-xTB, in the spirit of Transition1x.

From one minimum:
1. **Starts** (`starts`): displacements along the lowest vibrational modes (±), random
   Gaussian displacements, and chemically motivated guesses that break and form bonds:
   1,2- and 1,3-H shifts (an H placed over the bond of its heavy atom and a heavy neighbour, or
   over the gap to the atom two bonds away),
   H₂ eliminations (two H on the same or adjacent heavy atoms pulled together), and stretched
   heavy-atom bonds (ring openings, fragmentations).
2. **Saddle search** (`ts_search`): Sella `order=1` in internal coordinates (Cartesian as a
   fallback) from each start, with the exact (FD) Hessian at the start.
3. **Verification** (`verify_ts`): the level's own Hessian at the converged point must have
   exactly one imaginary mode below −10 cm⁻¹ (and no other below −10).
4. **Deduplication** (`same_structure`): energy within 0.01 eV and the same element-pair
   distance spectrum (sorted distances of every element pair, max deviation < 0.05 Å); the
   spectrum is invariant to rotation, translation, permutation of like atoms and inversion,
   so this is the RMSD-after-alignment-and-permutation test without solving the assignment.
5. **IRC** (`irc`): Sella's IRC in both directions from the TS (mass-weighted steps of
   `irc_dx` amu^½·Å, exact Hessian at the TS), then BFGS of each end to a minimum.
6. **Classification** (`classify`): by the bond graphs (covalent radii × 1.2) of the two
   optimized IRC ends: `conformational` (same graph: torsions, inversions) or, for a bond
   rearrangement, `h_shift` (every changed bond involves one H atom), `fragmentation` (the
   number of fragments changes), `ring_change` (the number of rings changes), `rearrangement`.
"""
import numpy as np

import xtb

COVALENT = {1: 0.31, 6: 0.76, 7: 0.71, 8: 0.66}  # Cordero 2008, Å (= hip_core::elements)
BOND_SCALE = 1.2
FREQ_FACTOR = 521.4708983725064  # cm^-1 for lambda = 1 eV/(A^2 amu), CODATA 2018


def covalent(z):
    from ase.data import covalent_radii
    return COVALENT.get(int(z), float(covalent_radii[int(z)]))


def pair_ratios(numbers, pos):
    """d_ij / (r_i + r_j) for all pairs i < j."""
    pos = np.asarray(pos)
    r = np.array([covalent(z) for z in numbers])
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    iu = np.triu_indices(len(numbers), 1)
    return d[iu] / (r[:, None] + r[None])[iu]


def min_pair_ratio(numbers, pos):
    rat = pair_ratios(numbers, pos)
    return float(rat.min()) if len(rat) else np.inf


def bonds(numbers, pos):
    """Bond set {(i, j)}: d_ij < 1.2 (r_i + r_j)."""
    pos = np.asarray(pos)
    n = len(numbers)
    out = set()
    for i in range(n):
        for j in range(i + 1, n):
            if np.linalg.norm(pos[i] - pos[j]) < BOND_SCALE * (covalent(numbers[i]) + covalent(numbers[j])):
                out.add((i, j))
    return out


def components(n, bond_set):
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in bond_set:
        parent[find(i)] = find(j)
    return len({find(i) for i in range(n)})


def graph_key(numbers, pos):
    """Canonical SMILES of the connectivity graph (all atoms explicit, single bonds): identifies
    a constitutional isomer whatever its conformation or atom order."""
    from rdkit import Chem
    m = Chem.RWMol()
    for z in numbers:
        a = Chem.Atom(int(z))
        a.SetNoImplicit(True)
        m.AddAtom(a)
    for i, j in sorted(bonds(numbers, pos)):
        m.AddBond(int(i), int(j), Chem.BondType.SINGLE)
    mol = m.GetMol()
    mol.UpdatePropertyCache(strict=False)
    return Chem.MolToSmiles(mol, canonical=True, allHsExplicit=True)


def distance_spectrum(numbers, pos):
    pos = np.asarray(pos)
    out = {}
    n = len(numbers)
    for i in range(n):
        for j in range(i + 1, n):
            key = tuple(sorted((int(numbers[i]), int(numbers[j]))))
            out.setdefault(key, []).append(np.linalg.norm(pos[i] - pos[j]))
    return {k: np.sort(v) for k, v in out.items()}


def same_structure(numbers, pos_a, e_a, pos_b, e_b, tol_a=0.05, tol_e=0.01):
    if abs(e_a - e_b) > tol_e:
        return False
    sa, sb = distance_spectrum(numbers, pos_a), distance_spectrum(numbers, pos_b)
    return all(np.abs(sa[k] - sb[k]).max() < tol_a for k in sa)


def classify(numbers, pos_a, pos_b):
    """Reaction class from the bond graphs of the two IRC ends (see the module docs)."""
    ba, bb = bonds(numbers, pos_a), bonds(numbers, pos_b)
    if ba == bb:
        return "conformational"
    changed = ba ^ bb
    n = len(numbers)
    h_atoms = [{i for i in b if numbers[i] == 1} for b in changed]
    common = set.intersection(*h_atoms) if h_atoms else set()
    if common and all(len(h) >= 1 for h in h_atoms):
        return "h_shift"
    ca, cb = components(n, ba), components(n, bb)
    if ca != cb:
        return "fragmentation"
    if len(ba) - n + ca != len(bb) - n + cb:
        return "ring_change"
    return "rearrangement"


# ----------------------------------------------------------------------------------------------
# starts


def _unit(v):
    nv = np.linalg.norm(v)
    return v / nv if nv > 1e-9 else v


def starts(rng, numbers, pos, cart_modes, cfg):
    """Start geometries for saddle searches: [(label, positions)]."""
    numbers = np.asarray(numbers)
    pos = np.asarray(pos)
    n = len(numbers)
    out = []
    # lowest vibrational modes, both signs, scaled to a max atomic displacement
    for k in range(min(cfg["low_modes"], cart_modes.shape[1])):
        m = cart_modes[:, k].reshape(-1, 3)
        m = m / np.linalg.norm(m, axis=1).max()
        for sgn in (1, -1):
            out.append((f"mode{k}{'+' if sgn > 0 else '-'}", pos + sgn * cfg["mode_amplitude_A"] * m))
    for k in range(cfg["random_starts"]):
        out.append((f"random{k}", pos + rng.normal(scale=cfg["random_sigma_A"], size=pos.shape)))
    b = bonds(numbers, pos)
    nbr = {i: set() for i in range(n)}
    for i, j in b:
        nbr[i].add(j)
        nbr[j].add(i)
    heavy = [i for i in range(n) if numbers[i] != 1]
    # 1,2-H shifts: H on A moves over the A-B bond
    shifts = [(h, a, c) for h in range(n) if numbers[h] == 1 for a in nbr[h] if numbers[a] != 1
              for c in nbr[a] if c != h and numbers[c] != 1]
    for h, a, c in _pick(rng, shifts, cfg["h_shift_starts"]):
        p = pos.copy()
        mid = 0.5 * (pos[a] + pos[c])
        side = _unit(pos[h] - mid - np.dot(pos[h] - mid, _unit(pos[c] - pos[a])) * _unit(pos[c] - pos[a]))
        p[h] = mid + cfg["bridge_height_A"] * side
        out.append((f"hshift{h}:{a}->{c}", p))
    # 1,3-H shifts (keto-enol, imine-enamine...): H on A moves over the A...C gap of A-B-C
    shifts13 = [(h, a, c) for h in range(n) if numbers[h] == 1 for a in nbr[h] if numbers[a] != 1
                for bb in nbr[a] if numbers[bb] != 1 for c in nbr[bb] if c != a and numbers[c] != 1]
    for h, a, c in _pick(rng, shifts13, cfg["h13_shift_starts"]):
        p = pos.copy()
        mid = 0.5 * (pos[a] + pos[c])
        u = _unit(pos[c] - pos[a])
        side = _unit(pos[h] - mid - np.dot(pos[h] - mid, u) * u)
        p[h] = mid + cfg["bridge_height_A"] * side
        out.append((f"h13shift{h}:{a}->{c}", p))
    # H2 eliminations: two H on the same heavy atom, or on bonded heavy atoms
    pairs = []
    for a in heavy:
        hs = sorted(i for i in nbr[a] if numbers[i] == 1)
        pairs += [(hs[x], hs[y]) for x in range(len(hs)) for y in range(x + 1, len(hs))]
    for a, c in b:
        if numbers[a] != 1 and numbers[c] != 1:
            pairs += [(h1, h2) for h1 in nbr[a] if numbers[h1] == 1 for h2 in nbr[c] if numbers[h2] == 1]
    for h1, h2 in _pick(rng, pairs, cfg["h2_starts"]):
        p = pos.copy()
        mid = 0.5 * (pos[h1] + pos[h2])
        u = _unit(pos[h2] - pos[h1])
        p[h1], p[h2] = mid - 0.5 * cfg["h2_distance_A"] * u, mid + 0.5 * cfg["h2_distance_A"] * u
        out.append((f"h2elim{h1}+{h2}", p))
    # stretched heavy-atom bonds: move the smaller side away
    hb = [(a, c) for a, c in sorted(b) if numbers[a] != 1 and numbers[c] != 1]
    for a, c in _pick(rng, hb, cfg["stretch_starts"]):
        p = pos.copy()
        d = pos[c] - pos[a]
        side = _side(n, b, a, c)
        p[side] += (cfg["stretch_factor"] - 1.0) * d
        out.append((f"stretch{a}-{c}", p))
    return [(lab, p) for lab, p in out if min_pair_ratio(numbers, p) > cfg["start_min_ratio"]]


def _pick(rng, items, k):
    items = sorted(set(items))
    if len(items) <= k:
        return items
    idx = rng.choice(len(items), size=k, replace=False)
    return [items[i] for i in sorted(idx)]


def _side(n, bond_set, a, c):
    """Atoms on c's side of the a-c bond (all atoms reachable from c without a); for a ring bond
    just c."""
    adj = {i: set() for i in range(n)}
    for i, j in bond_set:
        if {i, j} != {a, c}:
            adj[i].add(j)
            adj[j].add(i)
    seen, todo = {c}, [c]
    while todo:
        x = todo.pop()
        for y in adj[x]:
            if y not in seen:
                seen.add(y)
                todo.append(y)
    if a in seen:  # ring bond
        return [c]
    return sorted(seen)


# ----------------------------------------------------------------------------------------------
# searches


def vib(numbers, pos, hess):
    from generate import vib_analysis
    return vib_analysis(numbers, pos, hess)


def ts_search(numbers, start, cfg):
    """Sella order=1 from `start`. Returns (positions, converged, steps)."""
    from ase import Atoms
    from sella import Sella
    last = None
    for internal in (True, False):
        a = Atoms(numbers=numbers, positions=start)
        a.calc = xtb.TbliteAse()
        try:
            opt = Sella(a, order=1, internal=internal, logfile=None, trajectory=None,
                        hessian_function=xtb.hessian_function)
            ok = opt.run(fmax=cfg["ts_fmax_eV_A"], steps=cfg["ts_steps"])
            return a.positions.copy(), bool(ok), int(opt.nsteps)
        except Exception as e:  # noqa: BLE001  (internal-coordinate failures, SCF failures)
            last = e
    raise RuntimeError(f"Sella failed: {last}")


def verify_ts(numbers, pos):
    """The TS sample if `pos` is a first-order saddle by the level's own Hessian, else None."""
    e, f, h, asym = xtb.hessian(numbers, pos)
    freqs, modes, lam = vib(numbers, pos, h)
    if (freqs < -10).sum() != 1:
        return None, freqs
    return {"positions": np.asarray(pos), "energy": e, "forces": f, "hessian": h, "fd_asym": asym,
            "imag_cm": float(freqs[0])}, freqs


def irc(numbers, ts_pos, cfg):
    """Both IRC branches from a TS: {"forward": [positions], "reverse": [positions]} (TS excluded)."""
    from ase import Atoms
    from sella import IRC
    a = Atoms(numbers=numbers, positions=ts_pos)
    a.calc = xtb.TbliteAse()
    opt = IRC(a, logfile=None, trajectory=None, dx=cfg["irc_dx"], eta=1e-4, gamma=0.1, keep_going=True,
              hessian_function=xtb.hessian_function)
    out = {}
    for direction in ("forward", "reverse"):
        traj = []
        opt.attach(lambda: traj.append(a.positions.copy()), interval=1)
        try:
            opt.run(fmax=cfg["irc_fmax_eV_A"], steps=cfg["irc_steps"], direction=direction)
        except Exception:  # noqa: BLE001  keep what was traced
            pass
        opt.observers.clear()
        pts = [p for p in traj if np.abs(p - ts_pos).max() > 1e-6]
        out[direction] = pts
    return out


def relax(numbers, pos, fmax, steps=500):
    from ase import Atoms
    from ase.optimize import BFGS
    a = Atoms(numbers=numbers, positions=pos)
    a.calc = xtb.TbliteAse()
    opt = BFGS(a, logfile=None, maxstep=0.1)
    ok = opt.run(fmax=fmax, steps=steps)
    return a.positions.copy(), bool(ok)


def even_points(points, k):
    """k points spread evenly (by index) over a branch, the last one included."""
    if len(points) <= k:
        return list(points)
    idx = np.unique(np.round(np.linspace(0, len(points) - 1, k)).astype(int))
    return [points[i] for i in idx]
