"""datasets/synthetic.py (the large file of the streaming check): N training samples made of
rotated copies of the source's, each copy's positions, forces and Hessian rotated by one proper
rotation and its energy kept; the source's other splits once; a file `hip data check` accepts."""

import os
import subprocess
import sys

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

HERE = os.path.dirname(__file__)
SOURCE = os.path.join(HERE, "..", "..", "crates", "hip-core", "tests", "fixtures", "smoke.h5")
SCRIPT = os.path.join(HERE, "..", "synthetic.py")


def sample(f, i):
    n, a, h = f["n_atoms"][i], f["atom_offset"][i], f["hessian_offset"][i]
    d = 3 * n
    hess = np.zeros((d, d))
    hess[np.triu_indices(d)] = f["hessian_triu"][h:h + d * (d + 1) // 2]
    return f["positions"][a:a + n], f["forces"][a:a + n], hess + np.triu(hess, 1).T


def test_rotated_copies_keep_the_labels_consistent(tmp_path):
    out = str(tmp_path / "synthetic.h5")
    subprocess.run([sys.executable, SCRIPT, "--source", SOURCE, "--samples", "40", "--out", out], check=True,
                   capture_output=True)
    with h5py.File(SOURCE, "r") as src, h5py.File(out, "r") as syn:
        train = np.flatnonzero(src["split"][:] == 0)
        others = np.flatnonzero(src["split"][:] != 0)
        assert (syn["split"][:] == 0).sum() == 40
        assert len(syn["split"]) == 40 + len(others)
        for k in range(40):
            i = train[k % len(train)]
            p0, f0, h0 = sample(src, i)
            p1, f1, h1 = sample(syn, k)
            assert syn["energy"][k] == src["energy"][i]
            # the proper rotation that takes the source's centred positions to the copy's (Kabsch;
            # a planar molecule fits a reflection as well, so the sign is fixed)
            c0, c1 = p0 - p0.mean(0), p1 - p1.mean(0)
            u, _, vt = np.linalg.svd(c1.T @ c0)
            rot = u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))]) @ vt
            b = np.kron(np.eye(len(p0)), rot)
            # 1e-12 Å / eV/Å: float64 rounding of a rotation; the Hessian is stored as float32
            assert np.abs(c0 @ rot.T - c1).max() < 1e-12
            assert np.abs(f0 @ rot.T - f1).max() < 1e-12
            assert np.abs(b @ h0 @ b.T - h1).max() <= 1e-6 * np.abs(h0).max()
    hip = os.path.join(HERE, "..", "..", "target", "release", "hip")
    if os.path.exists(hip):
        r = subprocess.run([hip, "data", "check", out], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
