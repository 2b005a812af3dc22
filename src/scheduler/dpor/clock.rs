//! Vector clocks and the per-execution record of events.

use super::*;

/// A vector clock: per thread, how many of its events happen before.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Clock(pub(super) SmallVec<[u32; 8]>);

impl Clock {
    pub(super) fn get(&self, t: ThreadId) -> u32 {
        self.0.get(t.0 as usize).copied().unwrap_or(0)
    }
    pub(super) fn set(&mut self, t: ThreadId, v: u32) {
        let i = t.0 as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] = v;
    }
    pub(super) fn join(&mut self, other: &Clock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a = (*a).max(*b);
        }
    }
}

/// An executed step.
pub(super) struct Event {
    pub(super) thread: ThreadId,
    /// 1-based position among its thread's events.
    pub(super) local: u32,
    pub(super) clock: Clock,
    /// Independent of everything (see [`independent`]): a stop does not
    /// race with it.
    pub(super) independent: bool,
    /// A notify: it writes no memory, so a stop does not race with it.
    pub(super) notify: bool,
}

impl DporScheduler {
    pub(super) fn clock_of(&self, t: ThreadId) -> Clock {
        self.clocks.get(t.0 as usize).cloned().unwrap_or_default()
    }

    pub(super) fn hb(&self, e: usize, c: &Clock) -> bool {
        let ev = &self.events[e];
        c.get(ev.thread) >= ev.local
    }
}
