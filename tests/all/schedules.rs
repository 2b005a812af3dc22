//! Step schedules over guest-sdk markers: the seed's bank-account schedule
//! reproduces the lost update every time; its reverse never does.

use crate::guests::{cli, code, debug_guest, guest, scratch, stderr, stdout};

const LOST: &str = r#"{"steps": [
    {"thread": "thread1", "marker": "read_balance"},
    {"thread": "thread2", "marker": "read_balance"},
    {"thread": "thread1", "marker": "write_balance"},
    {"thread": "thread2", "marker": "write_balance"}]}"#;

const SERIAL: &str = r#"{"steps": [
    {"thread": "thread1", "marker": "read_balance"},
    {"thread": "thread1", "marker": "write_balance"},
    {"thread": "thread2", "marker": "read_balance"},
    {"thread": "thread2", "marker": "write_balance"}]}"#;

#[test]
fn the_seed_schedule_reproduces_the_lost_update_every_time() {
    let dir = scratch("schedule-lost");
    let m = guest("bank_account_markers");
    let m = m.to_str().unwrap();
    std::fs::write(dir.join("lost.json"), LOST).unwrap();
    let first = cli(&dir, &["run", m, "--schedule", "lost.json"]);
    assert_eq!(code(&first), 1, "{}", stdout(&first));
    assert!(
        stdout(&first).contains("balance is 150 after two transfers"),
        "{}",
        stdout(&first)
    );
    for _ in 0..3 {
        let again = cli(&dir, &["run", m, "--schedule", LOST]);
        assert_eq!(
            again.stdout, first.stdout,
            "the same schedule, the same execution"
        );
    }
    let serial = cli(&dir, &["run", m, "--schedule", SERIAL]);
    assert_eq!(code(&serial), 0, "{}", stdout(&serial));
    assert_eq!(stdout(&serial), "balance = 200\n");
}

#[test]
fn a_schedule_that_cannot_be_followed_says_which_step_and_where_threads_stood() {
    let dir = scratch("schedule-unsat");
    let m = guest("bank_account_markers");
    let m = m.to_str().unwrap();
    let out = cli(
        &dir,
        &[
            "run",
            m,
            "--schedule",
            r#"{"steps": [{"thread": "thread2", "marker": "write_balance"}]}"#,
        ],
    );
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "SCHEDULE NOT FOLLOWED: step 1 (thread `thread2`, marker `write_balance`) could not happen: `thread2` waits at another marker"
        ),
        "{text}"
    );
    assert!(
        text.contains("t1 (thread1) waits at marker `read_balance`"),
        "{text}"
    );
    let out = cli(
        &dir,
        &[
            "run",
            m,
            "--schedule",
            r#"{"steps": [{"thread": "thread1", "marker": "nowhere"}]}"#,
        ],
    );
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("step 1 (thread `thread1`, marker `nowhere`)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn malformed_schedules_are_input_errors() {
    let dir = scratch("schedule-bad");
    let m = guest("bank_account_markers");
    let m = m.to_str().unwrap();
    let out = cli(
        &dir,
        &["run", m, "--schedule", r#"{"steps": [{"thread": "t1"}]}"#],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("not a valid step schedule (missing field `marker`"),
        "{}",
        stderr(&out)
    );
    let out = cli(&dir, &["run", m, "--schedule", "missing.json"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("cannot read schedule file missing.json"),
        "{}",
        stderr(&out)
    );
    let out = cli(
        &dir,
        &[
            "run",
            m,
            "--schedule",
            r#"{"steps": [{"thread": "", "marker": "x"}]}"#,
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("step 1 has an empty thread or marker name"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exploring_with_markers_as_the_only_points_finds_the_race() {
    let dir = scratch("points-markers");
    let m = guest("bank_account_markers");
    let out = cli(
        &dir,
        &[
            "explore",
            "--points",
            "markers",
            m.to_str().unwrap(),
            "--save",
            "s.json",
        ],
    );
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("balance is 150"), "{}", stdout(&out));
    // The saved schedule replays exactly (replay follows decisions, whatever chose them).
    let replayed = cli(&dir, &["replay", m.to_str().unwrap(), "s.json"]);
    assert_eq!(code(&replayed), 1);
    let dpor = cli(
        &dir,
        &[
            "explore",
            "--points",
            "markers",
            "--strategy",
            "dpor",
            m.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&dpor), 2);
    assert!(
        stderr(&dpor).contains("does not apply to --strategy dpor"),
        "{}",
        stderr(&dpor)
    );
}

#[test]
fn a_thread_that_ended_or_waits_elsewhere_is_named_in_the_report() {
    let dir = scratch("schedule-ended");
    let m = guest("bank_account_markers");
    let m = m.to_str().unwrap();
    // thread1 ends after its write: its third step cannot come.
    let ended = r#"{"steps": [{"thread": "thread1", "marker": "read_balance"},
        {"thread": "thread1", "marker": "write_balance"}, {"thread": "thread1", "marker": "read_balance"}]}"#;
    let out = cli(&dir, &["run", m, "--schedule", ended]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.contains("step 3 (thread `thread1`, marker `read_balance`) could not happen"),
        "{text}"
    );
    assert!(
        text.contains(
            "no runnable thread is named `thread1` (it ended, is blocked, or does not exist"
        ),
        "{text}"
    );
    // Out of order: thread1 waits at read_balance, the schedule wants write_balance first.
    let order = r#"{"steps": [{"thread": "thread1", "marker": "write_balance"}]}"#;
    let out = cli(&dir, &["run", m, "--schedule", order]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("`thread1` waits at another marker"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn call_and_comment_markers_gate_statements_as_in_the_seed() {
    let dir = scratch("comment-markers");
    for (name, read, write, lost) in [
        (
            "bank_account_comments",
            "read_balance",
            "write_balance",
            "balance is 150",
        ),
        (
            "counter_comments",
            "read_value",
            "write_value",
            "counter is 1",
        ),
        (
            "bank_account_markers",
            "read_balance",
            "write_balance",
            "balance is 150",
        ),
        (
            "counter_markers",
            "read_value",
            "write_value",
            "counter is 1",
        ),
    ] {
        // The same in a debug build (what `cargo test` makes), where
        // `load` and `store` are calls: a marker gates the line's first
        // scheduling point reached from it, inside the call.
        for m in [guest(name), debug_guest(name)] {
            let m = m.to_str().unwrap();
            let step = |t: &str, mk: &str| format!(r#"{{"thread": "{t}", "marker": "{mk}"}}"#);
            let racy = format!(
                r#"{{"steps": [{}, {}, {}, {}]}}"#,
                step("thread1", read),
                step("thread2", read),
                step("thread1", write),
                step("thread2", write)
            );
            let serial = format!(
                r#"{{"steps": [{}, {}, {}, {}]}}"#,
                step("thread1", read),
                step("thread1", write),
                step("thread2", read),
                step("thread2", write)
            );
            for _ in 0..2 {
                let out = cli(&dir, &["run", m, "--schedule", &racy]);
                assert_eq!(code(&out), 1, "{name}: {}", stdout(&out));
                assert!(stdout(&out).contains(lost), "{name}: {}", stdout(&out));
            }
            let out = cli(&dir, &["run", m, "--schedule", &serial]);
            assert_eq!(code(&out), 0, "{name}: {}", stdout(&out));
        }
    }
}

#[test]
fn a_comment_marker_that_gates_nothing_is_an_error_naming_file_and_line() {
    let dir = scratch("bad-comment-marker");
    let m = guest("bad_comment_marker");
    let out = cli(&dir, &["explore", m.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("cannot place marker `nowhere` at ")
            && err.contains("bad_comment_marker.rs:6"),
        "{err}"
    );
}

#[test]
fn a_schedule_naming_a_thread_that_never_existed_is_bad_input() {
    let dir = scratch("schedule-unknown-thread");
    let m = guest("bank_account_markers");
    let m = m.to_str().unwrap();
    let unknown = r#"{"steps": [{"thread": "t9", "marker": "read_balance"}]}"#;
    let out = cli(&dir, &["run", m, "--schedule", unknown]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("schedule step 1 names thread `t9`, which never existed in this run (threads: main, t1 (thread1), t2 (thread2))"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A thread that existed but ended first is the program's doing: exit 1
    // (a_thread_that_ended_or_waits_elsewhere_is_named_in_the_report).
}
