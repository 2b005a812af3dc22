//! Uniform random choice at every scheduling point (as shuttle's
//! UniformScheduler), seeded per execution so execution `i` of seed `s` is the
//! same whatever ran before it. Kept as a baseline: with every private stack
//! access a scheduling point it dilutes race windows (see `random.rs`).

use super::{Choice, Scheduler};
use crate::op::ThreadId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seeded uniform random scheduling at every point.
pub struct UniformScheduler {
    seed: u64,
    executions: u64,
    limit: u64,
    rng: ChaCha8Rng,
}

impl UniformScheduler {
    /// `limit` executions from `seed`.
    pub fn new(seed: u64, limit: u64) -> UniformScheduler {
        UniformScheduler {
            seed,
            executions: 0,
            limit,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Index (0-based) of the execution in progress.
    pub fn execution(&self) -> u64 {
        self.executions.saturating_sub(1)
    }
}

impl Scheduler for UniformScheduler {
    fn next_execution(&mut self) -> bool {
        if self.executions >= self.limit {
            return false;
        }
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
        self.rng.set_stream(self.executions);
        self.executions += 1;
        true
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        Some(choice.runnable[self.rng.random_range(0..choice.runnable.len())])
    }

    fn fork(&self, index: u64) -> Option<Box<dyn Scheduler + Send>> {
        let mut fork = UniformScheduler::new(self.seed, index + 1);
        fork.executions = index;
        Some(Box::new(fork))
    }

    fn name(&self) -> &'static str {
        "uniform"
    }
}
