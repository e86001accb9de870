#!/usr/bin/env bash
# Builds the DSL points of scripts/device/coverage.json (beyond the catalogue) into build/coverage/<id>/, on the
# build machine; pack.sh carries their harnesses and plans, and `PARTS=coverage scripts/device/final.sh` checks them on the GPU.
set -eu
cd "$(dirname "$0")/../.."
n=$(node -e 'console.log(require("./scripts/device/coverage.json").spaces.length)')
for i in $(seq 0 $((n - 1))); do
  space=$(node -e "console.log(JSON.stringify(require('./scripts/device/coverage.json').spaces[$i]))")
  node scripts/bin/mlagen.mjs tune --build-only --work-dir build/coverage --jobs "${JOBS:-2}" --space "$space" 2>&1 | grep -E 'candidates built|not built' || true
done
# A space's baseline is built too; where it is a catalogue variant, the release run checks it already.
for d in build/coverage/mla_*/; do
  if [ -d "generated/$(basename "$d")" ]; then rm -rf "$d"; fi
done
ls build/coverage
