//! `cargo bench --bench speed`: executions per second against the baseline.
//!
//! The same explorations as the baseline run (issue 14's starting point,
//! commit 600152a, measured on the 2-core development machine and kept in
//! docs/benchmarks.md), measured now and printed side by side as ratios.
//! Machines differ and this one is noisy: compare the ratios of one run,
//! and run the baseline's numbers again on your machine
//! (`git worktree add ../baseline 600152a`, copy this file there, `cargo
//! bench --bench speed`) before trusting an absolute number.

mod common;

use common::{guests, load};
use interlace_instrument::Granularity;
use interlace_wasm::{explore, ExploreConfig, RunConfig, Strategy};
use std::time::Instant;

/// (guest, threads, random executions/s, DPOR executions, DPOR executions/s)
/// of the baseline binary (600152a), measured with `explore --json` on
/// 2026-12-02 on the 2-core machine with one core busy elsewhere, so that
/// the current numbers, measured the same way beside it, were 1.13-1.19x
/// (random) and 0.87-1.11x (DPOR): see docs/benchmarks.md.
const BASELINE: &[(&str, u32, f64, u64, f64)] = &[
    ("seqlock_fixed", 2, 2128.0, 207, 732.0),
    ("peterson_correct", 3, 1489.0, 125, 467.0),
    ("atomic_counter", 4, 1137.0, 2000, 335.0),
    ("mutex_counter", 4, 1067.0, 2000, 328.0),
];

/// Random executions per run.
const RANDOM: u64 = 2000;
/// DPOR's budget: seqlock_fixed (207) and peterson_correct (125) finish
/// within it; the 4-thread counters run their first 2,000 (the same ones
/// whatever the speed: DPOR's order is deterministic).
const DPOR_BUDGET: u64 = 2000;

fn main() {
    let dir = guests();
    println!("executions/s, this version against the baseline (600152a), one run:\n");
    println!(
        "  {:<18} {:>7} {:>12} {:>12} {:>7}   {:>10} {:>12} {:>12} {:>7}",
        "guest",
        "threads",
        "random now",
        "baseline",
        "ratio",
        "dpor execs",
        "dpor now",
        "baseline",
        "ratio"
    );
    for &(name, threads, base_random, base_dpor_n, base_dpor) in BASELINE {
        let wasm = std::fs::read(dir.join(format!("{name}.wasm"))).unwrap();
        let p = load(&wasm, Some(Granularity::All));
        let run = |strategy: Strategy, iterations: u64| {
            let cfg = ExploreConfig {
                strategy,
                iterations,
                markers_only: false,
                time: None,
                run: RunConfig::default(),
            };
            let start = Instant::now();
            let r = explore(&p, &cfg).unwrap();
            assert!(r.failure.is_none(), "{name} is correct");
            (
                r.executions,
                r.executions as f64 / start.elapsed().as_secs_f64(),
            )
        };
        let (_, random) = run(Strategy::Random { seed: 1 }, RANDOM);
        let (dpor_n, dpor) = run(
            Strategy::Dpor {
                preemption_bound: None,
                library_blocks: true,
            },
            DPOR_BUDGET,
        );
        let ratio = |now: f64, base: f64| {
            if base > 0.0 {
                format!("{:.2}x", now / base)
            } else {
                "-".to_string()
            }
        };
        let same = if base_dpor_n == 0 || base_dpor_n == dpor_n {
            ""
        } else {
            " (the baseline ran a different number: DPOR must not change)"
        };
        println!(
            "  {name:<18} {threads:>7} {random:>12.0} {base_random:>12.0} {:>7}   {dpor_n:>10} {dpor:>12.0} {base_dpor:>12.0} {:>7}{same}",
            ratio(random, base_random),
            ratio(dpor, base_dpor)
        );
    }
}
