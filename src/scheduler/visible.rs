//! Which scheduling points can matter: shared by the sampling strategies.
//!
//! With every shared-memory access instrumented, most points are a thread's
//! private stack traffic and the runtime's own bookkeeping. A point is
//! *visible* when its operation is, in the program's own code, an atomic, a
//! bulk or wait/notify operation, or an access to memory that more than one
//! thread has touched in the exploration so far (learned across executions),
//! or a thread event (spawn, start, yield, sleep, wake-up, join, stop,
//! marker); in library code (std, wasi-libc), an atomic is visible at a
//! lower weight.

use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi::AccessKind;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Words of a bulk operation that are tracked for sharing.
const BULK_WORDS: u64 = 64;
const SHARED: u32 = u32::MAX;

/// Multiply-shift hashing for word addresses: this map is on the per-step path.
#[derive(Default)]
pub(crate) struct WordHasher(u64);

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

/// How much a point can matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Private or bookkeeping: never worth a preemption.
    Hidden,
    /// An atomic in library code.
    Library,
    /// Program code touching shared state, or a thread event.
    Program,
}

type Owners = HashMap<u64, u32, BuildHasherDefault<WordHasher>>;

/// Starts execution `*executions` of a seeded sampling strategy: None past
/// `limit`; else the execution's own random stream of `seed`, after
/// forgetting what the previous execution learned once the warm-up is over.
pub fn start_sample(
    seed: u64,
    executions: &mut u64,
    limit: u64,
    shared: &mut SharedWords,
) -> Option<ChaCha8Rng> {
    if *executions >= limit {
        return None;
    }
    if *executions >= super::WARMUP {
        shared.reset();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(*executions);
    *executions += 1;
    Some(rng)
}

/// Memory words touched by more than one thread, learned from executions:
/// a frozen part shared by every later execution (so execution `i` depends
/// only on the seed, `i` and the warm-up, wherever it runs) and what the
/// current execution learned on top.
#[derive(Default)]
pub struct SharedWords {
    /// 8-byte word -> the one thread that touched it (id + 1), or [`SHARED`].
    frozen: Arc<Owners>,
    local: Owners,
}

fn is_data(op: &Op) -> bool {
    matches!(
        op.kind,
        OpKind::Memory(AccessKind::Read | AccessKind::Write | AccessKind::Copy | AccessKind::Fill)
    )
}

fn words(addr: u64, len: u64) -> std::ops::Range<u64> {
    let first = addr >> 3;
    let last = (addr + len.max(1) - 1) >> 3;
    first..(last + 1).min(first + BULK_WORDS)
}

impl SharedWords {
    fn owner(&self, w: u64) -> Option<u32> {
        // Shared in the frozen part is final (nothing learned later undoes
        // it), and after the warm-up most words are there: one lookup.
        match self.frozen.get(&w) {
            Some(&SHARED) => Some(SHARED),
            frozen => self.local.get(&w).or(frozen).copied(),
        }
    }

    fn shared(&self, op: &Op) -> bool {
        words(op.addr, op.len).any(|w| self.owner(w) == Some(SHARED))
    }

    /// Makes what was learned so far the frozen part.
    pub fn freeze(&mut self) {
        if self.local.is_empty() {
            return;
        }
        let mut all = (*self.frozen).clone();
        all.extend(self.local.drain());
        self.frozen = Arc::new(all);
    }

    /// Forgets what the current execution learned (back to the frozen part).
    pub fn reset(&mut self) {
        self.local.clear();
    }

    /// The frozen part alone, for an execution run elsewhere.
    pub fn snapshot(&self) -> SharedWords {
        SharedWords {
            frozen: Arc::clone(&self.frozen),
            local: Owners::default(),
        }
    }

    /// How much a point before `op` can matter.
    pub fn visibility(&self, op: &Op) -> Visibility {
        match op.kind {
            OpKind::Memory(AccessKind::Fence | AccessKind::Grow) => Visibility::Hidden,
            OpKind::Memory(_) if op.library => {
                if op.atomic {
                    Visibility::Library
                } else {
                    Visibility::Hidden
                }
            }
            OpKind::Memory(_) if !is_data(op) || op.atomic || self.shared(op) => {
                Visibility::Program
            }
            OpKind::Memory(_) => Visibility::Hidden,
            OpKind::Start
            | OpKind::Spawn
            | OpKind::Yield
            | OpKind::Sleep
            | OpKind::Resume
            | OpKind::Arrive
            | OpKind::Depart
            | OpKind::Join
            | OpKind::Stop
            | OpKind::Marker => Visibility::Program,
        }
    }

    fn touch(&mut self, thread: ThreadId, addr: u64, len: u64) {
        let me = thread.0 + 1;
        for w in words(addr, len) {
            match self.owner(w) {
                None => {
                    self.local.insert(w, me);
                }
                Some(o) if o != me && o != SHARED => {
                    self.local.insert(w, SHARED);
                }
                Some(_) => {}
            }
        }
    }

    /// Learns from an executed step.
    pub fn observe(&mut self, thread: ThreadId, op: &Op) {
        if !is_data(op) {
            return;
        }
        self.touch(thread, op.addr, op.len);
        if op.kind == OpKind::Memory(AccessKind::Copy) {
            self.touch(thread, op.src, op.len);
        }
    }
}
