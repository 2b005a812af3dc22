#!/usr/bin/env bash
# Build every program of this corpus for wasm32-wasip1-threads.
# usage: corpus/c/build.sh SYSROOT OUTDIR
#   SYSROOT from scripts/install-c-toolchain.sh SYSROOT; writes OUTDIR/<name>.wasm
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 SYSROOT OUTDIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
sysroot=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
cd "$here" # relative file names: the reports show account_bad.c:30, not a path
for f in *.c; do
    n=${f%.c}
    # The originals are kept as they are: silence their warnings (missing
    # returns in thread functions, unused values).
    "$here/../../scripts/wasm-cc.sh" "$sysroot" -w "$f" -o "$out/$n.wasm"
    echo "$out/$n.wasm"
done
