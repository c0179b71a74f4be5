#!/usr/bin/env bash
# Installs the system packages the workspace needs (Debian): libhdf5-dev for hdf5-metno,
# pkg-config to find it. Does nothing when they are already present.
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
