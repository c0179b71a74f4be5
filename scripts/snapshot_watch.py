#!/usr/bin/env python3
"""Keep a copy of every epoch of a running `hip train` (the checkpoint is overwritten each epoch).

    python3 scripts/snapshot_watch.py models/v3/hip-e2e.safetensors [models/v3/snapshots]

Polls the checkpoint once a minute; when it changes (and parses: a half-written file is retried
at the next poll) copies it to SNAPSHOT_DIR/<stem>-epNN.safetensors, NN = `epochs_done` from its
`hip.training` metadata. Existing snapshots are never overwritten. Stops when the training's
budget (the last epoch's `cpu_s` reaching the training config's `time_budget_s`) or epoch count is spent.
Cheap enough to run beside a training (one stat per minute).
"""
import json
import os
import shutil
import struct
import sys
import time


def training_meta(path):
    """The checkpoint's `hip.training` metadata, or None while the file is incomplete."""
    try:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            f.seek(0, os.SEEK_END)
            size = f.tell()
        if size < 8 + n + max(t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"):
            return None
        return json.loads(header["__metadata__"]["hip.training"])
    except (OSError, ValueError, KeyError, struct.error):
        return None


def finished(meta):
    cfg = meta.get("train_config", {})
    budget = cfg.get("time_budget_s") or 0
    hist = meta.get("history") or [{}]
    if budget and hist[-1].get("cpu_s", 0) >= budget:
        return True
    epochs = cfg.get("epochs") or 0
    return bool(epochs) and meta.get("epochs_done", 0) >= epochs


def main():
    ckpt = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(ckpt), "snapshots")
    os.makedirs(out, exist_ok=True)
    stem = os.path.splitext(os.path.basename(ckpt))[0]
    seen = None
    while True:
        try:
            sig = (os.stat(ckpt).st_mtime_ns, os.stat(ckpt).st_size)
        except OSError:
            sig = None
        if sig and sig != seen:
            meta = training_meta(ckpt)
            if meta is not None:
                seen = sig
                dst = os.path.join(out, f"{stem}-ep{meta['epochs_done']:02d}.safetensors")
                if not os.path.exists(dst):
                    shutil.copyfile(ckpt, dst + ".part")
                    os.replace(dst + ".part", dst)
                    cpu = (meta.get("history") or [{}])[-1].get("cpu_s", 0)
                    print(f"{time.strftime('%H:%M:%S')} {dst} ({cpu:.0f} CPU s)", flush=True)
                if finished(meta):
                    return
        time.sleep(60)


if __name__ == "__main__":
    main()
