//! POS (partial-order sampling): finds bugs with fixed seeds,
//! deterministically, replayably.

use crate::guests::{cli, code, guest, scratch, stdout};

#[test]
fn pos_finds_the_bugs_and_its_schedules_replay() {
    let dir = scratch("pos");
    for (name, message) in [
        ("counter_lost_update", "counter is 1"),
        ("peterson_broken", "mutual exclusion"),
    ] {
        let module = guest(name);
        let m = module.to_str().unwrap();
        let args = |save: &'static str| {
            vec![
                "explore",
                m,
                "--strategy",
                "pos",
                "--seed",
                "1",
                "--save",
                save,
            ]
        };
        let a = cli(&dir, &args("a.json"));
        let b = cli(&dir, &args("b.json"));
        let text = stdout(&a);
        assert_eq!(code(&a), 1, "{name}: {text}");
        assert!(text.contains("(strategy pos, seed 1)"), "{text}");
        assert!(text.contains(message), "{name}: {text}");
        // The same seed explores the same executions.
        assert_eq!(
            text.replace("a.json", "X").replace("a.original.json", "O"),
            stdout(&b)
                .replace("b.json", "X")
                .replace("b.original.json", "O")
        );
        let out = cli(&dir, &["replay", m, "a.json"]);
        assert_eq!(code(&out), 1);
        assert!(stdout(&out).contains(message), "{name}");
    }
}

#[test]
fn pos_runs_a_correct_program_clean() {
    let dir = scratch("pos-clean");
    let module = guest("mutex_counter");
    let out = cli(
        &dir,
        &[
            "explore",
            module.to_str().unwrap(),
            "--strategy",
            "pos",
            "--iterations",
            "200",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("counter = 6\\n\": 200 executions"));
}
