//! Iterative preemption bounding over DPOR (`--strategy dpor --deepen`):
//! DPOR with at most 0 preemptions, then 1, 2, ... up to
//! [`MAX_DEEPENING`], then unbounded, each round from scratch, all within one
//! budget. Bugs that need few preemptions (most do) are found after a few
//! hundred executions instead of after the exit paths of every thread were
//! permuted; the last round that finishes without the bound cutting anything
//! covered every interleaving, and only then is the search called complete.

use super::{Choice, Coverage, Divergence, DporScheduler, Finish, Scheduler};
use crate::op::{Op, ThreadId};

/// The last bound before the unbounded round.
pub const MAX_DEEPENING: u32 = 6;

/// DPOR with an increasing preemption bound.
pub struct DeepeningDpor {
    inner: DporScheduler,
    bound: Option<u32>,
    limit: u64,
    executions: u64,
    library_blocks: bool,
}

impl DeepeningDpor {
    /// At most `limit` executions over all rounds.
    pub fn new(limit: u64, library_blocks: bool) -> DeepeningDpor {
        DeepeningDpor {
            inner: DporScheduler::new(Some(0), limit).library_blocks(library_blocks),
            bound: Some(0),
            limit,
            executions: 0,
            library_blocks,
        }
    }
}

impl Scheduler for DeepeningDpor {
    fn next_execution(&mut self) -> bool {
        loop {
            if self.executions >= self.limit {
                return false;
            }
            if self.inner.next_execution() {
                self.executions += 1;
                return true;
            }
            let stats = self.inner.stats();
            let Some(bound) = self.bound else {
                return false;
            };
            if !stats.exhausted || !stats.bound_pruned {
                // The budget ran out, or the bound cut nothing: done.
                return false;
            }
            self.bound = (bound < MAX_DEEPENING).then_some(bound + 1);
            self.inner = DporScheduler::new(self.bound, self.limit - self.executions)
                .library_blocks(self.library_blocks);
        }
    }

    fn choose_always(&self) -> bool {
        self.inner.choose_always()
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        self.inner.choose(choice)
    }

    fn observe(&mut self, thread: ThreadId, op: &Op) {
        self.inner.observe(thread, op);
    }

    fn allocated(&mut self, thread: ThreadId, addr: u64, len: u64) {
        self.inner.allocated(thread, addr, len);
    }

    fn finish_execution(&mut self, end: &Finish<'_>) -> Result<(), Divergence> {
        self.inner.finish_execution(end)
    }

    /// The last round's counts, with the executions of every round.
    fn coverage(&self) -> Option<Coverage> {
        let mut c = self.inner.coverage()?;
        c.algorithm = "source-DPOR with sleep sets, iterative preemption bounding";
        c.executions = self.executions;
        Some(c)
    }

    fn progress_note(&self) -> Option<String> {
        let bound = self
            .bound
            .map_or("unbounded".to_string(), |b| format!("bound {b}"));
        Some(format!("{bound}, {}", self.inner.progress_note()?))
    }

    fn name(&self) -> &'static str {
        "dpor"
    }
}
