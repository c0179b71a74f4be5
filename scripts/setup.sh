#!/usr/bin/env bash
# Installs what the workspace needs (Debian): libhdf5-dev for hdf5-metno, pkg-config to find it,
# and tblite (PyPI, the GFN2-xTB library `--potential gfn2` and crates/hip-xtb load at run time).
# Does nothing when they are already present.
set -euo pipefail
missing=()
dpkg -s libhdf5-dev >/dev/null 2>&1 || missing+=(libhdf5-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# GFN2-xTB: tblite's wheel carries the library (crates/hip-xtb/src/ffi.rs says how it is found)
if ! python3 -c "import tblite" >/dev/null 2>&1; then
  echo "setup: installing tblite==0.8.0 (GFN2-xTB)" >&2
  PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check "tblite==0.8.0"
fi
