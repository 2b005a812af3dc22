//! Entry points other than `_start`, and `interlace-wasm test`.

use crate::guests::{cli, code, guest, scratch, stderr, stdout};

#[test]
fn test_explores_every_exported_test_and_reports_like_cargo_test() {
    let dir = scratch("test-cmd");
    let m = guest("tests_example");
    let m = m.to_str().unwrap();
    let out = cli(&dir, &["test", m]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.starts_with("running 3 tests\n"), "{text}");
    assert!(
        text.contains("test interlace_test_atomic_increments_add_up ... ok"),
        "{text}"
    );
    assert!(
        text.contains("test interlace_test_mutex_increments_add_up ... ok"),
        "{text}"
    );
    assert!(
        text.contains("test interlace_test_load_then_store_loses_updates ... FAILED"),
        "{text}"
    );
    assert!(
        text.contains("assertion `left == right` failed: lost update"),
        "{text}"
    );
    assert!(
        text.ends_with("test result: FAILED. 2 passed; 1 failed\n"),
        "{text}"
    );
    // The failing test's schedule replays (it records its entry point).
    let saved = "tests_example.interlace_test_load_then_store_loses_updates.failure.json";
    assert!(dir.join(saved).exists());
    let replayed = cli(&dir, &["replay", m, saved]);
    assert_eq!(code(&replayed), 1);
    assert!(
        stdout(&replayed).contains("lost update"),
        "{}",
        stdout(&replayed)
    );
}

#[test]
fn run_and_explore_take_an_entry_point() {
    let dir = scratch("entry");
    let m = guest("tests_example");
    let m = m.to_str().unwrap();
    let out = cli(
        &dir,
        &[
            "run",
            m,
            "--entry",
            "interlace_test_mutex_increments_add_up",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = cli(
        &dir,
        &[
            "explore",
            m,
            "--entry",
            "interlace_test_atomic_increments_add_up",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = cli(&dir, &["run", m, "--entry", "nope"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("exports no function `nope`"),
        "{}",
        stderr(&out)
    );
    let out = cli(&dir, &["test", m, "--prefix", "nothing_"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no function whose name starts with `nothing_`"),
        "{}",
        stderr(&out)
    );
}
