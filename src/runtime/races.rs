//! Happens-before data-race detection (`--races`): vector clocks over the
//! executed steps. Edges: a spawn before the child's start, a notify before
//! the wake-up at its address, a thread's end before a join of it, and, as
//! wasm atomics are sequentially consistent, every atomic access after the
//! previous atomic accesses of the same address. Two accesses to the same
//! bytes by different threads, one a write and at least one plain (not
//! atomic), not ordered by these edges, are a data race. Races where both
//! accesses are in library code (std, wasi-libc) are not reported: those
//! libraries synchronise in ways (their own futexes, stack reuse) this model
//! may not see, and their races are not the program's to fix.

use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi::AccessKind;
use std::collections::HashMap;

/// Key space above wasm32 addresses for futex wake-ups.
const FUTEX: u64 = 1 << 40;
/// Sync keys of the steps that wake threads, by step number (see `Op::src`):
/// a woken thread acquires what its waker released, not later wakes'.
const WAKE: u64 = 1 << 42;

#[derive(Clone, Debug, Default)]
struct Clock(Vec<u32>);

impl Clock {
    fn get(&self, t: ThreadId) -> u32 {
        self.0.get(t.0 as usize).copied().unwrap_or(0)
    }
    fn tick(&mut self, t: ThreadId) {
        let i = t.0 as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] += 1;
    }
    fn join(&mut self, other: &Clock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a = (*a).max(*b);
        }
    }
}

/// One side of a race.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RaceAccess {
    /// Who.
    pub thread: ThreadId,
    /// Scheduling point number.
    pub step: u64,
    /// Instrumentation site.
    pub site: Option<u32>,
    /// A write (or read-modify-write).
    pub write: bool,
    /// An atomic instruction.
    pub atomic: bool,
    /// In library code.
    pub library: bool,
    /// The thread's clock entry at the access.
    epoch: u32,
}

/// Two conflicting accesses not ordered by happens-before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Race {
    /// First byte both touch.
    pub addr: u64,
    /// The earlier access.
    pub first: RaceAccess,
    /// The later access.
    pub second: RaceAccess,
}

#[derive(Default)]
struct Cell {
    write: Option<RaceAccess>,
    /// Reads since the write, the last one per thread.
    reads: Vec<RaceAccess>,
}

/// The detector of one execution.
#[derive(Default)]
pub(crate) struct RaceDetector {
    clocks: Vec<Clock>,
    spawn_clocks: HashMap<u32, Clock>,
    spawns: u32,
    sync: HashMap<u64, Clock>,
    shadow: HashMap<u64, Cell>,
    /// Races found, distinct by their pair of sites, in order.
    pub races: Vec<Race>,
}

/// Distinct races kept per execution.
const MAX_RACES: usize = 16;

impl RaceDetector {
    fn clock(&mut self, t: ThreadId) -> &mut Clock {
        let i = t.0 as usize;
        if self.clocks.len() <= i {
            self.clocks.resize(i + 1, Clock::default());
        }
        &mut self.clocks[i]
    }

    /// `thread` performs `op` as scheduling point `step`.
    pub fn step(&mut self, thread: ThreadId, op: &Op, step: u64) {
        self.clock(thread).tick(thread);
        match op.kind {
            OpKind::Start => {
                if let Some(c) = self.spawn_clocks.remove(&thread.0) {
                    self.clock(thread).join(&c);
                }
            }
            OpKind::Spawn => {
                // Threads are numbered in spawn order: the k-th spawn makes thread k.
                self.spawns += 1;
                let c = self.clock(thread).clone();
                self.spawn_clocks.insert(self.spawns, c);
            }
            OpKind::Join => {
                let child = self.clock(ThreadId(op.addr as u32)).clone();
                self.clock(thread).join(&child);
            }
            OpKind::Resume | OpKind::Depart => {
                if op.src != 0 {
                    self.acquire(thread, WAKE | op.src);
                }
            }
            OpKind::Arrive => {
                self.acquire(thread, FUTEX | op.addr);
                self.release(thread, FUTEX | op.addr);
                self.release(thread, WAKE | op.src);
            }
            OpKind::Memory(kind) => self.memory(thread, op, kind, step),
            OpKind::Yield | OpKind::Sleep | OpKind::Stop | OpKind::Marker => {}
        }
    }

    fn acquire(&mut self, t: ThreadId, key: u64) {
        self.clock(t);
        if let Some(c) = self.sync.get(&key) {
            self.clocks[t.0 as usize].join(c);
        }
    }

    fn release(&mut self, t: ThreadId, key: u64) {
        self.clock(t);
        let c = &self.clocks[t.0 as usize];
        self.sync.entry(key).or_default().join(c);
    }

    fn memory(&mut self, t: ThreadId, op: &Op, kind: AccessKind, step: u64) {
        let atomic = op.atomic
            || matches!(
                kind,
                AccessKind::Wait | AccessKind::Notify | AccessKind::Fence
            );
        if atomic {
            self.acquire(t, op.addr);
            self.release(t, op.addr);
        }
        match kind {
            AccessKind::Notify => {
                self.release(t, WAKE | op.src);
                return;
            }
            AccessKind::Fence | AccessKind::Grow => return,
            _ => {}
        }
        let epoch = self.clock(t).get(t);
        let access = |write| RaceAccess {
            thread: t,
            step,
            site: op.site,
            write,
            atomic,
            library: op.library,
            epoch,
        };
        match kind {
            AccessKind::Read | AccessKind::Wait => {
                self.check(op.addr, op.len, access(false));
            }
            AccessKind::Copy => {
                self.check(op.src, op.len, access(false));
                self.check(op.addr, op.len, access(true));
            }
            _ => self.check(op.addr, op.len, access(true)),
        }
    }

    fn check(&mut self, addr: u64, len: u64, a: RaceAccess) {
        let clock = &self.clocks[a.thread.0 as usize];
        let ordered = |b: &RaceAccess| b.thread == a.thread || b.epoch <= clock.get(b.thread);
        for byte in addr..addr + len.max(1) {
            let cell = self.shadow.entry(byte).or_default();
            let mut found = None;
            if let Some(w) = cell.write.filter(|w| !ordered(w)) {
                found = Some(w);
            }
            if a.write && found.is_none() {
                found = cell.reads.iter().copied().find(|r| !ordered(r));
            }
            if a.write {
                cell.write = Some(a);
                cell.reads.clear();
            } else {
                cell.reads.retain(|r| r.thread != a.thread);
                cell.reads.push(a);
            }
            if let Some(b) = found {
                let reportable = !(a.atomic && b.atomic || a.library && b.library);
                let new = !self
                    .races
                    .iter()
                    .any(|r| (r.first.site, r.second.site) == (b.site, a.site));
                if reportable && new && self.races.len() < MAX_RACES {
                    self.races.push(Race {
                        addr: byte,
                        first: b,
                        second: a,
                    });
                }
            }
        }
    }
}
