#!/usr/bin/env bash
# Prints the path of a usable node: the system's, or the portable copy carried in .devnode/
# (made by ../shared/tools/portable-node.sh), unpacked on first use.
set -eu
if command -v node >/dev/null 2>&1; then command -v node; exit 0; fi
if [ -f .devnode/node.xz ] && [ ! -x .devnode/node ]; then xz -dkf .devnode/node.xz && chmod +x .devnode/node; fi
[ -x .devnode/node ] || { echo "no node: carry .devnode/ (shared/tools/portable-node.sh)" >&2; exit 1; }
echo "$PWD/.devnode/node"
