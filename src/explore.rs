//! Exploration: run executions under a strategy until one fails or the budget
//! is spent; a failure is replayed once with tracing on to explain it.

use crate::error::{Error, ErrorKind, Result};
use crate::outcome::Execution;
use crate::program::Program;
use crate::runtime::{execute, RunConfig};
use crate::schedule::ScheduleFile;
use crate::scheduler::{
    RandomScheduler, ReplayScheduler, RoundRobinScheduler, Scheduler, UniformScheduler,
};
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
}

impl Strategy {
    fn scheduler(&self, iterations: u64) -> (Box<dyn Scheduler>, u64) {
        match *self {
            Strategy::Random { seed } => (Box::new(RandomScheduler::new(seed, iterations)), seed),
            Strategy::Uniform { seed } => (Box::new(UniformScheduler::new(seed, iterations)), seed),
        }
    }
}

/// An exploration's settings.
#[derive(Clone, Debug)]
pub struct ExploreConfig {
    /// Strategy.
    pub strategy: Strategy,
    /// Executions at most.
    pub iterations: u64,
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

/// What [`explore`] did.
#[derive(Clone, Debug)]
pub struct ExploreReport {
    /// Executions run.
    pub executions: u64,
    /// Strategy name.
    pub strategy: &'static str,
    /// Seed used.
    pub seed: u64,
    /// The first failure, if any.
    pub failure: Option<FoundFailure>,
    /// Wall time of the exploration (excluding compilation).
    pub elapsed: Duration,
}

fn run_one(program: &Program, scheduler: Box<dyn Scheduler>, cfg: &RunConfig) -> Result<Execution> {
    execute(program, scheduler, cfg).0
}

/// Explores `program` until a failure or the end of the budget.
pub fn explore(program: &Program, cfg: &ExploreConfig) -> Result<ExploreReport> {
    let start = Instant::now();
    let (mut scheduler, seed) = cfg.strategy.scheduler(cfg.iterations);
    let name = scheduler.name();
    let mut executions = 0;
    while scheduler.next_execution() {
        let (result, s) = execute(program, scheduler, &cfg.run);
        scheduler = s;
        let execution = result?;
        executions += 1;
        if execution.failure.is_some() {
            let index = executions - 1;
            let schedule =
                ScheduleFile::record(program, &cfg.run, name, Some(seed), Some(index), &execution);
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
            return Ok(ExploreReport {
                executions,
                strategy: name,
                seed,
                failure: Some(FoundFailure {
                    index,
                    schedule,
                    execution: replayed,
                }),
                elapsed: start.elapsed(),
            });
        }
    }
    Ok(ExploreReport {
        executions,
        strategy: name,
        seed,
        failure: None,
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
