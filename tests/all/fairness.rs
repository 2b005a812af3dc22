//! Fair scheduling: no strategy reports a correct program that fails only
//! under an unfair schedule; a real livelock is still reported, with where
//! each thread spins; a tool limit is the tool's error, not a verdict.

use crate::guests::{cli, code, guest, guest_by_rustc, scratch, stderr, stdout};

const STRATEGIES: [&[&str]; 6] = [
    &[],
    &["--strategy", "random"],
    &["--strategy", "pct"],
    &["--strategy", "pos"],
    &["--strategy", "dpor"],
    &["--strategy", "uniform"],
];

fn explore(name: &str, extra: &[&str]) -> (i32, String) {
    explore_n(name, "300", extra)
}

fn explore_n(name: &str, iterations: &str, extra: &[&str]) -> (i32, String) {
    explore_module(&guest(name), name, iterations, extra)
}

/// Explores `module` (named `name` for its scratch directory).
fn explore_module(
    module: &std::path::Path,
    name: &str,
    iterations: &str,
    extra: &[&str],
) -> (i32, String) {
    let dir = scratch(&format!(
        "fair-{name}-{}",
        extra.join("_").replace(['-', '/'], "")
    ));
    let mut args = vec![
        "explore",
        module.to_str().unwrap(),
        "--iterations",
        iterations,
    ];
    args.extend_from_slice(extra);
    let out = cli(&dir, &args);
    (code(&out), format!("{}{}", stdout(&out), stderr(&out)))
}

fn passes_under_every_strategy(name: &str) {
    for extra in STRATEGIES {
        let (code, out) = explore(name, extra);
        assert_eq!(
            code, 0,
            "{name} {extra:?}: a correct program failed:\n{out}"
        );
    }
}

#[test]
fn a_yield_poll_loop_waiting_for_a_thread_passes_under_every_strategy() {
    passes_under_every_strategy("fair_yield_poll");
}

#[test]
fn a_spin_on_an_atomic_passes_under_every_strategy() {
    passes_under_every_strategy("fair_spin_flag");
}

#[test]
fn a_spin_on_a_held_lock_passes_under_every_strategy() {
    passes_under_every_strategy("fair_spin_lock");
}

#[test]
fn a_counted_loop_polling_a_flag_is_no_livelock() {
    // Registers only between two reads of the flag: a spin from outside,
    // but it ends (the livelock report waits for 100,000 re-reads).
    passes_under_every_strategy("fair_counted_poll");
}

#[test]
fn threads_that_write_in_std_between_two_reads_are_no_spinners() {
    // Their writes are inside std's sort: no scheduling points for the
    // sampling strategies, but writes all the same (abi::ACCESS_WROTE).
    let module = guest_by_rustc("fair_busy_workers");
    for (extra, iterations) in [
        (&[][..], "12"),
        (&["--strategy", "random"], "8"),
        (&["--strategy", "pct"], "8"),
        (&["--strategy", "pos"], "8"),
        (&["--strategy", "random", "--library-points"], "2"),
    ] {
        let (code, out) = explore_module(&module, "busy-workers", iterations, extra);
        assert_eq!(code, 0, "{extra:?}: a correct program failed:\n{out}");
    }
}

#[test]
fn a_real_livelock_is_reported_with_where_each_thread_spins() {
    for extra in STRATEGIES {
        let (code, out) = explore("livelock_flags", extra);
        assert_eq!(code, 1, "{extra:?}: the livelock was missed:\n{out}");
        assert!(out.contains("FAILURE: livelock"), "{extra:?}:\n{out}");
        assert!(
            out.contains("main spins at") && out.contains("t1 spins at"),
            "{extra:?}:\n{out}"
        );
        assert!(
            out.contains("livelock_flags.rs:"),
            "{extra:?}: no source line:\n{out}"
        );
        assert!(out.contains("no other thread can run"), "{extra:?}:\n{out}");
    }
}

#[test]
fn a_thread_limit_is_the_tools_error_not_the_programs_failure() {
    let dir = scratch("fair-many-threads");
    let module = guest("many_threads");
    let m = module.to_str().unwrap();
    let out = cli(&dir, &["run", m, "--max-threads", "100"]);
    assert_eq!(code(&out), 2, "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("more than 100 threads"), "{err}");
    assert!(err.contains("--max-threads"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    // Under the default limit the program runs to its end (2,000 threads
    // take seconds: a generous wall-time bound, for a loaded machine).
    let out = cli(&dir, &["run", m, "--timeout", "300"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn peterson_with_turn_written_first_is_found_by_the_default() {
    let (code, out) = explore_n("peterson_turn_first", "1000", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("mutual exclusion violated"), "{out}");
}

/// Keeps the running thread whenever it can go on, the way the minimiser's
/// default continuation does: before fairness, a spinning thread ran on
/// forever under it, and the program "did not terminate".
struct Greedy {
    runs: u32,
}

impl interlace_wasm::Scheduler for Greedy {
    fn next_execution(&mut self) -> bool {
        self.runs += 1;
        self.runs == 1
    }
    fn choose(&mut self, choice: &interlace_wasm::Choice<'_>) -> Option<interlace_wasm::ThreadId> {
        Some(choice.current.unwrap_or(choice.runnable[0]))
    }
    fn name(&self) -> &'static str {
        "greedy"
    }
}

#[test]
fn the_runtime_makes_even_a_greedy_scheduler_fair() {
    use interlace_wasm::scheduler::SwitchScheduler;
    use interlace_wasm::{execute, RunConfig, Scheduler};
    let cfg = RunConfig {
        max_steps: 200_000,
        ..RunConfig::default()
    };
    for name in ["fair_yield_poll", "fair_spin_flag", "fair_spin_lock"] {
        let program = crate::guests::load_guest(name);
        let schedulers: [Box<dyn Scheduler>; 2] = [
            Box::new(Greedy { runs: 0 }),
            Box::new(SwitchScheduler::from_switches(vec![])),
        ];
        for mut s in schedulers {
            assert!(s.next_execution());
            let (result, _) = execute(&program, s, &cfg);
            let execution = result.unwrap();
            assert_eq!(execution.failure, None, "{name}");
            assert_eq!(execution.exit_code, Some(0), "{name}");
        }
    }
}
