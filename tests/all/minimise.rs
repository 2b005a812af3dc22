//! Counterexample minimisation: fewer preemptions, same failure, replayable.

use crate::guests::{cli, code, guest, scratch, stdout};
use interlace_wasm::{
    explore, minimise, replay, ExploreConfig, FailureKind, Program, RunConfig, ScheduleFile,
    Strategy,
};

fn load(name: &str) -> Program {
    crate::guests::load_guest(name)
}

#[test]
fn a_random_counterexample_of_the_counter_minimises_to_one_preemption() {
    let program = load("counter_lost_update");
    let cfg = ExploreConfig {
        strategy: Strategy::Random { seed: 0 },
        iterations: 1000,
        markers_only: false,
        time: None,
        run: RunConfig::default(),
    };
    let found = explore(&program, &cfg).unwrap().failure.expect("found");
    let m = minimise(&program, &found.schedule, &RunConfig::default()).unwrap();
    assert!(m.preemptions_before > 1, "{}", m.preemptions_before);
    assert_eq!(m.preemptions_after, 1);
    let f = m.execution.failure.as_ref().unwrap();
    assert_eq!(f.kind, FailureKind::Panic);
    assert_eq!(f, found.execution.failure.as_ref().unwrap());
    // The minimised schedule is an ordinary schedule: it replays exactly.
    let text = serde_json::to_string(&m.schedule).unwrap();
    let back: ScheduleFile = serde_json::from_str(&text).unwrap();
    let again = replay(&program, &back, &RunConfig::default()).unwrap();
    assert_eq!(again.failure, m.execution.failure);
    assert_eq!(again.decisions, m.execution.decisions);
}

#[test]
fn the_cli_saves_the_minimised_schedule_and_keeps_the_original() {
    let dir = scratch("minimise-cli");
    let module = guest("bank_account");
    let out = cli(&dir, &["explore", module.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("minimised from "))
        .unwrap_or_else(|| panic!("no minimisation line:\n{text}"));
    assert!(line.contains("to 1 preemptions"), "{line}");
    for file in [
        "bank_account.failure.json",
        "bank_account.failure.original.json",
    ] {
        let out = cli(&dir, &["replay", module.to_str().unwrap(), file]);
        assert_eq!(code(&out), 1, "{file}: {}", stdout(&out));
        assert!(stdout(&out).contains("balance is 150"), "{file}");
    }
    // --no-minimise keeps the schedule as found.
    let dir = scratch("minimise-cli-off");
    let out = cli(
        &dir,
        &["explore", module.to_str().unwrap(), "--no-minimise"],
    );
    assert_eq!(code(&out), 1);
    assert!(!stdout(&out).contains("minimised"));
    assert!(!dir.join("bank_account.failure.original.json").exists());
}

#[test]
fn a_dpor_counterexample_loses_its_switches() {
    // DPOR's default continuation switches wherever a thread waits or
    // spins: its lock-order deadlock has six or more switches, most of
    // them beside the point.
    let program = load("lock_order_deadlock");
    let cfg = ExploreConfig {
        strategy: Strategy::Dpor {
            preemption_bound: None,
            library_blocks: true,
        },
        iterations: 5_000,
        markers_only: false,
        time: None,
        run: RunConfig::default(),
    };
    let found = explore(&program, &cfg).unwrap().failure.expect("found");
    let m = minimise(&program, &found.schedule, &RunConfig::default()).unwrap();
    assert!(m.preemptions_before >= 6, "{}", m.preemptions_before);
    assert!(
        m.preemptions_after < m.preemptions_before && m.preemptions_after <= 4,
        "{} -> {}",
        m.preemptions_before,
        m.preemptions_after
    );
    assert_eq!(
        m.execution.failure.as_ref().unwrap().kind,
        FailureKind::Deadlock
    );
    let again = replay(&program, &m.schedule, &RunConfig::default()).unwrap();
    assert_eq!(again.failure, m.execution.failure);
}

#[test]
fn a_minimised_deadlock_is_the_same_deadlock_at_the_same_places() {
    // two_deadlocks can deadlock on A/B early or on C/D later; from a C/D
    // counterexample the minimiser must never return an A/B one (same kind,
    // different places).
    let program = load("two_deadlocks");
    let later = |f: &interlace_wasm::Failure| f.message.contains("two_deadlocks.rs:34");
    let mut checked = 0;
    for seed in 0..40 {
        let cfg = ExploreConfig {
            strategy: Strategy::Random { seed },
            iterations: 500,
            markers_only: false,
            time: None,
            run: RunConfig::default(),
        };
        let Some(found) = explore(&program, &cfg).unwrap().failure else {
            continue;
        };
        let f = found.execution.failure.as_ref().unwrap();
        assert_eq!(f.kind, FailureKind::Deadlock);
        if !later(f) {
            continue;
        }
        let m = minimise(&program, &found.schedule, &RunConfig::default()).unwrap();
        let g = m.execution.failure.as_ref().unwrap();
        assert_eq!(g.kind, FailureKind::Deadlock);
        assert!(later(g), "minimised into another deadlock: {}", g.message);
        assert_eq!(m.execution.places, found.execution.places);
        assert!(!m.execution.places.is_empty());
        checked += 1;
        if checked == 3 {
            break;
        }
    }
    assert!(checked > 0, "no seed found the later deadlock");
}

#[test]
fn same_failure_needs_the_same_places() {
    let program = load("two_deadlocks");
    let run = |seed| {
        let cfg = ExploreConfig {
            strategy: Strategy::Pos { seed },
            iterations: 500,
            markers_only: false,
            time: None,
            run: RunConfig::default(),
        };
        explore(&program, &cfg).unwrap().failure.unwrap().execution
    };
    let (mut early, mut late) = (None, None);
    for seed in 0..40 {
        let e = run(seed);
        let msg = &e.failure.as_ref().unwrap().message;
        if msg.contains("two_deadlocks.rs:34") {
            late.get_or_insert(e);
        } else {
            early.get_or_insert(e);
        }
        if early.is_some() && late.is_some() {
            break;
        }
    }
    let (early, late) = (early.expect("an early deadlock"), late.expect("a late one"));
    assert!(interlace_wasm::same_failure(&early, &early));
    assert!(!interlace_wasm::same_failure(&early, &late));
}

#[test]
fn a_counterexample_after_much_unseen_library_work_minimises_and_replays() {
    // Each worker makes over 65,536 library accesses the host never sees
    // (no line tables: all of it is library code to the tool); they count
    // against the candidates' step bound, which must leave room for them.
    let dir = scratch("minimise-busy");
    let module = crate::guests::guest_by_rustc("busy_lost_update");
    let m = module.to_str().unwrap();
    let out = cli(
        &dir,
        &[
            "explore",
            m,
            "--strategy",
            "random",
            "--seed",
            "1",
            "--save",
            "s.json",
        ],
    );
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(text.contains("lost update"), "{text}");
    // Six preemptions, one needed (the step bound of the candidates cut
    // them all once, and the schedule saved then had their bound).
    assert!(text.contains("minimised from 6 to 1 preemptions"), "{text}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("s.json")).unwrap()).unwrap();
    assert_eq!(saved["max_steps"], RunConfig::default().max_steps);
    let replayed = cli(&dir, &["replay", m, "s.json"]);
    assert_eq!(code(&replayed), 1, "{}", stdout(&replayed));
    assert!(stdout(&replayed).contains("lost update"));
}
