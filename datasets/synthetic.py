"""A large synthetic training file for `hip train --stream` (issue "HORM and DFT", item 2): the
train split of a dataset file repeated as randomly rotated copies (positions, forces and Hessian
rotated together, energies unchanged: valid labels of the same level of theory) until the file
holds N training samples; the source's val and test samples are kept once. Written chunk by chunk
(constant memory), uncompressed, in chunks sized for on-demand reads. Not committed: the point is a
file larger than what training could hold in memory.

    python3 datasets/synthetic.py --source datasets/gfn2-train.h5 --samples 1000000 --out /tmp/synthetic-1m.h5
"""

import argparse
import json
import time

import h5py
import numpy as np

PER_SAMPLE = ["energy", "irc_branch", "irc_index", "kind", "molecule_index", "n_atoms", "reaction_index",
              "sigma", "split", "sum_rule_residual", "temperature"]
TABLES = ["molecule_id", "molecule_smiles", "reaction_class", "reaction_description", "reaction_end_samples",
          "reaction_id", "reaction_source", "reaction_ts_sample"]


def rotations(rng, k):
    """k uniformly random proper rotations (QR of Gaussian matrices, signs fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(k, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    q[np.linalg.det(q) < 0, :, 0] *= -1
    return q


def rotate_sample(pos, forces, triu, rot):
    """Rotated copies of one sample: positions and forces (n, 3) and the upper-triangle Hessian."""
    n = pos.shape[0]
    d = 3 * n
    iu = np.triu_indices(d)
    h = np.zeros((d, d))
    h[iu] = triu
    h = h + np.triu(h, 1).T
    h4 = h.reshape(n, 3, n, 3)
    out_h = np.einsum("kij,ajbl,kml->kaibm", rot, h4, rot).reshape(len(rot), d, d)
    return pos @ rot.transpose(0, 2, 1), forces @ rot.transpose(0, 2, 1), out_h[:, iu[0], iu[1]].astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", required=True)
    ap.add_argument("--samples", type=int, default=1_000_000, help="training samples of the file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    t0 = time.time()
    rng = np.random.default_rng(a.seed)
    src = h5py.File(a.source, "r")
    split = src["split"][:]
    n_atoms = src["n_atoms"][:]
    atom_off = src["atom_offset"][:]
    hess_off = src["hessian_offset"][:]
    train = np.flatnonzero(split == 0)
    others = np.flatnonzero(split != 0)
    copies = -(-a.samples // len(train))
    order = [(i, c) for c in range(copies) for i in train][: a.samples] + [(i, -1) for i in others]
    count = len(order)
    atoms = int(sum(n_atoms[i] for i, _ in order))
    hess = int(sum((3 * n_atoms[i]) * (3 * n_atoms[i] + 1) // 2 for i, _ in order))
    out = h5py.File(a.out, "w")
    for k, v in src.attrs.items():
        out.attrs[k] = v
    out.attrs["synthetic"] = json.dumps({"source": a.source, "train_samples": a.samples, "seed": a.seed,
                                         "what": "randomly rotated copies of the source's train split"})
    for name in TABLES:
        if name in src:
            src.copy(src[name], out, name)
    present = [name for name in PER_SAMPLE if name in src]
    per = {name: out.create_dataset(name, (count,), dtype=src[name].dtype) for name in present}
    out.create_dataset("atom_offset", (count,), dtype="int64")
    out.create_dataset("hessian_offset", (count,), dtype="int64")
    rows = lambda n, c: min(n, c)  # a chunk no longer than the data (small files)
    numbers = out.create_dataset("atomic_numbers", (atoms,), dtype="uint8", chunks=(rows(atoms, 16384),))
    positions = out.create_dataset("positions", (atoms, 3), dtype="float64", chunks=(rows(atoms, 4096), 3))
    forces = out.create_dataset("forces", (atoms, 3), dtype="float64", chunks=(rows(atoms, 4096), 3))
    triu = out.create_dataset("hessian_triu", (hess,), dtype="float32", chunks=(rows(hess, 65536),))
    src_tables = {name: src[name][:] for name in present}
    src_numbers, src_pos, src_forces = src["atomic_numbers"][:], src["positions"][:], src["forces"][:]
    src_triu = src["hessian_triu"][:]
    a_at = h_at = 0
    block = 4096
    for b0 in range(0, count, block):
        part = order[b0:b0 + block]
        idx = np.array([i for i, _ in part])
        for name in present:
            per[name][b0:b0 + len(part)] = src_tables[name][idx]
        nums, ps, fs, hs, aoff, hoff = [], [], [], [], [], []
        for i, c in part:
            n = n_atoms[i]
            a0, h0, hl = atom_off[i], hess_off[i], (3 * n) * (3 * n + 1) // 2
            p, f, h = src_pos[a0:a0 + n], src_forces[a0:a0 + n], src_triu[h0:h0 + hl]
            if c > 0:  # copy 0 and the val/test samples stay as they are
                p, f, h = (x[0] for x in rotate_sample(p, f, h, rotations(rng, 1)))
            aoff.append(a_at + sum(len(x) for x in nums))
            hoff.append(h_at + sum(len(x) for x in hs))
            nums.append(src_numbers[a0:a0 + n])
            ps.append(p)
            fs.append(f)
            hs.append(np.asarray(h, dtype=np.float32))
        na, nh = sum(len(x) for x in nums), sum(len(x) for x in hs)
        out["atom_offset"][b0:b0 + len(part)] = aoff
        out["hessian_offset"][b0:b0 + len(part)] = hoff
        numbers[a_at:a_at + na] = np.concatenate(nums)
        positions[a_at:a_at + na] = np.concatenate(ps)
        forces[a_at:a_at + na] = np.concatenate(fs)
        triu[h_at:h_at + nh] = np.concatenate(hs)
        a_at, h_at = a_at + na, h_at + nh
        if (b0 // block) % 25 == 0:
            print(f"{b0 + len(part)}/{count} samples, {time.time() - t0:.0f} s", flush=True)
    out.close()
    print(f"{a.out}: {count} samples ({a.samples} train), {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
