//! What the benchmarks share: the example guests, built once, and loading.

#![allow(dead_code)]

use interlace_instrument::{instrument, Config, Granularity};
use interlace_wasm::{execute, ExploreConfig, Program, RunConfig, Scheduler, Strategy};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Builds the example guests (release, wasm32-wasip1-threads); their folder.
pub fn guests() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target/guests");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip1-threads",
            "--manifest-path",
        ])
        .arg(root.join("examples/guests/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the example guests failed");
    target.join("wasm32-wasip1-threads/release")
}

pub fn load(wasm: &[u8], granularity: Option<Granularity>) -> Program {
    match granularity {
        Some(g) => Program::new(
            &instrument(wasm, &Config { granularity: g }).unwrap().wasm,
            "bench",
        )
        .unwrap(),
        None => Program::new(wasm, "bench").unwrap(),
    }
}

/// What [`run_all`] saw.
pub struct Runs {
    pub executions: u64,
    pub failed: u64,
    /// Scheduling points, summed over the executions.
    pub steps: u64,
    /// Threads, summed over the executions.
    pub threads: u64,
    pub elapsed: Duration,
}

/// Runs every execution of `s`.
pub fn run_all(p: &Program, mut s: Box<dyn Scheduler>, cfg: &RunConfig) -> Runs {
    let start = Instant::now();
    let (mut executions, mut failed, mut steps, mut threads) = (0, 0, 0, 0);
    while s.next_execution() {
        let (r, back) = execute(p, s, cfg);
        s = back;
        let e = r.expect("execution");
        executions += 1;
        failed += e.failure.is_some() as u64;
        steps += e.steps;
        threads += u64::from(e.threads);
    }
    Runs {
        executions,
        failed,
        steps,
        threads,
        elapsed: start.elapsed(),
    }
}

/// The fastest of `n` runs of `f`.
pub fn best(n: usize, f: impl Fn() -> Duration) -> Duration {
    (0..n).map(|_| f()).min().unwrap()
}

/// An exploration of `iterations` with the default run settings.
pub fn explore_config(strategy: Strategy, iterations: u64) -> ExploreConfig {
    ExploreConfig {
        strategy,
        iterations,
        markers_only: false,
        time: None,
        run: RunConfig::default(),
    }
}

/// A guest around `body`, with the shared memory and `thread-spawn`.
pub fn wat_module(body: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
            (import "env" "memory" (memory 1 1 shared))
            (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
            {body})"#
    ))
    .unwrap()
}

/// `$work`: 1M atomic loads, over 1,024 words (one word re-read with
/// nothing else happening is a livelock).
const LOOP: &str = r#"(func $work (local $i i32)
    (loop $l
      (drop (i32.atomic.load offset=64 (i32.shl (i32.and (local.get $i) (i32.const 1023)) (i32.const 2))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000)))))"#;

/// The guests that measure one scheduling point, each running `$work`.
pub struct PointGuests {
    /// Main alone: its loads are no points (the uninstrumented baseline).
    pub alone: Vec<u8>,
    /// Main with a second thread that waits forever: main's loads are
    /// points, and main is the only thread that can run (no switch).
    pub blocked: Vec<u8>,
    /// Two threads doing the work (2M points).
    pub two: Vec<u8>,
}

pub fn point_guests() -> PointGuests {
    PointGuests {
        alone: wat_module(&format!(
            r#"{LOOP} (func (export "wasi_thread_start") (param i32 i32)) (func (export "_start") (call $work))"#
        )),
        blocked: wat_module(&format!(
            r#"{LOOP} (func (export "wasi_thread_start") (param i32 i32)
                 (drop (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1))))
               (func (export "_start") (drop (call $spawn (i32.const 0))) (call $work))"#
        )),
        two: wat_module(&format!(
            r#"{LOOP} (func (export "wasi_thread_start") (param i32 i32) (call $work))
               (func (export "_start") (drop (call $spawn (i32.const 0))) (call $work))"#
        )),
    }
}
