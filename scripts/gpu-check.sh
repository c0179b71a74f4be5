#!/usr/bin/env bash
# The GPU check (issue 17): correctness of the device against the CPU in f64, then the speed
# benchmark on the device. Runs where there is a GPU but no cargo and no network, from the repo
# root, with the bundle of scripts/gpu-bundle.sh (the `hip` binary built here with
# `--features cuda`, and the shared libraries it links that such a machine may lack); also runs
# end to end on the CPU (`--device cpu`, with target/release/hip), which is how it is tested.
#
#   scripts/gpu-check.sh [--device cuda|cuda:N|cpu] [--out DIR] [--hip PATH] [--quick|--full]
#   (--quick: a 12-atom alkane in the device check and small bench sizes; the default with
#   --device cpu, where the check tests this script rather than a GPU; --full: the GPU sizes)
#
# Writes into DIR: device_check.json and device_check.txt (E, F and direct/autodiff/FD Hessians
# of water and a 30-atom alkane on the device in f64 and f32 against the CPU in f64, with the
# tolerances of hip_bench::device_check), bench-f32/ (hip bench: 5-50 atoms with autodiff and
# FD, block-sparse direct Hessians at 100-5000 atoms; results.json, REPORT.md, plots),
# bench-f64/ (5-30 atoms), env.txt (what ran where). Each stage has a time limit, so the whole
# stays under 5 minutes; a stage past its limit fails the check.
set -uo pipefail
device=cuda; out=reports/gpu; hip=""; quick=
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --hip) hip=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --full) quick=0; shift ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$quick" ] || { [ "$device" = cpu ] && quick=1 || quick=0; }
bundle=target/gpu-bundle
if [ ! -d "$bundle" ] && [ -f "$bundle.tar.xz" ]; then tar -C target -xJf "$bundle.tar.xz"; fi
if [ -z "$hip" ]; then
  if [ "$device" != cpu ] && [ -x "$bundle/hip" ]; then hip=$bundle/hip; else hip=target/release/hip; fi
fi
[ -x "$hip" ] || { echo "gpu-check: no hip binary at $hip (build it, or scripts/gpu-bundle.sh)" >&2; exit 2; }
mkdir -p "$out"
# shared libraries: the bundle's, then CUDA libraries wherever this machine keeps them
libs="$bundle/lib"
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu \
         $(ls -d /usr/local/cuda-*/lib64 2>/dev/null) \
         $(python3 -c 'import nvidia, os; [print(os.path.join(p, d, "lib")) for p in nvidia.__path__ for d in os.listdir(p)]' 2>/dev/null); do
  [ -d "$d" ] && libs="$libs:$d"
done
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
{
  echo "date: $(date -u)"; echo "device: $device"; echo "hip: $hip ($("$hip" --version 2>&1))"
  echo "host: $(uname -a)"
  if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; fi
  echo "missing libraries:"; ldd "$hip" 2>&1 | grep "not found" || echo "  none"
} > "$out/env.txt"
cat "$out/env.txt"
status=0
check_atoms=30; [ "$quick" = 1 ] && check_atoms=12
echo "== device check ($device against cpu f64)"
timeout 90 "$hip" device-check --device "$device" --atoms "$check_atoms" --out "$out" | tee "$out/device_check.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# stage limits: 90 + 150 + 50 s (under 5 minutes with start-up); --quick: small sizes, for the CPU
if [ "$quick" = 1 ]; then
  f32_args=(--sizes 5,10 --large-sizes 100 --max-slow-atoms 10 --quick)
  f64_args=(--sizes 5 --large-sizes 0 --max-slow-atoms 5 --quick)
else
  f32_args=(--sizes 5,10,20,30,50 --large-sizes 100,200,500,1000,2000,5000 --max-slow-atoms 50)
  f64_args=(--sizes 5,10,20,30 --large-sizes 0 --max-slow-atoms 30 --quick)
fi
echo "== bench ($device, f32: the paper's precision)"
timeout 150 "$hip" bench --device "$device" --dtype f32 "${f32_args[@]}" --data /nonexistent --out "$out/bench-f32" \
  || status=1
echo "== bench ($device, f64)"
timeout 50 "$hip" bench --device "$device" --dtype f64 "${f64_args[@]}" --data /nonexistent --out "$out/bench-f64" \
  || status=1
echo "gpu-check: outputs in $out (status $status)"
exit $status
