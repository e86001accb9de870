#!/usr/bin/env bash
# Random shapes through a built harness (default: the dispatcher): every run must pass its check against
# the float32 GPU reference (NaN-poisoned outputs and unused cache slots, fresh inputs per seed), and each
# out-of-range input must be refused with a status and a message naming the field.
# Usage on the GPU machine: [N=70] [SEED=20261122] [PAGE=64] [DTYPE=bf16|fp16] [KV=fp8] scripts/device/fuzz.sh [HARNESS]
# (DTYPE: every run in that query dtype, not a random one; KV=fp8: an fp8_e4m3 cache, for the harness of a variant with
# one, e.g. a build/coverage point. The check that every page size is served applies to the dispatcher only.)
set -u
bash scripts/device/unpack.sh || exit 1  # pack.sh carries the harnesses xz-packed
h=${1:-build/mla_sm90_dispatch/harness}
RANDOM=${SEED:-20261122}
n=0; f=0
for _ in $(seq 1 "${N:-70}"); do
  b=$((RANDOM % 40 + 1)); [ $((RANDOM % 5)) -eq 0 ] && b=$((RANDOM % 300 + 1))
  sq=$((RANDOM % 16 + 1)); [ $((RANDOM % 2)) -eq 0 ] && sq=$((RANDOM % 2 + 1)); [ $((RANDOM % 8)) -eq 0 ] && sq=$((RANDOM % 128 + 1))
  hq=$((RANDOM % 128 + 1)); [ $((RANDOM % 3)) -eq 0 ] && hq=$(((RANDOM % 8 + 1) * 16))
  while [ $((sq * hq)) -gt 4096 ]; do hq=$((hq / 2)); done
  sk=$((RANDOM % 5000 + 1)); [ $((RANDOM % 6)) -eq 0 ] && sk=$((RANDOM % 40000 + 1))
  vl=$((RANDOM % 2)); causal=$((RANDOM % 4 == 0 ? 0 : 1)); dt=bf16; [ $((RANDOM % 3)) -eq 0 ] && dt=fp16
  dt=${DTYPE:-$dt}
  args="--b $b --s-q $sq --h-q $hq --sk $sk --varlen $vl --causal $causal --dtype $dt --page-size ${PAGE:-64} --seed $RANDOM${KV:+ --kv-dtype $KV}"
  r=$(timeout 120 "$h" --mode check $args --cpu-ref 0 2>&1); n=$((n + 1))
  echo "$r" | grep -q '"pass":true' || { f=$((f + 1)); echo "FAIL [$args]: $(echo "$r" | head -c 500)"; }
done
echo "fuzz: $((n - f))/$n passed"
# Every page size is served (the dispatcher's variant for any page size takes those without a TMA variant).
[[ "$h" == *mla_sm90_dispatch* ]] && for page in 3 32 128; do
  r=$(timeout 60 "$h" --mode check --b 2 --s-q 1 --h-q 16 --sk 100 --page-size "$page" --cpu-ref 0 2>&1)
  echo "$r" | grep -q '"pass":true' || { f=$((f + 1)); echo "FAIL: page size $page: $(echo "$r" | head -c 300)"; }
done
for bad in "--h-kv 2 --h-q 32" "--s-q 129" "--h-q 129 --s-q 16"; do
  r=$(timeout 60 "$h" --mode check --b 2 --s-q 1 --h-q 16 --sk 100 $bad --cpu-ref 0${DTYPE:+ --dtype $DTYPE}${KV:+ --kv-dtype $KV} 2>&1)
  echo "refused [$bad]: $(echo "$r" | grep -o '"status":"[a-z_]*"\|"error":"[^"]*"' | head -2 | tr '\n' ' ')"
  echo "$r" | grep -q '"pass":true' && { f=$((f + 1)); echo "FAIL: [$bad] was accepted"; }
done
[ "$f" -eq 0 ]
