#!/usr/bin/env bash
# Checks harnesses on shapes that stress how split requests are cut and merged: requests in 2 to 132 pieces, one to
# four m-blocks, empty and one-token requests, causal rows that see no key, long s_q; each case three calls in a row
# (nothing may carry over between calls). Usage on the GPU machine: check_shapes.sh HARNESS... (EXTRA: more flags)
set -u
[ $# -ge 1 ] || { echo "usage: check_shapes.sh HARNESS..." >&2; exit 2; }
cases=(
  "--b 128 --s-q 1 --h-q 16 --sk 4096 --varlen 1"
  "--b 128 --s-q 2 --h-q 32 --sk 8192 --varlen 1"
  "--seqlens 70000 --s-q 4 --h-q 16"
  "--seqlens 20000,20000 --s-q 1 --h-q 16"
  "--b 8 --s-q 1 --h-q 16 --sk 8192 --varlen 0"
  "--b 9 --s-q 1 --h-q 16 --sk 8192 --varlen 1"
  "--b 16 --s-q 2 --h-q 64 --sk 4096 --varlen 1"
  "--b 16 --s-q 2 --h-q 96 --sk 4096 --varlen 1"
  "--b 16 --s-q 2 --h-q 128 --sk 4096 --varlen 1"
  "--b 7 --s-q 3 --h-q 7 --sk 3000 --varlen 1 --causal 1"
  "--seqlens 0,1,65,20000 --s-q 1 --h-q 16"
  "--b 200 --s-q 1 --h-q 32 --sk 500 --varlen 1"
  "--b 3 --s-q 16 --h-q 4 --sk 30000 --varlen 1"
)
fail=0
for h in "$@"; do
  pass=0
  for c in "${cases[@]}"; do
    r=$(timeout 300 "$h" --mode check $c --repeat 3 ${EXTRA:-} 2>&1)
    if grep -q '"pass":true' <<<"$r"; then pass=$((pass + 1)); else
      fail=1
      echo "FAIL $(basename "$(dirname "$h")") [$c]: $(grep -o '"error":"[^"]*"\|"reasons":\[[^]]*\]' <<<"$r" | head -1 | cut -c1-400)"
    fi
  done
  echo "checks $(basename "$(dirname "$h")"): $pass/${#cases[@]} (3 calls each)"
done
exit $((fail * 3))
