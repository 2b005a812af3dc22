//! Scheduling strategies. The runtime calls one [`Scheduler`] at every
//! scheduling point where more than one thread could run; it knows no strategy.

mod random;
mod replay;
pub mod round_robin;
mod uniform;

pub use random::RandomScheduler;
pub use replay::ReplayScheduler;
pub use round_robin::RoundRobinScheduler;
pub use uniform::UniformScheduler;

use crate::op::{Op, ThreadId};

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
}

impl Choice<'_> {
    /// What `thread` does when it runs next.
    pub fn pending(&self, thread: ThreadId) -> &Op {
        &self.pending[thread.0 as usize]
    }
}

/// Why a replayed schedule could not be followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence(pub String);

/// A scheduling strategy.
pub trait Scheduler {
    /// Prepares the next execution; false when the strategy has nothing left.
    fn next_execution(&mut self) -> bool;
    /// Picks the thread that runs next; must be one of `choice.runnable`.
    fn choose(&mut self, choice: &Choice<'_>) -> ThreadId;
    /// Sees every executed step, choice or not (strategies that learn use it).
    fn observe(&mut self, thread: ThreadId, op: &Op) {
        let _ = (thread, op);
    }
    /// Called when an execution ends; a replay reports divergence here.
    fn finish_execution(&mut self) -> Result<(), Divergence> {
        Ok(())
    }
    /// Strategy name, recorded in schedule files.
    fn name(&self) -> &'static str;
}
