#!/usr/bin/env python3
"""Where the direct Hessian loses the reaction mode (issue 12, reports/v3/README.md).

For the reference TSs of a split whose reaction mode is strongly negative (λ < LAM, eV/Å²), the
curvature along the reference's lowest eigenvector v, vᵀHv, is split into pair terms. With the
translational sum rule (H_ii = −Σ_{j≠i} H_ij, exact for the reference and for the head's sum-rule
diagonal), vᵀHv = Σ_{i<j} c_ij with c_ij = 2 v_iᵀH_ij v_j − v_iᵀH_ij v_i − v_jᵀH_ij v_j. The
"reaction pair" of a TS is the pair with the most negative reference c_ij (the bond being made or
broken); the script compares the model's direct c_ij there with the reference and sums the rest.

    python3 scripts/reaction_pairs.py CHECKPOINT [--split train] [--max 40] [--lam -1] [--hip BIN]
    python3 scripts/reaction_pairs.py CHECKPOINT --spread 8   # the TSs a `kinds = ["ts"]`,
        # `max_train = 8` run trained on (hip_model::train::spread_indices), whatever their λ

Runs `hip hessian --method direct` per sample (one thread); caches under /tmp/reaction_pairs/.
"""
import argparse, json, os, subprocess
import h5py
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("checkpoint")
p.add_argument("--data", default="datasets/gfn2-train.h5")
p.add_argument("--split", default="train")
p.add_argument("--max", type=int, default=40)
p.add_argument("--lam", type=float, default=-1.0)
p.add_argument("--hip", default="target/release/hip")
p.add_argument("--spread", type=int, default=0)
a = p.parse_args()

f = h5py.File(a.data, "r")
kind = json.loads(f.attrs["kind_names"]).index("ts")
split = json.loads(f.attrs["split_names"]).index(a.split)
cands = np.where((f["kind"][:] == kind) & (f["split"][:] == split))[0]
if a.spread:
    cands = [cands[k * len(cands) // a.spread] for k in range(min(a.spread, len(cands)))]
    a.lam, a.max = np.inf, len(cands)


def reference(i):
    n, o = int(f["n_atoms"][i]), int(f["hessian_offset"][i])
    d = 3 * n
    h = np.zeros((d, d))
    h[np.triu_indices(d)] = f["hessian_triu"][o:o + d * (d + 1) // 2]
    return h + h.T - np.diag(np.diag(h))


def direct(i):
    cache = f"/tmp/reaction_pairs/{os.path.abspath(a.checkpoint).replace('/', '_')}-{a.split}-{i}.npy"
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    if not os.path.exists(cache):
        subprocess.run([a.hip, "hessian", f"{a.data}:{i}", "--model", a.checkpoint, "--method", "direct",
                        "-o", cache], check=True, capture_output=True, env=dict(os.environ, RAYON_NUM_THREADS="1"))
    return np.load(cache)


def pair_terms(h, v):
    n = len(v)
    b = h.reshape(n, 3, n, 3)
    return {(i, j): 2 * v[i] @ b[i, :, j] @ v[j] - v[i] @ b[i, :, j] @ v[i] - v[j] @ b[i, :, j] @ v[j]
            for i in range(n) for j in range(i + 1, n)}


rows = []
for i in cands:
    href = reference(i)
    w, vecs = np.linalg.eigh(href)
    if w[0] >= a.lam:
        continue
    v = vecs[:, 0].reshape(-1, 3)
    hp = direct(i)
    cr, cp = pair_terms(href, v), pair_terms(hp, v)
    key = min(cr, key=cr.get)
    o0 = int(f["atom_offset"][i])
    z = f["atomic_numbers"][o0:o0 + len(v)]
    x = f["positions"][o0:o0 + len(v)]
    rows.append(dict(sample=int(i), lam=w[0], pred=float(vecs[:, 0] @ hp @ vecs[:, 0]), key_ref=cr[key],
                     key_pred=cp[key], rest_ref=sum(cr.values()) - cr[key], rest_pred=sum(cp.values()) - cp[key],
                     pair=f"{z[key[0]]}-{z[key[1]]}", mae=float(np.abs(hp - href).mean()), r=float(np.linalg.norm(x[key[0]] - x[key[1]]))))
    if len(rows) >= a.max:
        break

which = f"spread like a max_train = {a.spread} TS run" if a.spread else f"with λ < {a.lam} eV/Å² (the first in file order)"
print(f"checkpoint: {a.checkpoint}\n\n{len(rows)} reference TSs of the {a.split} split, {which}\n")
print("| sample | H MAE | λ_ref | vᵀH_direct v | reaction pair | r (Å) | c_ref | c_direct | rest ref | rest direct |")
print("| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r['sample']} | {r['mae']:.3f} | {r['lam']:.2f} | {r['pred']:.2f} | {r['pair']} | {r['r']:.2f} | {r['key_ref']:.2f} | "
          f"{r['key_pred']:.2f} | {r['rest_ref']:.2f} | {r['rest_pred']:.2f} |")
med = lambda k: float(np.median([r[k] for r in rows]))
ratio = np.median([r["key_pred"] / r["key_ref"] for r in rows])
print(f"\nmedians: H MAE {med('mae'):.3f} eV/Å², λ_ref {med('lam'):.2f}, direct {med('pred'):.2f}; reaction pair c_ref {med('key_ref'):.2f}, "
      f"c_direct {med('key_pred'):.2f} (median ratio {ratio:.2f}); rest ref {med('rest_ref'):.2f}, "
      f"direct {med('rest_pred'):.2f}; mean |error| reaction pair "
      f"{np.mean([abs(r['key_pred'] - r['key_ref']) for r in rows]):.2f}, rest "
      f"{np.mean([abs(r['rest_pred'] - r['rest_ref']) for r in rows]):.2f}")
