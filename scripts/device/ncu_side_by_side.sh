#!/usr/bin/env bash
# ncu on one launch of our decode kernel and one of FlashMLA's, same case, natural clocks, for a metric-by-metric
# comparison (docs/perf/2026-11-22-ncu-seesaw-vs-flashmla.md). FMBENCH is the FlashMLA benchmark binary of
# flashmla_side_by_side.sh (built from FlashMLA's source for measurement only, never committed).
# Usage on the GPU machine: scripts/device/ncu_side_by_side.sh OUR_HARNESS FMBENCH OUTDIR [s_q h_q sk]
# Writes OUTDIR/{ours,fm}.ncu-rep, -raw.csv (every metric), -sass.csv (per-instruction warp-state samples).
set -u
ours=$1 fm=$2 out=$3 sq=${4:-2} hq=${5:-128} sk=${6:-8192}
mkdir -p "$out"
profile() {  # name kernel-regex command...
  local name=$1 kernel=$2; shift 2
  timeout 300 ncu --set full --clock-control none --import-source no -k "regex:$kernel" --launch-skip 3 -c 1 \
    -o "$out/$name" -f "$@" > "$out/$name.ncu.log" 2>&1 || { echo "ncu failed for $name: see $out/$name.ncu.log" >&2; return 1; }
  ncu -i "$out/$name.ncu-rep" --page raw --csv > "$out/$name-raw.csv"
  ncu -i "$out/$name.ncu-rep" --page source --print-source sass --csv > "$out/$name-sass.csv"
}
profile ours '^mla_sm90_' "$ours" --mode bench --b 128 --s-q "$sq" --h-q "$hq" --sk "$sk" --varlen 0 --seed 7 --iters 5
profile fm 'flash_fwd_splitkv_mla_kernel' "$fm" --b 128 --sq "$sq" --hq "$hq" --sk "$sk" --iters 5
