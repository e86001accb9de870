#!/usr/bin/env bash
# Full validation on a GPU machine: every variant through `mlagen check` (matrix + edge cases),
# the device schedule against the planner, and compute-sanitizer on a small and a large shape.
# Needs the one-file CLI bundle (npm run bundle) and Node (scripts/device/node.sh); writes to $OUT.
set -u
out=${OUT:-/tmp/mlagen-out}; mkdir -p "$out"
node=$(scripts/device/node.sh) || exit 1
cli() { "$node" dist/mlagen.mjs "$@"; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,power.draw --format=csv,noheader | tee "$out/gpu.txt"
# build/ is carried from the build machine (a cubin built there runs here).
cli check --all-variants --cases "${CASES:-all}" --json > "$out/check.json" 2> "$out/check.log"; echo "check exit=$?"
tail -2 "$out/check.log"
cli check-schedule --json > "$out/schedule.json" 2>&1; echo "check-schedule exit=$?"
v=$(cli list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
h=build/$v/harness
san() { local tool=$1; shift; echo "== compute-sanitizer --tool $tool $*";
  timeout 300 compute-sanitizer --tool "$tool" --error-exitcode 99 "$h" "$@" --repeat 1 --cpu-ref 0 > "$out/san-$tool-$SIZE.json" 2> "$out/san-$tool-$SIZE.log";
  echo "exit=$?"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|========= [A-Z]" "$out/san-$tool-$SIZE.log" | head -5; }
SIZE=small; for t in memcheck racecheck synccheck initcheck; do san $t --mode check --b 3 --s-q 2 --h-q 128 --sk 300 --varlen 1; done
SIZE=large; for t in memcheck racecheck synccheck; do san $t --mode check --b 32 --s-q 2 --h-q 64 --sk 2048 --varlen 1; done
