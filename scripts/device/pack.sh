#!/usr/bin/env bash
# Packs what a GPU run needs from build/ (the harness binaries, xz-packed to a fifth of their size, and the
# resource reports, not the objects) into .devpack/build, to carry it under the device's 64 MiB limit. On the
# device: rm -rf build && cp -r .devpack/build build && scripts/device/unpack.sh (final.sh unpacks by itself).
set -eu
rm -rf .devpack && mkdir -p .devpack/build
for d in build/mla_*/; do
  id=$(basename "$d"); mkdir -p ".devpack/build/$id"
  cp "$d/report.json" ".devpack/build/$id/"; xz -T0 -c "$d/harness" > ".devpack/build/$id/harness.xz"
done
# The DSL points beyond the catalogue (scripts/device/coverage.sh), checked by final.sh PARTS=coverage.
for d in build/coverage/mla_*/; do
  id=$(basename "$d"); mkdir -p ".devpack/build/coverage/$id"
  cp "$d/plan.json" ".devpack/build/coverage/$id/"; xz -T0 -c "$d/harness" > ".devpack/build/coverage/$id/harness.xz"
done
grep -qx '/.devpack/' .git/info/exclude 2>/dev/null || echo '/.devpack/' >> .git/info/exclude
du -sh .devpack
