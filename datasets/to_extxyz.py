#!/usr/bin/env python3
"""Writes one split of a hip-hessian-dataset file as extended XYZ for MACE (REF_energy,
REF_forces), so the MACE reference trains on exactly the samples our models see.

    python datasets/to_extxyz.py datasets/gfn2-train.h5 train /tmp/train.xyz [--max N]
"""
import argparse
import json

import h5py
import numpy as np
from ase import Atoms
from ase.io import write

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("split")
ap.add_argument("out")
ap.add_argument("--max", type=int, default=0, help="at most N samples, spread evenly (as hip train does)")
a = ap.parse_args()
with h5py.File(a.file) as f:
    names = json.loads(f.attrs["split_names"])
    idx = np.where(f["split"][:] == names.index(a.split))[0]
    if a.max and a.max < len(idx):
        idx = idx[(np.arange(a.max) * len(idx)) // a.max]
    n, ao = f["n_atoms"][:], f["atom_offset"][:]
    z, pos, frc, e = f["atomic_numbers"][:], f["positions"][:], f["forces"][:], f["energy"][:]
    frames = []
    for i in idx:
        s = slice(ao[i], ao[i] + n[i])
        at = Atoms(numbers=z[s], positions=pos[s], pbc=False)
        at.info["REF_energy"] = float(e[i])
        at.arrays["REF_forces"] = frc[s]
        frames.append(at)
write(a.out, frames, format="extxyz")
print(f"{a.out}: {len(frames)} frames of the {a.split} split of {a.file}")
