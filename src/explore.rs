//! Exploration: run executions under a strategy until one fails or the budget
//! is spent; a failure is replayed once with tracing on to explain it.

use crate::error::{Error, ErrorKind, Result};
use crate::outcome::Execution;
use crate::program::Program;
use crate::runtime::{execute, RunConfig};
use crate::schedule::ScheduleFile;
use crate::scheduler::{
    Coverage, DporScheduler, MarkerPoints, MarkerScheduler, MarkerStep, PctScheduler,
    RandomScheduler, ReplayScheduler, RoundRobinScheduler, Scheduler, UniformScheduler,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Default `--iterations`.
pub const DEFAULT_ITERATIONS: u64 = 1000;

/// What to explore with.
#[derive(Clone, Debug)]
pub enum Strategy {
    /// Random walk that preempts at visible operations (the default; see
    /// [`RandomScheduler`]).
    Random {
        /// Seed; execution `i` uses stream `i` of it.
        seed: u64,
    },
    /// Uniform random choice at every scheduling point (a baseline).
    Uniform {
        /// Seed; execution `i` uses stream `i` of it.
        seed: u64,
    },
    /// PCT with bug depth `depth` (see [`PctScheduler`]).
    Pct {
        /// Seed; execution `i` uses stream `i` of it.
        seed: u64,
        /// Bug depth d: d−1 priority change points per execution.
        depth: u32,
    },
    /// Exhaustive: source-DPOR with sleep sets (see [`DporScheduler`]).
    Dpor {
        /// At most this many preemptions per execution (bounded POR).
        preemption_bound: Option<u32>,
        /// Runs of library steps are one step for the search (see
        /// [`DporScheduler::library_blocks`]); false makes every library
        /// access a scheduling point of its own.
        library_blocks: bool,
    },
}

impl Strategy {
    fn scheduler(&self, iterations: u64) -> (Box<dyn Scheduler>, Option<u64>) {
        match *self {
            Strategy::Random { seed } => {
                (Box::new(RandomScheduler::new(seed, iterations)), Some(seed))
            }
            Strategy::Uniform { seed } => (
                Box::new(UniformScheduler::new(seed, iterations)),
                Some(seed),
            ),
            Strategy::Pct { seed, depth } => (
                Box::new(PctScheduler::new(seed, depth, iterations)),
                Some(seed),
            ),
            Strategy::Dpor {
                preemption_bound,
                library_blocks,
            } => (
                Box::new(
                    DporScheduler::new(preemption_bound, iterations).library_blocks(library_blocks),
                ),
                None,
            ),
        }
    }
}

/// An exploration's settings.
#[derive(Clone, Debug)]
pub struct ExploreConfig {
    /// Strategy.
    pub strategy: Strategy,
    /// Executions at most (`--iterations`, `--max-executions`).
    pub iterations: u64,
    /// Preempt only at guest-sdk markers (`--points markers`); not with DPOR.
    pub markers_only: bool,
    /// Per-execution settings.
    pub run: RunConfig,
}

/// A failing execution found by [`explore`].
#[derive(Clone, Debug)]
pub struct FoundFailure {
    /// Index of the failing execution (0-based).
    pub index: u64,
    /// Its schedule.
    pub schedule: ScheduleFile,
    /// Its replay, with the trace.
    pub execution: Execution,
}

/// One distinct result of the explored executions: exit status and output.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outcome {
    /// Exit status (None when the execution failed without exiting).
    pub exit_code: Option<i32>,
    /// Guest stdout.
    pub stdout: Vec<u8>,
    /// Executions that ended this way.
    pub count: u64,
}

/// What [`explore`] did.
#[derive(Clone, Debug)]
pub struct ExploreReport {
    /// Executions run (abandoned ones included).
    pub executions: u64,
    /// Strategy name.
    pub strategy: &'static str,
    /// Seed used, for seeded strategies.
    pub seed: Option<u64>,
    /// The first failure, if any.
    pub failure: Option<FoundFailure>,
    /// Distinct results of the executions that ran to their end, sorted.
    pub outcomes: Vec<Outcome>,
    /// What an exhaustive strategy covered.
    pub coverage: Option<Coverage>,
    /// Wall time of the exploration (excluding compilation).
    pub elapsed: Duration,
}

fn run_one(program: &Program, scheduler: Box<dyn Scheduler>, cfg: &RunConfig) -> Result<Execution> {
    execute(program, scheduler, cfg).0
}

/// Explores `program` until a failure or the end of the budget (or, for an
/// exhaustive strategy, of the search space).
pub fn explore(program: &Program, cfg: &ExploreConfig) -> Result<ExploreReport> {
    explore_with_progress(program, cfg, &mut |_| {})
}

/// Where an exploration stands, for a live progress line.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Executions run so far.
    pub executions: u64,
    /// Wall time so far.
    pub elapsed: Duration,
    /// Failures found so far (exploration stops at the first).
    pub failures: u64,
    /// Strategy state worth showing (DPOR: branches still to explore).
    pub note: Option<String>,
}

/// How often [`explore_with_progress`] reports.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// [`explore`], calling `progress` after an execution at most every
/// [`PROGRESS_EVERY`].
pub fn explore_with_progress(
    program: &Program,
    cfg: &ExploreConfig,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ExploreReport> {
    let start = Instant::now();
    let mut last_progress = start;
    let (mut scheduler, seed) = cfg.strategy.scheduler(cfg.iterations);
    if cfg.markers_only {
        if matches!(cfg.strategy, Strategy::Dpor { .. }) {
            return Err(Error::new(
                ErrorKind::BadSchedule,
                "--points markers does not apply to --strategy dpor (DPOR must see every step)",
            ));
        }
        scheduler = Box::new(MarkerPoints::new(scheduler));
    }
    let name = scheduler.name();
    let mut executions = 0;
    let mut outcomes: BTreeMap<(Option<i32>, Vec<u8>), u64> = BTreeMap::new();
    let mut failure = None;
    while scheduler.next_execution() {
        let (result, s) = execute(program, scheduler, &cfg.run);
        scheduler = s;
        let execution = result?;
        executions += 1;
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            progress(&Progress {
                executions,
                elapsed: start.elapsed(),
                failures: execution.failure.is_some() as u64,
                note: scheduler.progress_note(),
            });
        }
        if execution.abandoned {
            continue;
        }
        *outcomes
            .entry((execution.exit_code, execution.stdout.clone()))
            .or_insert(0) += 1;
        if execution.failure.is_some() {
            let index = executions - 1;
            let schedule =
                ScheduleFile::record(program, &cfg.run, name, seed, Some(index), &execution);
            let replayed = replay(program, &schedule, &cfg.run)?;
            if replayed.failure != execution.failure
                || replayed.stdout != execution.stdout
                || replayed.stderr != execution.stderr
            {
                return Err(Error::new(
                    ErrorKind::Divergence,
                    "nondeterminism: replaying the failing schedule gave a different result; please report this as an interlace-wasm bug",
                ));
            }
            failure = Some(FoundFailure {
                index,
                schedule,
                execution: replayed,
            });
            break;
        }
    }
    Ok(ExploreReport {
        executions,
        strategy: name,
        seed,
        failure,
        outcomes: outcomes
            .into_iter()
            .map(|((exit_code, stdout), count)| Outcome {
                exit_code,
                stdout,
                count,
            })
            .collect(),
        coverage: scheduler.coverage(),
        elapsed: start.elapsed(),
    })
}

/// Replays `schedule` on `program` exactly, with tracing on.
pub fn replay(program: &Program, schedule: &ScheduleFile, base: &RunConfig) -> Result<Execution> {
    schedule.check_module(program)?;
    let cfg = schedule.run_config(base);
    run_one(
        program,
        Box::new(ReplayScheduler::new(schedule.decisions.clone())),
        &cfg,
    )
}

/// A schedule of marker steps, as a file or inline JSON holds it:
/// `{"steps": [{"thread": "t1", "marker": "read_balance"}, ...]}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSchedule {
    /// Who passes which marker, in order.
    pub steps: Vec<MarkerStep>,
}

impl StepSchedule {
    /// Parses the JSON form; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<StepSchedule> {
        let s: StepSchedule = serde_json::from_str(text).map_err(|e| {
            Error::new(
                ErrorKind::BadSchedule,
                format!("not a valid step schedule ({e}); expected {{\"steps\": [{{\"thread\": \"t1\", \"marker\": \"read_balance\"}}, ...]}}"),
            )
        })?;
        if let Some((i, _)) = s
            .steps
            .iter()
            .enumerate()
            .find(|(_, st)| st.thread.is_empty() || st.marker.is_empty())
        {
            return Err(Error::new(
                ErrorKind::BadSchedule,
                format!("step {} has an empty thread or marker name", i + 1),
            ));
        }
        Ok(s)
    }
}

/// One execution that follows `schedule`; the second value says which step
/// could not happen (and where every thread stood), if one could not.
pub fn run_steps(
    program: &Program,
    schedule: &StepSchedule,
    cfg: &RunConfig,
) -> Result<(Execution, Option<String>)> {
    let (result, scheduler) = execute(
        program,
        Box::new(MarkerScheduler::new(schedule.steps.clone())),
        cfg,
    );
    Ok((result?, scheduler.unsatisfied()))
}

/// One deterministic execution: round-robin, no preemption inside a slice.
pub fn run(program: &Program, cfg: &RunConfig) -> Result<Execution> {
    run_one(
        program,
        Box::new(RoundRobinScheduler::new(
            crate::scheduler::round_robin::DEFAULT_SLICE,
        )),
        cfg,
    )
}
