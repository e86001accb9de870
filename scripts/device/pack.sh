#!/usr/bin/env bash
# Packs what a GPU run needs from build/ (the harness binaries, xz-packed to a fifth of their size, and the
# resource reports, not the objects) into .devpack/build, to carry it under the device's 64 MiB limit. On the
# device: rm -rf build && cp -r .devpack/build build && scripts/device/unpack.sh (final.sh unpacks by itself).
set -eu
rm -rf .devpack && mkdir -p .devpack/build
# pack FOLDER FILE: each FOLDER/mla_*/ as .devpack/FOLDER/<id>/ with FILE beside the xz-packed harness.
pack() {
  for d in "$1"/mla_*/; do
    [ -d "$d" ] || continue
    local dst=".devpack/$1/$(basename "$d")"
    mkdir -p "$dst" && cp "$d/$2" "$dst/" && xz -T0 -c "$d/harness" > "$dst/harness.xz"
  done
}
pack build report.json
# The DSL points beyond the catalogue (scripts/device/coverage.sh), checked by final.sh PARTS=coverage on their plan.
pack build/coverage plan.json
grep -qx '/.devpack/' .git/info/exclude 2>/dev/null || echo '/.devpack/' >> .git/info/exclude
du -sh .devpack
