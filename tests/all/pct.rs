//! PCT: finds the lost update with fixed seeds, deterministically, replayably.

use crate::guests::{cli, code, guest, scratch, stdout};

#[test]
fn pct_finds_the_lost_update_and_its_schedule_replays() {
    let dir = scratch("pct");
    let module = guest("counter_lost_update");
    let m = module.to_str().unwrap();
    let args = |save: &'static str| {
        vec![
            "explore",
            m,
            "--strategy",
            "pct",
            "--depth",
            "2",
            "--seed",
            "1",
            "--save",
            save,
        ]
    };
    let a = cli(&dir, &args("a.json"));
    let b = cli(&dir, &args("b.json"));
    let text = stdout(&a);
    assert_eq!(code(&a), 1, "{text}");
    assert!(text.contains("(strategy pct, seed 1)"), "{text}");
    assert!(text.contains("counter is 1"), "{text}");
    // The same seed explores the same executions.
    assert_eq!(
        text.replace("a.json", "X").replace("a.original.json", "O"),
        stdout(&b)
            .replace("b.json", "X")
            .replace("b.original.json", "O")
    );
    let out = cli(&dir, &["replay", m, "a.json"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("counter is 1"));
}

#[test]
fn pct_options_are_checked() {
    let dir = scratch("pct-options");
    let module = guest("hello");
    let m = module.to_str().unwrap();
    let out = cli(&dir, &["explore", m, "--depth", "2"]);
    assert_eq!(code(&out), 2);
    let out = cli(&dir, &["explore", m, "--strategy", "pct", "--depth", "0"]);
    assert_eq!(code(&out), 2);
    let out = cli(
        &dir,
        &["explore", m, "--strategy", "pct", "--iterations", "20"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}
