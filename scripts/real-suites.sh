#!/usr/bin/env bash
# Runs `cargo interlace test` on published crates' own test suites,
# unmodified: fetches each release's source from the registry, builds its
# tests for wasm32-wasip1-threads and explores every test.
#
#   scripts/real-suites.sh WORKDIR [CRATE@VERSION ...] [-- EXPLORE OPTIONS]
#
# Default crates: the ones measured in docs/testing-crates.md. Needs
# cargo-interlace on PATH (cargo install --path .). Logs go to
# WORKDIR/<crate>.log; a line per crate is printed.
set -euo pipefail
work=${1:?usage: scripts/real-suites.sh WORKDIR [CRATE@VERSION ...] [-- OPTIONS]}
shift
crates=()
while [[ $# -gt 0 && $1 != -- ]]; do crates+=("$1"); shift; done
[[ ${1:-} == -- ]] && shift
options=("$@")
if [[ ${#crates[@]} -eq 0 ]]; then
  crates=(thread_local@1.1.10 once_cell@1.21.4 crossbeam-queue@0.3.14 parking_lot@0.12.5)
fi
if [[ ${#options[@]} -eq 0 ]]; then
  options=(--iterations 100 --max-steps 5000000 --progress never)
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
for spec in "${crates[@]}"; do
  name=${spec%@*}
  version=${spec#*@}
  src="$work/$name-$version"
  if [[ ! -d $src ]]; then
    fetch="$work/fetch-$name-$version"
    mkdir -p "$fetch/src"
    printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n[dependencies]\n%s = "=%s"\n' "$name" "$version" > "$fetch/Cargo.toml"
    touch "$fetch/src/lib.rs"
    cargo fetch --manifest-path "$fetch/Cargo.toml" --quiet
    registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name-$version" | head -1)
    cp -r "$registry" "$src"
    # Built on its own, not as part of an enclosing workspace.
    grep -q '^\[workspace\]' "$src/Cargo.toml" || printf '\n[workspace]\n' >> "$src/Cargo.toml"
  fi
  start=$(date +%s)
  set +e
  (cd "$src" && CARGO_TARGET_DIR="$work/target-$name" cargo interlace test "${options[@]}") > "$work/$name.log" 2>&1
  code=$?
  set -e
  summary=$(grep -h '^test result' "$work/$name.log" | awk '{p+=$4; f+=$6} END {printf "%d passed, %d failed", p, f}')
  echo "$spec: exit $code, $summary, $(( $(date +%s) - start )) s (log: $work/$name.log)"
done
