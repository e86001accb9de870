#!/usr/bin/env bash
# Quick correctness smoke test of the built harnesses on a GPU machine (no Node needed):
# a few small shapes with the CPU float64 reference, a few matrix shapes, a short bench.
# Usage: scripts/device/smoke.sh [variant]   (writes logs under ${OUT:-/tmp/mlagen-out})
set -u
out=${OUT:-/tmp/mlagen-out}; mkdir -p "$out"
v=${1:-mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2}
h=build/$v/harness
run() { echo "== $*"; timeout 120 "$h" "$@" > "$out/last.json" 2> "$out/last.err"; echo "rc=$?";
  head -c 1500 "$out/last.json"; echo; tail -3 "$out/last.err"
  cat "$out/last.json" >> "$out/all.jsonl"; echo >> "$out/all.jsonl"; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader
run --mode check --b 2 --s-q 1 --h-q 16 --sk 300 --cpu-ref 1
run --mode check --b 3 --s-q 2 --h-q 16 --sk 200 --varlen 1 --cpu-ref 1
run --mode check --b 2 --s-q 1 --h-q 128 --sk 1000 --cpu-ref 1
run --mode check --b 4 --s-q 4 --h-q 20 --sk 257 --varlen 1 --cpu-ref 1
run --mode check --b 3 --seqlens 0,65,1 --s-q 2 --h-q 64 --cpu-ref 1
run --mode check --b 128 --s-q 1 --h-q 16 --sk 4096
run --mode check --b 128 --s-q 2 --h-q 128 --sk 4096 --varlen 1
run --mode bench --b 128 --s-q 1 --h-q 16 --sk 8192 --ceilings 1
run --mode bench --b 128 --s-q 2 --h-q 128 --sk 8192
run --mode bench --b 128 --s-q 1 --h-q 64 --sk 8192
