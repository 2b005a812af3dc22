#!/usr/bin/env bash
# Draws the bank-account race as HTML and checks the page in headless
# Chromium: the DOM after scripts ran has one lane per thread and the
# failing step, and a screenshot is written. Needs Debian's chromium
# (apt-get install chromium). Usage: scripts/html-screenshot.sh [out-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/html-check}"
mkdir -p "$out"
cargo build --release --quiet
(cd examples/guests && cargo build --release --quiet --target wasm32-wasip1-threads \
    --target-dir ../../target/guests --bin bank_account)
module=target/guests/wasm32-wasip1-threads/release/bank_account.wasm
set +e
./target/release/interlace-wasm explore "$module" --save "$out/bank.json" --html "$out/bank.html" > "$out/bank.txt"
code=$?
set -e
[ "$code" = 1 ] || { echo "expected the race to be found (exit 1), got $code"; exit 1; }
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$(mktemp -d)")
page="file://$(realpath "$out/bank.html")"
chromium "${flags[@]}" --dump-dom "$page" 2>/dev/null > "$out/dom.html"
grep -q 'class="lanes"' "$out/dom.html" || { echo "no lanes in the rendered DOM"; exit 1; }
heads=$(grep -o 'class="head"' "$out/dom.html" | wc -l)
[ "$heads" = 4 ] || { echo "expected 4 column heads (step, main, t1, t2), got $heads"; exit 1; }
grep -q 'class="op program conflict fails"\|class="op fails"\|class="op program fails"' "$out/dom.html" \
    || { echo "the failing step is not marked"; exit 1; }
chromium "${flags[@]}" --hide-scrollbars --window-size=1100,1400 \
    --screenshot="$out/bank.png" "$page" 2>/dev/null
[ -s "$out/bank.png" ] || { echo "no screenshot"; exit 1; }
echo "ok: $out/bank.html rendered; screenshot $out/bank.png"
