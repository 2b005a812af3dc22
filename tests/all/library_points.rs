//! Plain library accesses (std, wasi-libc) are no scheduling points for
//! the sampling strategies (`RunConfig::library_points`,
//! `abi::LIBRARY_POINTS_EXPORT`): the same bugs are found, the schedule file
//! says which points were taken, and a replay takes the same ones.

use crate::guests::{cli, code, guest, scratch, stdout};
use std::path::Path;

fn schedule(dir: &Path, file: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

/// `counter_lost_update`'s lost update, found with `extra` and saved
/// unminimised to `file` in `dir`: the schedule.
fn lost_update(dir: &Path, file: &str, extra: &[&str]) -> serde_json::Value {
    let module = guest("counter_lost_update");
    let mut args = vec![
        "explore",
        module.to_str().unwrap(),
        "--save",
        file,
        "--no-minimise",
    ];
    args.extend_from_slice(extra);
    let out = cli(dir, &args);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{extra:?}: {text}");
    assert!(text.contains("lost update"), "{text}");
    schedule(dir, file)
}

#[test]
fn sampling_leaves_library_accesses_out_and_replays_with_the_same_points() {
    let dir = scratch("library-points");
    let module = guest("counter_lost_update");
    let m = module.to_str().unwrap();
    let mut steps = vec![];
    for (file, extra) in [
        ("quiet.json", &["--strategy", "random"][..]),
        (
            "all.json",
            &["--strategy", "random", "--library-points"][..],
        ),
    ] {
        let s = lost_update(&dir, file, extra);
        assert_eq!(
            s["library_points"],
            extra.contains(&"--library-points"),
            "{file}"
        );
        steps.push(s["steps"].as_u64().unwrap());
        // The replay repeats the failure from the file alone.
        let replayed = cli(&dir, &["replay", m, file]);
        assert_eq!(code(&replayed), 1, "{}", stdout(&replayed));
        assert!(stdout(&replayed).contains("lost update"));
    }
    // Most of a std program's points are its library's plain accesses.
    assert!(steps[0] * 2 < steps[1], "{steps:?}");
    // Replayed with the other points, the decisions do not fit.
    let mut s = schedule(&dir, "quiet.json");
    s["library_points"] = true.into();
    std::fs::write(dir.join("flipped.json"), s.to_string()).unwrap();
    let flipped = cli(&dir, &["replay", m, "flipped.json"]);
    assert_ne!(code(&flipped), 1, "{}", stdout(&flipped));
}

#[test]
fn dpor_and_race_detection_keep_library_points() {
    let dir = scratch("library-points-kept");
    for (file, args) in [
        ("dpor.json", &["--strategy", "dpor"][..]),
        ("races.json", &["--strategy", "random", "--races"][..]),
    ] {
        let s = lost_update(&dir, file, args);
        assert_eq!(s["library_points"], true, "{file}");
    }
}

#[test]
fn a_schedule_file_from_before_has_library_points() {
    // Files written before the field existed were recorded with them.
    let dir = scratch("library-points-old");
    let mut s = lost_update(&dir, "s.json", &["--strategy", "dpor"]);
    s.as_object_mut().unwrap().remove("library_points");
    std::fs::write(dir.join("old.json"), s.to_string()).unwrap();
    let module = guest("counter_lost_update");
    let replayed = cli(&dir, &["replay", module.to_str().unwrap(), "old.json"]);
    assert_eq!(code(&replayed), 1, "{}", stdout(&replayed));
}

#[test]
fn the_json_report_says_which_points_were_taken() {
    let dir = scratch("library-points-json");
    let module = guest("atomic_counter");
    let m = module.to_str().unwrap();
    for (args, expected) in [
        (&["--strategy", "pos"][..], false),
        (&["--strategy", "pos", "--library-points"][..], true),
        (&["--strategy", "dpor"][..], true),
    ] {
        let mut all = vec!["explore", m, "--json", "--iterations", "20"];
        all.extend_from_slice(args);
        let out = cli(&dir, &all);
        assert_eq!(code(&out), 0, "{}", stdout(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["library_points"], expected, "{args:?}");
    }
}
