"""Overhead of a Python call of hip_rs against the same call timed inside Rust.

For water and a 30-atom molecule (1-nonanol, nonanol.xyz) and for `hessian` (direct: one forward
pass) and `predict` (energy, forces and direct Hessian), each repetition times, interleaved:
- the Python call (`model.hessian(...)` / `model.predict(...)`, perf_counter around it: numpy
  conversion and checks in, the model, numpy arrays out), and
- the same Rust call timed in-process (`Model._rust_seconds`, the `HipModel` method the `hip`
  binary calls, on the already converted molecule).
Both use the same weights and threads. Reports min/median/max in ms and the median overhead.

    python crates/hip-py/bench/overhead.py [--repeats 30] [--json out.json]
"""

import argparse
import json
import pathlib
import platform
import statistics
import time

import numpy as np

import hip_rs

HERE = pathlib.Path(__file__).resolve().parent
NUMBERS = {"H": 1, "C": 6, "N": 7, "O": 8}


def read_xyz(path):
    lines = path.read_text().splitlines()
    n = int(lines[0])
    rows = [line.split() for line in lines[2 : 2 + n]]
    return [NUMBERS[r[0]] for r in rows], np.array([[float(v) for v in r[1:4]] for r in rows])


def stats(xs):
    ms = [1e3 * x for x in xs]
    return {"min_ms": min(ms), "median_ms": statistics.median(ms), "max_ms": max(ms), "runs": len(ms)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--json")
    args = ap.parse_args()
    model = hip_rs.Model.load()
    water = ([8, 1, 1], np.array([[0.0, 0.0, 0.117], [0.0, 0.757, -0.469], [0.0, -0.757, -0.469]]))
    cases = {"water (3 atoms)": water, "1-nonanol (30 atoms)": read_xyz(HERE / "nonanol.xyz")}
    rows = []
    for name, (z, x) in cases.items():
        for what in ("hessian", "predict"):
            call = getattr(model, what)
            call(z, x)  # warm-up
            py, rs = [], []
            for _ in range(args.repeats):
                t = time.perf_counter()
                call(z, x)
                py.append(time.perf_counter() - t)
                rs.append(model._rust_seconds(z, x, what=what)[0])
            row = {"molecule": name, "call": what, "python": stats(py), "rust": stats(rs)}
            row["overhead_median_ms"] = row["python"]["median_ms"] - row["rust"]["median_ms"]
            rows.append(row)
            print(
                f"{name:22s} {what:8s} python {row['python']['median_ms']:8.3f} ms "
                f"[{row['python']['min_ms']:.3f}, {row['python']['max_ms']:.3f}]  "
                f"rust {row['rust']['median_ms']:8.3f} ms [{row['rust']['min_ms']:.3f}, {row['rust']['max_ms']:.3f}]  "
                f"overhead {row['overhead_median_ms']:+.3f} ms ({100 * row['overhead_median_ms'] / row['rust']['median_ms']:+.1f} %)"
            )
    if args.json:
        meta = {"hip_rs": hip_rs.__version__, "python": platform.python_version(), "repeats": args.repeats}
        pathlib.Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
