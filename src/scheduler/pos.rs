//! Partial-order sampling (POS; Yuan, Yang, Gu, "Partial Order Aware
//! Concurrency Sampling", CAV 2018), over the visible operations.
//!
//! Every pending event gets a random priority, and the highest-priority
//! runnable event runs. An event keeps its priority while it waits, and it is
//! drawn again only when an event it races with runs (same bytes, one of them
//! writes; or a wait and a notify of one address). So where a random walk
//! re-flips a coin for every waiting thread at every step, POS lets a thread
//! with a low draw wait a long time, until someone touches what it is about
//! to touch: a thread's run without a preemption is long with a heavy tail
//! (the chance that it lasts k visible steps is about 1/(k+1)), and the
//! relative order of racing events is sampled closer to uniformly than a
//! random walk samples it.
//!
//! As in the random walk, only visible operations (see [`super::visible`])
//! are decisions: a thread at a hidden one runs on, and a library atomic is a
//! decision with a small probability drawn per execution.

use super::visible::{start_sample, SharedWords, Visibility};
use super::{Choice, Divergence, Finish, Scheduler, WARMUP};
use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi::AccessKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Points a thread may run without a decision before one is made anyway,
/// so spin loops let the others run.
pub const MAX_RUN: u32 = 2_000;
/// Range of log2(1/p) for the probability p that a library atomic is a
/// decision, drawn per execution (as in the random walk).
const LIBRARY_LOG2_RANGE: std::ops::RangeInclusive<i32> = 2..=8;

/// Seeded partial-order sampling.
pub struct PosScheduler {
    seed: u64,
    executions: u64,
    limit: u64,
    rng: ChaCha8Rng,
    shared: SharedWords,
    /// Per thread: the priority of its pending event, once drawn.
    priority: Vec<Option<u64>>,
    run: u32,
    library_decision: f64,
}

impl PosScheduler {
    /// `limit` executions from `seed`.
    pub fn new(seed: u64, limit: u64) -> PosScheduler {
        PosScheduler {
            seed,
            executions: 0,
            limit,
            rng: ChaCha8Rng::seed_from_u64(seed),
            shared: SharedWords::default(),
            priority: vec![],
            run: 0,
            library_decision: 0.0,
        }
    }

    fn priority_of(&mut self, t: ThreadId) -> u64 {
        let i = t.0 as usize;
        if self.priority.len() <= i {
            self.priority.resize(i + 1, None);
        }
        *self.priority[i].get_or_insert_with(|| self.rng.random())
    }

    fn redraw(&mut self, t: ThreadId) {
        if let Some(p) = self.priority.get_mut(t.0 as usize) {
            *p = None;
        }
    }
}

/// The bytes an operation reads and writes, if it touches memory.
fn footprint(op: &Op) -> Option<((u64, u64), bool)> {
    let OpKind::Memory(kind) = op.kind else {
        return None;
    };
    // A compare-exchange that will fail only reads.
    let reads_only = matches!(kind, AccessKind::Read | AccessKind::Fence)
        || (kind == AccessKind::CompareExchange && op.fails);
    let writes = !reads_only;
    Some(((op.addr, op.len.max(1)), writes))
}

/// Whether two operations race: overlapping bytes, one of them writing (a
/// wait and a notify of one address count: the notify may wake the wait).
pub(crate) fn races(a: &Op, b: &Op) -> bool {
    let (Some(((x, xl), xw)), Some(((y, yl), yw))) = (footprint(a), footprint(b)) else {
        return false;
    };
    x < y + yl && y < x + xl && (xw || yw)
}

impl Scheduler for PosScheduler {
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
        self.priority.clear();
        self.library_decision = 0.5f64.powi(self.rng.random_range(LIBRARY_LOG2_RANGE));
        true
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        if let Some(cur) = choice.current {
            let decide = match self.shared.visibility(choice.pending(cur)) {
                Visibility::Hidden => false,
                Visibility::Library => self.rng.random_bool(self.library_decision),
                Visibility::Program => true,
            };
            if !decide && self.run < MAX_RUN {
                self.run += 1;
                return Some(cur);
            }
        }
        let mut best = choice.runnable[0];
        let mut top = self.priority_of(best);
        for &t in &choice.runnable[1..] {
            let p = self.priority_of(t);
            if p > top {
                (best, top) = (t, p);
            }
        }
        if Some(best) != choice.current {
            self.run = 0;
        }
        // The chosen event runs: its thread's next event is new, and every
        // waiting event it races with is drawn again.
        let op = *choice.pending(best);
        self.redraw(best);
        for &t in choice.runnable {
            if t != best && races(&op, choice.pending(t)) {
                self.redraw(t);
            }
        }
        Some(best)
    }

    fn observe(&mut self, thread: ThreadId, op: &Op) {
        self.shared.observe(thread, op);
    }

    fn finish_execution(&mut self, _end: &Finish<'_>) -> Result<(), Divergence> {
        if self.executions == WARMUP {
            self.shared.freeze();
        }
        Ok(())
    }

    fn fork(&self, index: u64) -> Option<Box<dyn Scheduler + Send>> {
        (self.executions >= WARMUP).then(|| {
            Box::new(PosScheduler {
                seed: self.seed,
                executions: index,
                limit: index + 1,
                rng: ChaCha8Rng::seed_from_u64(self.seed),
                shared: self.shared.snapshot(),
                priority: vec![],
                run: 0,
                library_decision: 0.0,
            }) as Box<dyn Scheduler + Send>
        })
    }

    fn name(&self) -> &'static str {
        "pos"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(kind: AccessKind, addr: u64, len: u64) -> Op {
        Op {
            addr,
            len,
            ..Op::plain(OpKind::Memory(kind))
        }
    }

    #[test]
    fn racing_is_overlap_with_a_write() {
        use AccessKind::*;
        assert!(races(&mem(Write, 0, 4), &mem(Read, 3, 1)));
        assert!(!races(&mem(Read, 0, 4), &mem(Read, 0, 4)));
        assert!(!races(&mem(Write, 0, 4), &mem(Write, 4, 4)));
        assert!(races(&mem(Wait, 8, 4), &mem(Notify, 8, 4)));
        assert!(!races(&Op::plain(OpKind::Yield), &mem(Write, 0, 4)));
    }
}
