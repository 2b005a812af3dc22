//! `cargo bench`: the costs that decide how fast interlace-wasm explores.
//! Prints numbers (no pass/fail); compare ratios measured in one run.
//!
//! - host cost of a scheduling point without a switch, and with a fiber switch;
//! - fresh executions per second on 2-thread guests;
//! - slowdown of an instrumented guest against the same guest uninstrumented;
//! - how often the examples' bugs are found per execution, per strategy.

mod common;

use common::{explore_config, guests, load, point_guests, run_all, wat_module};
use interlace_instrument::{instrument, Config, Granularity};
use interlace_wasm::scheduler::{
    DporScheduler, PctScheduler, PosScheduler, RandomScheduler, RoundRobinScheduler,
    UniformScheduler,
};
use interlace_wasm::{
    execute, explore_parallel, ExploreConfig, Program, RunConfig, Scheduler, Strategy,
};
use std::path::Path;
use std::time::{Duration, Instant};

fn once(p: &Program, slice: u64, cfg: &RunConfig) -> Duration {
    let r = run_all(p, Box::new(RoundRobinScheduler::new(slice)), cfg);
    assert_eq!(r.failed, 0);
    r.elapsed
}

fn best(f: impl Fn() -> Duration) -> Duration {
    common::best(5, f)
}

fn main() {
    let big = RunConfig {
        max_steps: 100_000_000,
        ..RunConfig::default()
    };
    println!("interlace-wasm core benchmark (one OS thread; best of 5 where timed)\n");

    // 1. A scheduling point without a switch: 1M atomic loads, one thread
    // runnable. Main alone would skip them (abi::SOLO_EXPORT): a second
    // thread that waits forever makes them points.
    let points = point_guests();
    let plain = best(|| once(&load(&points.alone, None), 1, &big));
    let instr = best(|| once(&load(&points.blocked, Some(Granularity::All)), 1, &big));
    let per_yield = (instr.saturating_sub(plain)).as_nanos() as f64 / 1e6;
    println!("scheduling point, no switch:   {per_yield:7.1} ns  (1M atomic loads: {plain:?} plain, {instr:?} instrumented)");

    // 2. With a fiber switch at every point: two threads, slice 1.
    let p2 = load(&points.two, Some(Granularity::All));
    let switching = best(|| once(&p2, 1, &big));
    let steady = best(|| once(&p2, u64::MAX, &big));
    let per_switch = switching.as_nanos() as f64 / 2e6;
    let switch_cost = (switching.saturating_sub(steady)).as_nanos() as f64 / 2e6;
    println!(
        "scheduling point, with switch: {per_switch:7.1} ns  (fiber switch alone ~{switch_cost:.1} ns; 2M points: {switching:?} switching, {steady:?} not)"
    );

    // 3. Fresh executions per second on 2-thread guests.
    let tiny = wat_module(
        r#"(func (export "wasi_thread_start") (param i32 i32)
             (i32.store (i32.const 0) (i32.const 1))
             (i32.atomic.store (i32.const 4) (i32.const 1))
             (drop (memory.atomic.notify (i32.const 4) (i32.const 1))))
           (func (export "_start")
             (drop (call $spawn (i32.const 0)))
             (i32.store (i32.const 0) (i32.const 2))
             (block $d (loop $l (br_if $d (i32.atomic.load (i32.const 4)))
               (drop (memory.atomic.wait32 (i32.const 4) (i32.const 0) (i64.const -1))) (br $l))))"#,
    );
    let pt = load(&tiny, Some(Granularity::All));
    let cfg = RunConfig::default();
    let r = run_all(&pt, Box::new(RandomScheduler::new(1, 20_000)), &cfg);
    let (n, t) = (r.executions, r.elapsed);
    println!(
        "fresh executions/s, 2-thread wat guest:        {:8.0}  ({n} in {t:?})",
        n as f64 / t.as_secs_f64()
    );

    let dir = guests();
    let read = |name: &str| std::fs::read(dir.join(format!("{name}.wasm"))).unwrap();
    for (name, threads) in [("counter_lost_update", 3), ("atomic_counter", 4)] {
        let p = load(&read(name), Some(Granularity::All));
        let r = run_all(&p, Box::new(RandomScheduler::new(1, 1000)), &cfg);
        let (n, t) = (r.executions, r.elapsed);
        let tu = run_all(&p, Box::new(UniformScheduler::new(1, 1000)), &cfg).elapsed;
        println!(
            "fresh executions/s, {name} ({threads} threads, Rust std): {:8.0} random, {:8.0} uniform",
            n as f64 / t.as_secs_f64(),
            n as f64 / tu.as_secs_f64()
        );
    }

    // 4. Slowdown of instrumenting a memory-heavy single-threaded guest.
    let compute = read("compute");
    let base = best(|| once(&load(&compute, None), u64::MAX, &big));
    let atomics = best(|| {
        once(
            &load(&compute, Some(Granularity::AtomicsOnly)),
            u64::MAX,
            &big,
        )
    });
    let all = best(|| once(&load(&compute, Some(Granularity::All)), u64::MAX, &big));
    println!(
        "slowdown, compute guest: {:.1}x every access, {:.2}x atomics only  (uninstrumented {base:?}, all {all:?}, atomics {atomics:?})",
        all.as_secs_f64() / base.as_secs_f64(),
        atomics.as_secs_f64() / base.as_secs_f64()
    );

    // 4a. Reusing an instance's memory image instead of a fresh memory: a
    // fresh shared memory of the counter guest's size (17 pages) against
    // zeroing that many bytes in place. (Executions now reuse their memory,
    // with its size virtual, cleared by the kernel: `runtime::recycle`;
    // `cargo bench --bench speed` measures that.)
    {
        let mut config = wasmtime::Config::new();
        config.wasm_threads(true).shared_memory(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let ty = wasmtime::MemoryType::shared(17, 16384);
        let n = 2_000u32;
        let fresh = best(|| {
            let start = Instant::now();
            for _ in 0..n {
                let m = wasmtime::SharedMemory::new(&engine, ty.clone()).unwrap();
                // Fault in every 4 KiB page, as the zeroing below touches
                // every byte: the worst case for a fresh memory.
                for cell in m.data().iter().step_by(4096) {
                    // SAFETY: this thread is the memory's only user.
                    unsafe { *cell.get() = 1 };
                }
                drop(m);
            }
            start.elapsed()
        });
        let zero = best(|| {
            let mut image = vec![1u8; 17 * 65536];
            let start = Instant::now();
            for _ in 0..n {
                image.fill(0);
                std::hint::black_box(&mut image);
            }
            start.elapsed()
        });
        println!(
            "memory image: fresh 17-page shared memory, every page touched {:.1} µs; zeroing 17 pages {:.1} µs per execution",
            fresh.as_secs_f64() * 1e6 / f64::from(n),
            zero.as_secs_f64() * 1e6 / f64::from(n)
        );
    }

    // 5. How often each strategy finds the examples' bugs, per execution.
    println!("\nfailing executions out of 1000 (seed 1):");
    println!(
        "  {:<22} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "example", "random", "uniform", "pct d=2", "pct d=3", "pos"
    );
    for name in [
        "counter_lost_update",
        "bank_account",
        "lock_order_deadlock",
        "spsc_ring",
    ] {
        let p = load(&read(name), Some(Granularity::All));
        let failed = |s: Box<dyn Scheduler>| run_all(&p, s, &cfg).failed;
        let fr = failed(Box::new(RandomScheduler::new(1, 1000)));
        let fu = failed(Box::new(UniformScheduler::new(1, 1000)));
        let p2 = failed(Box::new(PctScheduler::new(1, 2, 1000)));
        let p3 = failed(Box::new(PctScheduler::new(1, 3, 1000)));
        let po = failed(Box::new(PosScheduler::new(1, 1000)));
        println!("  {name:<22} {fr:>8} {fu:>8} {p2:>8} {p3:>8} {po:>8}");
    }

    // 5a. The compiled-module cache: loading with Cranelift vs from disk.
    {
        let wasm = instrument(&read("counter_lost_update"), &Config::default())
            .unwrap()
            .wasm;
        let dir =
            std::env::temp_dir().join(format!("interlace-bench-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let time = |cache: Option<&Path>| {
            let start = Instant::now();
            Program::new_cached(&wasm, "bench", cache).unwrap();
            start.elapsed()
        };
        let compile = (0..5).map(|_| time(None)).min().unwrap();
        time(Some(&dir));
        let cached = (0..5).map(|_| time(Some(&dir))).min().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "\nmodule load, counter_lost_update: compile {compile:.2?}, from the cache {cached:.2?} ({:.1}x faster)",
            compile.as_secs_f64() / cached.as_secs_f64()
        );
    }

    // 5b. --jobs: the same executions on 1 and 2 OS threads.
    println!("\nparallel exploration (random, seed 0, 4000 executions, no failure expected):");
    for name in ["atomic_counter", "mutex_counter"] {
        let p = load(&read(name), Some(Granularity::All));
        let cfg = explore_config(Strategy::Random { seed: 0 }, 4000);
        let mut rates = vec![];
        for jobs in [1, 2] {
            let start = Instant::now();
            let r = explore_parallel(&p, &cfg, jobs, &mut |_| {}).unwrap();
            assert!(r.failure.is_none());
            rates.push(r.executions as f64 / start.elapsed().as_secs_f64());
        }
        println!(
            "  {name:<22} jobs 1: {:>7.0} executions/s   jobs 2: {:>7.0} executions/s   ({:.2}x)",
            rates[0],
            rates[1],
            rates[1] / rates[0]
        );
    }

    println!("\nparallel DPOR (the whole tree, every interleaving):");
    for (name, arg) in [
        ("atomic_counter", None),
        ("mutex_counter", None),
        ("dpor_lastzero", Some("5")),
    ] {
        let p = load(&read(name), Some(Granularity::All));
        let cfg = ExploreConfig {
            strategy: Strategy::Dpor {
                preemption_bound: None,
                library_blocks: true,
            },
            iterations: 100_000,
            markers_only: false,
            time: None,
            run: RunConfig {
                args: arg.map(|a| vec![a.to_string()]).unwrap_or_default(),
                ..RunConfig::default()
            },
        };
        let mut times = vec![];
        for jobs in [1, 2] {
            let start = Instant::now();
            let r = explore_parallel(&p, &cfg, jobs, &mut |_| {}).unwrap();
            let c = r.coverage.unwrap();
            assert!(c.is_complete());
            times.push((start.elapsed(), c.complete));
        }
        println!(
            "  {name:<22} jobs 1: {:>8.2?} ({} traces)   jobs 2: {:>8.2?} ({} traces)   ({:.2}x)",
            times[0].0,
            times[0].1,
            times[1].0,
            times[1].1,
            times[0].0.as_secs_f64() / times[1].0.as_secs_f64()
        );
    }

    // 6. DPOR: executions, sleep-set blocked, time, executions/s.
    println!("\nDPOR (source-DPOR with sleep sets; budget 20000 executions on lightweight threads, 30000 with std::thread; first failure noted; the search goes on after it):");
    println!(
        "  {:<28} {:>10} {:>7} {:>9} {:>9} {:>10} {:>9} {:>8} {:>8}",
        "program",
        "granularity",
        "library",
        "complete",
        "blocked",
        "exhausted",
        "time",
        "exec/s",
        "failure"
    );
    let dpor_with = |name: &str, args: &[u32], g: Granularity, blocks: bool| {
        let p = load(&read(name), Some(g));
        let cfg = RunConfig {
            args: args.iter().map(|n| n.to_string()).collect(),
            ..RunConfig::default()
        };
        let budget = if name.starts_with("dpor_") && name != "dpor_readers_std" {
            20_000
        } else {
            30_000
        };
        let start = Instant::now();
        let mut s: Box<dyn Scheduler> =
            Box::new(DporScheduler::new(None, budget).library_blocks(blocks));
        let mut first_failure = None;
        let mut n = 0u64;
        while s.next_execution() {
            n += 1;
            let (r, back) = execute(&p, s, &cfg);
            s = back;
            let outcome = r.expect("execution");
            if first_failure.is_none() && outcome.failure.is_some() {
                first_failure = Some(n);
            }
        }
        let t = start.elapsed();
        let c = s.coverage().unwrap();
        let label = if args.is_empty() {
            name.to_string()
        } else {
            let args: Vec<String> = args.iter().map(|n| n.to_string()).collect();
            format!("{name}({})", args.join(","))
        };
        let gran = if g == Granularity::All {
            "all"
        } else {
            "atomics"
        };
        let lib = if blocks { "blocks" } else { "steps" };
        let failure = first_failure.map_or("-".to_string(), |n| format!("exec {n}"));
        println!(
            "  {label:<28} {gran:>10} {lib:>7} {:>9} {:>9} {:>10} {:>8.2?} {:>8.0} {failure:>8}",
            c.complete,
            c.sleep_blocked,
            c.exhausted,
            t,
            c.executions as f64 / t.as_secs_f64()
        );
    };
    let dpor = |name: &str, args: &[u32], g: Granularity| dpor_with(name, args, g, true);
    for n in 2..=5 {
        dpor("dpor_lastzero", &[n], Granularity::All);
    }
    for n in [2, 4, 6, 8] {
        dpor("dpor_readers", &[n], Granularity::All);
    }
    for n in [11, 12] {
        dpor("dpor_indexer", &[n], Granularity::All);
    }
    for (t, k) in [(2, 2), (3, 2), (3, 3)] {
        dpor("dpor_mutex_n", &[t, k], Granularity::All);
    }
    dpor("dpor_seed", &[], Granularity::All);
    for n in [0, 1] {
        for blocks in [true, false] {
            dpor_with("dpor_readers_std", &[n], Granularity::All, blocks);
        }
    }
    for name in [
        "spsc_ring",
        "condvar_handoff",
        "detached_write",
        "counter_lost_update",
        "bank_account",
        "lock_order_deadlock",
        "treiber_aba",
        "peterson_broken",
        "peterson_correct",
        "atomic_counter",
        "mutex_counter",
    ] {
        for blocks in [true, false] {
            dpor_with(name, &[], Granularity::All, blocks);
        }
    }
}
