#!/usr/bin/env bash
# Unpacks the xz-packed harnesses that pack.sh carries (build/<id>/harness.xz, build/coverage/<id>/harness.xz) on the
# GPU machine; final.sh runs it first. Idempotent.
set -eu
for x in build/*/harness.xz build/coverage/*/harness.xz; do
  [ -f "$x" ] || continue
  h=${x%.xz}
  [ -x "$h" ] || { xz -dc "$x" > "$h" && chmod +x "$h"; }
done
