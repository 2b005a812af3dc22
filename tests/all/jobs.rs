//! `--jobs N`: the same findings as one thread, for the same seeds.

use crate::guests::{cli, code, guest, scratch, stdout};

fn explore(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = cli(dir, &[args, &["--save", "s.json"]].concat());
    let schedule = std::fs::read_to_string(dir.join("s.json")).unwrap_or_default();
    (code(&out), stdout(&out), schedule)
}

#[test]
fn two_jobs_find_what_one_finds() {
    let dir = scratch("jobs");
    for (name, extra) in [
        // Found after the serial warm-up, so by the parallel phase.
        ("counter_lost_update", vec!["--seed", "0"]),
        ("bank_account", vec!["--strategy", "pct", "--seed", "3"]),
        // No failure: every execution's outcome is counted the same.
        ("atomic_counter", vec!["--iterations", "200"]),
        (
            "mutex_counter",
            vec!["--strategy", "uniform", "--iterations", "100"],
        ),
    ] {
        let module = guest(name);
        let mut args = vec!["explore", module.to_str().unwrap()];
        args.extend(extra);
        let one = explore(&dir, &args);
        let two = explore(&dir, &[&args[..], &["--jobs", "2"]].concat());
        assert_eq!(one, two, "{name}: --jobs 2 differs from --jobs 1");
        if name.ends_with("counter") {
            assert_eq!(one.0, 0, "{}", one.1);
        } else {
            assert_eq!(one.0, 1, "{}", one.1);
            // Found in the parallel phase (after the warm-up of 8).
            let n: u64 = one
                .1
                .split("in execution ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap();
            assert!(n > 8, "{name}: found in execution {n}, inside the warm-up");
        }
    }
    let module = guest("hello");
    let out = cli(
        &dir,
        &[
            "explore",
            module.to_str().unwrap(),
            "--strategy",
            "dpor",
            "--jobs",
            "2",
        ],
    );
    assert_eq!(code(&out), 2);
}
