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

use super::{Choice, Scheduler};
use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi::AccessKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Points a thread may run without a preemption before it is preempted anyway.
pub const MAX_RUN: u32 = 2_000;
/// Preemption probability at a visible operation of the program's own code.
pub const USER_PREEMPTION: f64 = 0.5;
/// Range of log2(1/p) for the library-code preemption probability p, drawn per execution.
const LIBRARY_LOG2_RANGE: std::ops::RangeInclusive<i32> = 2..=8;
/// Words of a bulk operation that are tracked for sharing.
const BULK_WORDS: u64 = 64;
const SHARED: u32 = u32::MAX;

/// Multiply-shift hashing for word addresses: this map is on the per-step path.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Seeded random walk over visible operations.
pub struct RandomScheduler {
    seed: u64,
    executions: u64,
    limit: u64,
    rng: ChaCha8Rng,
    /// 8-byte word -> the one thread that touched it (id + 1), or [`SHARED`].
    owners: HashMap<u64, u32, BuildHasherDefault<WordHasher>>,
    run: u32,
    library_preemption: f64,
}

fn is_data(op: &Op) -> bool {
    matches!(
        op.kind,
        OpKind::Memory(AccessKind::Read | AccessKind::Write | AccessKind::Copy | AccessKind::Fill)
    )
}

impl RandomScheduler {
    /// `limit` executions from `seed`.
    pub fn new(seed: u64, limit: u64) -> RandomScheduler {
        RandomScheduler {
            seed,
            executions: 0,
            limit,
            rng: ChaCha8Rng::seed_from_u64(seed),
            owners: HashMap::default(),
            run: 0,
            library_preemption: 0.0,
        }
    }

    fn words(addr: u64, len: u64) -> std::ops::Range<u64> {
        let first = addr >> 3;
        let last = (addr + len.max(1) - 1) >> 3;
        first..(last + 1).min(first + BULK_WORDS)
    }

    fn shared(&self, op: &Op) -> bool {
        Self::words(op.addr, op.len).any(|w| self.owners.get(&w) == Some(&SHARED))
    }

    /// Probability of preempting the running thread before `op`.
    fn preemption(&self, op: &Op) -> f64 {
        match op.kind {
            OpKind::Memory(AccessKind::Fence | AccessKind::Grow) => 0.0,
            OpKind::Memory(_) if op.library => {
                if op.atomic {
                    self.library_preemption
                } else {
                    0.0
                }
            }
            OpKind::Memory(_) if !is_data(op) || op.atomic || self.shared(op) => USER_PREEMPTION,
            OpKind::Memory(_) => 0.0,
            OpKind::Start
            | OpKind::Spawn
            | OpKind::Yield
            | OpKind::Sleep
            | OpKind::Resume
            | OpKind::Join
            | OpKind::Stop
            | OpKind::Marker => USER_PREEMPTION,
        }
    }

    fn touch(&mut self, thread: ThreadId, addr: u64, len: u64) {
        let me = thread.0 + 1;
        for w in Self::words(addr, len) {
            let owner = self.owners.entry(w).or_insert(me);
            if *owner != me {
                *owner = SHARED;
            }
        }
    }
}

impl Scheduler for RandomScheduler {
    fn next_execution(&mut self) -> bool {
        if self.executions >= self.limit {
            return false;
        }
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
        self.rng.set_stream(self.executions);
        self.executions += 1;
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
        if !is_data(op) {
            return;
        }
        self.touch(thread, op.addr, op.len);
        if op.kind == OpKind::Memory(AccessKind::Copy) {
            self.touch(thread, op.src, op.len);
        }
    }

    fn name(&self) -> &'static str {
        "random"
    }
}
