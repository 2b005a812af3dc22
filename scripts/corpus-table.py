#!/usr/bin/env python3
"""Measures the corpus (corpus/crates, corpus/c) under each strategy and
prints a Markdown table: program x strategy -> found at execution N (time),
"missed in N", or "pass" for a correct program; a failure on a correct
program is marked FALSE ALARM.

usage: scripts/corpus-table.py BINARY [--base OLD_BINARY] [--iterations N]

Needs the corpus built: `cargo test --release corpus` builds it into
target/corpus (crates) and target/corpus-c (C).
"""
import json, os, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = sys.argv[1:]
if not args:
    sys.exit(__doc__)
binary = args[0]
base = args[args.index("--base") + 1] if "--base" in args else None
iterations = args[args.index("--iterations") + 1] if "--iterations" in args else "1000"

def programs():
    for e in json.load(open(f"{root}/corpus/crates/corpus.json")):
        yield e, f"{root}/target/corpus/wasm32-wasip1-threads/release/{e['package']}.wasm"
    for e in json.load(open(f"{root}/corpus/c/corpus.json")):
        yield e, f"{root}/target/corpus-c/{e['name']}.wasm"

def run(binary, module, strategy, budget):
    with tempfile.TemporaryDirectory() as d:
        cmd = [binary, "explore", module, "--json", "--no-minimise", "--iterations", budget]
        if strategy:
            cmd += ["--strategy", strategy]
        t = time.time()
        p = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=1800)
        elapsed = time.time() - t
    if p.returncode == 2:
        return f"error: {p.stderr.strip()[:60]}"
    v = json.loads(p.stdout)
    if v["verdict"] == "fail":
        kind = v["execution"]["failure"]["kind"]
        return ("fail", v["failing_execution"], elapsed, kind)
    cov = v.get("coverage") or {}
    return ("pass", v["executions"], elapsed, cov.get("every_interleaving_covered"))

def cell(entry, r):
    if isinstance(r, str):
        return r
    verdict, n, secs, extra = r
    if verdict == "fail":
        s = f"{n} ({secs:.1f} s)"
        return s if entry["bug"] else f"FALSE ALARM {extra} at {n}"
    if entry["bug"]:
        return f"missed in {n}"
    return f"pass, {'proved' if extra else n} ({secs:.1f} s)"

columns = [("default", None, iterations), ("random", "random", iterations),
           ("pct", "pct", iterations), ("pos", "pos", iterations),
           ("dpor", "dpor", "20000")]
head = ["program", "bug"] + ([f"before: default ({iterations})"] if base else []) + \
       [f"{c} ({b})" for c, _, b in columns]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for entry, module in programs():
    row = [entry["name"], entry.get("kind", "-") if entry["bug"] else "correct"]
    if base:
        row.append(cell(entry, run(base, module, None, iterations)))
    for _, strategy, budget in columns:
        if not entry["bug"] and strategy not in (None, "dpor"):
            row.append("")
            continue
        row.append(cell(entry, run(binary, module, strategy, budget)))
    print("| " + " | ".join(row) + " |", flush=True)
