//! Scheduling strategies. The runtime calls one [`Scheduler`] at every
//! scheduling point where more than one thread could run; it knows no strategy.

mod deepening;
mod dpor;
mod marker_points;
mod markers;
mod pct;
mod portfolio;
mod pos;
mod random;
mod replay;
pub mod round_robin;
mod switches;
mod uniform;
mod visible;

pub use deepening::{DeepeningDpor, MAX_DEEPENING};
pub use dpor::{DporPool, DporScheduler, DporStats};
pub use marker_points::MarkerPoints;
pub use markers::{MarkerScheduler, MarkerStep};
pub use pct::PctScheduler;
pub use portfolio::{PortfolioScheduler, MEMBERS as PORTFOLIO_MEMBERS};
pub use pos::PosScheduler;
pub use random::RandomScheduler;

pub use replay::ReplayScheduler;
pub use round_robin::RoundRobinScheduler;
pub use switches::{Switch, SwitchScheduler};
pub use uniform::UniformScheduler;
pub(crate) use visible::WordHasher;

use crate::op::{Op, OpKind, ThreadId};
use std::sync::Arc;

/// The state of the program at a scheduling point.
///
/// Invariants: `runnable` is non-empty, ascending, and has at least two threads
/// (single-choice points are not offered); every runnable thread is paused
/// *before* its pending operation, so the pending operation of each is known.
pub struct Choice<'a> {
    /// The thread that reached this point, if it can go on (None when it
    /// blocked or finished).
    pub current: Option<ThreadId>,
    /// Threads that may run next.
    pub runnable: &'a [ThreadId],
    pub(crate) pending: &'a [Op],
    /// Scheduling points passed so far in this execution.
    pub step: u64,
    pub(crate) markers: &'a [Arc<str>],
    pub(crate) thread_names: &'a [Option<Arc<str>>],
}

impl Choice<'_> {
    /// The name of the marker `thread` is about to pass, if it is at one.
    pub fn marker(&self, thread: ThreadId) -> Option<&str> {
        let op = self.pending(thread);
        (op.kind == OpKind::Marker)
            .then(|| self.markers.get(op.addr as usize).map(|m| &**m))
            .flatten()
    }

    /// The name `thread` gave itself, if any.
    pub fn thread_name(&self, thread: ThreadId) -> Option<&str> {
        self.thread_names
            .get(thread.0 as usize)
            .and_then(|n| n.as_deref())
    }

    /// What `thread` does when it runs next.
    pub fn pending(&self, thread: ThreadId) -> &Op {
        &self.pending[thread.0 as usize]
    }
}

/// How an execution ended, as a scheduler needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishKind {
    /// The program stopped (main returned or `proc_exit`), successfully or not.
    Stopped,
    /// A thread trapped or panicked.
    Failed,
    /// No thread could run.
    Deadlock,
    /// Cut by the step bound: the last step is treated as dependent with everything.
    StepBound,
    /// The scheduler abandoned it.
    Abandoned,
}

/// The final state of an execution.
pub struct Finish<'a> {
    /// How it ended.
    pub kind: FinishKind,
    /// Threads that could still run, ascending.
    pub runnable: &'a [ThreadId],
    /// Threads waiting to take a held mutex, ascending: their pending
    /// operation is the acquisition.
    pub waiting: &'a [ThreadId],
    pub(crate) pending: &'a [Op],
}

impl Finish<'_> {
    /// What `thread` would have done next.
    pub fn pending(&self, thread: ThreadId) -> &Op {
        &self.pending[thread.0 as usize]
    }
}

/// What an exhaustive exploration covered, so a summary never claims more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// The algorithm that ran.
    pub algorithm: &'static str,
    /// Executions started.
    pub executions: u64,
    /// Executions run to their end: distinct Mazurkiewicz traces.
    pub complete: u64,
    /// Redundant executions abandoned (every runnable thread asleep).
    pub sleep_blocked: u64,
    /// Executions abandoned because the preemption bound forbade going on.
    pub bound_blocked: u64,
    /// The search space was exhausted (within the bound).
    pub exhausted: bool,
    /// The preemption bound in force.
    pub preemption_bound: Option<u32>,
    /// Whether the bound cut off part of the space.
    pub bound_pruned: bool,
    /// Whether library code ran as blocks (else every library access was a
    /// step, `--split-library`).
    pub library_blocks: bool,
}

impl Coverage {
    /// Every interleaving was covered: exhausted, and no bound cut anything.
    pub fn is_complete(&self) -> bool {
        self.exhausted && !self.bound_pruned
    }
}

/// Why a replayed schedule could not be followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence(pub String);

/// Executions a sampling strategy learns from (which memory is shared, how
/// long executions are) before it freezes what it learned, so that every
/// later execution depends only on the seed, its index and this warm-up.
pub const WARMUP: u64 = 8;

/// A scheduling strategy.
pub trait Scheduler {
    /// Prepares the next execution; false when the strategy has nothing left.
    fn next_execution(&mut self) -> bool;
    /// Picks the thread that runs next, one of `choice.runnable`; None
    /// abandons the execution (it ends with no verdict).
    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId>;
    /// Whether to be asked at every step, also where only one thread can run
    /// (DPOR sees every event this way). Asked once per execution.
    fn choose_always(&self) -> bool {
        false
    }
    /// Sees every executed step, choice or not (strategies that learn use it).
    fn observe(&mut self, thread: ThreadId, op: &Op) {
        let _ = (thread, op);
    }
    /// `thread`'s allocator handed out `len` bytes at `addr` (not a step):
    /// whatever touched them before belongs to a block that was freed.
    fn allocated(&mut self, thread: ThreadId, addr: u64, len: u64) {
        let _ = (thread, addr, len);
    }
    /// Called when an execution ends, with the state it ended in; a replay
    /// reports divergence here.
    fn finish_execution(&mut self, end: &Finish<'_>) -> Result<(), Divergence> {
        let _ = end;
        Ok(())
    }
    /// What an exhaustive strategy has covered (None for sampling strategies).
    fn coverage(&self) -> Option<Coverage> {
        None
    }
    /// For a strategy that must follow a given schedule: why it could not.
    fn unsatisfied(&self) -> Option<String> {
        None
    }
    /// For such a strategy: the index of the schedule step it could not
    /// follow.
    fn unsatisfied_step(&self) -> Option<usize> {
        None
    }
    /// Strategy name, recorded in schedule files.
    fn name(&self) -> &'static str;
    /// A scheduler that runs only execution `index` exactly as this one
    /// would, to run it on another OS thread (`--jobs`); None for strategies
    /// whose executions depend on the ones before (DPOR, replays). Asked
    /// only after [`WARMUP`] executions.
    fn fork(&self, index: u64) -> Option<Box<dyn Scheduler + Send>> {
        let _ = index;
        None
    }
    /// State worth a progress line (DPOR: branches still to explore).
    fn progress_note(&self) -> Option<String> {
        None
    }
    /// Executions to run on one thread before [`Scheduler::fork`] is asked
    /// (a portfolio warms each member up).
    fn warmup(&self) -> u64 {
        WARMUP
    }
    /// For a portfolio: the member strategy that runs execution `index`.
    fn member(&self, index: u64) -> Option<&'static str> {
        let _ = index;
        None
    }
    /// For a portfolio: how many of the first `executions` each member ran.
    fn shares(&self, executions: u64) -> Vec<(&'static str, u64)> {
        let _ = executions;
        vec![]
    }
}
