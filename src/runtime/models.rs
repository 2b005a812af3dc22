//! The blocking primitives the instrumenter models as host calls (see
//! `abi::LOCK`, `abi::ACQUIRE`, `abi::BARRIER`): a thread blocks in the
//! host, not in the guest's spin and futex code, so a strategy orders
//! acquisitions and arrivals, not the library's internals.

use super::memory;
use super::state::{ExecState, Status};
use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi;

/// When a lock word can be taken (see [`abi::ACQUIRE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acquire {
    /// std's `Mutex` or a normal pthread mutex ([`abi::LOCK`]): the word is 0.
    Mutex,
    /// A rwlock's write side: the word is 0 (no reader, no writer).
    Exclusive,
    /// A rwlock's read side: no writer holds it.
    Shared,
    /// A semaphore's wait: the count is not 0.
    Count,
}

/// musl's low 31 bits of a rwlock or semaphore word (the top bit flags
/// futex waiters).
const LOW: u32 = 0x7fff_ffff;

impl Acquire {
    /// The kind the guest passed, if it is one.
    pub fn from_abi(kind: i32) -> Option<Acquire> {
        match kind {
            abi::ACQUIRE_EXCLUSIVE => Some(Acquire::Exclusive),
            abi::ACQUIRE_SHARED => Some(Acquire::Shared),
            abi::ACQUIRE_COUNT => Some(Acquire::Count),
            _ => None,
        }
    }

    /// Whether a word holding `word` can be taken.
    pub fn free(self, word: u32) -> bool {
        match self {
            Acquire::Mutex | Acquire::Exclusive => word == 0,
            Acquire::Shared => word & LOW != LOW,
            Acquire::Count => word & LOW != 0,
        }
    }

    /// What a thread blocked on it waits for, for a deadlock's report.
    pub fn what(self) -> &'static str {
        match self {
            Acquire::Mutex => "the held Mutex",
            Acquire::Exclusive => "the held rwlock",
            Acquire::Shared => "the write-locked rwlock",
            Acquire::Count => "the semaphore (count 0)",
        }
    }
}

/// A barrier's round under way.
pub(crate) struct Barrier {
    addr: u64,
    /// Who arrived in this round, in order.
    arrived: Vec<ThreadId>,
}

impl ExecState {
    /// Whether the lock word at `addr` can be taken as `kind` says.
    fn word_free(&self, addr: u64, kind: Acquire) -> bool {
        memory::read_u32(&self.memory, addr).is_some_and(|w| kind.free(w))
    }

    /// Threads taking a lock can run exactly while its word can be taken.
    pub(super) fn lock_waiters(&mut self) {
        for i in 0..self.threads.len() {
            if let Status::Locking { addr, kind } = self.threads[i].status {
                let free = self.word_free(addr, kind);
                self.set_runnable(ThreadId(i as u32), free);
            }
        }
    }

    /// Threads waiting to take a lock that is held, ascending (see
    /// [`crate::scheduler::Finish::waiting`]).
    pub fn lock_waiting(&self) -> Vec<ThreadId> {
        if self.locking == 0 {
            return vec![];
        }
        (0..self.threads.len())
            .filter(|&i| match self.threads[i].status {
                Status::Locking { addr, kind } => !self.word_free(addr, kind),
                _ => false,
            })
            .map(|i| ThreadId(i as u32))
            .collect()
    }

    /// Thread `tid` is about to take the lock at `op.addr`: it blocks until
    /// `kind` says the word can be taken; its step, which the guest performs
    /// right after, takes it. True when it must park.
    pub fn lock_point(&mut self, tid: ThreadId, op: Op, kind: Acquire) -> bool {
        if self.end.is_some() {
            return true;
        }
        self.pending[tid.0 as usize] = op;
        self.threads[tid.0 as usize].status = Status::Locking {
            addr: op.addr,
            kind,
        };
        self.locking += 1;
        // next_step makes it runnable or not; whether it can go on at once:
        let free = self.word_free(op.addr, kind);
        !self.next_step(free.then_some(tid)) || self.current != tid
    }

    /// Thread `tid` was chosen to take the lock: it runs on.
    pub fn locked(&mut self, tid: ThreadId) {
        self.threads[tid.0 as usize].status = Status::Runnable;
        self.locking -= 1;
    }

    /// Thread `tid` arrived (its step ran) at the barrier at `addr` of
    /// `parties` threads: the last to arrive releases the others and runs
    /// on; the others block until then, their next step a
    /// [`OpKind::Depart`] ordered after the last arrival. True when it must
    /// park.
    pub fn arrive(&mut self, tid: ThreadId, addr: u64, parties: u32) -> bool {
        let i = match self.barriers.iter().position(|b| b.addr == addr) {
            Some(i) => i,
            None => {
                self.barriers.push(Barrier {
                    addr,
                    arrived: vec![],
                });
                self.barriers.len() - 1
            }
        };
        let b = &mut self.barriers[i];
        b.arrived.push(tid);
        if b.arrived.len() < parties as usize {
            let site = self.pending[tid.0 as usize].site;
            self.threads[tid.0 as usize].status = Status::AtBarrier { addr };
            self.pending[tid.0 as usize] = Op {
                addr,
                site,
                ..Op::plain(OpKind::Depart)
            };
            self.set_runnable(tid, false);
            self.switch_away();
            return true;
        }
        let arrived = std::mem::take(&mut b.arrived);
        self.barriers.swap_remove(i);
        self.threads[arrived[0].0 as usize].serial = true;
        for &t in &arrived {
            if t != tid {
                self.threads[t.0 as usize].status = Status::Runnable;
                // Its departure is ordered after this arrival (see `Op::src`).
                self.pending[t.0 as usize].src = self.steps;
                self.set_runnable(t, true);
            }
        }
        false
    }

    /// What `pthread_barrier_wait` returns to `tid`, which left the barrier.
    pub fn left_barrier(&mut self, tid: ThreadId) -> i32 {
        if std::mem::take(&mut self.threads[tid.0 as usize].serial) {
            -1
        } else {
            0
        }
    }
}
