//! The default strategy: a seeded random walk that preempts where it can
//! matter.
//!
//! With every shared-memory access instrumented, most scheduling points are
//! private stack traffic and the runtime's own bookkeeping (malloc, thread
//! start-up: hundreds of steps per thread). A uniform walk spends its coin
//! flips there and rarely lines two threads up inside a race window. This walk
//! keeps the running thread unless its next operation is *visible*:
//!
//! - in the program's own code, an atomic or an access to memory that more than
//!   one thread has touched in this exploration (learned from the executions so
//!   far), a spawn, yield, sleep or wake: preempt with probability 1/2;
//! - in library code (Rust std, wasi-libc, told by the line table), an atomic:
//!   preempt with a small probability drawn per execution (1/4 to 1/256), so
//!   lock-order bugs inside std's Mutex are still reached while start-up code
//!   rarely derails a race window;
//! - anything else: no preemption, except that a thread running [`MAX_RUN`]
//!   points in a row is preempted, so spin loops let the others run.
//!
//! A preemption switches to another runnable thread chosen uniformly. The
//! learning and weights only decide where coins are flipped: every decision is
//! recorded, so replay is exact whatever the walk learned.

use super::visible::{start_sample, SharedWords, Visibility};
use super::{Choice, Divergence, Finish, Scheduler, WARMUP};
use crate::op::{Op, ThreadId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Points a thread may run without a preemption before it is preempted anyway.
pub const MAX_RUN: u32 = 2_000;
/// Preemption probability at a visible operation of the program's own code.
pub const USER_PREEMPTION: f64 = 0.5;
/// Range of log2(1/p) for the library-code preemption probability p, drawn per execution.
const LIBRARY_LOG2_RANGE: std::ops::RangeInclusive<i32> = 2..=8;

/// Seeded random walk over visible operations.
pub struct RandomScheduler {
    seed: u64,
    executions: u64,
    limit: u64,
    rng: ChaCha8Rng,
    shared: SharedWords,
    run: u32,
    library_preemption: f64,
}

impl RandomScheduler {
    /// `limit` executions from `seed`.
    pub fn new(seed: u64, limit: u64) -> RandomScheduler {
        RandomScheduler {
            seed,
            executions: 0,
            limit,
            rng: ChaCha8Rng::seed_from_u64(seed),
            shared: SharedWords::default(),
            run: 0,
            library_preemption: 0.0,
        }
    }

    /// Probability of preempting the running thread before `op`.
    fn preemption(&self, op: &Op) -> f64 {
        match self.shared.visibility(op) {
            Visibility::Hidden => 0.0,
            Visibility::Library => self.library_preemption,
            Visibility::Program => USER_PREEMPTION,
        }
    }
}

impl Scheduler for RandomScheduler {
    fn next_execution(&mut self) -> bool {
        let Some(rng) = start_sample(
            self.seed,
            &mut self.executions,
            self.limit,
            &mut self.shared,
        ) else {
            return false;
        };
        self.rng = rng;
        self.run = 0;
        self.library_preemption = 0.5f64.powi(self.rng.random_range(LIBRARY_LOG2_RANGE));
        true
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        let Some(cur) = choice.current else {
            self.run = 0;
            return Some(choice.runnable[self.rng.random_range(0..choice.runnable.len())]);
        };
        let p = self.preemption(choice.pending(cur));
        let preempt = self.run >= MAX_RUN || (p > 0.0 && self.rng.random_bool(p));
        if !preempt {
            self.run += 1;
            return Some(cur);
        }
        self.run = 0;
        // Uniform among the others: `cur` is in the list, so skip its slot.
        let k = self.rng.random_range(0..choice.runnable.len() - 1);
        let i = choice
            .runnable
            .iter()
            .position(|&t| t == cur)
            .expect("current thread is runnable");
        Some(choice.runnable[if k >= i { k + 1 } else { k }])
    }

    fn observe(&mut self, thread: ThreadId, op: &Op) {
        self.shared.observe(thread, op);
    }

    fn finish_execution(&mut self, _end: &Finish<'_>) -> Result<(), Divergence> {
        if self.executions == WARMUP {
            // The warm-up is over: what it learned is what every later execution starts from.
            self.shared.freeze();
        }
        Ok(())
    }

    fn fork(&self, index: u64) -> Option<Box<dyn Scheduler + Send>> {
        (self.executions >= WARMUP).then(|| {
            Box::new(RandomScheduler {
                seed: self.seed,
                executions: index,
                limit: index + 1,
                rng: ChaCha8Rng::seed_from_u64(self.seed),
                shared: self.shared.snapshot(),
                run: 0,
                library_preemption: 0.0,
            }) as Box<dyn Scheduler + Send>
        })
    }

    fn name(&self) -> &'static str {
        "random"
    }
}
