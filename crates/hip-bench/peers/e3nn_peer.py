#!/usr/bin/env python3
"""Peer benchmark: a comparable equivariant model in PyTorch + e3nn, timed on the same molecules.

Same architecture choices as hip-rs' default model: node irreps 16x0e+8x1o+8x1e+4x2e, 2
interaction layers, spherical harmonics to l=2, 8 Bessel functions with a polynomial envelope,
5 A cutoff, uvu tensor-product convolutions with radial-MLP weights, gated nonlinearity, f64,
random weights (fine for timing). Prints one JSON object: per size, energy+forces and autograd
Hessian (energy, forces and Hessian) times with hip-bench's protocol (warm-up, interleaved rounds,
>= --min-runs runs each and >= --budget s; median, min, max, runs), torch/e3nn versions and
thread count.

    pip install torch e3nn
    OMP_NUM_THREADS=2 python crates/hip-bench/peers/e3nn_peer.py [--sizes 5 10 20 30] [--threads 2]

Run it on an idle machine: torch's OpenMP threads spin-wait, so with --threads 2 and one core
busy with another process its times grow 10-100x (measured here: 5 atoms, E+F 8 ms with one
thread, 730 ms with two threads beside a one-core training job).

`hip bench --peer` runs this script and adds its output to the report's notes.
"""
import argparse
import json
import math
import os
import time

# e3nn 0.4.4 loads its Wigner constants with torch.load, which PyTorch >= 2.6 refuses by default
# (weights_only=True). The file is e3nn's own, shipped in its wheel, so the full loader is safe.
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

import torch
from e3nn import o3
from e3nn.nn import Gate

torch.set_default_dtype(torch.float64)


def alkane(n_atoms):
    """The same zig-zag alkane as hip_bench::molecules::alkane (carbons first)."""
    n_c = max(1, -(-max(n_atoms - 2, 0) // 3))
    atoms = [(6, [1.27 * i, 0.0 if i % 2 == 0 else 0.89, 0.0]) for i in range(n_c)]
    for i in range(n_c):
        c = atoms[i][1]
        up = -1.0 if i % 2 == 0 else 1.0
        for s in (-1.0, 1.0):
            atoms.append((1, [c[0], c[1] + 0.63 * up, 0.89 * s]))
    atoms.append((1, [-1.0, -0.4, 0.0]))
    atoms.append((1, [1.27 * n_c, -0.4 if n_c % 2 == 0 else 1.3, 0.0]))
    atoms = atoms[:n_atoms]
    z = torch.tensor([0 if a[0] == 1 else 1 for a in atoms])
    return z, torch.tensor([a[1] for a in atoms])


class Conv(torch.nn.Module):
    def __init__(self, irreps_in, irreps_out, sh, num_basis=8, hidden=16):
        super().__init__()
        scalars = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l == 0])
        gated = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l > 0])
        gates = o3.Irreps(f"{gated.num_irreps}x0e")
        self.gate = Gate(scalars, [torch.nn.functional.silu], gates, [torch.sigmoid], gated)
        mid, instr = [], []
        for i1, (m1, ir1) in enumerate(irreps_in):
            for i2, (_, ir2) in enumerate(sh):
                for ir in ir1 * ir2:
                    if ir in self.gate.irreps_in:
                        instr.append((i1, i2, len(mid), "uvu", True))
                        mid.append((m1, ir))
        self.tp = o3.TensorProduct(irreps_in, sh, o3.Irreps(mid), instr, shared_weights=False, internal_weights=False)
        self.radial = torch.nn.Sequential(torch.nn.Linear(num_basis, hidden), torch.nn.SiLU(), torch.nn.Linear(hidden, hidden),
                                          torch.nn.SiLU(), torch.nn.Linear(hidden, self.tp.weight_numel))
        self.lin = o3.Linear(self.tp.irreps_out, self.gate.irreps_in)
        self.self_int = o3.Linear(irreps_in, self.gate.irreps_in)

    def forward(self, x, src, dst, sh, rad):
        msg = self.tp(x[src], sh, self.radial(rad))
        agg = torch.zeros(x.shape[0], msg.shape[1]).index_add(0, dst, msg) / 8.0
        return self.gate(self.lin(agg) + self.self_int(x))


class Model(torch.nn.Module):
    def __init__(self, hidden="16x0e+8x1o+8x1e+4x2e", layers=2, cutoff=5.0):
        super().__init__()
        self.cutoff = cutoff
        self.sh = o3.Irreps.spherical_harmonics(2)
        hidden = o3.Irreps(hidden)
        self.embed = torch.nn.Linear(2, 16)
        irreps = o3.Irreps("16x0e")
        self.convs = torch.nn.ModuleList()
        for _ in range(layers):
            self.convs.append(Conv(irreps, hidden, self.sh))
            irreps = hidden
        self.readout = o3.Linear(hidden, "1x0e")

    def forward(self, z, pos):
        n = pos.shape[0]
        d = pos[:, None, :] - pos[None, :, :]
        r = d.norm(dim=-1) + torch.eye(n) * 1e3
        src, dst = torch.nonzero(r < self.cutoff, as_tuple=True)
        vec = pos[dst] - pos[src]
        length = vec.norm(dim=-1, keepdim=True)
        sh = o3.spherical_harmonics(self.sh, vec, normalize=True, normalization="component")
        nb = torch.arange(1, 9)
        x = length / self.cutoff
        p = 6.0
        env = 1 - (p + 1) * (p + 2) / 2 * x**p + p * (p + 2) * x ** (p + 1) - p * (p + 1) / 2 * x ** (p + 2)
        rad = math.sqrt(2 / self.cutoff) * torch.sin(nb * math.pi * length / self.cutoff) / length * env
        h = self.embed(torch.nn.functional.one_hot(z, 2).double())
        for c in self.convs:
            h = c(h, src, dst, sh, rad) + (h if h.shape[1] == c.gate.irreps_out.dim else 0)
        return self.readout(h).sum()


def time_interleaved(calls, min_runs, budget_s):
    """hip-bench's protocol (`speed::time_interleaved`): one warm-up call each, then rounds
    A B A B ... until every call has >= min_runs timed runs and >= budget_s s have passed.
    Returns per call the sorted run times in ms."""
    for f in calls:
        f()
    times = [[] for _ in calls]
    t0 = time.perf_counter()
    while any(len(t) < max(min_runs, 1) for t in times) or time.perf_counter() - t0 < budget_s:
        for k, f in enumerate(calls):
            t = time.perf_counter()
            f()
            times[k].append((time.perf_counter() - t) * 1e3)
    return [sorted(t) for t in times]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[5, 10, 20, 30])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-runs", type=int, default=5, help="timed runs per provider and size, at least")
    ap.add_argument("--budget", type=float, default=0.0, help="seconds of rounds per size, at least")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Model()
    rows = []
    for n in args.sizes:
        z, pos = alkane(n)

        def ef():
            p = pos.clone().requires_grad_(True)
            e = model(z, p)
            (g,) = torch.autograd.grad(e, p)
            return e, -g

        def hess():
            p = pos.clone().requires_grad_(True)
            e = model(z, p)
            (g,) = torch.autograd.grad(e, p, create_graph=True)
            g = g.reshape(-1)
            return torch.stack([torch.autograd.grad(g[k], p, retain_graph=True)[0].reshape(-1) for k in range(g.numel())])

        t_ef, t_h = time_interleaved([ef, hess], args.min_runs, args.budget)
        rows.append({"n_atoms": n, "runs": len(t_h),
                     "energy_forces_ms": t_ef[len(t_ef) // 2], "energy_forces_min_ms": t_ef[0], "energy_forces_max_ms": t_ef[-1],
                     "autograd_hessian_ms": t_h[len(t_h) // 2], "autograd_hessian_min_ms": t_h[0], "autograd_hessian_max_ms": t_h[-1]})
    import e3nn
    print(json.dumps({"torch": torch.__version__, "e3nn": e3nn.__version__, "threads": args.threads, "rows": rows}))


if __name__ == "__main__":
    main()
