#!/usr/bin/env python3
"""Writes the samples of a v1 dataset that pass the data-v2 geometry filter (datasets/README.md)
to a new file of the same format: a clean stand-in for ablations until data v2 is complete.

    python datasets/filter_v1.py datasets/gfn2-train.h5 datasets/work/gfn2-v1-filtered.h5
"""
import json
import sys

import h5py
import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
import discovery  # noqa: E402
from generate import GFN2_SETTINGS  # noqa: E402

src, dst = sys.argv[1], sys.argv[2]
flt = GFN2_SETTINGS["filter"]
with h5py.File(src) as f:
    n = f["n_atoms"][:]
    ao = f["atom_offset"][:]
    ho = f["hessian_offset"][:]
    z = f["atomic_numbers"][:]
    pos = f["positions"][:]
    e = f["energy"][:]
    kind = f["kind"][:]
    mol = f["molecule_index"][:]
    rxn = f["reaction_index"][:]
    kinds = json.loads(f.attrs["kind_names"])
    e_ref = {}
    for i in range(len(n)):
        if kinds[kind[i]] == "minimum":
            e_ref[mol[i]] = min(e_ref.get(mol[i], np.inf), e[i])
    keep = []
    for i in range(len(n)):
        zi, pi = z[ao[i]:ao[i] + n[i]], pos[ao[i]:ao[i] + n[i]]
        bound = flt["max_e_reaction_eV"] if rxn[i] >= 0 else flt["max_e_per_atom_sampled_eV"] * n[i]
        if discovery.min_pair_ratio(zi, pi) >= flt["min_pair_ratio"] and e[i] - e_ref.get(mol[i], e[i]) <= bound:
            keep.append(i)
    keep = np.array(keep)
    tri = 3 * n * (3 * n + 1) // 2
    with h5py.File(dst, "w") as g:
        for k, v in f.attrs.items():
            g.attrs[k] = v
        g.attrs["filter"] = json.dumps(flt)
        g.attrs["derived_from"] = f"{src}: samples passing the v2 filter ({len(keep)} of {len(n)})"
        nk = n[keep]
        g["n_atoms"] = nk
        g["atom_offset"] = np.r_[0, np.cumsum(nk)[:-1]]
        g["hessian_offset"] = np.r_[0, np.cumsum(tri[keep])[:-1]]
        atoms = np.concatenate([np.arange(ao[i], ao[i] + n[i]) for i in keep])
        hess = f["hessian_triu"][:]
        for name in ("atomic_numbers", "positions", "forces"):
            g.create_dataset(name, data=f[name][:][atoms], compression="gzip", shuffle=True)
        g.create_dataset("hessian_triu", data=np.concatenate([hess[ho[i]:ho[i] + tri[i]] for i in keep]),
                         compression="gzip", shuffle=True)
        for name in ("energy", "split", "kind", "molecule_index", "reaction_index", "sum_rule_residual",
                     "temperature", "sigma"):
            g[name] = f[name][:][keep]
        for name in ("molecule_id", "molecule_smiles", "reaction_id", "reaction_description"):
            g.create_dataset(name, data=f[name][:], dtype=h5py.string_dtype("utf-8"))
print(f"{dst}: kept {len(keep)} of {len(n)} samples")
