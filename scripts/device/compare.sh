#!/usr/bin/env bash
# Checks the given variants on every case and benches each on FlashMLA's matrix, in one GPU session.
# Usage: scripts/device/compare.sh <variant>...   (writes JSON and logs under $OUT)
set -u
out=${OUT:-/tmp/mlagen-out}; mkdir -p "$out"
node=$(scripts/device/node.sh) || exit 1
cli() { "$node" dist/mlagen.mjs "$@"; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.draw --format=csv,noheader
for v in "$@"; do
  cli check "$v" --cases "${CHECK_CASES:-all}" > "$out/check-$v.txt" 2>&1; echo "check $v exit=$?"; tail -1 "$out/check-$v.txt"
  grep -E "FAIL|CRASH|TIMEOUT" "$out/check-$v.txt" | head -5
done
for v in "$@"; do
  cli bench "$v" --cases "${BENCH_CASES:-matrix}" --json > "$out/bench-$v.json" 2> "$out/bench-$v.log"; echo "bench $v exit=$?"
done
"$node" -e '
const fs = require("fs"); const out = process.argv[1]; const vs = process.argv.slice(2);
const rows = {};
for (const v of vs) { const j = JSON.parse(fs.readFileSync(`${out}/bench-${v}.json`, "utf8"));
  for (const r of j.rows ?? []) (rows[r.id] ??= { anchor: r.anchor?.us })[v] = r.usSingle; }
console.log(["case", "flashmla", ...vs.map((v, i) => "us#" + i)].join("\t"));
for (const [id, r] of Object.entries(rows)) console.log([id, r.anchor ?? "-", ...vs.map((v) => r[v]?.toFixed(1) ?? "-")].join("\t"));
' "$out" "$@"
