//! Exploration: run executions under a strategy until one fails or the budget
//! is spent; a failure is replayed once with tracing on to explain it.

use crate::error::{Error, ErrorKind, Result};
use crate::outcome::Execution;
use crate::program::Program;
use crate::runtime::{execute, RunConfig};
use crate::schedule::ScheduleFile;
use crate::scheduler::{
    Coverage, DeepeningDpor, DporPool, DporScheduler, MarkerPoints, MarkerScheduler, MarkerStep,
    PctScheduler, PortfolioScheduler, PosScheduler, RandomScheduler, ReplayScheduler,
    RoundRobinScheduler, Scheduler, UniformScheduler,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Default `--iterations`: over three times the latest find of the default
/// portfolio on the corpus of real bugs (crossbeam-channel's list-channel
/// bugs, at execution 546), so that a bug one member finds at its ~500th
/// execution is still found; a correct program of the corpus takes 1-2 s.
pub const DEFAULT_ITERATIONS: u64 = 2000;

/// What to explore with.
#[derive(Clone, Debug)]
pub enum Strategy {
    /// The default: random, POS, PCT depth 2 and PCT depth 3 sharing the
    /// budget, execution `i` run by member `i mod 4` (see
    /// [`PortfolioScheduler`]).
    Portfolio {
        /// Seed; member `j` uses `seed + j`.
        seed: u64,
    },
    /// Random walk that preempts at visible operations (see
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
    /// Partial-order sampling (see [`PosScheduler`]).
    Pos {
        /// Seed; execution `i` uses stream `i` of it.
        seed: u64,
    },
    /// DPOR with a preemption bound of 0, 1, 2, ... then none (see
    /// [`DeepeningDpor`]): finds shallow bugs first, still exhaustive.
    DporDeepening {
        /// As in [`Strategy::Dpor`].
        library_blocks: bool,
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
            Strategy::Portfolio { seed } => (
                Box::new(PortfolioScheduler::new(seed, iterations)),
                Some(seed),
            ),
            Strategy::Random { seed } => {
                (Box::new(RandomScheduler::new(seed, iterations)), Some(seed))
            }
            Strategy::Uniform { seed } => (
                Box::new(UniformScheduler::new(seed, iterations)),
                Some(seed),
            ),
            Strategy::DporDeepening { library_blocks } => (
                Box::new(DeepeningDpor::new(iterations, library_blocks)),
                None,
            ),
            Strategy::Pos { seed } => (Box::new(PosScheduler::new(seed, iterations)), Some(seed)),
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

impl ExploreConfig {
    /// The settings executions run with: the sampling strategies (portfolio,
    /// random, pct, pos) never preempt at a plain library access, so those
    /// are no scheduling points for them ([`RunConfig::library_points`], when
    /// not set), unless data races are detected (a race between library and program
    /// code is reported). Executions are then about a third cheaper, and
    /// their traces show the program's steps and the library's atomics.
    pub fn resolved(&self) -> ExploreConfig {
        let mut cfg = self.clone();
        cfg.run.library_points = Some(self.library_points());
        cfg
    }

    /// Whether the executions take plain library accesses as scheduling
    /// points (see [`RunConfig::library_points`]).
    pub fn library_points(&self) -> bool {
        let sampling = matches!(
            self.strategy,
            Strategy::Portfolio { .. }
                | Strategy::Random { .. }
                | Strategy::Pct { .. }
                | Strategy::Pos { .. }
        );
        self.run
            .library_points
            .unwrap_or(!sampling || self.run.races)
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
    /// Stop starting executions after this much wall time (`--time`), as
    /// well as after `iterations`. Each execution is still deterministic;
    /// how many run depends on the machine, and the report says the time
    /// budget ended it.
    pub time: Option<Duration>,
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
    /// For a portfolio: executions each member ran, in member order.
    pub members: Vec<(&'static str, u64)>,
    /// For a portfolio: the member whose execution failed.
    pub found_by: Option<&'static str>,
    /// The `--time` budget ended the exploration (not the executions'
    /// budget, nor the search space).
    pub out_of_time: bool,
    /// The first execution created no thread but main, so it was the only
    /// interleaving there is and the exploration stopped after it.
    pub single_thread: bool,
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
    explore_parallel(program, cfg, 1, progress)
}

/// What the executions so far add up to.
#[derive(Default)]
struct Tally {
    executions: u64,
    outcomes: BTreeMap<(Option<i32>, Vec<u8>), u64>,
    /// The first failing execution: its index and itself.
    failure: Option<(u64, Execution)>,
}

impl Tally {
    fn add(&mut self, index: u64, execution: Execution) {
        self.executions += 1;
        if execution.abandoned {
            return;
        }
        *self
            .outcomes
            .entry((execution.exit_code, execution.stdout.clone()))
            .or_insert(0) += 1;
        if execution.failure.is_some() && self.failure.is_none() {
            self.failure = Some((index, execution));
        }
    }
}

/// [`explore_with_progress`] on `jobs` OS threads. A sampling strategy
/// (portfolio, random, pct, pos, uniform) runs its warm-up ([`crate::scheduler::WARMUP`] executions per member) here, then
/// hands execution `i` to whichever thread is free; execution `i` depends
/// only on the seed, `i` and the warm-up, and the report is the first
/// failing execution by index, so the result is the same for any `jobs`.
/// DPOR and `--points markers` run on one thread.
pub fn explore_parallel(
    program: &Program,
    cfg: &ExploreConfig,
    jobs: usize,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ExploreReport> {
    explore_sharded(program, cfg, jobs, None, progress)
}

/// One deterministic slice of an exploration (`--shard k/N`): the warm-up,
/// then the executions `W + k`, `W + k + N`, ... (W: the warm-up).  The slices of
/// `0..N` together run every execution once; `interlace-wasm merge` adds
/// their reports up to what one run would have said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 0.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

/// [`explore_parallel`] over one [`Shard`] (None: everything). Outcomes of
/// the warm-up count in shard 0 only; a failure in the warm-up is reported
/// by every shard (merging keeps the lowest index).
pub fn explore_sharded(
    program: &Program,
    cfg: &ExploreConfig,
    jobs: usize,
    shard: Option<Shard>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ExploreReport> {
    let cfg = &cfg.resolved();
    if let (
        true,
        None,
        false,
        Strategy::Dpor {
            preemption_bound: None,
            library_blocks,
        },
    ) = (jobs > 1, shard, cfg.markers_only, &cfg.strategy)
    {
        return explore_dpor_parallel(program, cfg, jobs, *library_blocks, progress);
    }
    let start = Instant::now();
    let mut last_progress = start;
    let (mut scheduler, seed) = cfg.strategy.scheduler(cfg.iterations);
    if cfg.markers_only {
        if matches!(
            cfg.strategy,
            Strategy::Dpor { .. } | Strategy::DporDeepening { .. }
        ) {
            return Err(Error::new(
                ErrorKind::BadSchedule,
                "--points markers does not apply to --strategy dpor (DPOR must see every step)",
            ));
        }
        scheduler = Box::new(MarkerPoints::new(scheduler));
    }
    let name = scheduler.name();
    let warmup = scheduler.warmup();
    let mut timed_out = false;
    let mut single_thread = false;
    let mut tally = Tally::default();
    let mut index = 0;
    loop {
        if (jobs > 1 || shard.is_some()) && index >= warmup && index < cfg.iterations {
            let Some(base) = scheduler.fork(index) else {
                return Err(Error::new(
                    ErrorKind::BadSchedule,
                    format!("the {name} strategy cannot run on several threads or in shards (--jobs, --shard); use random, pct, pos or uniform"),
                ));
            };
            let slice = shard.unwrap_or(Shard { index: 0, count: 1 });
            let split = Split {
                jobs,
                slice,
                warmup,
            };
            timed_out = run_parallel(program, cfg, base, split, &mut tally, start, progress)?;
            break;
        }
        if out_of_time(cfg, start) {
            timed_out = true;
            break;
        }
        if !scheduler.next_execution() {
            break;
        }
        let (result, s) = execute(program, scheduler, &cfg.run);
        scheduler = s;
        let execution = result?;
        let failed = execution.failure.is_some();
        // One thread means one runnable thread at every point: no choice
        // was made, and every execution would repeat this one.
        single_thread = index == 0 && execution.threads == 1 && !execution.abandoned;
        if shard.is_none_or(|s| s.index == 0) || (failed && !execution.abandoned) {
            tally.add(index, execution);
        }
        index += 1;
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            progress(&Progress {
                executions: tally.executions,
                elapsed: start.elapsed(),
                failures: failed as u64,
                note: scheduler.progress_note(),
            });
        }
        if tally.failure.is_some() || single_thread {
            break;
        }
    }
    let members = scheduler.shares(tally.executions);
    let found_by = tally
        .failure
        .as_ref()
        .and_then(|(i, _)| scheduler.member(*i));
    let mut coverage = scheduler.coverage();
    if let Some(c) = coverage.as_mut().filter(|_| timed_out) {
        c.exhausted = false;
    }
    let mut report = report(program, cfg, name, seed, tally, coverage, start)?;
    report.members = members;
    report.found_by = found_by;
    report.out_of_time = timed_out && report.failure.is_none();
    report.single_thread = single_thread;
    Ok(report)
}

/// Whether the `--time` budget is spent.
fn out_of_time(cfg: &ExploreConfig, start: Instant) -> bool {
    cfg.time.is_some_and(|t| start.elapsed() >= t)
}

/// The report of an exploration: the failing execution, if any, recorded as
/// a schedule and replayed to make sure it reproduces.
fn report(
    program: &Program,
    cfg: &ExploreConfig,
    name: &'static str,
    seed: Option<u64>,
    tally: Tally,
    coverage: Option<Coverage>,
    start: Instant,
) -> Result<ExploreReport> {
    let failure = match tally.failure {
        None => None,
        Some((index, execution))
            if execution
                .failure
                .as_ref()
                .is_some_and(|f| f.kind.cut_by_bound()) =>
        {
            // Cut by a bound: replaying it with a trace would record every
            // one of its millions of steps and could meet the wall-time
            // bound first. Reported as it ran, without an interleaving.
            let schedule =
                ScheduleFile::record(program, &cfg.run, name, seed, Some(index), &execution);
            Some(FoundFailure {
                index,
                schedule,
                execution,
            })
        }
        Some((index, execution)) => {
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
            Some(FoundFailure {
                index,
                schedule,
                execution: replayed,
            })
        }
    };
    Ok(ExploreReport {
        executions: tally.executions,
        strategy: name,
        seed,
        failure,
        outcomes: tally
            .outcomes
            .into_iter()
            .map(|((exit_code, stdout), count)| Outcome {
                exit_code,
                stdout,
                count,
            })
            .collect(),
        coverage,
        elapsed: start.elapsed(),
        members: vec![],
        found_by: None,
        out_of_time: false,
        single_thread: false,
    })
}

/// DPOR on `jobs` OS threads (see [`DporPool`]): the same search, its
/// subtrees spread over the workers. The verdict is the serial search's
/// (a failure exists, or every interleaving was covered); which failing
/// interleaving is reported first, and the counts of complete and
/// sleep-set-blocked executions, depend on timing.
fn explore_dpor_parallel(
    program: &Program,
    cfg: &ExploreConfig,
    jobs: usize,
    library_blocks: bool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ExploreReport> {
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    let start = Instant::now();
    let pool = DporPool::new(jobs, cfg.iterations);
    let dpor_timed_out = std::sync::atomic::AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let tally = Mutex::new(Tally::default());
    let coverages: Mutex<Vec<Coverage>> = Mutex::new(vec![]);
    let error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut s: Box<dyn Scheduler> = Box::new(
                        DporScheduler::new(None, u64::MAX)
                            .library_blocks(library_blocks)
                            .with_pool(Arc::clone(&pool)),
                    );
                    while s.next_execution() {
                        if out_of_time(cfg, start) {
                            pool.stop();
                            dpor_timed_out.store(true, SeqCst);
                            break;
                        }
                        let (result, back) = execute(program, s, &cfg.run);
                        s = back;
                        match result {
                            Ok(execution) => {
                                let index = done.fetch_add(1, SeqCst);
                                if execution.failure.is_some() && !execution.abandoned {
                                    pool.stop();
                                }
                                tally.lock().expect("not poisoned").add(index, execution);
                            }
                            Err(e) => {
                                error.lock().expect("not poisoned").get_or_insert(e);
                                pool.stop();
                                break;
                            }
                        }
                    }
                    coverages.lock().expect("not poisoned").extend(s.coverage());
                })
            })
            .collect();
        while !workers.iter().all(|w| w.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
            progress(&Progress {
                executions: done.load(SeqCst),
                elapsed: start.elapsed(),
                failures: 0,
                note: Some(format!("{jobs} jobs")),
            });
        }
    });
    if let Some(e) = error.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let tally = tally.into_inner().expect("not poisoned");
    let coverages = coverages.into_inner().expect("not poisoned");
    let coverage = coverages.iter().fold(None::<Coverage>, |acc, c| {
        Some(match acc {
            None => c.clone(),
            Some(mut a) => {
                a.executions += c.executions;
                a.complete += c.complete;
                a.sleep_blocked += c.sleep_blocked;
                a.bound_blocked += c.bound_blocked;
                a
            }
        })
    });
    let timed_out = dpor_timed_out.load(SeqCst);
    let coverage = coverage.map(|mut c| {
        c.exhausted = tally.failure.is_none() && !pool.budget_hit() && !timed_out;
        c
    });
    let mut report = report(program, cfg, "dpor", None, tally, coverage, start)?;
    report.out_of_time = timed_out && report.failure.is_none();
    Ok(report)
}

/// How the executions after the warm-up are spread.
struct Split {
    jobs: usize,
    slice: Shard,
    /// Executions run before the split.
    warmup: u64,
}

/// Runs the executions of `slice` from the warm-up's end to `cfg.iterations` on
/// `jobs` threads, each from a fork of `base`, up to the first failing index.
fn run_parallel(
    program: &Program,
    cfg: &ExploreConfig,
    base: Box<dyn Scheduler + Send>,
    Split {
        jobs,
        slice,
        warmup,
    }: Split,
    tally: &mut Tally,
    start: Instant,
    progress: &mut dyn FnMut(&Progress),
) -> Result<bool> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
    use std::sync::Mutex;
    let timed_out = AtomicBool::new(false);
    let next = AtomicU64::new(0);
    let first_failure = AtomicU64::new(u64::MAX);
    let done = AtomicU64::new(0);
    let base = Mutex::new(base);
    let before = tally.executions;
    let fold = Mutex::new(Fold::new(tally, warmup + slice.index, slice.count));
    let error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| loop {
                    if out_of_time(cfg, start) {
                        timed_out.store(true, SeqCst);
                        return;
                    }
                    let i = warmup + slice.index + next.fetch_add(1, SeqCst) * slice.count;
                    if i >= cfg.iterations || i > first_failure.load(SeqCst) {
                        return;
                    }
                    let Some(mut fork) = base.lock().expect("not poisoned").fork(i) else {
                        return;
                    };
                    if !fork.next_execution() {
                        return;
                    }
                    let (result, _) = execute(program, fork, &cfg.run);
                    match result {
                        Ok(execution) => {
                            if execution.failure.is_some() && !execution.abandoned {
                                first_failure.fetch_min(i, SeqCst);
                            }
                            fold.lock().expect("not poisoned").push(i, execution);
                            done.fetch_add(1, SeqCst);
                        }
                        Err(e) => {
                            error.lock().expect("not poisoned").get_or_insert(e);
                            first_failure.fetch_min(0, SeqCst);
                            return;
                        }
                    }
                })
            })
            .collect();
        while !workers.iter().all(|w| w.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
            progress(&Progress {
                executions: before + done.load(SeqCst),
                elapsed: start.elapsed(),
                failures: (first_failure.load(SeqCst) != u64::MAX) as u64,
                note: Some(format!("{jobs} jobs")),
            });
        }
    });
    if let Some(e) = error.into_inner().expect("not poisoned") {
        return Err(e);
    }
    Ok(timed_out.load(SeqCst))
}

/// The parallel workers' results, added to the tally in index order as they
/// arrive (a result that comes early waits for those before it), up to and
/// including the first failing execution. Indices are handed out in order,
/// but a worker that stopped for time may leave a gap: only the unbroken
/// run from the start counts. Kept until the end, every execution's record
/// grew the process by ~1.4 KB, and `--jobs 2` reached 1.5-1.7x instead of
/// 1.8-2.0x (the new heap pages' faults made every memory reset ask the
/// kernel which pages are resident).
struct Fold<'t> {
    tally: &'t mut Tally,
    expected: u64,
    step: u64,
    waiting: BTreeMap<u64, Execution>,
    /// The first failing execution is in.
    over: bool,
}

impl<'t> Fold<'t> {
    /// Results from index `first` on, every `step`-th.
    fn new(tally: &'t mut Tally, first: u64, step: u64) -> Fold<'t> {
        Fold {
            tally,
            expected: first,
            step,
            waiting: BTreeMap::new(),
            over: false,
        }
    }

    fn push(&mut self, index: u64, execution: Execution) {
        if self.over {
            return;
        }
        self.waiting.insert(index, execution);
        while let Some(execution) = self.waiting.remove(&self.expected) {
            let fails = execution.failure.is_some() && !execution.abandoned;
            self.tally.add(self.expected, execution);
            self.expected += self.step;
            if fails {
                self.over = true;
                self.waiting.clear();
                return;
            }
        }
    }
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
    let mut cfg = cfg.clone();
    cfg.trace = true;
    let (result, scheduler) = execute(
        program,
        Box::new(MarkerScheduler::new(schedule.steps.clone())),
        &cfg,
    );
    let execution = result?;
    // A step naming a thread that never existed is the schedule's error,
    // not something the program did (a thread that ended or blocked first).
    if let Some(i) = scheduler.unsatisfied_step() {
        let name = &schedule.steps[i].thread;
        let mut threads: Vec<String> = vec![];
        for s in execution.trace.iter().flatten() {
            let label = match &s.thread_name {
                Some(n) => format!("{} ({n})", s.thread),
                None => s.thread.to_string(),
            };
            if s.thread.to_string() == *name || s.thread_name.as_deref() == Some(name.as_str()) {
                threads.clear();
                break;
            }
            if !threads.contains(&label) {
                threads.retain(|t| !label.starts_with(&format!("{} (", t)));
                threads.push(label);
            }
        }
        if !threads.is_empty() {
            return Err(Error::new(
                ErrorKind::BadSchedule,
                format!(
                    "schedule step {} names thread `{name}`, which never existed in this run (threads: {}); name a thread by set_thread_name, or main, t1, t2... in spawn order",
                    i + 1,
                    threads.join(", ")
                ),
            ));
        }
    }
    Ok((execution, scheduler.unsatisfied()))
}

/// One deterministic execution that never preempts: a thread runs until it
/// blocks or ends, then the lowest-numbered runnable thread goes on. A
/// failure this execution shows too needs no interleaving to happen.
pub fn run_without_preemption(program: &Program, cfg: &RunConfig) -> Result<Execution> {
    run_one(program, Box::new(RoundRobinScheduler::new(u64::MAX)), cfg)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Failure, FailureKind};

    fn execution(exit: i32, fails: bool) -> Execution {
        Execution {
            failure: fails.then(|| Failure {
                kind: FailureKind::Trap,
                thread: None,
                message: String::new(),
            }),
            exit_code: Some(exit),
            stdout: vec![],
            stderr: vec![],
            decisions: vec![],
            steps: 0,
            unseen: 0,
            threads: 2,
            trace: None,
            abandoned: false,
            races: vec![],
            places: vec![],
        }
    }

    /// Results arriving out of order are counted in index order, up to and
    /// including the first failure; nothing after it, nothing past a gap,
    /// and nothing is kept once the failure is in.
    #[test]
    fn parallel_results_fold_in_index_order() {
        let mut tally = Tally::default();
        let mut fold = Fold::new(&mut tally, 8, 2);
        fold.push(10, execution(1, false));
        assert_eq!(fold.tally.executions, 0, "10 waits for 8");
        fold.push(8, execution(0, false));
        assert_eq!(fold.tally.executions, 2);
        fold.push(16, execution(3, true));
        fold.push(14, execution(2, true));
        assert_eq!(fold.tally.executions, 2, "14 waits for 12");
        fold.push(12, execution(0, false));
        // 12, then 14, which fails: 16 (a later failure) is dropped.
        assert_eq!(fold.tally.executions, 4);
        assert!(fold.over && fold.waiting.is_empty());
        fold.push(18, execution(0, false));
        assert_eq!(fold.tally.executions, 4);
        let (index, first) = tally.failure.as_ref().unwrap();
        assert_eq!((*index, first.exit_code), (14, Some(2)));
        assert_eq!(tally.outcomes.values().sum::<u64>(), 4);

        // A gap (a worker stopped for time): what follows is not counted.
        let mut tally = Tally::default();
        let mut fold = Fold::new(&mut tally, 0, 1);
        fold.push(0, execution(0, false));
        fold.push(2, execution(0, false));
        assert_eq!(tally.executions, 1);
    }
}
