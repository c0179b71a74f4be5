#!/usr/bin/env bash
# The CUDA toolkit pieces that `cargo build --features cuda` needs, from PyPI (no NVIDIA apt
# repository, no GPU): nvcc, cicc/libnvvm, the runtime and CRT headers and libcudart, and CCCL
# headers, CUDA 13.0 (the nvcc of the CUDA 12 wheels ships only ptxas). Installed into a venv
# (default ~/.cache/hip-rs/cuda13; override with HIP_CUDA_VENV), idempotent.
#
#   source <(scripts/setup-cuda.sh --env)      # set CUDA_HOME, PATH, CUDA_COMPUTE_CAP here
#   cargo build --release -p hip-cli --features cuda
#
# CUDA_COMPUTE_CAP defaults to 90 (H100/H200; no nvidia-smi on a build machine); the PTX then
# JIT-compiles on newer GPUs. The binary links libcudart (shipped in scripts/gpu-bundle.sh's
# bundle) and loads the others when a CUDA device is first used (cudarc's dynamic loading, see
# vendor/README.md): libcuda from an NVIDIA driver for CUDA >= 13.0 (>= 580), cuBLAS, cuRAND
# and NVRTC of CUDA 13 from the GPU machine.
set -euo pipefail
venv=${HIP_CUDA_VENV:-$HOME/.cache/hip-rs/cuda13}
pins=(nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-runtime==13.0.96
      nvidia-cuda-crt==13.0.88 nvidia-cuda-cccl==13.0.85)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if ! "$venv/bin/pip" freeze 2>/dev/null | grep -q "^nvidia-cuda-cccl==13.0.85$"; then
  "$venv/bin/pip" install -q --no-deps "${pins[@]}" >&2
fi
root=$("$venv/bin/python" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13"))')
chmod +x "$root"/bin/* "$root"/nvvm/bin/* 2>/dev/null || true
# candle-kernels links `-lcudart`: the wheel has only the versioned file
[ -e "$root/lib/libcudart.so" ] || ln -s libcudart.so.13 "$root/lib/libcudart.so"
"$root/bin/nvcc" --version >/dev/null || { echo "setup-cuda: nvcc in $root does not run" >&2; exit 1; }
if [ "${1:-}" = "--env" ]; then
  echo "export CUDA_HOME='$root' CUDA_PATH='$root' PATH='$root/bin':\"\$PATH\" LIBRARY_PATH='$root/lib'\${LIBRARY_PATH:+:\$LIBRARY_PATH} CUDA_COMPUTE_CAP=\${CUDA_COMPUTE_CAP:-90}"
else
  echo "setup-cuda: CUDA 13.0 toolkit in $root (source <(scripts/setup-cuda.sh --env) to use it)" >&2
fi
