//! Markers as the only preemption points: the seed's coarse, fast exploration.
//! A wrapper: the running thread goes on unless it is at a marker (or yields,
//! or cannot run); there the wrapped strategy decides.

use super::{Choice, Coverage, Divergence, Finish, Scheduler};
use crate::op::{Op, OpKind, ThreadId};

/// Wraps a strategy so that it is asked only at markers and where the
/// running thread yields, blocks or ends.
pub struct MarkerPoints {
    inner: Box<dyn Scheduler>,
}

impl MarkerPoints {
    /// `inner`, preempting at markers only.
    pub fn new(inner: Box<dyn Scheduler>) -> MarkerPoints {
        MarkerPoints { inner }
    }
}

impl Scheduler for MarkerPoints {
    fn next_execution(&mut self) -> bool {
        self.inner.next_execution()
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        if let Some(c) = choice.current {
            let yields = matches!(choice.pending(c).kind, OpKind::Yield | OpKind::Sleep);
            if choice.marker(c).is_none() && !yields {
                return Some(c);
            }
        }
        self.inner.choose(choice)
    }

    fn choose_always(&self) -> bool {
        self.inner.choose_always()
    }

    fn observe(&mut self, thread: ThreadId, op: &Op) {
        self.inner.observe(thread, op)
    }

    fn finish_execution(&mut self, end: &Finish<'_>) -> Result<(), Divergence> {
        self.inner.finish_execution(end)
    }

    fn coverage(&self) -> Option<Coverage> {
        self.inner.coverage()
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}
