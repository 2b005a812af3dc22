//! guest-sdk's executor (`task`): task orders are explored where an
//! executor could switch tasks, never inside the synchronous code between;
//! markers in async functions pause a task as the seed's async markers do.

use crate::cargo_interlace::cargo_interlace_in;
use crate::guests::{build_wasm_with, cli, code, guest, scratch, stdout};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn explore(name: &str, extra: &[&str]) -> (i32, String) {
    let dir = scratch(&format!(
        "async-{name}-{}",
        extra.join("_").replace('-', "")
    ));
    let m = guest(name);
    let mut args = vec!["explore", m.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = cli(&dir, &args);
    (code(&out), stdout(&out))
}

#[test]
fn the_seed_async_schedule_loses_the_update_every_run_and_the_serial_one_never() {
    // marker() calls, and comment markers as in the seed.
    for name in ["async_counter_markers", "async_counter_comments"] {
        seed_schedules(name);
    }
}

fn seed_schedules(name: &str) {
    let dir = scratch(&format!("async-seed-{name}"));
    let m = guest(name);
    let m = m.to_str().unwrap();
    let step = |t: &str, mk: &str| format!(r#"{{"thread": "{t}", "marker": "{mk}"}}"#);
    let racy = format!(
        r#"{{"steps": [{}, {}, {}, {}]}}"#,
        step("task1", "read_value"),
        step("task2", "read_value"),
        step("task1", "write_value"),
        step("task2", "write_value")
    );
    let serial = format!(
        r#"{{"steps": [{}, {}, {}, {}]}}"#,
        step("task1", "read_value"),
        step("task1", "write_value"),
        step("task2", "read_value"),
        step("task2", "write_value")
    );
    let first = cli(&dir, &["run", m, "--schedule", &racy]);
    assert_eq!(code(&first), 1, "{name}: {}", stdout(&first));
    assert!(
        stdout(&first).contains("counter is 1"),
        "{name}: {}",
        stdout(&first)
    );
    for _ in 0..2 {
        let again = cli(&dir, &["run", m, "--schedule", &racy]);
        assert_eq!(
            again.stdout, first.stdout,
            "the same schedule, the same run"
        );
    }
    let out = cli(&dir, &["run", m, "--schedule", &serial]);
    assert_eq!(code(&out), 0, "{name}: {}", stdout(&out));
    assert_eq!(stdout(&out), "counter = 2\n");
}

#[test]
fn a_lost_update_across_a_yield_is_found_by_the_default_and_by_dpor() {
    for extra in [&[][..], &["--strategy", "dpor"]] {
        let dir = scratch(&format!("async-replay-{}", extra.len()));
        let m = guest("async_lost_update");
        let m = m.to_str().unwrap();
        let mut args = vec!["explore", m];
        args.extend_from_slice(extra);
        let out = cli(&dir, &args);
        let text = stdout(&out);
        assert_eq!(code(&out), 1, "{text}");
        assert!(
            text.contains("lost update across an await: counter is 1"),
            "{text}"
        );
        // The report's lanes are the tasks.
        assert!(text.contains("task1") && text.contains("task2"), "{text}");
        // Replay shows the same failure.
        let replay = cli(&dir, &["replay", m, "async_lost_update.failure.json"]);
        assert_eq!(code(&replay), 1, "{}", stdout(&replay));
        assert!(
            stdout(&replay).contains("lost update across an await: counter is 1"),
            "{}",
            stdout(&replay)
        );
    }
}

#[test]
fn no_await_between_read_and_write_is_never_reported_by_any_strategy() {
    for strategy in ["portfolio", "random", "pct", "pos", "dpor"] {
        let (code, out) = explore(
            "async_no_await",
            &["--strategy", strategy, "--iterations", "300"],
        );
        assert_eq!(code, 0, "{strategy}: {out}");
        if strategy == "dpor" {
            assert!(out.contains("every interleaving was covered"), "{out}");
        }
    }
}

/// Tasks that share no data: correct, and DPOR proves it, but in more
/// executions with each task: it reverses every two successive runs of the
/// baton, whether or not the two tasks' steps conflict (sound, not
/// minimal; docs/async.md, Limits). The counts pin today's cost.
#[test]
fn tasks_on_disjoint_data_are_proved_at_the_batons_cost() {
    for (tasks, executions) in [("1", 4), ("2", 88)] {
        let (code, out) = explore("async_disjoint", &["--strategy", "dpor", "--", tasks]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains(&format!(
                "{executions} executions ({executions} complete, 0 sleep-set blocked); every interleaving was covered"
            )),
            "{tasks} tasks: {out}"
        );
    }
}

#[test]
fn two_tasks_awaiting_each_others_oneshot_deadlock() {
    for extra in [&[][..], &["--strategy", "dpor"]] {
        let (code, out) = explore("async_deadlock", extra);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("FAILURE: deadlock"), "{out}");
        // spawn_named's names, in the report.
        assert!(
            out.contains("t1 (left) waits") && out.contains("t2 (right) waits"),
            "{out}"
        );
    }
}

/// examples/tokio built once, with tokio's `--cfg tokio_unstable` (its
/// multi-thread runtime needs it on wasm).
fn tokio_guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let target = workspace().join("target/tokio-examples");
        build_wasm_with(
            &workspace().join("examples/tokio/Cargo.toml"),
            &target,
            &["--locked"],
            TOKIO_CFG,
        );
        target.join("wasm32-wasip1-threads/release")
    });
    dir.join(format!("{name}.wasm"))
}

const TOKIO_CFG: &str = "--cfg tokio_unstable";

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn tokio_multi_thread_tasks_lose_a_deposit_with_two_guards_and_not_with_one() {
    let dir = scratch("async-tokio");
    let m = tokio_guest("tokio_lost_update");
    let out = cli(&dir, &["explore", m.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("a deposit was lost: balance 110"),
        "{}",
        stdout(&out)
    );
    let m = tokio_guest("tokio_one_guard");
    let out = cli(
        &dir,
        &["explore", m.to_str().unwrap(), "--iterations", "300"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn each_lightweight_thread_has_its_own_thread_local_storage() {
    // Without a TLS initialiser every lightweight thread's TLS was at
    // address 0, shared (the async executor's tasks trapped on it).
    for extra in [&[][..], &["--strategy", "dpor"]] {
        let (code, out) = explore("light_tls", extra);
        assert_eq!(code, 0, "{out}");
        if !extra.is_empty() {
            assert!(out.contains("every interleaving was covered"), "{out}");
        }
    }
}

#[test]
fn a_std_thread_wakes_a_task() {
    let (code, out) = explore("async_thread_wakes_task", &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = explore(
        "async_thread_wakes_task",
        &["--strategy", "dpor", "--iterations", "3000"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("every interleaving was covered"), "{out}");
}

#[test]
fn tokio_multi_thread_tests_through_cargo_interlace() {
    let out = cargo_interlace_in(
        &workspace().join("examples/tokio"),
        &workspace().join("target/tokio-examples"),
        TOKIO_CFG,
        &["test", "--iterations", "300"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(
        text.contains("deposits_under_two_guards ... FAILED"),
        "{text}\n{err}"
    );
    assert!(text.contains("a deposit was lost"), "{text}\n{err}");
    assert!(
        text.contains("deposits_under_one_guard ... ok"),
        "{text}\n{err}"
    );
}

#[test]
fn more_lightweight_threads_than_the_pool_is_the_tools_limit_not_a_verdict() {
    for extra in [&[][..], &["--strategy", "dpor"]] {
        let (code, out) = explore("light_pool_limit", extra);
        assert_eq!(code, 2, "{out}");
        assert!(!out.contains("FAILURE"), "{out}");
    }
    let dir = scratch("light-pool-limit-stderr");
    let module = guest("light_pool_limit");
    let out = cli(&dir, &["explore", module.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the program starts more than 16 lightweight threads or tasks"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn task_lanes_are_labelled_with_their_executor_thread() {
    let (code, out) = explore("async_lost_update", &[]);
    assert_eq!(code, 1, "{out}");
    let header = out
        .lines()
        .find(|l| l.trim_start().starts_with("step main"))
        .unwrap_or_else(|| panic!("no lane header: {out}"));
    assert!(header.contains("t1:task1@main"), "{header}");
    assert!(header.contains("t2:task2@main"), "{header}");
    // A thread that is no task has no executor.
    let (_, out) = explore("counter_lost_update", &[]);
    let header = out
        .lines()
        .find(|l| l.trim_start().starts_with("step main"))
        .unwrap_or_else(|| panic!("no lane header: {out}"));
    assert!(!header.contains('@'), "{header}");
}
