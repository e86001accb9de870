#!/usr/bin/env bash
# The release run on a GPU machine: the dispatcher (every catalogue variant behind one library) through
# every check case in bf16 and fp16, the schedule equality, FlashMLA's matrix timed with the measured
# ceilings, compute-sanitizer on both schedules, the SASS of the decode kernels, and the DSL points beyond the
# catalogue built by scripts/device/coverage.sh (PARTS=coverage). Writes to $OUT.
# EXTRA_PAGES (default "16 1") are the other KV page sizes the dispatcher routes: checked and sanitized as well.
# PARTS picks a subset (default: all), so the run fits the device's per-command limit in two calls:
#   PARTS="check sanitize sass" scripts/device/final.sh;  PARTS=bench scripts/device/final.sh
set -u
parts=" ${PARTS:-check bench sanitize sass coverage} "
want() { [[ "$parts" == *" $1 "* ]]; }
out=${OUT:-/tmp/mlagen-out}; mkdir -p "$out"
bash scripts/device/unpack.sh || exit 1  # pack.sh carries the harnesses xz-packed
node=$(scripts/device/node.sh) || exit 1
cli() { "$node" dist/mlagen.mjs "$@"; }
v=${1:-mla_sm90_dispatch}
h=build/$v/harness
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.draw --format=csv,noheader | tee "$out/gpu.txt"
{
  if want check; then
    cli check "$v" --cases all > "$out/check-bf16.txt" 2>&1; echo "check bf16 exit=$?"; tail -1 "$out/check-bf16.txt"
    cli check "$v" --cases all --dtype fp16 > "$out/check-fp16.txt" 2>&1; echo "check fp16 exit=$?"; tail -1 "$out/check-fp16.txt"
    for page in ${EXTRA_PAGES-16 1}; do  # the dispatcher's other page sizes (the first route's is the default)
      cli check "$v" --cases all --page-size "$page" > "$out/check-bf16-p$page.txt" 2>&1; echo "check bf16 page $page exit=$?"; tail -1 "$out/check-bf16-p$page.txt"
      cli check "$v" --cases all --page-size "$page" --dtype fp16 > "$out/check-fp16-p$page.txt" 2>&1; echo "check fp16 page $page exit=$?"; tail -1 "$out/check-fp16-p$page.txt"
    done
    # fp8_e4m3 caches (bf16 queries computed in fp16, fp16 queries), routed by the cache dtype
    cli check "$v" --cases all --kv-dtype fp8 > "$out/check-fp8-bf16.txt" 2>&1; echo "check fp8 cache, bf16 exit=$?"; tail -1 "$out/check-fp8-bf16.txt"
    cli check "$v" --cases all --kv-dtype fp8 --dtype fp16 > "$out/check-fp8-fp16.txt" 2>&1; echo "check fp8 cache, fp16 exit=$?"; tail -1 "$out/check-fp8-fp16.txt"
    cli check-schedule "$v" 2>&1 | tail -1; echo "check-schedule exit=${PIPESTATUS[0]}"
  fi
  if want bench; then cli bench "$v" --cases matrix --json > "$out/bench.json" 2> "$out/bench.log"; echo "bench exit=$?"; fi
  san() { local name=$1 tool=$2; shift 2;
    timeout 300 compute-sanitizer --tool "$tool" --error-exitcode 99 "$h" "$@" --repeat 1 --cpu-ref 0 > "$out/san.txt" 2>&1
    echo "sanitizer $tool $name exit=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/san.txt" | head -1)"; }
  if want sanitize; then
    for t in memcheck racecheck synccheck; do
      san seesaw-small $t --mode check --b 3 --s-q 2 --h-q 128 --sk 300 --varlen 1
      san splitn-small $t --mode check --b 3 --s-q 1 --h-q 16 --sk 300 --varlen 1
      san seesaw-large $t --mode check --b 32 --s-q 2 --h-q 64 --sk 2048 --varlen 1
    done
    for page in ${EXTRA_PAGES-16 1}; do
      for t in memcheck synccheck initcheck; do san "page$page" $t --mode check --b 3 --s-q 2 --h-q 128 --sk 300 --varlen 1 --page-size "$page"; done
    done
    san seesaw-small initcheck --mode check --b 3 --s-q 2 --h-q 128 --sk 300 --varlen 1
    san splitn-small initcheck --mode check --b 3 --s-q 1 --h-q 16 --sk 300 --varlen 1
  fi
  if want coverage; then  # DSL points beyond the catalogue (scripts/device/coverage.json), on the page size and dtype of their plan.json
    for d in build/coverage/mla_*/; do
      id=$(basename "$d")
      cli check "$id" --harness "$d/harness" --cases edge \
        --filter seqlen0-in-batch-sq2,page-boundaries,b3-varlen,hq20-sq2,sq16-seqlen-lt,ragged-zeros,noncausal,b2-sk65537,qscale-8 > "$out/cov.txt" 2>&1
      echo "coverage $id exit=$? $(tail -1 "$out/cov.txt")"
    done
  fi
  if want sass; then
    cuobjdump -sass "$h" > "$out/sass.txt" 2>/dev/null
    awk '/Function :/ {f=$3} /HGMMA/ {h[f]++} /UTMALDG/ {t[f]++} /LDGSTS/ {g[f]++} /LDL|STL/ {l[f]++}
         END {for (k in h) if (k ~ /mla_sm90/) printf "sass %s: HGMMA %d, UTMALDG %d, LDGSTS %d, LDL/STL %d\n", k, h[k], t[k], g[k], l[k]}' "$out/sass.txt"
  fi
} 2>&1 | tee -a "$out/summary.txt"
rm -f "$out/san.txt" "$out/sass.txt" "$out/cov.txt"
