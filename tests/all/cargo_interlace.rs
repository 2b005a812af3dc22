//! `cargo interlace`: a fixture crate's own tests (tests/fixtures/testcrate),
//! unmodified, through the built `cargo-interlace` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/testcrate")
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-scratch/testcrate")
}

/// Runs `cargo-interlace interlace ARGS` in the fixture, one at a time
/// (they share its target directory and saved schedules).
fn cargo_interlace(args: &[&str]) -> Output {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    cargo_interlace_in(&fixture(), &target_dir(), "", args)
}

/// Runs `cargo-interlace interlace ARGS` in the crate at `dir`, building
/// into `target` with `rustflags` as RUSTFLAGS.
pub fn cargo_interlace_in(dir: &Path, target: &Path, rustflags: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-interlace"));
    if rustflags.is_empty() {
        cmd.env_remove("RUSTFLAGS");
    } else {
        cmd.env("RUSTFLAGS", rustflags);
    }
    cmd.arg("interlace")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env(
            "INTERLACE_CACHE_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-scratch/module-cache"),
        )
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo-interlace runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The whole suite, explored once for the tests that read its results.
fn whole_suite() -> &'static (Option<i32>, String, String) {
    static RUN: OnceLock<(Option<i32>, String, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = cargo_interlace(&["test", "--iterations", "300"]);
        let (stdout, stderr) = text(&out);
        (out.status.code(), stdout, stderr)
    })
}

#[test]
fn every_test_gets_its_verdict_in_cargo_tests_shape() {
    let (code, out, err) = whole_suite();
    assert_eq!(*code, Some(1), "a failing test exits 1\n{out}\n{err}");
    // The racy unit test: found, with its assertion message.
    assert!(
        out.contains("test tests::two_increments ... FAILED"),
        "{out}"
    );
    assert!(
        out.contains("lost update: two increments, counter is 1"),
        "{out}"
    );
    // The trace names the test's own lines (std's atomics inlined).
    assert!(out.contains("lib.rs:13:"), "{out}");
    // The correct Mutex test passes after its budget.
    assert!(
        out.contains("test tests::locked_increments ... ok, 300 executions"),
        "{out}"
    );
    // A single-threaded test needs one execution.
    assert!(
        out.contains("test tests::sums ... ok, 1 execution: it spawns no thread"),
        "{out}"
    );
    assert!(
        out.contains("test tests::ignored_racy ... ignored\n"),
        "{out}"
    );
    // libtest skips should_panic tests on wasm: a note, not a failure.
    assert!(
        out.contains("test tests::should_panic_on_empty ... ignored, #[should_panic]"),
        "{out}"
    );
    // The integration test's lock-order deadlock.
    assert!(out.contains("test transfer_both_ways ... FAILED"), "{out}");
    assert!(out.contains("FAILURE: deadlock"), "{out}");
    assert!(out.contains("lock_order.rs:19:"), "{out}");
    // A test that catches a panic cannot pass on wasm (a panic aborts): it
    // fails with no preemption, and says it is not an interleaving bug.
    assert!(
        out.contains("test tests::poisoning_is_caught ... FAILED without any preemption (not an interleaving bug)"),
        "{out}"
    );
    assert!(
        out.contains("note: an execution without any preemption fails too"),
        "{out}"
    );
    assert!(
        out.contains("test result: FAILED. 2 passed; 2 failed (1 without preemption); 3 ignored; 0 measured; 0 filtered out"),
        "{out}"
    );
    assert!(
        out.contains("test result: FAILED. 0 passed; 1 failed; 0 ignored"),
        "{out}"
    );
    // cargo test's order: the library's unit tests first.
    let lib = out.find("unittests src/lib.rs").expect("lib target");
    let integration = out
        .find("Running tests/lock_order.rs")
        .expect("integration");
    assert!(lib < integration, "{out}");
    assert!(
        err.contains("`--lib`") && err.contains("`--test lock_order`"),
        "{err}"
    );
    for file in [
        "interlace/testcrate/tests::two_increments.failure.json",
        "interlace/lock_order/transfer_both_ways.failure.json",
    ] {
        assert!(target_dir().join(file).exists(), "{file} saved\n{out}");
    }
}

#[test]
fn a_saved_test_schedule_replays_with_only_its_file() {
    let (code, _, _) = whole_suite();
    assert_eq!(*code, Some(1));
    let file = target_dir().join("interlace/testcrate/tests::two_increments.failure.json");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["test"], "tests::two_increments");
    let out = cargo_interlace(&["replay", file.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("lost update: two increments, counter is 1"),
        "{stdout}"
    );
    let deadlock = target_dir().join("interlace/lock_order/transfer_both_ways.failure.json");
    let out = cargo_interlace(&["replay", deadlock.to_str().unwrap()]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("FAILURE: deadlock"), "{stdout}");
}

#[test]
fn a_name_filter_selects_tests_like_cargo_test() {
    let out = cargo_interlace(&["test", "locked", "--iterations", "50"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("test tests::locked_increments ... ok, 50 executions"));
    assert!(!stdout.contains("two_increments"), "{stdout}");
    assert!(stdout.contains("1 passed; 0 failed; 0 ignored; 0 measured; 6 filtered out"));
    // The integration test has no test of that name.
    assert!(stdout.contains("0 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out"));
}

#[test]
fn ignored_tests_run_with_ignored() {
    let out = cargo_interlace(&[
        "test",
        "--lib",
        "--ignored",
        "ignored_racy",
        "--iterations",
        "300",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("test tests::ignored_racy ... FAILED"),
        "{stdout}"
    );
    assert!(stdout.contains("ignored test's lost update"), "{stdout}");
    assert!(!stdout.contains("locked_increments"), "{stdout}");
}

#[test]
fn json_gives_one_report_per_test() {
    let out = cargo_interlace(&["test", "--lib", "sums", "--json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(v["command"], "cargo-interlace-test");
    assert_eq!(v["verdict"], "pass");
    let tests = v["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 1, "{v:#}");
    assert_eq!(tests[0]["test"], "tests::sums");
    assert_eq!(tests[0]["result"], "ok");
    assert_eq!(tests[0]["report"]["executions"], 1);
    assert_eq!(tests[0]["report"]["single_thread"], true);
}

#[test]
fn binaries_are_explored_and_run_through_cargo() {
    let out = cargo_interlace(&["explore", "--bin", "counter"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("lost update in the binary"), "{stdout}");
    // Saved in the target directory, naming its module: replay needs only the file.
    let saved = target_dir().join("interlace/counter.failure.json");
    assert!(
        stdout.contains(&format!("schedule saved to {}", saved.display())),
        "{stdout}"
    );
    let out = cargo_interlace(&["replay", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).0.contains("lost update in the binary"));
    let out = cargo_interlace(&["run", "--bin", "counter"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("counter = 2"), "{stdout}");
}

#[test]
fn bad_cargo_input_is_a_one_line_error() {
    let out = cargo_interlace(&["test", "--test", "no_such_test"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: cargo could not build"), "{stderr}");
    let out = cargo_interlace(&["replay", "/nonexistent.failure.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn jobs_spread_tests_with_the_same_verdicts() {
    let verdicts = |jobs: &str| {
        let out = cargo_interlace(&["test", "--lib", "--iterations", "60", "--jobs", jobs]);
        assert_eq!(out.status.code(), Some(1));
        text(&out)
            .0
            .lines()
            .filter(|l| l.starts_with("test tests::") && !l.ends_with("... "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let one = verdicts("1");
    assert_eq!(one.len(), 7, "{one:?}");
    assert_eq!(one, verdicts("2"));
}

#[test]
fn shards_of_a_test_run_merge_per_test() {
    let dir = target_dir().join("shards");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = vec![];
    for k in 0..2 {
        let shard = format!("{k}/2");
        let out = cargo_interlace(&[
            "test",
            "--lib",
            "increments",
            "--iterations",
            "40",
            "--shard",
            &shard,
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out).1);
        let file = dir.join(format!("shard-{k}.json"));
        std::fs::write(&file, &out.stdout).unwrap();
        files.push(file);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_interlace-wasm"))
        .arg("merge")
        .args(&files)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "test testcrate tests::locked_increments ... ok, 40 executions (all 2 shards)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("test testcrate tests::two_increments ... failed: execution 1 in shard 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("test result: FAILED. 1 passed; 1 failed; 0 ignored"),
        "{stdout}"
    );
}

#[test]
fn a_test_longer_than_the_step_bound_is_a_limit_not_a_failure() {
    let out = cargo_interlace(&[
        "test",
        "--lib",
        "--ignored",
        "long_counting",
        "--max-steps",
        "30000",
        "--iterations",
        "5",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("test tests::long_counting ... not explored: an execution passed --max-steps (30000 scheduling points)"),
        "{stdout}"
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("0 failed; 1 not explored (a limit)"),
        "{stdout}"
    );
    assert!(stderr.contains("could not be explored"), "{stderr}");
}
