"""datasets/horm.py: HORM's LMDB into the project's HDF5, and nothing from the file ever runs.

The sample (datasets/horm/sample_100.lmdb, HORM's public file) imports to the decoded values;
corrupt and hostile files get one HormError each. Needs lmdb and h5py (datasets/requirements.txt).
"""
import os
import pickle
import shutil
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
lmdb = pytest.importorskip("lmdb")
h5py = pytest.importorskip("h5py")
import horm  # noqa: E402

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "horm", "sample_100.lmdb")


def records(path):
    env = lmdb.open(path, subdir=False, readonly=True, lock=False)
    with env.begin() as txn:
        out = {k.decode(): v for k, v in txn.cursor()}
    env.close()
    return out


def write_lmdb(path, items):
    env = lmdb.open(path, subdir=False, map_size=1 << 26)
    with env.begin(write=True) as txn:
        for k, v in items.items():
            txn.put(k.encode(), v)
    env.close()


def test_the_sample_imports_to_the_decoded_values(tmp_path):
    out = str(tmp_path / "horm.h5")
    assert horm.import_lmdb(SAMPLE, out) == 100
    raw = records(SAMPLE)
    with h5py.File(out, "r") as f:
        assert f.attrs["format_name"] == "hip-hessian-dataset" and f.attrs["level_of_theory"] == "wB97X/6-31G(d)"
        n, ao, ho = f["n_atoms"][:], f["atom_offset"][:], f["hessian_offset"][:]
        assert 8 <= n.min() and n.max() <= 21  # the README's range
        # 48 of the 100 have exactly one negative vibrational mode (HORM's README)
        assert (f["n_negative_modes"][:] == 1).sum() == 48 and (f["kind"][:] == 3).sum() == 48
        for k in range(100):
            z, pos, e, ae, forces, h, asym = horm.decode_record(raw[str(k)])
            a = slice(ao[k], ao[k] + n[k])
            assert np.array_equal(f["atomic_numbers"][a], z)
            assert np.array_equal(f["positions"][a], pos) and np.array_equal(f["forces"][a], forces)
            assert f["energy"][k] == e and f["energy_atomization"][k] == ae
            d = 3 * n[k]
            tri = f["hessian_triu"][ho[k]:ho[k] + d * (d + 1) // 2]
            full = np.zeros((d, d))
            full[np.triu_indices(d)] = tri
            full = full + np.triu(full, 1).T
            # stored as float32: equal to the symmetrized Hessian to float32 rounding
            assert np.allclose(full, h, rtol=1e-6, atol=1e-6 * np.abs(h).max())
            assert np.array_equal(h, h.T) and asym == f["hessian_asymmetry"][k]
            assert set(np.unique(z)) <= {1, 6, 7, 8}
    # the decoded values are HORM's: float32 positions in Å (a C–H bond is ~1.1 Å), eV energies
    z, pos, e, ae, forces, h, asym = horm.decode_record(raw["0"])
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + 10 * np.eye(len(z))
    assert 0.9 < d.min() < 1.6 and e < -1000 and asym < 1e-2 * np.abs(h).max()


class Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/horm-test-pwned",))


@pytest.mark.parametrize("case", ["hostile-global", "bad-hessian", "missing-key", "bad-length", "garbage-value",
                                  "truncated-file", "not-lmdb", "no-file"])
def test_corrupt_and_hostile_files_get_one_clear_error(tmp_path, case):
    src = str(tmp_path / "bad.lmdb")
    raw = records(SAMPLE)
    if os.path.exists("/tmp/horm-test-pwned"):
        os.remove("/tmp/horm-test-pwned")
    if case == "hostile-global":
        raw["3"] = pickle.dumps(Boom())
        write_lmdb(src, raw)
        want = "key '3': refusing posix.system"
    elif case == "bad-hessian":
        blob = raw["5"]
        # the Data of record 5 with the pos tensor of record 0 (another atom count)
        z0 = horm.decode_record(raw["0"])[0]
        z5 = horm.decode_record(blob)[0]
        assert len(z0) != len(z5)
        raw["5"] = blob.replace(b"hessian", b"hessiax")
        write_lmdb(src, raw)
        want = "key '5': missing fields ['hessian']"
    elif case == "missing-key":
        del raw["7"]
        write_lmdb(src, raw)
        want = "key '7' is missing"
    elif case == "bad-length":
        raw["length"] = pickle.dumps("100")
        write_lmdb(src, raw)
        want = "key 'length' is '100', not a count"
    elif case == "garbage-value":
        raw["2"] = raw["2"][:500]
        write_lmdb(src, raw)
        want = "key '2':"
    elif case == "truncated-file":
        with open(SAMPLE, "rb") as f:
            data = f.read()
        with open(src, "wb") as f:
            f.write(data[: len(data) // 3])
        want = src
    elif case == "not-lmdb":
        with open(src, "wb") as f:
            f.write(os.urandom(4096))
        want = src
    else:
        want = "no such file"
    out = str(tmp_path / "out.h5")
    with pytest.raises(horm.HormError) as e:
        horm.import_lmdb(src, out)
    assert want in str(e.value), str(e.value)
    assert not os.path.exists("/tmp/horm-test-pwned"), "code from the file ran"
    assert not os.path.exists(out)
    # the command line: exit status 1, one line on stderr, no partial output
    assert horm.main(["import", src, out]) == 1
    assert not os.path.exists(out) and not os.path.exists(out + ".tmp")


def test_the_project_reads_the_import(tmp_path):
    hip = os.path.join(os.path.dirname(__file__), "..", "..", "target", "release", "hip")
    if not os.path.exists(hip):
        pytest.skip("no release build")
    out = str(tmp_path / "horm.h5")
    horm.import_lmdb(SAMPLE, out)
    import subprocess
    r = subprocess.run([hip, "data", "check", out], capture_output=True, text=True)
    assert r.returncode == 0 and "OK (100 samples checked" in r.stdout, r.stdout + r.stderr
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_the_committed_import_is_the_import_of_the_vendored_sample(tmp_path):
    """datasets/horm/sample_100.h5 (what `hip report`'s DFT section reads, without Python) holds
    exactly what `horm.py import datasets/horm/sample_100.lmdb OUT --split test` writes: every
    dataset equal, and the attributes other than the creation time."""
    committed = os.path.join(os.path.dirname(SAMPLE), "sample_100.h5")
    out = str(tmp_path / "horm.h5")
    horm.import_lmdb(SAMPLE, out, split="test")
    with h5py.File(committed, "r") as a, h5py.File(out, "r") as b:
        assert sorted(a.keys()) == sorted(b.keys())
        for k in a.keys():
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k][()], b[k][()]), k
        skip = {"created", "wall_time_s", "task_cpu_wall_s"}
        assert {k for k in a.attrs if k not in skip} == {k for k in b.attrs if k not in skip}
        for k in a.attrs:
            if k not in skip:
                assert np.array_equal(np.asarray(a.attrs[k]), np.asarray(b.attrs[k])), k
