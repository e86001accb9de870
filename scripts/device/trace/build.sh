#!/usr/bin/env bash
# Builds a timeline-instrumented harness of a variant (instrument.py; split-n in detail, the seesaw start and end), on the build machine (nvcc 12.8+),
# from an `mlagen build` of the same variant (its harness objects are reused). Measurement only.
# Usage: scripts/device/trace/build.sh VARIANT OUT_DIR   ->  OUT_DIR/trace.harness
# On the GPU machine: OUT_DIR/trace.harness --mode bench ... 2> trace.txt; then summarize.py trace.txt
set -eu
variant=$1 out=$2
root=$(cd "$(dirname "$0")/../../.." && pwd)
objs=$root/build/$variant
[ -f "$objs/harness_main.o" ] || { echo "build.sh: $objs/harness_main.o missing: run mlagen build $variant first" >&2; exit 2; }
python3 "$root/scripts/device/trace/instrument.py" "$root/generated/$variant" "$out"
arch=(-gencode arch=compute_90a,code=sm_90a)
nvcc "${arch[@]}" -Xcompiler -fPIC -std=c++17 -O3 -I "$out/inc" -I "$root/templates/include" -I "$root/generated/$variant" \
  -c "$out/trace.cu" -o "$out/trace.o"
nvcc "${arch[@]}" -o "$out/trace.harness" "$objs/harness_main.o" "$objs/harness.o" "$out/trace.o" -ldl
echo "built $out/trace.harness"
