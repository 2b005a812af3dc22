//! DPOR: exact execution counts on lightweight-thread guests (the published
//! Mazurkiewicz trace counts), daemon threads, outcome sets, bounds.

use crate::guests::{cli, code, guest, scratch, stdout};
use interlace_wasm::{
    explore, Coverage, ExploreConfig, ExploreReport, Program, RunConfig, Strategy,
};

fn load(name: &str) -> Program {
    crate::guests::load_guest(name)
}

fn dpor(name: &str, args: &[&str], bound: Option<u32>) -> ExploreReport {
    dpor_with(name, args, bound, true)
}

fn dpor_with(name: &str, args: &[&str], bound: Option<u32>, library_blocks: bool) -> ExploreReport {
    let cfg = ExploreConfig {
        strategy: Strategy::Dpor {
            preemption_bound: bound,
            library_blocks,
        },
        iterations: 100_000,
        markers_only: false,
        time: None,
        run: RunConfig {
            args: args.iter().map(|s| s.to_string()).collect(),
            ..RunConfig::default()
        },
    };
    explore(&load(name), &cfg).unwrap()
}

/// Complete executions (the trace count) and sleep-set blocked ones.
fn counts(r: &ExploreReport) -> (u64, u64) {
    let c: &Coverage = r.coverage.as_ref().unwrap();
    assert!(r.failure.is_none(), "{:?}", r.failure);
    assert!(c.is_complete(), "{c:?}");
    assert_eq!(c.algorithm, "source-DPOR with sleep sets");
    assert_eq!(c.executions, c.complete + c.sleep_blocked + c.bound_blocked);
    (c.complete, c.sleep_blocked)
}

#[test]
fn disjoint_threads_are_one_trace() {
    assert_eq!(counts(&dpor("dpor_disjoint", &[], None)), (1, 0));
}

#[test]
fn readers_explore_two_to_the_n_traces() {
    for n in 1..=4u32 {
        let (complete, blocked) = counts(&dpor("dpor_readers", &[&n.to_string()], None));
        assert_eq!(complete, 1 << n, "readers({n})");
        assert_eq!(blocked, 0, "readers({n})");
    }
}

#[test]
fn lastzero_matches_the_published_counts() {
    // (N+3)*2^(N-2): optimal DPOR hits these exactly; source-DPOR explores
    // exactly these complete executions plus some sleep-set blocked ones.
    for (n, traces) in [(2, 5), (3, 12), (4, 28), (5, 64)] {
        let (complete, blocked) = counts(&dpor("dpor_lastzero", &[&n.to_string()], None));
        assert_eq!(complete, traces, "lastzero({n})");
        assert!(
            blocked < complete,
            "lastzero({n}): {blocked} sleep-set blocked"
        );
    }
}

#[test]
fn indexer_matches_the_published_counts() {
    for (n, traces) in [(2, 1), (11, 1), (12, 8)] {
        let (complete, blocked) = counts(&dpor("dpor_indexer", &[&n.to_string()], None));
        assert_eq!((complete, blocked), (traces, 0), "indexer({n})");
    }
}

#[test]
fn the_seed_example_reaches_both_results_with_a_daemon_thread() {
    let r = dpor("dpor_seed", &[], None);
    counts(&r);
    let results: Vec<&[u8]> = r.outcomes.iter().map(|o| o.stdout.as_slice()).collect();
    assert_eq!(results, [b"0\n".as_slice(), b"1\n".as_slice()]);
}

#[test]
fn a_detached_writer_is_found_and_a_detached_reader_is_complete() {
    let r = dpor("detached_write", &[], None);
    let f = r
        .failure
        .expect("DPOR schedules the daemon thread before main ends");
    assert!(f
        .execution
        .failure
        .unwrap()
        .message
        .contains("the detached thread wrote x"));
    let r = dpor("detached_read", &[], None);
    counts(&r);
    assert_eq!(r.outcomes.len(), 1);
}

#[test]
fn a_preemption_bound_is_reported_and_never_called_complete() {
    let r = dpor("dpor_lastzero", &["4"], Some(0));
    let c = r.coverage.unwrap();
    assert!(c.exhausted && c.bound_pruned && !c.is_complete(), "{c:?}");
    assert_eq!(c.preemption_bound, Some(0));
    assert!(c.complete < 28);
    // A bound at least as large as any execution needs changes nothing.
    let (complete, _) = counts(&dpor("dpor_readers", &["2"], Some(10)));
    assert_eq!(complete, 4);
}

#[test]
fn a_budget_is_reported_as_not_complete() {
    let cfg = ExploreConfig {
        strategy: Strategy::Dpor {
            preemption_bound: None,
            library_blocks: true,
        },
        iterations: 5,
        markers_only: false,
        time: None,
        run: RunConfig {
            args: vec!["4".into()],
            ..RunConfig::default()
        },
    };
    let r = explore(&load("dpor_lastzero"), &cfg).unwrap();
    let c = r.coverage.unwrap();
    assert_eq!(c.executions, 5);
    assert!(!c.exhausted && !c.is_complete());
}

#[test]
fn the_cli_states_what_dpor_covered() {
    let dir = scratch("dpor-cli");
    let m = guest("dpor_lastzero");
    let out = cli(
        &dir,
        &[
            "explore",
            "--strategy",
            "dpor",
            m.to_str().unwrap(),
            "--",
            "3",
        ],
    );
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("source-DPOR with sleep sets") && text.contains("(12 complete, "),
        "{text}"
    );
    assert!(text.contains("every interleaving was covered"), "{text}");
    let out = cli(
        &dir,
        &[
            "explore",
            "--strategy",
            "dpor",
            "--preemption-bound",
            "0",
            m.to_str().unwrap(),
            "--",
            "3",
        ],
    );
    assert!(
        stdout(&out)
            .contains("bounded to 0 preemptions (--preemption-bound) ended, which is NOT a proof"),
        "{}",
        stdout(&out)
    );
    let out = cli(
        &dir,
        &[
            "explore",
            "--strategy",
            "dpor",
            "--max-executions",
            "3",
            m.to_str().unwrap(),
            "--",
            "3",
        ],
    );
    assert!(
        stdout(&out).contains("NOT complete: stopped at the budget of 3 executions"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_dpor_failure_replays() {
    let dir = scratch("dpor-replay");
    let m = guest("detached_write");
    let m = m.to_str().unwrap();
    let out = cli(
        &dir,
        &["explore", "--strategy", "dpor", m, "--save", "s.json"],
    );
    assert_eq!(code(&out), 1);
    let replayed = cli(&dir, &["replay", m, "s.json"]);
    assert_eq!(code(&replayed), 1);
    let text = stdout(&out);
    assert_eq!(stdout(&replayed), &text[text.find("FAILURE:").unwrap()..]);
}

#[test]
fn std_thread_guests_work_under_dpor() {
    // wasi-libc's bookkeeping adds traces, but the search still ends, and
    // finds the ring's overwrite.
    // With library code as blocks (the default) one spawned thread doing one
    // store is 6 traces (300 with every library access a step).
    let (complete, _) = counts(&dpor("dpor_readers_std", &["0"], None));
    assert!((2..=10).contains(&complete), "{complete}");
    let r = dpor("condvar_handoff", &[], None);
    let (complete, _) = counts(&r);
    assert!(complete < 300, "{complete}");
    // The lost update through std::thread is reached early (its race is
    // shallow; the exit and join races below it are explored first).
    let r = dpor("counter_lost_update", &[], None);
    let f = r.failure.expect("lost update found");
    assert!(f.index < 200, "found in execution {}", f.index + 1);
    assert!(f.execution.failure.unwrap().message.contains("lost update"));
    let r = dpor("spsc_ring", &[], None);
    let f = r.failure.expect("the off-by-one is found");
    assert!(f
        .execution
        .failure
        .unwrap()
        .message
        .contains("a slot was overwritten"));
}

#[test]
fn lightweight_threads_with_std_sync_are_exhaustive() {
    // std's Mutex is taken through the host's `lock` (a thread waits until
    // it is free): exactly the two lock orders, with blocks or single steps,
    // and no false deadlock. (With std's own spin, swap, futex wait and wake
    // as steps it was 12 traces.)
    let r = dpor("dpor_mutex_light", &[], None);
    let (complete, _) = counts(&r);
    assert_eq!(complete, 2);
    let r = dpor_with("dpor_mutex_light", &[], None, false);
    let (complete, _) = counts(&r);
    assert_eq!(complete, 2);
    // The lost update, on lightweight threads, is the second trace DPOR tries.
    let r = dpor("dpor_counter_light", &[], None);
    let f = r.failure.expect("lost update found");
    assert_eq!(f.index, 1);
    assert!(f
        .execution
        .failure
        .unwrap()
        .message
        .contains("counter is 1"));
}

#[test]
fn mutex_contention_explores_exactly_the_lock_orders() {
    // mutex(T, K): T threads take one std Mutex K times each. The traces are
    // the orders of the T*K critical sections that keep each thread's own in
    // order: (TK)! / (K!)^T, the optimum (GenMC and Nidhugg, which model
    // the mutex, count the same). std's contended path (failed attempt,
    // spin, swap, futex wait and wake) would multiply these by its shapes.
    for (t, k, orders) in [(2, 1, 2), (2, 2, 6), (3, 1, 6), (2, 3, 20), (3, 2, 90)] {
        let r = dpor("dpor_mutex_n", &[&t.to_string(), &k.to_string()], None);
        assert!(r.failure.is_none(), "mutex({t}, {k})");
        let (complete, blocked) = counts(&r);
        assert_eq!(complete, orders, "mutex({t}, {k})");
        assert!(blocked <= 2, "mutex({t}, {k}): {blocked} sleep-set blocked");
        assert!(r.coverage.unwrap().is_complete());
    }
}

#[test]
fn iterative_preemption_bounding_finds_shallow_bugs_and_still_completes() {
    let run = |name: &str, args: &[&str]| {
        let cfg = ExploreConfig {
            strategy: Strategy::DporDeepening {
                library_blocks: true,
            },
            iterations: 20_000,
            markers_only: false,
            time: None,
            run: RunConfig {
                args: args.iter().map(|s| s.to_string()).collect(),
                ..RunConfig::default()
            },
        };
        explore(&load(name), &cfg).unwrap()
    };
    // Plain DPOR does not find the ABA within 20,000 executions (its depth-
    // first order permutes the threads' exits first); bounds 0, 1, ... do.
    let r = run("treiber_aba", &[]);
    let f = r.failure.expect("ABA found");
    assert!(f.index < 200, "found in execution {}", f.index + 1);
    // The last round is the unbounded search: its counts are DPOR's.
    let r = run("dpor_readers", &["3"]);
    let c = r.coverage.unwrap();
    assert!(c.is_complete(), "{c:?}");
    assert_eq!(c.complete, 8);
    assert!(c.executions > 8, "earlier rounds ran too: {}", c.executions);
    assert_eq!(
        c.algorithm,
        "source-DPOR with sleep sets, iterative preemption bounding"
    );
}

#[test]
fn two_library_calls_in_a_row_are_two_steps() {
    // `a.lock(); b.lock()` with no program access between: were both locks
    // one library block, the lock-order deadlock could never be reached.
    let cfg = ExploreConfig {
        strategy: Strategy::DporDeepening {
            library_blocks: true,
        },
        iterations: 5_000,
        markers_only: false,
        time: None,
        run: RunConfig::default(),
    };
    let r = explore(&load("lock_order_deadlock"), &cfg).unwrap();
    let f = r.failure.expect("the lock-order deadlock is found");
    assert_eq!(
        f.execution.failure.unwrap().kind,
        interlace_wasm::FailureKind::Deadlock
    );
    assert!(f.index < 1_000, "found in execution {}", f.index + 1);
}

#[test]
fn std_threads_are_exhaustive_with_the_thread_bookkeeping_and_joins_as_syncs() {
    // wasi-libc's thread-list and TLS-key locks are independent (found by
    // name in the DWARF), and a join only synchronises with the exit: with
    // both as real races, Peterson's lock on two std threads did not finish
    // in 20,000 executions.
    let program = load("peterson_correct");
    assert_eq!(program.sites().bookkeeping.len(), 3);
    let (complete, _) = counts(&dpor("peterson_correct", &[], None));
    assert!((2..500).contains(&complete), "{complete}");
    let (complete, _) = counts(&dpor("dpor_readers_std", &["1"], None));
    assert!((2..200).contains(&complete), "{complete}");
    // Three std threads.
    let (complete, _) = counts(&dpor("dpor_readers_std", &["2"], None));
    assert!((4..1_000).contains(&complete), "{complete}");
    // And the bugs of two std threads are found early by plain DPOR.
    for (name, message, within) in [
        ("counter_lost_update", "counter is 1", 20),
        ("bank_account", "lost update", 50),
        ("treiber_aba", "", 100),
        ("peterson_broken", "mutual exclusion", 100),
        ("lock_order_deadlock", "", 1_000),
    ] {
        let r = dpor(name, &[], None);
        let f = r.failure.unwrap_or_else(|| panic!("{name}: bug found"));
        assert!(
            f.index < within,
            "{name}: found in execution {}",
            f.index + 1
        );
        assert!(f.execution.failure.unwrap().message.contains(message));
    }
}

#[test]
fn two_jobs_split_the_tree_and_reach_the_same_verdicts() {
    let run = |name: &str, args: &[&str], jobs: usize| {
        let cfg = ExploreConfig {
            strategy: Strategy::Dpor {
                preemption_bound: None,
                library_blocks: true,
            },
            iterations: 20_000,
            markers_only: false,
            time: None,
            run: RunConfig {
                args: args.iter().map(|s| s.to_string()).collect(),
                ..RunConfig::default()
            },
        };
        interlace_wasm::explore_parallel(&load(name), &cfg, jobs, &mut |_| {}).unwrap()
    };
    for (name, args) in [
        ("dpor_lastzero", vec!["4"]),
        ("dpor_seed", vec![]),
        ("peterson_correct", vec![]),
    ] {
        let one = run(name, &args, 1);
        let two = run(name, &args, 2);
        // Every interleaving, each trace once: no subtree twice, none lost.
        assert_eq!(counts(&two).0, counts(&one).0, "{name}");
        let outcomes = |r: &ExploreReport| {
            r.outcomes
                .iter()
                .map(|o| (o.exit_code, o.stdout.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(outcomes(&two), outcomes(&one), "{name}");
    }
    let r = run("counter_lost_update", &[], 2);
    let f = r.failure.expect("lost update found with two jobs");
    assert!(f
        .execution
        .failure
        .unwrap()
        .message
        .contains("counter is 1"));
}

#[test]
fn joins_stay_synchronisations_with_atomics_granularity() {
    // A join reads the joined thread's state with plain loads; with
    // `--granularity atomics` the instrumenter still keeps them (in
    // wasi-libc's join functions), or every order of a thread's exit and
    // the join would be a trace of its own (12 instead of 2 for one thread).
    let dir = scratch("dpor-atomics-join");
    let complete = |name: &str, args: &[&str]| -> u64 {
        let m = guest(name);
        let mut argv = vec![
            "explore",
            m.to_str().unwrap(),
            "--strategy",
            "dpor",
            "--granularity",
            "atomics",
            "--max-executions",
            "100000",
            "--",
        ];
        argv.extend_from_slice(args);
        let out = cli(&dir, &argv);
        assert_eq!(code(&out), 0, "{}", stdout(&out));
        let text = stdout(&out);
        assert!(text.contains("every interleaving was covered"), "{text}");
        let at = text.find(" complete").expect("counts");
        let start = text[..at].rfind('(').unwrap() + 1;
        text[start..at].parse().unwrap()
    };
    assert_eq!(complete("dpor_readers_std", &["0"]), 2);
    // Race-free programs need only their atomics: fewer traces than with
    // every access (36 for readers_std 1).
    assert_eq!(complete("dpor_readers_std", &["1"]), 8);
}

/// The results of a complete exploration, sorted.
fn results(r: &ExploreReport) -> Vec<String> {
    counts(r);
    let mut v: Vec<String> = r
        .outcomes
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn a_second_read_at_another_instruction_is_no_spin() {
    // `a = x; b = x` with a writer: the order with the write between the two
    // reads (0 1) and the one after both (0 0) are different traces, though
    // the second read reads what nobody wrote since the first.
    for blocks in [true, false] {
        let r = dpor_with("dpor_reread", &[], None, blocks);
        assert_eq!(
            results(&r),
            ["0 0", "0 1", "1 1"],
            "library blocks {blocks}"
        );
    }
}

#[test]
fn every_order_of_std_threads_increments_is_reached() {
    // Each order of the increments is a different result: (N K)! / (K!)^N.
    // Memory one thread freed and another got back from malloc must not
    // order the two (it did with library steps: 3 of 6, 15 of 90).
    for (args, orders) in [(["3", "1"], 6), (["3", "2"], 90)] {
        for blocks in [true, false] {
            let r = dpor_with("dpor_orders", &args, None, blocks);
            assert_eq!(
                results(&r).len(),
                orders,
                "orders({args:?}), library blocks {blocks}"
            );
        }
    }
}
