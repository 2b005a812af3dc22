//! `cargo bench --bench peers`: the programs of peer-bench/ (loom and
//! shuttle) as wasm guests under interlace-wasm: found or not, executions to
//! the first failure (or all of the budget), wall time without compilation,
//! executions per second. Prints a markdown table, then time to verdict
//! against loom's and shuttle's (peer-bench/results.json, measured by
//! `cd peer-bench && cargo run --release`) as ratios.

mod common;

use common::{explore_config, guests, load};
use interlace_instrument::Granularity;
use interlace_wasm::{explore, Strategy};

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

/// A peer's row in peer-bench/results.json: (found, time in s, right verdict).
fn peer(
    rows: &[serde_json::Value],
    program: &str,
    tool: &str,
    mode: &str,
) -> Option<(bool, f64, bool)> {
    let r = rows.iter().find(|r| {
        r["program"] == program
            && r["variant"] == ""
            && r["tool"] == tool
            && r["mode"].as_str().is_some_and(|m| m.starts_with(mode))
    })?;
    Some((
        r["found"].as_bool()?,
        r["time_s"].as_f64()?,
        r["verdict_ok"].as_bool()?,
    ))
}

fn main() {
    let dir = guests();
    // (program, our verdict right, our time to verdict in s)
    let mut ours: Vec<(&str, bool, f64)> = vec![];
    println!("| program | tool | mode | verdict | executions | time | executions/s | right? |");
    println!("|---|---|---|---|---|---|---|---|");
    for &(guest, name, buggy) in PROGRAMS {
        let wasm = std::fs::read(dir.join(format!("{guest}.wasm"))).unwrap();
        let program = load(&wasm, Some(Granularity::All));
        let modes = [
            ("portfolio", Strategy::Portfolio { seed: 0 }, SAMPLES),
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
            let cfg = explore_config(strategy, iterations);
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
            // Our verdict: the default strategy finds a bug; a correct
            // program's verdict is DPOR's complete search.
            if (buggy && mode == "portfolio") || (!buggy && mode == "dpor") {
                ours.push((name, right, secs));
            }
            println!(
                "| {name} | interlace-wasm | {mode} | {verdict} | {} | {:.3} s | {:.0} | {} |",
                r.executions,
                secs,
                r.executions as f64 / secs,
                if right { "yes" } else { "NO" }
            );
        }
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peer-bench/results.json");
    let Some(results) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        println!(
            "\n(no {}: run the peer bench for the ratios)",
            path.display()
        );
        return;
    };
    let rows = results["rows"].as_array().cloned().unwrap_or_default();
    println!("\ntime to verdict, interlace-wasm (default strategy for a bug, DPOR's proof for a correct program) against loom (DPOR, unbounded) and shuttle (random), from {}:\n", path.display());
    println!("| program | interlace-wasm | loom | ours / loom | shuttle | ours / shuttle |");
    println!("|---|---|---|---|---|---|");
    let time = |s: f64| {
        if s < 1e-3 {
            format!("{:.0} µs", s * 1e6)
        } else if s < 1.0 {
            format!("{:.1} ms", s * 1e3)
        } else {
            format!("{s:.2} s")
        }
    };
    let ratio = |r: f64| {
        if r < 10.0 {
            format!("{r:.2}x")
        } else {
            format!("{r:.0}x")
        }
    };
    let cell = |p: Option<(bool, f64, bool)>, mine: f64| match p {
        None => ("-".to_string(), "-".to_string()),
        Some((_, t, false)) => (format!("{}, wrong verdict", time(t)), "-".to_string()),
        Some((_, t, true)) => (time(t), ratio(mine / t)),
    };
    for (name, right, secs) in ours {
        let (loom, loom_ratio) = cell(peer(&rows, name, "loom", "dpor, unbounded"), secs);
        let (shuttle, shuttle_ratio) = cell(peer(&rows, name, "shuttle", "check_random"), secs);
        let mine = format!(
            "{}{}",
            time(secs),
            if right { "" } else { ", WRONG verdict" }
        );
        println!("| {name} | {mine} | {loom} | {loom_ratio} | {shuttle} | {shuttle_ratio} |");
    }
}
