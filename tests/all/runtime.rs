//! The runtime and schedulers on tiny guests: outcome sets, blocking,
//! determinism and replay, through the library API.

use crate::wat_guests::{module, program, single, spawn_join};
use interlace_wasm::scheduler::{
    RandomScheduler, ReplayScheduler, RoundRobinScheduler, UniformScheduler,
};
use interlace_wasm::{
    execute, Execution, FailureKind, Program, RunConfig, ScheduleFile, Scheduler,
};
use std::collections::BTreeSet;

fn all(program: &Program, mut s: Box<dyn Scheduler>, cfg: &RunConfig) -> Vec<Execution> {
    let mut out = vec![];
    while s.next_execution() {
        let (r, back) = execute(program, s, cfg);
        s = back;
        out.push(r.expect("no tool error"));
    }
    out
}

fn outcomes(execs: &[Execution]) -> BTreeSet<i32> {
    execs.iter().map(|e| e.exit_code.expect("exited")).collect()
}

/// One round-robin run with its trace (shared with other test modules).
pub fn traced(p: &Program) -> Execution {
    interlace_wasm::run(
        p,
        &RunConfig {
            trace: true,
            ..RunConfig::default()
        },
    )
    .unwrap()
}

/// One round-robin run with `--max-steps`.
fn cut_at(p: &Program, max_steps: u64) -> Execution {
    interlace_wasm::run(
        p,
        &RunConfig {
            max_steps,
            ..RunConfig::default()
        },
    )
    .unwrap()
}

/// Thread stores 1 to x, main stores 2: both orders are reachable.
fn two_writers() -> Program {
    program(&spawn_join(
        "(i32.store (i32.const 0) (i32.const 1))",
        "(i32.store (i32.const 0) (i32.const 2))",
    ))
}

#[test]
fn random_strategies_reach_both_write_orders() {
    let p = two_writers();
    let cfg = RunConfig::default();
    // 64 executions; each order has probability >= 1/4 per execution, so a
    // miss has probability < (3/4)^64 < 1e-7 (and the seed is fixed anyway).
    assert_eq!(
        outcomes(&all(&p, Box::new(UniformScheduler::new(1, 64)), &cfg)),
        BTreeSet::from([1, 2])
    );
    assert_eq!(
        outcomes(&all(&p, Box::new(RandomScheduler::new(1, 64)), &cfg)),
        BTreeSet::from([1, 2])
    );
}

#[test]
fn round_robin_is_non_preemptive_and_deterministic() {
    let p = two_writers();
    let cfg = RunConfig {
        trace: true,
        ..RunConfig::default()
    };
    let a = all(&p, Box::new(RoundRobinScheduler::new(1000)), &cfg);
    let b = all(&p, Box::new(RoundRobinScheduler::new(1000)), &cfg);
    assert_eq!(a.len(), 1);
    // Main runs until it blocks in its wait, so its store comes first and the
    // thread's last: x = 1.
    assert_eq!(a[0].exit_code, Some(1));
    assert_eq!(a[0].trace, b[0].trace);
}

#[test]
fn same_seed_same_executions_and_replay_is_exact() {
    let p = two_writers();
    let cfg = RunConfig {
        trace: true,
        ..RunConfig::default()
    };
    let a = all(&p, Box::new(RandomScheduler::new(42, 20)), &cfg);
    let b = all(&p, Box::new(RandomScheduler::new(42, 20)), &cfg);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.decisions, y.decisions);
        assert_eq!(x.trace, y.trace);
    }
    for x in &a {
        let schedule = ScheduleFile::record(&p, &cfg, "random", Some(42), None, x);
        let text = serde_json::to_string(&schedule).unwrap();
        let back = ScheduleFile::parse(&text).unwrap();
        assert_eq!(back, schedule);
        let r = all(
            &p,
            Box::new(ReplayScheduler::new(back.decisions.clone())),
            &cfg,
        );
        assert_eq!(
            r[0].trace, x.trace,
            "replay must follow the recorded execution exactly"
        );
        assert_eq!(r[0].exit_code, x.exit_code);
    }
}

#[test]
fn replay_that_names_a_missing_thread_is_a_divergence() {
    let p = two_writers();
    let (r, _) = execute(
        &p,
        Box::new(ReplayScheduler::new(vec![interlace_wasm::ThreadId(9); 3])),
        &RunConfig::default(),
    );
    let e = r.expect_err("diverges");
    assert!(
        e.to_string().contains("names thread t9, which cannot run"),
        "{e}"
    );
}

#[test]
fn a_wait_nobody_notifies_is_a_deadlock() {
    let p = program(&single(
        r#"(func (export "_start") (drop (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1))))"#,
    ));
    let e = interlace_wasm::run(&p, &RunConfig::default()).unwrap();
    let f = e.failure.expect("deadlock");
    assert_eq!(f.kind, FailureKind::Deadlock);
    assert_eq!(f.message, "no thread can run: main waits on 0x8");
}

#[test]
fn a_wait_on_another_value_returns_at_once_and_a_timed_wait_times_out_in_virtual_time() {
    let p = program(&single(
        r#"(func (export "_start")
             (local $t0 i64)
             (i32.store (i32.const 8) (i32.const 5))
             ;; value differs: 1 (not-equal)
             (if (i32.ne (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1)) (i32.const 1))
               (then (call $exit (i32.const 10))))
             (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 16)))
             (local.set $t0 (i64.load (i32.const 16)))
             ;; value equal, 5 s timeout, nobody notifies: 2 (timed out)
             (if (i32.ne (memory.atomic.wait32 (i32.const 8) (i32.const 5) (i64.const 5000000000)) (i32.const 2))
               (then (call $exit (i32.const 11))))
             (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 16)))
             ;; the virtual clock moved by at least the timeout
             (if (i64.lt_u (i64.sub (i64.load (i32.const 16)) (local.get $t0)) (i64.const 5000000000))
               (then (call $exit (i32.const 12)))))"#,
    ));
    let e = interlace_wasm::run(&p, &RunConfig::default()).unwrap();
    assert_eq!(e.failure, None, "{:?}", e.failure);
    assert_eq!(e.exit_code, Some(0));
}

#[test]
fn a_runaway_execution_is_cut_by_the_step_bound() {
    let p = program(&single(
        r#"(func (export "_start") (loop $l (drop (i32.atomic.load (i32.const 0))) (br $l)))"#,
    ));
    let e = cut_at(&p, 500);
    let f = e.failure.expect("cut");
    assert_eq!(f.kind, FailureKind::StepBound);
    assert!(
        f.message.contains("did not terminate within 500 steps"),
        "{}",
        f.message
    );
    assert_eq!(e.steps, 501);
}

#[test]
fn a_loop_without_scheduling_points_is_stopped_by_the_timeout() {
    let p = program(&single(r#"(func (export "_start") (loop $l (br $l)))"#));
    let e = interlace_wasm::run(
        &p,
        &RunConfig {
            timeout_secs: 1,
            ..RunConfig::default()
        },
    )
    .unwrap();
    assert_eq!(e.failure.expect("stopped").kind, FailureKind::Timeout);
}

#[test]
fn a_trap_in_a_spawned_thread_fails_the_execution() {
    let p = program(&spawn_join("(unreachable)", ""));
    let e = interlace_wasm::run(&p, &RunConfig::default()).unwrap();
    let f = e.failure.expect("trap");
    assert_eq!(f.kind, FailureKind::Trap);
    assert_eq!(f.thread, Some(interlace_wasm::ThreadId(1)));
    assert!(f.message.contains("unreachable"), "{}", f.message);
}

#[test]
fn proc_exit_from_any_thread_ends_the_execution_with_its_status() {
    let p = program(&spawn_join("(call $exit (i32.const 3))", ""));
    let e = interlace_wasm::run(&p, &RunConfig::default()).unwrap();
    assert_eq!(e.exit_code, Some(3));
    assert_eq!(e.failure.expect("non-zero").kind, FailureKind::Exit);
}

#[test]
fn main_returning_kills_the_other_threads() {
    // The thread would spin forever; main returns at once.
    let p = program(&module(
        r#"(func (export "wasi_thread_start") (param i32 i32) (loop $l (drop (i32.atomic.load (i32.const 0))) (br $l)))
           (func (export "_start") (drop (call $spawn (i32.const 0))))"#,
    ));
    let e = interlace_wasm::run(&p, &RunConfig::default()).unwrap();
    assert_eq!((e.exit_code, e.failure), (Some(0), None));
    assert_eq!(e.threads, 2);
}

#[test]
fn bulk_memory_and_grow_are_scheduling_points() {
    let wasm = wat::parse_str(
        r#"(module
             (import "env" "memory" (memory 1 2 shared))
             (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
             (data $d "hello")
             (func (export "wasi_thread_start") (param i32 i32))
             (func (export "_start")
               ;; Not alone any more: main's accesses are points again.
               (drop (call $spawn (i32.const 0)))
               (memory.init $d (i32.const 16) (i32.const 0) (i32.const 5))
               (memory.copy (i32.const 32) (i32.const 16) (i32.const 5))
               (memory.fill (i32.const 64) (i32.const 7) (i32.const 3))
               (drop (memory.grow (i32.const 1)))))"#,
    )
    .unwrap();
    let p = program(&wasm);
    let e = traced(&p);
    assert_eq!(e.failure, None);
    let kinds: Vec<&str> = e
        .trace
        .unwrap()
        .iter()
        .filter(|s| s.thread == interlace_wasm::ThreadId::MAIN)
        .map(|s| s.op.kind.name())
        .collect();
    assert_eq!(
        kinds,
        ["start", "spawn", "fill", "copy", "fill", "grow", "stop"]
    );
}

#[test]
fn main_alone_skips_the_host_until_its_first_spawn_and_its_accesses_still_count() {
    // 100 loads alone, the spawn, then 3 loads with a thread beside it.
    let p = program(&single(
        r#"(func $loads (param $n i32) (local $i i32)
             (loop $l
               (drop (i32.atomic.load offset=64 (i32.shl (local.get $i) (i32.const 2))))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
           (func (export "_start")
             (call $loads (i32.const 100))
             (drop (call $spawn (i32.const 0)))
             (call $loads (i32.const 3)))"#,
    ));
    let e = traced(&p);
    assert_eq!(e.failure, None);
    let main: Vec<(u64, &str)> = e
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .filter(|s| s.thread == interlace_wasm::ThreadId::MAIN)
        .map(|s| (s.step, s.op.kind.name()))
        .collect();
    // start is step 1, the 100 loads steps 2..=101 (not in the trace), the
    // spawn 102, then every load is a scheduling point again.
    assert_eq!(main[..2], [(1, "start"), (102, "spawn")]);
    assert_eq!(
        main.iter().filter(|(_, k)| *k == "read").count(),
        3,
        "{main:?}"
    );
    assert_eq!(e.steps, main.last().unwrap().0);
    let text = interlace_wasm::format_trace(e.trace.as_ref().unwrap(), p.sites(), 100);
    assert!(
        text.contains("... 100 accesses while it was the only thread"),
        "{text}"
    );
}

#[test]
fn a_loop_alone_is_cut_by_the_step_bound_across_budgets() {
    // More accesses than one budget grant (2^20): the bound still holds,
    // exactly.
    let p = program(&single(
        r#"(func (export "_start") (loop $l (drop (i32.atomic.load (i32.const 0))) (br $l)))"#,
    ));
    let e = cut_at(&p, 3_000_000);
    assert_eq!(e.failure.expect("cut").kind, FailureKind::StepBound);
    assert_eq!(e.steps, 3_000_001);
}

#[test]
fn wasi_libc_tsd_destructor_loop_is_no_scheduling_point() {
    // Every std thread runs it at exit: 128 keys, read twice.
    let wasm = std::fs::read(crate::guests::guest("atomic_counter")).unwrap();
    let p = program(&wasm);
    let e = interlace_wasm::run(
        &p,
        &RunConfig {
            trace: true,
            ..RunConfig::default()
        },
    )
    .unwrap();
    assert_eq!(e.failure, None);
    let sites = p.sites();
    let files: Vec<&str> = e
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .filter_map(|s| sites.sites.get(s.op.site? as usize))
        .filter_map(|site| sites.files.get(site.file as usize))
        .map(String::as_str)
        .collect();
    // DWARF is there (wasi-libc's other thread code still has points) ...
    assert!(files
        .iter()
        .any(|f| f.ends_with("src/thread/pthread_create.c")));
    // ... and the destructor loop has none, in any of the four threads.
    assert!(!files
        .iter()
        .any(|f| f.ends_with("src/thread/pthread_key_create.c")));
    assert_eq!(e.threads, 4);
}
