"""datasets/dft_rb.py (wB97X labels of issue 36, item 4): the selection keeps out every composition
of the evaluation set and orders samples so that prefixes are spread over reactions with TSs
first; assembly writes the labels of finished shards with the source's metadata; a shard that is
not plain numpy arrays of consistent shapes is refused with an error naming it. PySCF is not run:
the shards here are made up (the labels' values are not what is tested)."""

import os
import subprocess
import sys

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, ".."))
import dft_rb  # noqa: E402

SOURCE = os.path.join(HERE, "..", "gfn2-rb.h5")
EXCLUDE = os.path.join(HERE, "..", "horm", "sample_100.h5")
HIP = os.path.join(HERE, "..", "..", "target", "release", "hip")


@pytest.fixture(scope="module")
def sources():
    return dft_rb.Source(SOURCE), dft_rb.Source(EXCLUDE)


def test_selection_excludes_evaluation_compositions_and_spreads_prefixes(sources):
    src, exclude = sources
    order, summary = dft_rb.select(src, exclude, max_atoms=12)
    again, _ = dft_rb.select(src, exclude, max_atoms=12)
    assert order == again  # deterministic
    assert len(set(order)) == len(order) == summary["selected"]
    banned = {exclude.composition(j) for j in range(len(exclude))}
    train_val = {src.split_names.index("train"), src.split_names.index("val")}
    for i in order:
        assert src.n_atoms[i] <= 12 and src.composition(i) not in banned and src.split[i] in train_val
    # every sample that passes the three rules is selected
    eligible = [i for i in range(len(src)) if src.n_atoms[i] <= 12 and src.split[i] in train_val
                and src.composition(i) not in banned]
    assert sorted(order) == sorted(eligible)
    # the first round takes one sample of each reaction, a TS wherever the reaction has one
    n_rxn = summary["reactions"]
    first = order[:n_rxn]
    assert len({int(src.reaction_index[i]) for i in first}) == n_rxn
    ts = src.kind_names.index("ts")
    with_ts = {int(src.reaction_index[i]) for i in order if src.kind[i] == ts}
    assert all(src.kind[i] == ts for i in first if int(src.reaction_index[i]) in with_ts)


def fake_shard(src, i, work):
    z, x = src.atoms(i)
    n = len(z)
    rng = np.random.default_rng(i)
    h = rng.normal(size=(3 * n, 3 * n))
    np.savez_compressed(dft_rb.shard_path(work, i, "npz"), source_index=np.int64(i), numbers=z.astype(np.uint8),
                        positions=x, energy=np.float64(-1000.0 - i), forces=rng.normal(size=(n, 3)),
                        hessian=h + h.T, cpu_s=np.float64(1.0), wall_s=np.float64(1.0))
    return h + h.T


def test_assembly_writes_the_shards_labels_with_the_sources_metadata(tmp_path, sources):
    src, exclude = sources
    work = str(tmp_path)
    order, summary = dft_rb.select(src, exclude, max_atoms=12)
    import json
    with open(os.path.join(work, "selection.json"), "w") as f:
        json.dump({"summary": summary, "order": order}, f)
    os.makedirs(os.path.join(work, "wb97x"))
    hess = {i: fake_shard(src, i, work) for i in order[:4]}
    with open(dft_rb.shard_path(work, order[4], "failed"), "w") as f:
        f.write("SCF did not converge\n")
    out = str(tmp_path / "out.h5")
    r = subprocess.run([sys.executable, os.path.join(HERE, "..", "dft_rb.py"), "--work", work, "assemble",
                        "--limit", "6", "--out", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "4 samples (1 failed, 1 not run)" in r.stdout
    with h5py.File(out, "r") as f:
        assert list(f["source_index"][:]) == order[:4]
        assert f.attrs["level_of_theory"] == "wB97X/6-31G(d)"
        for k, i in enumerate(order[:4]):
            n, a, ho = f["n_atoms"][k], f["atom_offset"][k], f["hessian_offset"][k]
            z, x = src.atoms(i)
            assert np.array_equal(f["positions"][a:a + n], x) and np.array_equal(f["atomic_numbers"][a:a + n], z)
            assert f["energy"][k] == -1000.0 - i
            d = 3 * n
            assert np.array_equal(f["hessian_triu"][ho:ho + d * (d + 1) // 2],
                                  hess[i][np.triu_indices(d)].astype(np.float32))
            assert f["kind"][k] == src.kind[i] and f["split"][k] == src.split[i]
            assert f["molecule_id"][f["molecule_index"][k]].decode() == src.molecule_id[src.molecule_index[i]]
    if os.path.exists(HIP):
        r = subprocess.run([HIP, "data", "check", out], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_a_shard_with_a_pickle_or_wrong_shapes_is_refused(tmp_path, sources):
    src, _ = sources
    bad = str(tmp_path / "s00001.npz")
    np.savez(bad, numbers=np.array([1, 1], dtype=np.uint8), positions=np.zeros((2, 3)), forces=np.zeros((2, 3)),
             hessian=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="s00001.npz: not a shard of numpy arrays"):
        dft_rb.load_shard(bad)
    np.savez(bad, numbers=np.array([1, 1], dtype=np.uint8), positions=np.zeros((2, 3)), forces=np.zeros((2, 3)),
             hessian=np.zeros((5, 6)), energy=np.float64(0.0), cpu_s=np.float64(0.0))
    with pytest.raises(ValueError, match="s00001.npz: inconsistent array shapes"):
        dft_rb.load_shard(bad)
