#!/usr/bin/env bash
# Install a C toolchain for wasm32-wasip1-threads from Debian packages and
# build a sysroot for it.
#
# usage: scripts/install-c-toolchain.sh SYSROOT_DIR
#
# - Debian bookworm packages: clang-22, lld-22 (wasm-ld-22) and
#   libclang-rt-22-dev-wasm32 (bookworm-security/updates), and wasi-libc from
#   bookworm-backports, used for its headers only (/usr/include/wasm32-wasi;
#   wasi-libc's headers are the same for the threaded and the single-threaded
#   builds). apt is skipped entirely when clang-22, wasm-ld-22, the wasm32
#   compiler-rt builtins and the headers are already there. Needs root for apt.
# - The threaded libc.a and crt1-command.o come from the rust toolchain's
#   wasm32-wasip1-threads target (self-contained), toolchain $RUST_TOOLCHAIN
#   (default 1.95.0, as pinned in rust-toolchain.toml).
# - SYSROOT_DIR gets include/wasm32-wasip1-threads (the headers) and
#   lib/wasm32-wasip1-threads (libc.a, crt1-command.o, and empty libpthread.a,
#   libm.a, libdl.a, librt.a, libutil.a: all of them live in libc.a).
#
# Idempotent and non-interactive. Progress goes to stderr; the last line on
# stdout is the clang command prefix to compile with (scripts/wasm-cc.sh
# wraps it).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 SYSROOT_DIR" >&2
    exit 2
fi
SYSROOT=$1
RUST_TOOLCHAIN=${RUST_TOOLCHAIN:-1.95.0}
HEADERS=/usr/include/wasm32-wasi
BUILTINS=/usr/lib/llvm-22/lib/clang/22/lib/wasi/libclang_rt.builtins-wasm32.a
export DEBIAN_FRONTEND=noninteractive

log() { echo "install-c-toolchain: $*" >&2; }

have_packages() {
    command -v clang-22 >/dev/null 2>&1 &&
        command -v wasm-ld-22 >/dev/null 2>&1 &&
        [ -f "$BUILTINS" ] &&
        [ -f "$HEADERS/pthread.h" ] &&
        [ -f "$HEADERS/wasi/api.h" ]
}

# The mirror of the existing Debian sources, for the backports suite.
debian_mirror() {
    local uri
    uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -v security | grep -m1 'debian' || true)
    if [ -z "$uri" ]; then
        uri=$(grep -hs '^deb ' /etc/apt/sources.list 2>/dev/null |
            awk '{print $2}' | grep -v security | grep -m1 'debian' || true)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

if have_packages; then
    log "clang-22, wasm-ld-22, compiler-rt and wasi-libc headers present; skipping apt"
else
    if [ "$(id -u)" != 0 ]; then
        log "packages missing and not root: install clang-22 lld-22 libclang-rt-22-dev-wasm32 and wasi-libc (bookworm-backports) first"
        exit 1
    fi
    if ! grep -qrs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        mirror=$(debian_mirror)
        log "adding bookworm-backports ($mirror)"
        cat >/etc/apt/sources.list.d/bookworm-backports.sources <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    log "apt-get update"
    apt-get update -qq >&2
    log "installing clang-22 lld-22 libclang-rt-22-dev-wasm32"
    apt-get install -y -qq --no-install-recommends \
        clang-22 lld-22 libclang-rt-22-dev-wasm32 >&2
    log "installing wasi-libc from bookworm-backports (headers)"
    apt-get install -y -qq --no-install-recommends -t bookworm-backports wasi-libc >&2
    have_packages || { log "packages installed but files missing"; exit 1; }
fi

# The threaded libc from rust's wasm32-wasip1-threads target.
if ! RUST_SYSROOT=$(rustc "+$RUST_TOOLCHAIN" --print sysroot 2>/dev/null); then
    log "rustc +$RUST_TOOLCHAIN not found (rustup toolchain install $RUST_TOOLCHAIN)"
    exit 1
fi
SELF=$RUST_SYSROOT/lib/rustlib/wasm32-wasip1-threads/lib/self-contained
if [ ! -f "$SELF/libc.a" ]; then
    log "adding target wasm32-wasip1-threads to toolchain $RUST_TOOLCHAIN"
    rustup target add --toolchain "$RUST_TOOLCHAIN" wasm32-wasip1-threads >&2
fi
for f in libc.a crt1-command.o; do
    [ -f "$SELF/$f" ] || { log "missing $SELF/$f"; exit 1; }
done

# Build the sysroot next to its final place, then swap it in.
mkdir -p "$(dirname "$SYSROOT")"
TMP=$(mktemp -d "${SYSROOT%/}.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/include/wasm32-wasip1-threads" "$TMP/lib/wasm32-wasip1-threads"
cp -r "$HEADERS/." "$TMP/include/wasm32-wasip1-threads/"
cp "$SELF/libc.a" "$SELF/crt1-command.o" "$TMP/lib/wasm32-wasip1-threads/"
for l in pthread m dl rt util; do
    # An empty archive: byte-identical to what `llvm-ar-22 crs` writes.
    printf '!<arch>\n' >"$TMP/lib/wasm32-wasip1-threads/lib$l.a"
done
rm -rf "$SYSROOT"
mv "$TMP" "$SYSROOT"
trap - EXIT
SYSROOT=$(cd "$SYSROOT" && pwd)
log "sysroot ready: $SYSROOT (libc from rust $RUST_TOOLCHAIN)"

echo "clang-22 --target=wasm32-wasip1-threads --sysroot=$SYSROOT -O1 -g -pthread -Wl,--import-memory,--export-memory,--max-memory=67108864"
