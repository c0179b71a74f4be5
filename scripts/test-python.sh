#!/usr/bin/env bash
# Builds the Python package `hip_rs` (crates/hip-py, PyO3 + maturin), installs it with its test
# dependencies, and runs its tests against the `hip` binary (which they compare with).
# Part of the README's test command and of .ci/run. Needs python3 with pip (3.9+).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin hip
# a Debian system python refuses pip installs outside a venv (PEP 668); pip ignores this elsewhere
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore
python3 -m pip install -q --disable-pip-version-check "./crates/hip-py[test]"
# a rebuild of the same version must replace the installed one
python3 -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./crates/hip-py
# (the test extras also carry what datasets/tests needs: h5py, lmdb for the HORM import, rdkit for
# assembling the ReactBench shards)
python3 -m pytest -q -p no:cacheprovider crates/hip-py/tests datasets/tests
