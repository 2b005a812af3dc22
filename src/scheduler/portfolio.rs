//! The default strategy: a portfolio of sampling strategies sharing one
//! budget.
//!
//! No single strategy finds every bug (the SCTBench study: PCT best overall,
//! random close behind, none finding all; shuttle's `PortfolioRunner` runs
//! several for that reason). On real programs our random walk missed bugs
//! that POS found within a few hundred executions, and PCT found a broken
//! Peterson lock that random missed. So execution `i` runs under member
//! `i mod k`, as that member's `i div k`-th execution: the same seed and
//! index give the same execution, so `--jobs` and `--shard` keep working,
//! and every member gets its own warm-up before any execution is forked.

use super::{Choice, Divergence, Finish, PctScheduler, PosScheduler, RandomScheduler};
use super::{Scheduler, WARMUP};
use crate::op::{Op, ThreadId};

/// The members, in the order executions cycle through them.
pub const MEMBERS: [&str; 4] = ["random", "pos", "pct(d=2)", "pct(d=3)"];

/// Executions spread round-robin over random, POS, PCT with depth 2 and PCT
/// with depth 3.
pub struct PortfolioScheduler {
    members: Vec<Box<dyn Scheduler + Send>>,
    /// Executions started so far (the next one's global index).
    executions: u64,
    limit: u64,
    /// The member running the current execution.
    current: usize,
}

impl PortfolioScheduler {
    /// `limit` executions in all from `seed`; member `j` uses seed `seed + j`.
    pub fn new(seed: u64, limit: u64) -> PortfolioScheduler {
        let k = MEMBERS.len() as u64;
        // Member j runs the global indices j, j + k, ... below `limit`.
        let share = |j: u64| limit.saturating_sub(j).div_ceil(k);
        let members: Vec<Box<dyn Scheduler + Send>> = vec![
            Box::new(RandomScheduler::new(seed, share(0))),
            Box::new(PosScheduler::new(seed.wrapping_add(1), share(1))),
            Box::new(PctScheduler::new(seed.wrapping_add(2), 2, share(2))),
            Box::new(PctScheduler::new(seed.wrapping_add(3), 3, share(3))),
        ];
        PortfolioScheduler {
            members,
            executions: 0,
            limit,
            current: 0,
        }
    }

    /// The member that runs global execution `index`.
    pub fn member_of(index: u64) -> usize {
        (index % MEMBERS.len() as u64) as usize
    }
}

impl Scheduler for PortfolioScheduler {
    fn next_execution(&mut self) -> bool {
        if self.executions >= self.limit {
            return false;
        }
        self.current = Self::member_of(self.executions);
        self.executions += 1;
        self.members[self.current].next_execution()
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        self.members[self.current].choose(choice)
    }

    fn choose_always(&self) -> bool {
        self.members[self.current].choose_always()
    }

    fn observe(&mut self, thread: ThreadId, op: &Op) {
        self.members[self.current].observe(thread, op);
    }

    fn allocated(&mut self, thread: ThreadId, addr: u64, len: u64) {
        self.members[self.current].allocated(thread, addr, len);
    }

    fn finish_execution(&mut self, end: &Finish<'_>) -> Result<(), Divergence> {
        self.members[self.current].finish_execution(end)
    }

    fn warmup(&self) -> u64 {
        WARMUP * MEMBERS.len() as u64
    }

    fn fork(&self, index: u64) -> Option<Box<dyn Scheduler + Send>> {
        let k = MEMBERS.len() as u64;
        self.members[Self::member_of(index)].fork(index / k)
    }

    fn member(&self, index: u64) -> Option<&'static str> {
        Some(MEMBERS[Self::member_of(index)])
    }

    fn shares(&self, executions: u64) -> Vec<(&'static str, u64)> {
        let k = MEMBERS.len() as u64;
        MEMBERS
            .iter()
            .enumerate()
            .map(|(j, &name)| (name, executions.saturating_sub(j as u64).div_ceil(k)))
            .collect()
    }

    fn name(&self) -> &'static str {
        "portfolio"
    }
}
