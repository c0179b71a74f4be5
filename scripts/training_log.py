#!/usr/bin/env python3
"""Prints a checkpoint's per-epoch history (its `hip.training` metadata) in the format `hip train`
logs, so a log lost with a session (the process's stderr) is rebuilt from the committed checkpoint.

    python3 scripts/training_log.py models/v2/ef-baseline.safetensors > models/v2/ef-baseline.log

`training_metadata(path)` is also what `scripts/size_curves.py` reads curves with.
"""
import json
import struct
import sys


def training_metadata(path):
    """The `hip.training` metadata (JSON) of a `hip train` checkpoint."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        meta = json.loads(f.read(n))["__metadata__"]
    return json.loads(meta["hip.training"])


def main():
    t = training_metadata(sys.argv[1])
    total = t["train_config"]["epochs"]
    fmt = lambda v: "NaN" if v is None else f"{v:.4f}"
    for h in t["history"]:
        print(f"epoch {h['epoch']}/{total}: train loss {h['train_loss']:.4f} | val E MAE {fmt(h['val_energy_mae'])} eV, "
              f"F MAE {fmt(h['val_forces_mae'])} eV/Å, H MAE {fmt(h['val_hessian_mae'])} eV/Å² | "
              f"{h['wall_s']:.0f} s ({h['cpu_s']:.0f} s CPU)")


if __name__ == "__main__":
    main()
