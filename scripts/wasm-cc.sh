#!/usr/bin/env bash
# Compile C for wasm32-wasip1-threads with the sysroot built by
# scripts/install-c-toolchain.sh.
#
# usage: scripts/wasm-cc.sh SYSROOT [clang args...]
#   e.g. scripts/wasm-cc.sh target/wasi-sysroot app.c -o app.wasm
#
# Flags: -O1 -g (source lines in reports) -pthread, and the memory setup
# wasi-threads needs (imported, exported, shared, 64 MiB max). Later
# arguments win, so e.g. -O0 or -O2 may be passed.
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: $0 SYSROOT [clang args...]" >&2
    exit 2
fi
SYSROOT=$1
shift
if [ ! -f "$SYSROOT/lib/wasm32-wasip1-threads/libc.a" ]; then
    echo "wasm-cc: no sysroot at $SYSROOT (run scripts/install-c-toolchain.sh $SYSROOT)" >&2
    exit 2
fi
exec clang-22 --target=wasm32-wasip1-threads --sysroot="$SYSROOT" \
    -O1 -g -pthread \
    -Wl,--import-memory,--export-memory,--max-memory=67108864 \
    "$@"
