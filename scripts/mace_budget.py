#!/usr/bin/env python3
"""The MACE reference of issue 12 at a CPU budget that outlasts a session: resumable.

Trains the MACE a user would pick instead of ours (mace-torch 0.3.16, 32 channels, max_L 1,
2 interactions, f32, one thread; the arguments of `scripts/mace-reference.sh` plus the EMA and
AMSGrad of MACE's recommended recipe) on the extended-XYZ
files that `datasets/to_extxyz.py` writes, and stops when the *training* CPU time reaches the
budget, counted like `hip train`'s `time_budget_s`:

- the clock is the process CPU time (user + system) of `mace_run_train`, read from /proc every
  few seconds;
- data loading and preprocessing (everything before MACE logs "Started training") are not
  counted, as `hip train` does not count its graph preparation;
- the clock survives restarts: `state.json` keeps the CPU seconds spent up to MACE's newest
  checkpoint. A run killed at a session's end restarts from that checkpoint (`--restart_latest`)
  and the work after it, which is done again, is not counted twice.

MACE saves a checkpoint after every epoch (`--save_all_checkpoints`); the per-epoch validation
curve (epochs trained, training CPU s, E and F MAE on the validation file) is in `state.json` and
`curve.tsv`. A restarted MACE numbers its first epoch with the checkpoint's own number and saves it
under the same file name, so a new checkpoint is recognised by its file (name and modification
time), not by a larger number, and the curve counts epochs itself (0, 1, 2, ... over all segments).

    python3 scripts/mace_budget.py DATA.h5 OUT_DIR BUDGET_S

The first run writes OUT_DIR/train.xyz (the whole train split) and OUT_DIR/val.xyz (the 300
validation samples `hip train` validates on: the same spread) with `datasets/to_extxyz.py`; the
same command resumes.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

NAME = "mace-ref"
SEED = 0
EPOCH_LINE = re.compile(r"Epoch (\d+):.*MAE_E=\s*([\d.]+) meV, MAE_F=\s*([\d.]+) meV")
CKPT = re.compile(r"_epoch-(\d+)\.pt$")
TICK = os.sysconf("SC_CLK_TCK")


def mace_args(out: Path, restart: bool) -> list:
    args = [
        "mace_run_train", "--name", NAME, "--seed", str(SEED),
        "--train_file", str(out / "train.xyz"), "--valid_file", str(out / "val.xyz"),
        "--energy_key", "REF_energy", "--forces_key", "REF_forces",
        "--model", "MACE", "--num_channels", "32", "--max_L", "1", "--num_interactions", "2",
        "--r_max", "5.0", "--batch_size", "8", "--max_num_epochs", "1000",
        "--default_dtype", "float32", "--device", "cpu", "--E0s", "average",
        "--loss", "weighted", "--energy_weight", "1", "--forces_weight", "25",
        "--work_dir", str(out), "--eval_interval", "1", "--error_table", "TotalMAE",
        # MACE's recommended options (its README): EMA of the weights (we validate ours with EMA
        # too) and AMSGrad; a checkpoint every epoch, so a killed run loses at most one epoch
        "--ema", "--ema_decay", "0.99", "--amsgrad", "--save_all_checkpoints",
    ]
    return args + (["--restart_latest"] if restart else [])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of its waited-for children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime + cutime + cstime) / TICK


def checkpoint_signature(out: Path) -> list:
    """[MACE's epoch number, modification time] of the newest checkpoint ([-1, 0] if none): it
    changes whenever MACE saves one, even under a number it used before (after a restart)."""
    found = [(int(m.group(1)), p) for p in (out / "checkpoints").glob("*.pt") if (m := CKPT.search(p.name))]
    if not found:
        return [-1, 0.0]
    ckpt, path = max(found)
    return [ckpt, path.stat().st_mtime]


def migrate(state: dict) -> None:
    """States written before `curve_at_checkpoint`: MACE's epoch numbers in the curve (repeated
    after a restart) become a count."""
    if "curve_at_checkpoint" in state:
        return
    kept = [c for c in state["curve"] if c[0] <= state["checkpoint_epoch"]]
    state["curve"] = [[i, *c[1:]] for i, c in enumerate(kept)]
    state["curve_at_checkpoint"] = len(kept)


def prune_checkpoints(out: Path, keep: int) -> None:
    """Keeps only the newest checkpoint (the one a restart takes), so the folder stays small."""
    for p in (out / "checkpoints").glob("*.pt"):
        m = CKPT.search(p.name)
        if m and int(m.group(1)) < keep:
            p.unlink(missing_ok=True)


def save(out: Path, state: dict) -> None:
    tmp = out / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(out / "state.json")
    rows = ["epoch\tcpu_s\tval_e_mae_ev\tval_f_mae_ev_a"]
    rows += [f"{e}\t{c:.0f}\t{me:.4f}\t{mf:.4f}" for e, c, me, mf in state["curve"]]
    (out / "curve.tsv").write_text("\n".join(rows) + "\n")


def main() -> int:
    data, out, budget = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    export = Path(__file__).resolve().parent.parent / "datasets" / "to_extxyz.py"
    for split, extra in (("train", []), ("val", ["--max", "300"])):
        if not (out / f"{split}.xyz").exists():
            subprocess.run([sys.executable, str(export), data, split, str(out / f"{split}.xyz"), *extra], check=True)
    state_file = out / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {
        "budget_s": budget, "cpu_at_checkpoint": 0.0, "checkpoint_epoch": -1, "curve": [],
        "curve_at_checkpoint": 0, "segments": [], "done": False}
    migrate(state)
    # the training data (file and train-split size), so `hip report` shows the curve only beside
    # models of the same data
    state["data"] = data
    with open(out / "train.xyz") as f:
        state["train_samples"] = sum(1 for line in f if "Properties=" in line)
    # the state is committed with its checkpoint, so the checkpoint on disk is the one it describes
    # (its modification time is the checkout's, not MACE's)
    state["checkpoint_signature"] = checkpoint_signature(out)
    if state["done"]:
        print(f"budget already spent: {state['cpu_at_checkpoint']:.0f} CPU s; curve in {out}/curve.tsv")
        return 0
    state["budget_s"] = budget
    # epochs after the checkpoint are trained again: their first results are dropped
    state["curve"] = state["curve"][: state["curve_at_checkpoint"]]
    base = state["cpu_at_checkpoint"]
    restart = state["checkpoint_signature"][0] >= 0
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TORCH_NUM_THREADS="1")
    log = open(out / "mace.log", "a")
    child = subprocess.Popen(mace_args(out, restart), stdout=log, stderr=subprocess.STDOUT, env=env)
    # a stop request (kill, session end) stops MACE too; the state on disk is already current
    signal.signal(signal.SIGTERM, lambda *_: (child.terminate(), sys.exit(1)))
    segment = {"start": time.strftime("%Y-%m-%d %H:%M:%S"), "from_cpu_s": base, "restart": restart}
    state["segments"].append(segment)
    mace_log = out / "logs" / f"{NAME}_run-{SEED}.log"
    seen = mace_log.stat().st_size if mace_log.exists() else 0
    prep = None  # CPU seconds spent before training started in this segment (not counted)
    while child.poll() is None:
        time.sleep(3)
        cpu = cpu_seconds(child.pid)
        lines = []
        if mace_log.exists():
            with open(mace_log) as f:
                f.seek(seen)
                chunk = f.read()
            complete = chunk.rsplit("\n", 1)[0] if "\n" in chunk else ""
            seen += len(complete.encode()) + (1 if complete else 0)
            lines = complete.splitlines() if complete else []
        for line in lines:
            if prep is None and "Started training" in line:
                prep = cpu
                segment["preprocessing_cpu_s"] = prep
            m = EPOCH_LINE.search(line)
            if m and prep is not None:
                state["curve"].append([len(state["curve"]), base + cpu - prep,
                                       float(m.group(2)) / 1e3, float(m.group(3)) / 1e3])
        if prep is None:
            continue
        used = base + cpu - prep
        sig = checkpoint_signature(out)
        if sig != state["checkpoint_signature"]:
            state["checkpoint_signature"], state["checkpoint_epoch"] = sig, sig[0]
            state["cpu_at_checkpoint"], state["curve_at_checkpoint"] = used, len(state["curve"])
            prune_checkpoints(out, sig[0])
        segment["to_cpu_s"] = used
        if used >= budget:
            child.send_signal(signal.SIGTERM)
            child.wait()
            state["done"], state["cpu_at_checkpoint"] = True, used
        save(out, state)
    save(out, state)
    print(f"{'done' if state['done'] else 'stopped'} at {segment.get('to_cpu_s', base):.0f} of "
          f"{budget:.0f} training CPU s; curve in {out}/curve.tsv")
    return 0 if state["done"] else 1


if __name__ == "__main__":
    sys.exit(main())
