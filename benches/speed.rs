//! `cargo bench --bench speed`: executions per second against the baseline.
//!
//! The same explorations as the baseline run (issue 14's starting point,
//! commit 600152a, measured on the 2-core development machine and kept in
//! docs/benchmarks.md), measured now and printed side by side as ratios.
//! Machines differ and this one is noisy: compare the ratios of one run,
//! and run the baseline's numbers again on your machine
//! (`git worktree add ../baseline 600152a`, copy this file there, `cargo
//! bench --bench speed`) before trusting an absolute number. Or build the
//! baseline's binary and set `INTERLACE_BASELINE_BIN` to it: the bench then
//! also runs both binaries as commands on the same guests, interleaved, and
//! prints those ratios, which the machine's drift does not move.

mod common;

use common::{best, explore_config, guests, load, point_guests, run_all};
use interlace_instrument::Granularity;
use interlace_wasm::runtime::costs::{reset_time, setup_costs};
use interlace_wasm::scheduler::{RandomScheduler, RoundRobinScheduler};
use interlace_wasm::{explore, Program, RunConfig, Scheduler, Strategy};
use std::time::Instant;

/// (guest, threads, random executions/s, DPOR executions, DPOR executions/s)
/// of the baseline (600152a): this bench's own loop, run in that commit's
/// tree (`git worktree add ../baseline 600152a`, this file copied there,
/// `cargo bench --bench speed`) on 2026-12-02 on the idle 2-core machine.
const BASELINE: &[(&str, u32, f64, u64, f64)] = &[
    ("seqlock_fixed", 2, 2536.0, 207, 1412.0),
    ("peterson_correct", 3, 1690.0, 125, 717.0),
    ("atomic_counter", 4, 1192.0, 2000, 342.0),
    ("mutex_counter", 4, 1060.0, 2000, 339.0),
    // examples/c/mutex_counter.c (pthreads), measured with `explore --json`
    // of the baseline binary beside the current one (the baseline tree has
    // no C build): 3,491/s then against 4,868/s now.
    ("c/mutex_counter", 3, 3491.0, 41, 1345.0),
];

/// A C example compiled with the toolchain of scripts/install-c-toolchain.sh
/// (at target/wasi-sysroot, where CI puts it); None without it.
fn c_guest(name: &str) -> Option<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sysroot = root.join("target/wasi-sysroot");
    if !sysroot.join("lib/wasm32-wasip1-threads/libc.a").exists() {
        return None;
    }
    let out = root.join(format!("target/c-guests/{name}.wasm"));
    std::fs::create_dir_all(out.parent()?).ok()?;
    let ok = std::process::Command::new("bash")
        .arg(root.join("scripts/wasm-cc.sh"))
        .arg(&sysroot)
        .arg(root.join(format!("examples/c/{name}.c")))
        .arg("-o")
        .arg(&out)
        .status()
        .ok()?
        .success();
    ok.then(|| std::fs::read(&out).ok()).flatten()
}

/// Random executions per run.
const RANDOM: u64 = 2000;
/// DPOR's budget: seqlock_fixed (207) and peterson_correct (125) finish
/// within it; the 4-thread counters run their first 2,000 (the same ones
/// whatever the speed: DPOR's order is deterministic).
const DPOR_BUDGET: u64 = 2000;

/// Minor page faults of this OS thread so far.
fn page_faults() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut u);
        u.ru_minflt as u64
    }
}

/// Nanoseconds per scheduling point (host bookkeeping and the hook call),
/// without and with a fiber switch.
fn per_point() -> (f64, f64) {
    let big = RunConfig {
        max_steps: 100_000_000,
        ..RunConfig::default()
    };
    let guests = point_guests();
    let time = |p: &Program, s: &dyn Fn() -> Box<dyn Scheduler>| {
        best(3, || {
            let r = run_all(p, s(), &big);
            assert_eq!(r.failed, 0);
            r.elapsed
        })
    };
    // Main alone skips its points (abi::SOLO_EXPORT): the baseline. With a
    // second thread that waits forever they are points, main the only one
    // that can run.
    let base = time(&load(&guests.alone, None), &|| {
        Box::new(RandomScheduler::new(1, 1))
    });
    let alone = time(&load(&guests.blocked, Some(Granularity::All)), &|| {
        Box::new(RandomScheduler::new(1, 1))
    });
    let switching = time(&load(&guests.two, Some(Granularity::All)), &|| {
        Box::new(RoundRobinScheduler::new(1))
    });
    (
        alone.saturating_sub(base).as_nanos() as f64 / 1e6,
        switching.saturating_sub(base * 2).as_nanos() as f64 / 2e6,
    )
}

fn main() {
    let dir = guests();
    let (no_switch, with_switch) = per_point();
    println!(
        "ns per scheduling point (host call and bookkeeping, guest work subtracted), one run:\n  without a switch {no_switch:.0} ns, with a fiber switch at every point {with_switch:.0} ns\n"
    );
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
    let mut breakdown = vec![];
    let mut paths = vec![];
    for &(name, threads, base_random, base_dpor_n, base_dpor) in BASELINE {
        let wasm = match name.strip_prefix("c/") {
            Some(c) => match c_guest(c) {
                Some(wasm) => wasm,
                None => {
                    println!("  {name:<18} (no C toolchain: scripts/install-c-toolchain.sh target/wasi-sysroot)");
                    continue;
                }
            },
            None => std::fs::read(dir.join(format!("{name}.wasm"))).unwrap(),
        };
        let p = load(&wasm, Some(Granularity::All));
        let run = |strategy: Strategy, iterations: u64| {
            let cfg = explore_config(strategy, iterations);
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
        // The baseline's DPOR was unsound in two ways (a second read taken
        // for a spin; memory reuse ordering threads), so its counts differ.
        let same = if base_dpor_n == 0 || base_dpor_n == dpor_n {
            String::new()
        } else {
            format!(" (baseline: {base_dpor_n}, before DPOR's soundness fixes)")
        };
        println!(
            "  {name:<18} {threads:>7} {random:>12.0} {base_random:>12.0} {:>7}   {dpor_n:>10} {dpor:>12.0} {base_dpor:>12.0} {:>7}{same}",
            ratio(random, base_random),
            ratio(dpor, base_dpor)
        );
        breakdown.push((name, p));
        paths.push((name, wasm));
    }
    println!(
        "\nwhere a random execution's time goes, per execution: memory = clearing the reused memory + page faults x the cost of one;\ninstances = threads x one instantiation; host = points x ns per point above; guest = the rest (guest code, wasi, executor)"
    );
    println!(
        "  {:<18} {:>8} {:>7} {:>7} {:>6} {:>13} {:>13} {:>13} {:>13}",
        "guest",
        "µs/exec",
        "points",
        "threads",
        "faults",
        "memory",
        "instances",
        "host",
        "guest+other"
    );
    for (name, p) in breakdown {
        let faults_before = page_faults();
        let resets_before = reset_time();
        // As `explore` runs the random strategy: plain library accesses
        // are no points (see RunConfig::library_points).
        let sampling = RunConfig {
            library_points: Some(false),
            ..RunConfig::default()
        };
        let r = run_all(&p, Box::new(RandomScheduler::new(1, 500)), &sampling);
        assert_eq!(r.failed, 0, "{name} is correct");
        let (n, steps, threads, t) = (r.executions, r.steps, r.threads, r.elapsed);
        let faults = (page_faults() - faults_before) as f64 / n as f64;
        let resets = (reset_time() - resets_before).as_secs_f64() / n as f64;
        let costs = setup_costs(&p, 200).expect("the guest instantiates");
        let per = t.as_secs_f64() * 1e6 / n as f64;
        let points = steps as f64 / n as f64;
        let threads = threads as f64 / n as f64;
        // The first execution maps its memory; the rest reuse it, cleared.
        let memory = (costs.memory.as_secs_f64() / n as f64
            + resets
            + faults * costs.page_fault.as_secs_f64())
            * 1e6;
        let instances = costs.instance.as_secs_f64() * 1e6 * threads;
        let host = points * no_switch / 1e3;
        let rest = per - memory - instances - host;
        let share = |us: f64| format!("{us:.0} µs {:>3.0}%", 100.0 * us / per);
        println!(
            "  {name:<18} {per:>8.0} {points:>7.0} {threads:>7.1} {faults:>6.0} {:>13} {:>13} {:>13} {:>13}",
            share(memory),
            share(instances),
            share(host),
            share(rest)
        );
    }
    side_by_side(&paths);
}

/// With `INTERLACE_BASELINE_BIN` set to a baseline binary (600152a's, say):
/// that binary and this version's, run as commands on the same guests,
/// interleaved, in this run. The recorded baseline numbers above came from
/// another day's machine, whose speed drifts (one session measured the same
/// binary 1.4x faster than the day before); this comparison does not.
/// Executions/s with the start-up taken out: (N - 10) / (time of N - time
/// of 10 executions), the best of five rounds (seven for DPOR).
fn side_by_side(guests: &[(&str, Vec<u8>)]) {
    let Some(base) = std::env::var_os("INTERLACE_BASELINE_BIN") else {
        println!("\n(set INTERLACE_BASELINE_BIN to a baseline binary to compare side by side)");
        return;
    };
    let now = env!("CARGO_BIN_EXE_interlace-wasm");
    let dir = std::env::temp_dir().join(format!("interlace-side-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Each binary its own module cache (their instrumenters differ).
    let run = |bin: &std::ffi::OsStr, tag: &str, wasm: &std::path::Path, strategy: &str, n: u64| {
        let start = Instant::now();
        let out = std::process::Command::new(bin)
            .args([
                "explore",
                "--json",
                "--no-minimise",
                "--seed",
                "1",
                "--strategy",
                strategy,
            ])
            .arg("--iterations")
            .arg(n.to_string())
            .arg(wasm)
            .current_dir(&dir)
            .env("XDG_CACHE_HOME", dir.join(format!("cache-{tag}")))
            .env_remove("INTERLACE_CACHE_DIR")
            .output()
            .expect("the binary runs");
        let elapsed = start.elapsed().as_secs_f64();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (elapsed, v["executions"].as_u64().unwrap_or(n))
    };
    println!(
        "\nside by side with {} (commands, start-up taken out, best of 5 random, 7 DPOR):\n",
        base.to_string_lossy()
    );
    println!(
        "  {:<18} {:>12} {:>12} {:>7}   {:>12} {:>12} {:>7}",
        "guest", "random now", "baseline", "ratio", "dpor now", "baseline", "ratio"
    );
    for (name, wasm) in guests {
        let path = dir.join(format!("{}.wasm", name.replace('/', "_")));
        std::fs::write(&path, wasm).unwrap();
        let mut rates = vec![];
        for (strategy, n) in [("random", 10_000), ("dpor", 1_000)] {
            let mut best = [(f64::MAX, 0u64, f64::MAX); 2];
            for tag in ["now", "base"] {
                let bin: &std::ffi::OsStr = if tag == "now" { now.as_ref() } else { &base };
                run(bin, tag, &path, strategy, 10); // fills the cache
            }
            // DPOR's guests that it proves in a few hundred executions run
            // for tens of milliseconds: more rounds against the noise.
            let rounds = if strategy == "dpor" { 7 } else { 5 };
            for _ in 0..rounds {
                for (i, tag) in ["now", "base"].into_iter().enumerate() {
                    let bin: &std::ffi::OsStr = if tag == "now" { now.as_ref() } else { &base };
                    let (big, count) = run(bin, tag, &path, strategy, n);
                    let (small, _) = run(bin, tag, &path, strategy, 10);
                    best[i].0 = best[i].0.min(big);
                    best[i].1 = count;
                    best[i].2 = best[i].2.min(small);
                }
            }
            for (big, count, small) in best {
                rates.push(count.saturating_sub(10) as f64 / (big - small).max(1e-6));
            }
        }
        println!(
            "  {name:<18} {:>12.0} {:>12.0} {:>6.2}x   {:>12.0} {:>12.0} {:>6.2}x",
            rates[0],
            rates[1],
            rates[0] / rates[1],
            rates[2],
            rates[3],
            rates[2] / rates[3]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
