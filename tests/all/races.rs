//! `--races`: a plain data race is reported with both lines even when the
//! program does not fail; synchronised programs report none.

use crate::guests::{cli, code, guest, scratch, stdout};

#[test]
fn a_plain_race_is_reported_with_both_lines_and_replays() {
    let dir = scratch("races-plain");
    let module = guest("plain_race");
    let m = module.to_str().unwrap();
    // Without --races every execution passes: the race never fails an assertion.
    let out = cli(&dir, &["explore", m, "--iterations", "200"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = cli(&dir, &["explore", m, "--races", "--save", "race.json"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("FAILURE: data race"))
        .unwrap_or_else(|| panic!("{text}"));
    // main reads at line 15, the spawned thread writes at line 14.
    assert!(
        line.contains("main read at src/bin/plain_race.rs:15:"),
        "{line}"
    );
    assert!(
        line.contains("t1 write at src/bin/plain_race.rs:14:"),
        "{line}"
    );
    assert!(
        text.contains("seen "),
        "the program itself succeeded: {text}"
    );
    // The schedule remembers --races: replay reports the same race.
    let out = cli(&dir, &["replay", m, "race.json"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains(line.trim_start_matches("FAILURE: ")));
    // Both accesses are in the JSON report, with their lines.
    let out = cli(&dir, &["replay", m, "race.json", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let race = &v["execution"]["races"][0];
    assert_eq!(v["execution"]["failure"]["kind"], "data_race");
    assert_eq!(race["first"]["location"]["line"], 15);
    assert_eq!(race["second"]["location"]["line"], 14);
    assert_eq!(race["second"]["write"], true);
}

#[test]
fn synchronised_programs_have_no_races() {
    let dir = scratch("races-none");
    // std Mutex, atomics + Arc + join, Condvar, lightweight threads.
    for name in [
        "mutex_counter",
        "atomic_counter",
        "condvar_handoff",
        "dpor_mutex_light",
        "hello",
    ] {
        let module = guest(name);
        let out = cli(
            &dir,
            &[
                "explore",
                module.to_str().unwrap(),
                "--races",
                "--iterations",
                "100",
            ],
        );
        assert_eq!(code(&out), 0, "{name}: {}", stdout(&out));
    }
    // Every interleaving of the condvar hand-off, checked for races.
    let module = guest("condvar_handoff");
    let out = cli(
        &dir,
        &[
            "explore",
            module.to_str().unwrap(),
            "--races",
            "--strategy",
            "dpor",
        ],
    );
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(text.contains("every interleaving was covered"), "{text}");
}
