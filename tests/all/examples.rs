//! Every example gets the expected verdict from `interlace-wasm explore`
//! within the default budget.

use crate::guests::{cli, code, guest, scratch, stdout};

fn explore(name: &str, extra: &[&str]) -> (i32, String, std::path::PathBuf) {
    let dir = scratch(&format!(
        "explore-{name}-{}",
        extra.join("_").replace(['-', '/'], "")
    ));
    let module = guest(name);
    let mut args = vec!["explore", module.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = cli(&dir, &args);
    (code(&out), stdout(&out), dir)
}

fn assert_found(name: &str, kind: &str, message: &str) {
    let (code, out, dir) = explore(name, &[]);
    assert_eq!(code, 1, "{name}: expected a failure, got:\n{out}");
    assert!(out.contains("found a failing interleaving"), "{out}");
    assert!(
        out.contains(&format!("FAILURE: {kind}")),
        "{name}: expected {kind}:\n{out}"
    );
    assert!(
        out.contains(message),
        "{name}: expected `{message}` in:\n{out}"
    );
    let saved = dir.join(format!("{name}.failure.json"));
    assert!(saved.exists(), "schedule not saved to {}", saved.display());
    assert!(
        out.contains(&format!("schedule saved to {name}.failure.json")),
        "{out}"
    );
}

fn assert_clean(name: &str, extra: &[&str]) {
    let (code, out, _) = explore(name, extra);
    assert_eq!(code, 0, "{name}: expected no failure, got:\n{out}");
    assert!(out.starts_with("no failing interleaving: "), "{out}");
}

#[test]
fn counter_lost_update_is_found() {
    assert_found(
        "counter_lost_update",
        "panic",
        "lost update: two increments, counter is 1",
    );
}

#[test]
fn bank_account_lost_update_is_found() {
    assert_found(
        "bank_account",
        "panic",
        "balance is 150 after two transfers",
    );
}

#[test]
fn lock_order_deadlock_is_found() {
    assert_found(
        "lock_order_deadlock",
        "deadlock",
        "no thread can run: main waits on",
    );
}

#[test]
fn spsc_ring_overwrite_is_found() {
    assert_found("spsc_ring", "panic", "a slot was overwritten");
}

#[test]
fn atomic_counter_is_correct() {
    assert_clean("atomic_counter", &[]);
    assert_clean(
        "atomic_counter",
        &["--strategy", "uniform", "--iterations", "300"],
    );
}

#[test]
fn mutex_counter_is_correct_and_never_deadlocks() {
    assert_clean("mutex_counter", &[]);
    assert_clean(
        "mutex_counter",
        &[
            "--strategy",
            "uniform",
            "--iterations",
            "300",
            "--seed",
            "7",
        ],
    );
}

#[test]
fn condvar_handoff_is_correct_and_never_deadlocks() {
    assert_clean("condvar_handoff", &[]);
    assert_clean(
        "condvar_handoff",
        &[
            "--strategy",
            "uniform",
            "--iterations",
            "300",
            "--seed",
            "3",
        ],
    );
}

#[test]
fn the_racing_steps_point_at_the_source_lines() {
    let (code, out, _) = explore("counter_lost_update", &[]);
    assert_eq!(code, 1);
    // Both threads read at line 10 and write at line 11 of the example.
    let reads = out.matches("counter_lost_update.rs:10:").count();
    let writes = out.matches("counter_lost_update.rs:11:").count();
    assert!(
        reads >= 2 && writes >= 2,
        "racing steps not shown with their lines:\n{out}"
    );
}

#[test]
fn a_daemon_thread_race_is_found_by_the_random_strategy_too() {
    // main's stop is a scheduling point, so the never-joined thread may run first.
    assert_found(
        "detached_write",
        "panic",
        "the detached thread wrote x before main read it",
    );
    assert_clean("detached_read", &[]);
}

#[test]
fn markers_and_thread_names_show_in_the_trace() {
    let (code, out, _) = explore("bank_account_markers", &[]);
    assert_eq!(code, 1, "{out}");
    // Thread names head the columns; markers show in their thread's column.
    let header = out
        .lines()
        .find(|l| l.trim_start().starts_with("step "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        header.contains("t1:thread1") && header.contains("t2:thread2"),
        "{header}"
    );
    assert!(out.contains("@read_balance"), "{out}");
    assert!(out.contains("@write_balance"), "{out}");
}

#[test]
fn the_interleaving_has_a_column_per_thread_in_80_columns() {
    let (code, out, _) = explore("counter_lost_update", &[]);
    assert_eq!(code, 1);
    let trace = out
        .split("--- interleaving ---\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    let mut lines = trace.lines().skip(1);
    let header = lines.next().unwrap();
    assert!(
        header.contains("main") && header.contains("t1") && header.contains("t2"),
        "{header}"
    );
    for line in trace.lines().skip(1) {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
    }
    // The lost update reads as it happened: both threads read 0 at line 10,
    // both write 1 at line 11, and the failing step is flagged.
    let rows: Vec<&str> = trace.lines().collect();
    let reads = rows
        .iter()
        .filter(|l| l.contains("=0") && l.contains("counter_lost_update.rs:10:"))
        .count();
    let writes = rows
        .iter()
        .filter(|l| l.contains(":=1") && l.contains("counter_lost_update.rs:11:"))
        .count();
    assert_eq!((reads, writes), (2, 2), "{trace}");
    assert_eq!(
        rows.iter().filter(|l| l.get(7..8) == Some("!")).count(),
        1,
        "{trace}"
    );
    // Private steps are collapsed into one row per run.
    assert!(trace.contains(" steps)"), "{trace}");
}

#[test]
fn progress_goes_to_stderr_only_when_asked_or_on_a_terminal() {
    use crate::guests::stderr;
    let dir = scratch("progress");
    let module = guest("mutex_counter");
    let m = module.to_str().unwrap();
    let args = [
        "explore",
        m,
        "--strategy",
        "dpor",
        "--max-executions",
        "400",
    ];
    let out = cli(&dir, &[&args[..], &["--progress", "always"]].concat());
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(
        err.contains("exploring: ") && err.contains("executions/s"),
        "{err:?}"
    );
    assert!(
        err.contains("frontier "),
        "DPOR shows its frontier: {err:?}"
    );
    // Not a terminal (as here): nothing on stderr by default; stdout unchanged.
    let quiet = cli(&dir, &args);
    assert!(stderr(&quiet).is_empty(), "{:?}", stderr(&quiet));
    assert_eq!(stdout(&quiet), stdout(&out));
}

#[test]
fn the_deadlock_and_the_ring_point_at_their_lines() {
    // Lock order: t1 takes a (line 11) then b (12); t2 takes b (18) then a (19).
    let (code, out, _) = explore("lock_order_deadlock", &[]);
    assert_eq!(code, 1);
    let (report, trace) = out.split_once("--- interleaving ---").unwrap();
    // The trace shows where each took its first lock; the report where each
    // waits for the other's.
    for line in [11, 18] {
        assert!(
            trace.contains(&format!("lock_order_deadlock.rs:{line}:")),
            "line {line} missing:\n{trace}"
        );
    }
    for (t, line) in [("t1", 12), ("t2", 19)] {
        let wait = format!("{t} waits at src/bin/lock_order_deadlock.rs:{line}:");
        assert!(report.contains(&wait), "{wait} missing:\n{report}");
    }
    // The ring: the producer stores into a slot (line 25) the consumer has
    // not read yet (line 36), after checking head (line 20).
    let (code, out, _) = explore("spsc_ring", &[]);
    assert_eq!(code, 1);
    let trace = out.split("--- interleaving ---").nth(1).unwrap();
    for line in [20, 25, 36] {
        assert!(
            trace.contains(&format!("spsc_ring.rs:{line}:")),
            "line {line} missing:\n{trace}"
        );
    }
}

#[test]
fn the_peer_benchmark_programs_get_the_right_verdicts() {
    assert_found("condvar_lost_wakeup", "deadlock", "no thread can run");
    assert_found("seqlock_torn", "panic", "torn read");
    assert_found("treiber_aba", "panic", "ABA: node");
    assert_found("peterson_broken", "panic", "mutual exclusion violated");
    assert_found("plain_lost_update", "panic", "lost update");
    assert_clean("seqlock_fixed", &[]);
    assert_clean("peterson_correct", &[]);
}
