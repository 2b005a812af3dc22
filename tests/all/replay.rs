//! Replay round trips, determinism, and differential runs through the CLI.

use crate::guests::{cli, code, guest, scratch, stderr, stdout};

fn report(explore_out: &str) -> &str {
    &explore_out[explore_out.find("FAILURE:").expect("a failure report")..]
}

#[test]
fn a_failing_schedule_replays_byte_for_byte() {
    for name in ["counter_lost_update", "lock_order_deadlock", "spsc_ring"] {
        let dir = scratch(&format!("replay-{name}"));
        let module = guest(name);
        let m = module.to_str().unwrap();
        let explored = cli(&dir, &["explore", m, "--save", "s.json"]);
        assert_eq!(code(&explored), 1, "{}", stdout(&explored));
        let first = cli(&dir, &["replay", m, "s.json"]);
        let second = cli(&dir, &["replay", m, "s.json"]);
        assert_eq!(code(&first), 1);
        // Same failure, same guest output, same trace: the whole report.
        assert_eq!(
            stdout(&first),
            report(&stdout(&explored)),
            "{name}: replay differs from exploration"
        );
        assert_eq!(first.stdout, second.stdout);
    }
}

#[test]
fn the_same_seed_explores_the_same_executions() {
    let module = guest("lock_order_deadlock");
    let m = module.to_str().unwrap();
    let dir = scratch("same-seed");
    let a = cli(&dir, &["explore", m, "--seed", "5", "--save", "a.json"]);
    let b = cli(&dir, &["explore", m, "--seed", "5", "--save", "b.json"]);
    assert_eq!(code(&a), 1);
    let same = |s: String, name: &str| {
        s.replace(&format!("{name}.original.json"), "O")
            .replace(&format!("{name}.json"), "X")
    };
    assert_eq!(same(stdout(&a), "a"), same(stdout(&b), "b"));
    let fa = std::fs::read_to_string(dir.join("a.json")).unwrap();
    let fb = std::fs::read_to_string(dir.join("b.json")).unwrap();
    assert_eq!(fa, fb);
    assert!(
        fa.contains("\"strategy\": \"portfolio") && fa.contains("\"seed\": 5"),
        "{fa}"
    );
    // Minimised or not, both runs agree, and so do the originals kept.
    let oa = std::fs::read_to_string(dir.join("a.original.json")).ok();
    let ob = std::fs::read_to_string(dir.join("b.original.json")).ok();
    assert_eq!(oa, ob);
    if let Some(oa) = oa {
        assert!(oa.contains("\"strategy\": \"portfolio\""), "{oa}");
        assert!(fa.contains("(minimised)"), "{fa}");
    }
}

#[test]
fn run_is_deterministic_and_the_guest_sees_only_seeded_nondeterminism() {
    let module = guest("hello");
    let m = module.to_str().unwrap();
    let dir = scratch("run-determinism");
    let a = cli(&dir, &["run", m, "--env", "GREETING=hi", "--", "x", "y"]);
    let b = cli(&dir, &["run", m, "--env", "GREETING=hi", "--", "x", "y"]);
    assert_eq!(code(&a), 0, "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    let out = stdout(&a);
    assert!(
        out.contains("args: [\"x\", \"y\"]") && out.contains("GREETING=hi"),
        "{out}"
    );
    // Virtual time: the sleep took at least its duration, the wall clock is the fixed epoch.
    assert!(out.contains("slept at least 10ms: true"), "{out}");
    assert!(out.contains("unix time: 1704067200"), "{out}");
    assert_eq!(stderr(&a), "to stderr\n");
    // HashMap seeds come from random_get, which the guest seed controls.
    let c = cli(
        &dir,
        &[
            "run",
            m,
            "--guest-seed",
            "1",
            "--env",
            "GREETING=hi",
            "--",
            "x",
            "y",
        ],
    );
    let order = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("hash order"))
            .unwrap()
            .to_string()
    };
    assert_ne!(
        order(&stdout(&c)),
        order(&out),
        "the guest seed should change HashMap order"
    );
}

#[test]
fn instrumenting_does_not_change_what_a_single_threaded_guest_prints() {
    let module = guest("hello");
    let m = module.to_str().unwrap();
    let dir = scratch("differential");
    let plain = cli(&dir, &["run", m, "--uninstrumented", "--", "a"]);
    let all = cli(&dir, &["run", m, "--", "a"]);
    let atomics = cli(&dir, &["run", m, "--granularity", "atomics", "--", "a"]);
    assert_eq!(code(&plain), 0, "{}", stderr(&plain));
    assert_eq!(plain.stdout, all.stdout);
    assert_eq!(plain.stdout, atomics.stdout);
    assert_eq!(plain.stderr, all.stderr);
}

#[test]
fn instrument_writes_a_module_and_prints_counts() {
    let module = guest("counter_lost_update");
    let dir = scratch("instrument-cmd");
    let out = cli(
        &dir,
        &["instrument", module.to_str().unwrap(), "-o", "out.wasm"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    for kind in ["read", "write", "rmw", "cmpxchg", "wait", "notify"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(kind)),
            "no {kind} count in:\n{text}"
        );
    }
    // The written module is accepted as is (already instrumented) and behaves the same.
    let again = cli(&dir, &["explore", "out.wasm", "--save", "x.json"]);
    assert_eq!(code(&again), 1);
}

#[test]
fn replay_uses_the_granularity_the_schedule_was_recorded_with() {
    let module = guest("lock_order_deadlock");
    let m = module.to_str().unwrap();
    let dir = scratch("replay-granularity");
    let explored = cli(
        &dir,
        &["explore", m, "--granularity", "atomics", "--save", "s.json"],
    );
    assert_eq!(code(&explored), 1, "{}", stdout(&explored));
    let text = std::fs::read_to_string(dir.join("s.json")).unwrap();
    assert!(text.contains("\"granularity\": \"atomics\""), "{text}");
    let replayed = cli(&dir, &["replay", m, "s.json"]);
    assert_eq!(code(&replayed), 1, "{}", stderr(&replayed));
    assert_eq!(stdout(&replayed), report(&stdout(&explored)));
}

#[test]
fn the_module_cache_is_used_checked_and_optional() {
    use crate::guests::cli_with_cache;
    let dir = scratch("cache");
    let cache = dir.join("cache");
    let module = guest("counter_lost_update");
    let m = module.to_str().unwrap();
    let args = ["explore", m, "--seed", "2", "--save", "s.json"];
    let first = cli_with_cache(&dir, &args, &cache);
    let entries = |ext: &str| {
        std::fs::read_dir(&cache)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().to_string_lossy().ends_with(ext))
            .count()
    };
    // One instrumented and one compiled module, each with its checksum.
    assert_eq!((entries(".wasm"), entries(".cwasm")), (1, 1));
    let second = cli_with_cache(&dir, &args, &cache);
    assert_eq!(first.stdout, second.stdout);
    // A damaged entry is not trusted: the module is compiled afresh.
    for e in std::fs::read_dir(&cache).unwrap() {
        let path = e.unwrap().path();
        if path
            .extension()
            .is_some_and(|x| x == "cwasm" || x == "wasm")
        {
            let mut bytes = std::fs::read(&path).unwrap();
            let n = bytes.len();
            bytes[n / 2] ^= 0xff;
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let third = cli_with_cache(&dir, &args, &cache);
    assert_eq!(code(&third), 1);
    assert_eq!(first.stdout, third.stdout);
    // --no-cache neither reads nor writes.
    let other = dir.join("unused");
    let out = cli_with_cache(&dir, &[&args[..], &["--no-cache"]].concat(), &other);
    assert_eq!(out.stdout, first.stdout);
    assert!(!other.exists());
}
