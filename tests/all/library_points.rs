//! Plain library accesses (std, wasi-libc) are no scheduling points for
//! the sampling strategies (`RunConfig::library_points`,
//! `abi::LIBRARY_POINTS_EXPORT`): the same bugs are found, the schedule file
//! says which points were taken, and a replay takes the same ones.

use crate::guests::{cli, code, guest, scratch, stdout};

fn schedule(dir: &std::path::Path, file: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

#[test]
fn sampling_leaves_library_accesses_out_and_replays_with_the_same_points() {
    let dir = scratch("library-points");
    let module = guest("counter_lost_update");
    let m = module.to_str().unwrap();
    let mut steps = vec![];
    for (file, extra) in [("quiet.json", None), ("all.json", Some("--library-points"))] {
        let mut args = vec!["explore", m, "--strategy", "random", "--save", file];
        args.extend(extra);
        args.push("--no-minimise");
        let out = cli(&dir, &args);
        let text = stdout(&out);
        assert_eq!(code(&out), 1, "{text}");
        assert!(text.contains("lost update"), "{text}");
        let s = schedule(&dir, file);
        assert_eq!(s["library_points"], extra.is_some(), "{file}");
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
    let module = guest("counter_lost_update");
    let m = module.to_str().unwrap();
    for (file, args) in [
        ("dpor.json", &["--strategy", "dpor"][..]),
        ("races.json", &["--strategy", "random", "--races"][..]),
    ] {
        let mut all = vec!["explore", m, "--save", file, "--no-minimise"];
        all.extend_from_slice(args);
        let out = cli(&dir, &all);
        assert_eq!(code(&out), 1, "{}", stdout(&out));
        assert_eq!(schedule(&dir, file)["library_points"], true, "{file}");
    }
}

#[test]
fn a_schedule_file_from_before_has_library_points() {
    // Files written before the field existed were recorded with them.
    let dir = scratch("library-points-old");
    let module = guest("counter_lost_update");
    let m = module.to_str().unwrap();
    let out = cli(
        &dir,
        &[
            "explore",
            m,
            "--strategy",
            "dpor",
            "--save",
            "s.json",
            "--no-minimise",
        ],
    );
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let mut s = schedule(&dir, "s.json");
    s.as_object_mut().unwrap().remove("library_points");
    std::fs::write(dir.join("old.json"), s.to_string()).unwrap();
    let replayed = cli(&dir, &["replay", m, "old.json"]);
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
