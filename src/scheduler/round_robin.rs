//! Deterministic non-preemptive scheduling for `run`: a thread runs until it
//! blocks, finishes or uses up its slice, then the next thread in id order.
//! The slice bounds spin loops that wait for another thread.

use super::{Choice, Scheduler};
use crate::op::ThreadId;

/// Scheduling points a thread may pass before it must let the next one run.
pub const DEFAULT_SLICE: u64 = 10_000;

/// Round-robin over thread ids with a fixed slice.
pub struct RoundRobinScheduler {
    slice: u64,
    used: u64,
    started: bool,
}

impl RoundRobinScheduler {
    /// One execution with `slice` scheduling points per turn.
    pub fn new(slice: u64) -> RoundRobinScheduler {
        RoundRobinScheduler {
            slice: slice.max(1),
            used: 0,
            started: false,
        }
    }
}

impl Scheduler for RoundRobinScheduler {
    fn next_execution(&mut self) -> bool {
        !std::mem::replace(&mut self.started, true)
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        if let Some(cur) = choice.current {
            self.used += 1;
            if self.used < self.slice {
                return Some(cur);
            }
        }
        self.used = 0;
        let after = choice.current.map(|c| c.0);
        Some(match after {
            Some(c) => *choice
                .runnable
                .iter()
                .find(|t| t.0 > c)
                .unwrap_or(&choice.runnable[0]),
            None => choice.runnable[0],
        })
    }

    fn name(&self) -> &'static str {
        "round-robin"
    }
}
