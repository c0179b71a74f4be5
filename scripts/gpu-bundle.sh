#!/usr/bin/env bash
# Builds `hip` with CUDA here and collects what scripts/gpu-check.sh needs on a GPU machine that
# has no cargo and no network: target/gpu-bundle/hip (stripped) and target/gpu-bundle/lib/ (the
# shared libraries it links, but the C library's own and the CUDA driver/toolkit libraries,
# which must come from the GPU machine: libcuda from its driver; cuBLAS, cuRAND, NVRTC and
# cudart from its CUDA 13 install or Python wheels, found by gpu-check.sh at run time). The
# bundle must stay under the 64 MiB a device run carries; this script says its size.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1090
source <(scripts/setup-cuda.sh --env)
cargo build --release -p hip-cli --features cuda --target-dir target/cuda
b=target/gpu-bundle
rm -rf "$b"
mkdir -p "$b/lib"
cp target/cuda/release/hip "$b/hip"
strip "$b/hip"
skip='linux-vdso|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|ld-linux|libcuda\.so|libcublas|libcurand|libnvrtc|libcudart|libnvJitLink'
ldd "$b/hip" | awk '/=> \// {print $3}' | grep -Ev "$skip" | while read -r lib; do cp -L "$lib" "$b/lib/"; done
echo "gpu-bundle: $(du -sh "$b" | cut -f1) in $b (carry it: run(carry=[\"$b\"]))"
ldd "$b/hip" | grep -E 'cuda|cublas|curand|nvrtc' || true
