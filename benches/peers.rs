//! `cargo bench --bench peers`: the programs of peer-bench/ (loom and
//! shuttle) as wasm guests under interlace-wasm: found or not, executions to
//! the first failure (or all of the budget), wall time without compilation,
//! executions per second. Prints a markdown table.

mod common;

use common::{guests, load};
use interlace_instrument::Granularity;
use interlace_wasm::{explore, ExploreConfig, RunConfig, Strategy};

/// (guest, what it is, whether it has a bug)
const PROGRAMS: &[(&str, &str, bool)] = &[
    ("counter_lost_update", "lost_update", true),
    ("lock_order_deadlock", "lock_order_deadlock", true),
    ("condvar_lost_wakeup", "condvar_lost_wakeup", true),
    ("seqlock_torn", "seqlock_torn", true),
    ("seqlock_fixed", "seqlock_fixed", false),
    ("treiber_aba", "treiber_aba", true),
    ("peterson_broken", "peterson_broken", true),
    ("peterson_correct", "peterson_correct", false),
    ("plain_lost_update", "plain_lost_update", true),
];

/// Budget of the sampling strategies, as shuttle's in peer-bench.
const SAMPLES: u64 = 100_000;
/// Budget of DPOR.
const DPOR_BUDGET: u64 = 20_000;

fn main() {
    let dir = guests();
    println!("| program | tool | mode | verdict | executions | time | executions/s | right? |");
    println!("|---|---|---|---|---|---|---|---|");
    for &(guest, name, buggy) in PROGRAMS {
        let wasm = std::fs::read(dir.join(format!("{guest}.wasm"))).unwrap();
        let program = load(&wasm, Some(Granularity::All));
        let modes = [
            ("random", Strategy::Random { seed: 0 }, SAMPLES),
            ("pct d=3", Strategy::Pct { seed: 0, depth: 3 }, SAMPLES),
            ("pos", Strategy::Pos { seed: 0 }, SAMPLES),
            (
                "dpor",
                Strategy::Dpor {
                    preemption_bound: None,
                    library_blocks: true,
                },
                DPOR_BUDGET,
            ),
            (
                "dpor --deepen",
                Strategy::DporDeepening {
                    library_blocks: true,
                },
                DPOR_BUDGET,
            ),
        ];
        for (mode, strategy, iterations) in modes {
            let cfg = ExploreConfig {
                strategy,
                iterations,
                markers_only: false,
                time: None,
                run: RunConfig::default(),
            };
            let r = explore(&program, &cfg).expect("explores");
            let verdict = match &r.failure {
                Some(f) => format!(
                    "found ({})",
                    f.execution.failure.as_ref().unwrap().kind.name()
                ),
                None => match &r.coverage {
                    Some(c) if c.is_complete() => "none, complete".to_string(),
                    Some(_) => "none, NOT complete".to_string(),
                    None => "none".to_string(),
                },
            };
            let right = r.failure.is_some() == buggy;
            let secs = r.elapsed.as_secs_f64();
            println!(
                "| {name} | interlace-wasm | {mode} | {verdict} | {} | {:.3} s | {:.0} | {} |",
                r.executions,
                secs,
                r.executions as f64 / secs,
                if right { "yes" } else { "NO" }
            );
        }
    }
}
