//! Counterexample minimisation: from a failing schedule, one with as few
//! preemptions (then as few other switches) as a greedy search finds, that
//! still fails the same way.

use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{Execution, FailureKind};
use crate::program::Program;
use crate::runtime::{execute, RunConfig};
use crate::schedule::ScheduleFile;
use crate::scheduler::{Switch, SwitchScheduler};

/// Executions a minimisation may run at most.
pub const MAX_MINIMISE_RUNS: usize = 300;

/// Largest subset of the original switches tried whole (before the greedy
/// one-at-a-time pass).
const MAX_SUBSET: usize = 3;

/// Advances `pick` (ascending indices below `n`) to the next combination of
/// its size; false after the last.
fn next_combination(pick: &mut [usize], n: usize) -> bool {
    let k = pick.len();
    for i in (0..k).rev() {
        if pick[i] < n - k + i {
            pick[i] += 1;
            for j in i + 1..k {
                pick[j] = pick[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// What [`minimise`] found.
#[derive(Clone, Debug)]
pub struct Minimised {
    /// The smaller schedule (the original when nothing smaller fails).
    pub schedule: ScheduleFile,
    /// Its replay, with the trace.
    pub execution: Execution,
    /// Preemptions of the original schedule.
    pub preemptions_before: usize,
    /// Preemptions of the minimised one.
    pub preemptions_after: usize,
    /// Scheduling points before and after.
    pub steps_before: u64,
    /// Scheduling points of the minimised execution.
    pub steps_after: u64,
    /// Executions the search ran.
    pub runs: usize,
}

/// The same failure: the same kind, at the same places (see
/// [`Execution::places`]), and the same message where the message is the
/// program's own (a panic, a trap, an exit status); a deadlock's, livelock's
/// or step bound's message names addresses, which allocation order moves.
/// Two executions that "did not terminate" for different reasons (the real
/// spin against one in a lock whose holder a shorter schedule starves) are
/// told apart by their places.
pub fn same_failure(a: &Execution, b: &Execution) -> bool {
    match (&a.failure, &b.failure) {
        (Some(x), Some(y)) => {
            x.kind == y.kind
                && a.places == b.places
                && (matches!(
                    x.kind,
                    FailureKind::Deadlock | FailureKind::Livelock | FailureKind::StepBound
                ) || x.message == y.message)
        }
        _ => false,
    }
}

fn preemptions(switches: &[Switch]) -> usize {
    switches.iter().filter(|s| s.preemption).count()
}

/// Runs `scheduler`, returning the execution and the switches it took.
fn run_switches(
    program: &Program,
    scheduler: SwitchScheduler,
    cfg: &RunConfig,
) -> Result<(Execution, Vec<Switch>)> {
    let taken = scheduler.taken();
    let (result, _) = execute(program, Box::new(scheduler), cfg);
    let execution = result?;
    let switches = taken.borrow().clone();
    Ok((execution, switches))
}

/// Searches for a schedule near `schedule` (which must fail) with fewer
/// preemptions that fails the same way: the same kind, and for all but
/// deadlocks the same message. First every subset of up to three of its
/// switches, smallest first; then, greedily, drop one switch at a time while
/// the failure stays. At most [`MAX_MINIMISE_RUNS`] executions.
pub fn minimise(program: &Program, schedule: &ScheduleFile, base: &RunConfig) -> Result<Minimised> {
    schedule.check_module(program)?;
    let cfg = schedule.run_config(base);
    let (original, mut switches) = run_switches(
        program,
        SwitchScheduler::from_decisions(schedule.decisions.clone()),
        &cfg,
    )?;
    if original.failure.is_none() || original.failure != schedule.failure {
        return Err(Error::new(
            ErrorKind::Divergence,
            "the schedule to minimise does not fail as recorded when replayed",
        ));
    }
    let before = preemptions(&switches);
    // A candidate that runs far longer than the failure it should reproduce
    // is spinning where a switch used to let another thread in: stop it
    // early (it does not count as failing the same way).
    // Accesses the guest decided alone count against the bound too, each
    // thread telling the host of them in chunks.
    let full = cfg.clone();
    let chunks = u64::from(original.threads) * interlace_guest_sdk::abi::PRIVATE_CHUNK as u64;
    let cfg = RunConfig {
        max_steps: cfg.max_steps.min(
            (original.steps + original.unseen)
                .saturating_mul(2)
                .saturating_add(chunks + 10_000),
        ),
        ..cfg
    };
    let mut best = original.clone();
    let mut runs = 1;
    let fails =
        |candidate: Vec<Switch>, runs: &mut usize| -> Result<Option<(Execution, Vec<Switch>)>> {
            *runs += 1;
            let (execution, taken) =
                run_switches(program, SwitchScheduler::from_switches(candidate), &cfg)?;
            Ok(same_failure(&execution, &original).then_some((execution, taken)))
        };
    // First the smallest subsets of the switches (a lost update needs one
    // preemption, but removing any one of three may break it), ...
    'sizes: for size in 0..switches.len().min(MAX_SUBSET + 1) {
        let mut pick: Vec<usize> = (0..size).collect();
        loop {
            // Half the runs at most: with many switches the greedy pass
            // below gets further.
            if runs >= MAX_MINIMISE_RUNS / 2 {
                break 'sizes;
            }
            let candidate: Vec<Switch> = pick.iter().map(|&i| switches[i]).collect();
            if let Some((execution, taken)) = fails(candidate, &mut runs)? {
                switches = taken;
                best = execution;
                break 'sizes;
            }
            if !next_combination(&mut pick, switches.len()) {
                break;
            }
        }
    }
    // ... then drop runs of switches, halves first, then quarters, ...
    // (delta debugging: a long schedule, as DPOR's default continuation
    // leaves them, loses most of its switches in a few runs), ...
    let mut chunks = 2;
    while switches.len() >= 2 && runs < MAX_MINIMISE_RUNS {
        let size = switches.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..switches.len()).step_by(size) {
            if runs >= MAX_MINIMISE_RUNS {
                break;
            }
            let mut candidate = switches.clone();
            candidate.drain(start..(start + size).min(switches.len()));
            if let Some((execution, taken)) = fails(candidate, &mut runs)? {
                if (preemptions(&taken), taken.len()) < (preemptions(&switches), switches.len()) {
                    switches = taken;
                    best = execution;
                    chunks = (chunks - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if size == 1 {
                break;
            }
            chunks = (chunks * 2).min(switches.len());
        }
    }
    // ... then drop one switch at a time, preemptions first, latest first.
    'search: loop {
        let mut order: Vec<usize> = (0..switches.len()).collect();
        order.sort_by_key(|&i| (!switches[i].preemption, std::cmp::Reverse(i)));
        for i in order {
            if runs >= MAX_MINIMISE_RUNS {
                break 'search;
            }
            let mut candidate = switches.clone();
            candidate.remove(i);
            if let Some((execution, taken)) = fails(candidate, &mut runs)? {
                if (preemptions(&taken), taken.len()) < (preemptions(&switches), switches.len()) {
                    switches = taken;
                    best = execution;
                    continue 'search;
                }
            }
        }
        break;
    }
    // Recorded with the bound it was found under, not the candidates'.
    let mut minimised = ScheduleFile::record(
        program,
        &full,
        &schedule.strategy,
        schedule.seed,
        schedule.execution,
        &best,
    );
    minimised.strategy = format!("{} (minimised)", schedule.strategy);
    let execution = crate::explore::replay(program, &minimised, base)?;
    if !same_failure(&execution, &original) {
        return Err(Error::new(
            ErrorKind::Divergence,
            "nondeterminism: the minimised schedule does not replay; please report this as an interlace-wasm bug",
        ));
    }
    Ok(Minimised {
        preemptions_before: before,
        preemptions_after: preemptions(&switches),
        steps_before: original.steps,
        steps_after: best.steps,
        schedule: minimised,
        execution,
        runs,
    })
}
