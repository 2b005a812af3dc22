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
        (
            "counter_lost_update",
            vec!["--strategy", "random", "--seed", "0"],
        ),
        ("bank_account", vec!["--strategy", "pct", "--seed", "3"]),
        ("peterson_broken", vec!["--strategy", "pos", "--seed", "1"]),
        // No failure: every execution's outcome is counted the same.
        ("atomic_counter", vec!["--iterations", "200"]),
        // The portfolio forks each member after its own warm-up.
        (
            "atomic_counter",
            vec!["--strategy", "portfolio", "--iterations", "120"],
        ),
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
    // DPOR splits its tree over the jobs, for the unbounded search only.
    let module = guest("hello");
    let m = module.to_str().unwrap();
    let out = cli(&dir, &["explore", m, "--strategy", "dpor", "--jobs", "2"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("every interleaving was covered"));
    for extra in [
        &["--deepen"][..],
        &["--preemption-bound", "1"],
        &["--shard", "0/2"],
    ] {
        let out = cli(
            &dir,
            &[
                &["explore", m, "--strategy", "dpor", "--jobs", "2"][..],
                extra,
            ]
            .concat(),
        );
        assert_eq!(code(&out), 2, "{extra:?}");
    }
}

#[test]
fn shards_merge_into_what_one_run_reports() {
    let dir = scratch("shards");
    let run = |args: &[&str]| {
        let out = cli(&dir, args);
        (code(&out), stdout(&out))
    };
    // A correct program: the shards' executions and outcomes add up.
    let module = guest("atomic_counter");
    let m = module.to_str().unwrap();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let (status, json) = run(&[
            "explore",
            m,
            "--iterations",
            "150",
            "--shard",
            &shard,
            "--json",
        ]);
        assert_eq!(status, 0);
        std::fs::write(dir.join(format!("r{k}.json")), json).unwrap();
    }
    let (status, merged) = run(&["merge", "r0.json", "r1.json", "r2.json", "--json"]);
    assert_eq!(status, 0, "{merged}");
    let v: serde_json::Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(v["executions"], 150);
    assert_eq!(v["all_shards"], true);
    let (_, whole) = run(&["explore", m, "--iterations", "150", "--json"]);
    let whole: serde_json::Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(v["outcomes"], whole["outcomes"]);
    // Missing shards are said, and a shard given twice is an error.
    let (_, partial) = run(&["merge", "r0.json", "r2.json"]);
    assert!(
        partial.contains("2 of 3 shards: NOT the whole exploration"),
        "{partial}"
    );
    let out = cli(&dir, &["merge", "r0.json", "r0.json"]);
    assert_eq!(code(&out), 2);
    // A failing program: the merged failure is the one run's (lowest index).
    let module = guest("counter_lost_update");
    let m = module.to_str().unwrap();
    for k in 0..2 {
        let (shard, save) = (format!("{k}/2"), format!("s{k}.json"));
        let (status, json) = run(&["explore", m, "--shard", &shard, "--json", "--save", &save]);
        assert_eq!(status, 1);
        std::fs::write(dir.join(format!("c{k}.json")), json).unwrap();
    }
    let (status, merged) = run(&["merge", "c0.json", "c1.json"]);
    assert_eq!(status, 1);
    let (_, one) = run(&["explore", m, "--save", "one.json"]);
    let index = |text: &str| {
        text.split("in execution ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .map(str::to_string)
    };
    assert_eq!(index(&merged), index(&one), "{merged}\n{one}");
    // Not a report: exit 2 with what to pass.
    std::fs::write(dir.join("junk.json"), "{}").unwrap();
    let out = cli(&dir, &["merge", "junk.json"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn a_time_budget_stops_the_exploration_and_says_so() {
    let dir = scratch("time-budget");
    let module = guest("mutex_counter");
    let m = module.to_str().unwrap();
    for extra in [&[][..], &["--jobs", "2"], &["--strategy", "dpor"]] {
        let args = [
            &["explore", m, "--time", "1s", "--iterations", "100000000"][..],
            extra,
        ]
        .concat();
        let started = std::time::Instant::now();
        let out = cli(&dir, &args);
        let text = stdout(&out);
        assert_eq!(code(&out), 0, "{extra:?}: {text}");
        assert!(
            text.contains("stopped at the --time budget"),
            "{extra:?}: {text}"
        );
        assert!(!text.contains("every interleaving was covered"), "{text}");
        // Far below the executions' budget: the clock ended it.
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }
    let out = cli(&dir, &["explore", m, "--time", "soon"]);
    assert_eq!(code(&out), 2);
}
