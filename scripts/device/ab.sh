#!/usr/bin/env bash
# In-run A/B timing of harness builds (e.g. two commits of one variant, built here with
# `git worktree add /tmp/old <commit> && (cd /tmp/old && npx mlagen build <id>)` and packed into
# .devpack/): machine starts differ by up to ~13 %, so versions are compared only inside one run,
# alternating A B A B per case. Prints one line per case: us_single of each harness, each round.
# Usage on the GPU machine: scripts/device/ab.sh HARNESS... -- "s_q h_q sk varlen" ...
# (B: batch, SEED, ROUNDS; CHECK_ARGS: extra check flags, e.g. "--dtype fp16 --page-size 16" for such a variant;
#  BENCH_ARGS: extra bench flags, e.g. "--page-size 1")
set -u
harnesses=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do harnesses+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#harnesses[@]} -ge 1 ] && [ $# -ge 1 ] || { echo "usage: ab.sh HARNESS... -- \"s_q h_q sk varlen\"..." >&2; exit 2; }
# A harness is timed only once it computes right: two check cases each (CHECK=0 skips them), so that an
# experiment never reports the speed of a wrong kernel.
if [ "${CHECK:-1}" != 0 ]; then
  for h in "${harnesses[@]}"; do
    for args in "--b 3 --s-q 2 --h-q 64 --sk 1000 --varlen 1" "--seqlens 0,1,65,20000 --s-q 1 --h-q 16"; do
      r=$(timeout 120 "$h" --mode check $args ${CHECK_ARGS:-} 2>&1)
      grep -q '"pass":true' <<<"$r" || { echo "ab.sh: $h fails its check ($args): $(grep -o '"error":"[^"]*"\|"reasons":\[[^]]*\]' <<<"$r" | head -1 | cut -c1-300)" >&2; exit 3; }
    done
  done
fi
bench() {
  timeout 120 "$1" --mode bench --b "${B:-128}" --s-q "$2" --h-q "$3" --sk "$4" --varlen "$5" --seed "${SEED:-11}" ${BENCH_ARGS:-} 2>/dev/null |
    grep -o '"us_single":[0-9.]*' | cut -d: -f2
}
printf 'case'; for r in $(seq "${ROUNDS:-2}"); do for h in "${harnesses[@]}"; do printf '\t%s' "$(basename "$(dirname "$h")")"; done; done; printf '\n'
for c in "$@"; do
  set -- $c
  line="sq$1-hq$2-sk$3-v$4"
  for r in $(seq "${ROUNDS:-2}"); do for h in "${harnesses[@]}"; do line="$line\t$(bench "$h" "$1" "$2" "$3" "$4")"; done; done
  printf "$line\n"
done
