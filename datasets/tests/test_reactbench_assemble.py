"""datasets/reactbench.py assemble: finished train-half shards into one dataset file the project
reads, with the held-out check (needs h5py and rdkit; the shards are the committed ones)."""
import argparse
import glob
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
h5py = pytest.importorskip("h5py")
pytest.importorskip("rdkit")
import reactbench  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARDS = sorted(glob.glob(os.path.join(HERE, "..", "shards-rb", "gfn2", "rb_*.pkl.gz")))


def test_three_shards_assemble_into_a_checked_file(tmp_path):
    if len(SHARDS) < 3:
        pytest.skip("no committed train-half shards")
    os.makedirs(tmp_path / "work" / "gfn2")
    for f in SHARDS[:3]:
        shutil.copy(f, tmp_path / "work" / "gfn2")
    out = str(tmp_path / "rb.h5")
    reactbench.assemble(argparse.Namespace(work=str(tmp_path / "work"), out=out))
    with h5py.File(out, "r") as f:
        assert f.attrs["format_name"] == "hip-hessian-dataset" and f.attrs["level_of_theory"] == "GFN2-xTB"
        ids = [x.decode() if isinstance(x, bytes) else x for x in f["reaction_id"][:]]
        names = sorted("rb:" + os.path.basename(p)[3:-7] for p in SHARDS[:3])
        assert sorted(ids) == [n for n in names if n in ids] and ids, (ids, names)
        assert len(f["energy"]) > 0
    hip = os.path.join(HERE, "..", "..", "target", "release", "hip")
    if os.path.exists(hip):
        r = subprocess.run([hip, "data", "check", out], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    # a file holding a held-out molecule is refused
    with h5py.File(out, "a") as f:
        key = sorted(reactbench.held_out_keys())[0]
        f["molecule_id"][0] = "rb:" + key
    with pytest.raises(SystemExit, match="molecules of the test half or the validation part"):
        reactbench.check_file(out)
