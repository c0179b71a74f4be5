#!/usr/bin/env bash
# Builds `hip` with CUDA here and collects what scripts/gpu-check.sh needs on a GPU machine that
# has no cargo and no network: target/gpu-bundle/hip (stripped) and target/gpu-bundle/lib/ (the
# shared libraries it links, libcudart included, but the C library's own). libcuda (driver),
# cuBLAS, cuRAND and NVRTC are loaded at run time from the GPU machine (its CUDA 13 install or
# Python wheels, put on LD_LIBRARY_PATH by gpu-check.sh). The
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
skip='linux-vdso|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|ld-linux'
ldd "$b/hip" | awk '/=> \// {print $3}' | grep -Ev "$skip" | while read -r lib; do cp -L "$lib" "$b/lib/"; done
cp -L "$CUDA_HOME/lib/libcudart.so.13" "$b/lib/"  # not on the loader's path here, so not in ldd's list
# the binary with its CUDA kernels is ~55 MB: carried compressed (gpu-check.sh unpacks it)
tar -C target -cJf target/gpu-bundle.tar.xz gpu-bundle
echo "gpu-bundle: $(du -sh "$b" | cut -f1) in $b, $(du -sh target/gpu-bundle.tar.xz | cut -f1) compressed (carry it: run(carry=[\"target/gpu-bundle.tar.xz\"]))"
ldd "$b/hip" | grep -E 'cuda|cublas|curand|nvrtc' || true
