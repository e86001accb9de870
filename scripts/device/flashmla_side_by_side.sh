#!/usr/bin/env bash
# Same-machine comparison with FlashMLA on the 48 cases of the anchor matrix (b = 128, bf16, page 64):
# our dispatcher's harness and a FlashMLA benchmark binary (built from FlashMLA's source for measurement
# only, never committed; see docs/perf/2026-11-22-flashmla-side-by-side.md), alternating per case, twice.
# Varlen cases use FlashMLA's own lengths for both: its test's rule, random.seed(0) and
# max(normalvariate(sk, sk/2), s_q) truncated, passed to our harness with --seqlens.
# Usage on the GPU machine: scripts/device/flashmla_side_by_side.sh OUR_HARNESS FMBENCH > out.tsv
# FMBENCH takes --b --sq --hq --sk [--varlen] --iters and prints JSON with us_single and total_kv.
# MIN_ROWS=n keeps only the cases with s_q*h_q >= n (default: all 48); ROUNDS (default 2) alternations per case.
set -u
ours=$1 fm=$2
cases=$(MIN_ROWS=${MIN_ROWS:-0} python3 - <<'PY'
import os, random
min_rows = int(os.environ['MIN_ROWS'])
for sk in (4096, 8192, 16384):
    for sq in (1, 2):
        for hq in (16, 32, 64, 128):
            for vl in (0, 1):
                if sq * hq < min_rows:
                    continue
                if vl:
                    random.seed(0)
                    sl = [int(max(random.normalvariate(sk, sk / 2), sq)) for _ in range(128)]
                    print(sq, hq, sk, 1, ','.join(map(str, sl)))
                else:
                    print(sq, hq, sk, 0, '-')
PY
)
field() { grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2; }
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader >&2
printf 'sq\thq\tsk\tvarlen\ttotal_kv\tfm_total_kv'
for r in $(seq "${ROUNDS:-2}"); do printf '\tours_us%s\tflashmla_us%s' "${r#1}" "${r#1}"; done
printf '\n'
while read -r sq hq sk vl sl; do
  if [ "$vl" = 1 ]; then oargs="--seqlens $sl"; fargs="--varlen"; else oargs="--sk $sk --varlen 0"; fargs=""; fi
  row="$sq\t$hq\t$sk\t$vl"
  first=1
  for r in $(seq "${ROUNDS:-2}"); do
    o=$(timeout 120 "$ours" --mode bench --b 128 --s-q "$sq" --h-q "$hq" $oargs --iters 30 --seed 7 2>/dev/null)
    f=$(timeout 120 "$fm" --b 128 --sq "$sq" --hq "$hq" --sk "$sk" $fargs --iters 30 2>/dev/null)
    if [ $first = 1 ]; then row="$row\t$(echo "$o" | field total_kv)\t$(echo "$f" | field total_kv)"; first=0; fi
    row="$row\t$(echo "$o" | field us_single)\t$(echo "$f" | field us_single)"
  done
  printf "$row\n"
done <<< "$cases"
