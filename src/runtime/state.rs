//! The state of one execution, shared by the host functions and the executor.
//!
//! It lives in a thread-local because wasmtime's async host closures must be
//! `Send + Sync`, while an execution never leaves the OS thread that runs it.

use super::models::Acquire;
use crate::op::{Op, OpKind, ThreadId};
use crate::outcome::End;
use crate::scheduler::{Choice, Scheduler};
use crate::trace::Step;
use interlace_guest_sdk::abi::{self, AccessKind, SiteTable};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::sync::Arc;

/// Where a thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Can run its pending operation.
    Runnable,
    /// In a wait on `addr`; with a deadline it also stays runnable (the
    /// scheduler may let it time out), without one only a notify wakes it.
    Waiting { addr: u64, deadline: Option<u64> },
    /// Joining a lightweight thread that has not finished.
    Joining(ThreadId),
    /// Taking the lock, rwlock or semaphore whose word is at `addr` (see
    /// `abi::LOCK`, `abi::ACQUIRE`): runnable exactly while `kind` says
    /// the word can be taken.
    Locking { addr: u64, kind: Acquire },
    /// Arrived at the barrier at `addr`; runnable once the round is complete.
    AtBarrier { addr: u64 },
    /// Returned from its entry point.
    Finished,
}

/// How a thread begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `_start`.
    Main,
    /// `wasi_thread_start(tid, arg)` (wasi-threads).
    Wasi(i32),
    /// A guest-sdk lightweight thread: `interlace_thread_entry(func, arg)` on the given stack.
    Light {
        func: i32,
        arg: i32,
        stack_top: i32,
        tls_block: i32,
    },
}

pub(crate) struct Thread {
    pub status: Status,
    /// Set when a notify ended its wait.
    pub notified: bool,
    /// First to arrive in its barrier's round (see `abi::BARRIER`).
    pub serial: bool,
    pub entry: Entry,
    /// The exit status it stops the program with, once its pending op is `Stop`.
    pub stopping: Option<i32>,
}

pub(crate) struct ExecState {
    pub sites: Arc<SiteTable>,
    /// Per site: allocator and join bits (see `Program::site_flags`).
    pub site_flags: Arc<[u8]>,
    /// Trace index of a write whose value is read at the next step.
    pub value_after: Option<usize>,
    /// The data-race detector, with `--races`.
    pub races: Option<super::races::RaceDetector>,
    pub memory: super::memory::GuestMemory,
    pub threads: Vec<Thread>,
    /// Threads the scheduler may pick, ascending.
    pub runnable: Vec<ThreadId>,
    pub pending: Vec<Op>,
    /// Waiters in arrival order (notify wakes the oldest first).
    pub waiters: Vec<(u64, ThreadId)>,
    pub current: ThreadId,
    pub steps: u64,
    pub max_steps: u64,
    pub end: Option<End>,
    pub scheduler: Box<dyn Scheduler>,
    /// Ask the scheduler at single-choice points too (it asked for every step).
    pub choose_always: bool,
    pub decisions: Vec<ThreadId>,
    pub trace: Option<Vec<Step>>,
    pub clock_ns: u64,
    pub rng: ChaCha8Rng,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub args: Arc<Vec<String>>,
    pub env: Arc<Vec<String>>,
    pub max_threads: u32,
    /// Marker names, interned in first-use order.
    pub markers: Vec<Arc<str>>,
    /// Names threads gave themselves.
    pub thread_names: Vec<Option<Arc<str>>>,
    /// Each thread's spawner (None for main).
    pub parents: Vec<Option<ThreadId>>,
    /// For a task's thread, its executor thread (see `abi::TASK`).
    pub executors: Vec<Option<ThreadId>>,
    /// Threads in [`Status::Locking`].
    pub locking: u32,
    /// Barriers with a round under way (see `abi::BARRIER`).
    pub barriers: Vec<super::models::Barrier>,
    /// Who must let whom run first, and the spin detectors.
    pub fair: super::fairness::Fairness,
    /// The runnable threads fairness lets run, when not all of them.
    pub fair_runnable: Vec<ThreadId>,
    /// Accesses last granted to the main thread while it is alone (see
    /// `abi::SOLO_EXPORT`); 0 once it is not.
    pub solo_granted: u32,
    /// Blocks the allocator handed out and has not taken back: address ->
    /// bytes (see `abi::ALLOCATED`, `abi::FREED`).
    pub blocks: std::collections::HashMap<
        u64,
        u64,
        std::hash::BuildHasherDefault<crate::scheduler::WordHasher>,
    >,
    /// Own-stack accesses reported by [`ExecState::private_spent`].
    pub private_accesses: u64,
}

/// Most accesses the main thread skips alone between two host calls.
const SOLO_CHUNK: u64 = 1 << 20;

/// Bytes at each end of a freed block its [`ExecState::freed_ops`] cover:
/// everything dlmalloc's `free` writes into the block (at the start its
/// list links, and a tree chunk's child, parent and index words, 24 bytes;
/// at the end the next chunk's `prev_foot`), and few enough that freeing a
/// thread's stack (a megabyte) costs no more than a small block (DPOR
/// keeps a history per byte).
pub const FREED_BYTES: u64 = 64;

thread_local! {
    static STATE: RefCell<Option<ExecState>> = const { RefCell::new(None) };
}

/// Runs `f` on the execution in progress on this OS thread.
///
/// Panics if there is none: host functions are only reachable while the
/// executor runs, which installs the state first.
pub(crate) fn with<R>(f: impl FnOnce(&mut ExecState) -> R) -> R {
    STATE.with(|s| {
        f(s.borrow_mut()
            .as_mut()
            .expect("no interlace execution on this thread"))
    })
}

pub(crate) fn install(state: ExecState) {
    STATE.with(|s| *s.borrow_mut() = Some(state));
}

pub(crate) fn take() -> ExecState {
    STATE.with(|s| {
        s.borrow_mut()
            .take()
            .expect("no interlace execution on this thread")
    })
}

impl ExecState {
    /// The state of an execution of `program` before its first step.
    pub(crate) fn new(
        program: &crate::program::Program,
        memory: super::memory::GuestMemory,
        scheduler: Box<dyn Scheduler>,
        cfg: &super::RunConfig,
    ) -> ExecState {
        let mut args = vec![program.name().to_string()];
        args.extend(cfg.args.iter().cloned());
        let choose_always = scheduler.choose_always();
        ExecState {
            sites: Arc::clone(&program.sites),
            site_flags: Arc::clone(&program.site_flags),
            memory,
            threads: vec![],
            runnable: vec![],
            pending: vec![],
            waiters: vec![],
            current: ThreadId::MAIN,
            steps: 0,
            max_steps: cfg.max_steps,
            end: None,
            scheduler,
            choose_always,
            decisions: vec![],
            trace: cfg.trace.then(Vec::new),
            clock_ns: 0,
            rng: ChaCha8Rng::seed_from_u64(cfg.guest_seed),
            stdout: vec![],
            stderr: vec![],
            args: Arc::new(args),
            env: Arc::new(cfg.env.clone()),
            max_threads: cfg.max_threads,
            markers: vec![],
            thread_names: vec![],
            parents: vec![],
            executors: vec![],
            locking: 0,
            barriers: vec![],
            fair: Default::default(),
            fair_runnable: vec![],
            solo_granted: 0,
            private_accesses: 0,
            blocks: Default::default(),
            races: cfg.races.then(super::races::RaceDetector::default),
            value_after: None,
        }
    }
}

impl ExecState {
    /// `thread` runs its pending operation now.
    fn record(&mut self, thread: ThreadId, switch: bool) {
        // The previous step has run by now: its written value is in memory.
        self.fill_value();
        let op = &self.pending[thread.0 as usize];
        // What a read finds (a spin re-reads the same value), read only for
        // a step that only reads.
        let memory = &self.memory;
        self.fair.step(thread, op, || {
            (1..=8)
                .contains(&op.len)
                .then(|| super::memory::read_uint(memory, op.addr, op.len))
                .flatten()
        });
        self.scheduler.observe(thread, op);
        if let Some(races) = &mut self.races {
            races.step(thread, op, self.steps);
        }
        if let Some(trace) = &mut self.trace {
            let value = match op.kind {
                OpKind::Memory(AccessKind::Read | AccessKind::Wait)
                    if (1..=8).contains(&op.len) =>
                {
                    super::memory::read_uint(&self.memory, op.addr, op.len)
                }
                OpKind::Memory(
                    AccessKind::Write | AccessKind::ReadModifyWrite | AccessKind::CompareExchange,
                ) if (1..=8).contains(&op.len) => {
                    self.value_after = Some(trace.len());
                    None
                }
                _ => None,
            };
            let marker =
                (op.kind == OpKind::Marker).then(|| self.markers[op.addr as usize].clone());
            let thread_name = self.thread_names.get(thread.0 as usize).cloned().flatten();
            let executor = self.executors.get(thread.0 as usize).copied().flatten();
            trace.push(Step {
                thread,
                op: *op,
                step: self.steps,
                switch,
                thread_name,
                executor,
                marker,
                value,
            });
        }
    }

    /// Fills in the value the last traced write left in memory (it has run
    /// by the time anything else is recorded).
    pub fn fill_value(&mut self) {
        let (Some(i), Some(trace)) = (self.value_after.take(), &mut self.trace) else {
            return;
        };
        let op = trace[i].op;
        trace[i].value = super::memory::read_uint(&self.memory, op.addr, op.len);
    }

    /// Asks the scheduler who runs the next step (`current` reached it and can
    /// go on, or None), records the decision, and makes it current. False when
    /// the scheduler abandoned the execution or it already ended.
    pub(super) fn next_step(&mut self, current: Option<ThreadId>) -> bool {
        if self.end.is_some() {
            return false;
        }
        if self.locking > 0 {
            self.lock_waiters();
        }
        if self.runnable.is_empty() {
            let waiting = self
                .threads
                .iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    // Where it waits, when the line table says.
                    let at = self.pending[i]
                        .site
                        .and_then(|site| self.sites.sites.get(site as usize))
                        .filter(|site| self.sites.file_of(site).is_some())
                        .map(|_| {
                            format!(
                                " at {}",
                                crate::trace::site_location(&self.sites, self.pending[i].site)
                            )
                        })
                        .unwrap_or_default();
                    let what = match t.status {
                        Status::Waiting { addr, .. } => format!("waits on {addr:#x}{at}"),
                        Status::Joining(j) => format!("joins {j}"),
                        Status::Locking { addr, kind } => {
                            format!("waits{at} for {} at {addr:#x}", kind.what())
                        }
                        Status::AtBarrier { addr } => {
                            format!("waits{at} at the barrier at {addr:#x}")
                        }
                        _ => return None,
                    };
                    // The name it gave itself (a task's, say), after its id.
                    let what = match self.thread_names.get(i).cloned().flatten() {
                        Some(name) => format!("({name}) {what}"),
                        None => what,
                    };
                    Some((ThreadId(i as u32), what))
                })
                .collect();
            self.end = Some(End::Deadlock(waiting));
            return false;
        }
        if let Some(spinning) = self.fair.livelock(&self.runnable) {
            let spins = spinning
                .into_iter()
                .map(|(t, op)| {
                    let value = super::memory::read_uint(&self.memory, op.addr, op.len.min(8))
                        .map(|v| format!(" = {v}"))
                        .unwrap_or_default();
                    let at = crate::trace::site_location(&self.sites, op.site);
                    (t, format!("spins at {at} reading {:#x}{value}", op.addr))
                })
                .collect();
            self.end = Some(End::Livelock(spins));
            return false;
        }
        self.steps += 1;
        if self.steps > self.max_steps {
            self.end = Some(End::StepBound(self.max_steps));
            return false;
        }
        self.settle_pending();
        // Fairness first: a thread that yielded waits for the others.
        let fair = self.fair.filter(&self.runnable, &mut self.fair_runnable);
        let runnable: &[ThreadId] = if fair {
            &self.fair_runnable
        } else {
            &self.runnable
        };
        let current = current.filter(|c| !fair || runnable.contains(c));
        let next = if runnable.len() == 1 && !self.choose_always {
            runnable[0]
        } else {
            let choice = Choice {
                current,
                runnable,
                pending: &self.pending,
                step: self.steps,
                markers: &self.markers,
                thread_names: &self.thread_names,
            };
            match self.scheduler.choose(&choice) {
                Some(t) => {
                    debug_assert!(
                        runnable.contains(&t),
                        "scheduler chose a thread that cannot run"
                    );
                    if runnable.len() > 1 {
                        self.decisions.push(t);
                    }
                    t
                }
                None => {
                    self.end = Some(End::Abandoned);
                    return false;
                }
            }
        };
        self.record(next, Some(next) != current);
        self.current = next;
        true
    }

    /// Each runnable thread's pending step as it would run now: whether a
    /// compare-exchange would fail (other threads may have written since
    /// it reached it), and the number of a step that may wake threads,
    /// which names it to the woken (see `Op::src`), before the scheduler
    /// sees it.
    fn settle_pending(&mut self) {
        for &t in &self.runnable {
            let op = &mut self.pending[t.0 as usize];
            match op.kind {
                OpKind::Memory(AccessKind::CompareExchange) => {
                    op.fails = super::memory::read_uint(&self.memory, op.addr, op.len)
                        .is_some_and(|v| v != op.src);
                }
                OpKind::Memory(AccessKind::Notify) | OpKind::Arrive => op.src = self.steps,
                _ => {}
            }
        }
    }

    /// Thread `tid` reached a scheduling point before `op`. Returns true when
    /// it must park: another thread was chosen, or the execution is over.
    pub fn yield_point(&mut self, tid: ThreadId, op: Op) -> bool {
        if self.end.is_some() {
            return true;
        }
        self.pending[tid.0 as usize] = op;
        !self.next_step(Some(tid)) || self.current != tid
    }

    /// The current thread can no longer run (it blocked or finished): pick
    /// another, or end the execution (deadlock).
    pub fn switch_away(&mut self) {
        self.next_step(None);
    }

    pub(super) fn set_runnable(&mut self, tid: ThreadId, runnable: bool) {
        match (self.runnable.binary_search(&tid), runnable) {
            (Err(pos), true) => self.runnable.insert(pos, tid),
            (Ok(pos), false) => {
                self.runnable.remove(pos);
            }
            _ => {}
        }
    }

    /// Creates a thread; its first step is [`OpKind::Start`].
    pub fn add_thread(&mut self, entry: Entry) -> ThreadId {
        let tid = ThreadId(self.threads.len() as u32);
        self.threads.push(Thread {
            status: Status::Runnable,
            notified: false,
            serial: false,
            entry,
            stopping: None,
        });
        self.pending.push(Op::plain(OpKind::Start));
        self.fair.add_thread();
        self.set_runnable(tid, true);
        tid
    }

    /// The current thread returned from its entry point.
    pub fn finish(&mut self, tid: ThreadId) {
        self.threads[tid.0 as usize].status = Status::Finished;
        self.set_runnable(tid, false);
        for i in 0..self.threads.len() {
            if self.threads[i].status == Status::Joining(tid) {
                self.threads[i].status = Status::Runnable;
                // Its next step completes the join: ordered after the child's last.
                self.pending[i] = Op {
                    addr: u64::from(tid.0),
                    ..Op::plain(OpKind::Join)
                };
                self.set_runnable(ThreadId(i as u32), true);
            }
        }
        self.switch_away();
    }

    /// Thread `tid` is about to stop the program with `code` (main returned,
    /// or `proc_exit`): a scheduling point, so the other threads may run
    /// first. True when it must park.
    pub fn stop_point(&mut self, tid: ThreadId, code: i32) -> bool {
        self.threads[tid.0 as usize].stopping = Some(code);
        let park = self.yield_point(tid, Op::plain(OpKind::Stop));
        if !park {
            self.end_with(End::Exit(code));
        }
        park
    }

    /// The current thread joins `child`: blocks unless it has finished.
    /// True when it must park.
    pub fn join(&mut self, tid: ThreadId, child: ThreadId) -> bool {
        if self.threads[child.0 as usize].status == Status::Finished {
            return false;
        }
        self.threads[tid.0 as usize].status = Status::Joining(child);
        self.set_runnable(tid, false);
        self.switch_away();
        true
    }

    /// The current thread waits on `addr`, until notified or, with a deadline,
    /// until the scheduler lets it time out. True when it must park.
    pub fn block(
        &mut self,
        tid: ThreadId,
        addr: u64,
        deadline: Option<u64>,
        site: Option<u32>,
    ) -> bool {
        let t = &mut self.threads[tid.0 as usize];
        t.status = Status::Waiting { addr, deadline };
        t.notified = false;
        self.waiters.push((addr, tid));
        self.pending[tid.0 as usize] = Op {
            addr,
            site,
            ..Op::plain(OpKind::Resume)
        };
        self.set_runnable(tid, deadline.is_some());
        // With a deadline it may time out right away: the scheduler's call.
        let current = deadline.map(|_| tid);
        !self.next_step(current) || self.current != tid
    }

    /// Called when a waiting thread runs again: whether it was notified
    /// (otherwise it timed out, and the clock moves to its deadline).
    pub fn resume_from_wait(&mut self, tid: ThreadId) -> bool {
        let t = &mut self.threads[tid.0 as usize];
        if t.notified {
            return true;
        }
        if let Status::Waiting {
            deadline: Some(d), ..
        } = t.status
        {
            self.clock_ns = self.clock_ns.max(d);
        }
        t.status = Status::Runnable;
        self.waiters.retain(|&(_, w)| w != tid);
        false
    }

    /// Wakes up to `count` waiters on `addr`, oldest first.
    pub fn notify(&mut self, addr: u64, count: u32) -> u32 {
        let mut woken = 0;
        let mut i = 0;
        while i < self.waiters.len() && woken < count {
            if self.waiters[i].0 == addr {
                let (_, tid) = self.waiters.remove(i);
                let t = &mut self.threads[tid.0 as usize];
                t.status = Status::Runnable;
                t.notified = true;
                // Its resumption is ordered after this notify (see `Op::src`).
                self.pending[tid.0 as usize].src = self.steps;
                self.set_runnable(tid, true);
                woken += 1;
            } else {
                i += 1;
            }
        }
        woken
    }

    /// Accesses the main thread, alone, may skip now: up to the step bound.
    pub fn solo_grant(&mut self) -> u32 {
        let g = (self.max_steps + 1)
            .saturating_sub(self.steps)
            .clamp(1, SOLO_CHUNK) as u32;
        self.solo_granted = g;
        g
    }

    /// The main thread, alone, used up its grant: those accesses are steps.
    /// Then a new grant, or None when they passed the step bound (the
    /// execution ended).
    pub fn solo_spent(&mut self) -> Option<u32> {
        self.steps += u64::from(std::mem::take(&mut self.solo_granted));
        if self.steps > self.max_steps {
            self.end_with(End::StepBound(self.max_steps));
            return None;
        }
        Some(self.solo_grant())
    }

    /// The steps of giving back the block at `ptr` (see `abi::FREED`):
    /// plain library writes over its first and its last [`FREED_BYTES`]
    /// bytes (one step for a block that small), which conflict with a
    /// program access there. A block this run never saw handed out
    /// (another allocator entry point) counts as the 8 bytes `free` links
    /// through.
    pub fn freed_ops(&mut self, ptr: u32) -> (Op, Option<Op>) {
        let addr = u64::from(ptr);
        let len = self.blocks.remove(&addr).unwrap_or(8).max(1);
        let write = |addr, len| Op {
            addr,
            len,
            library: true,
            allocator: true,
            ..Op::plain(OpKind::Memory(AccessKind::Fill))
        };
        let head = write(addr, len.min(FREED_BYTES));
        let tail = (len > FREED_BYTES).then(|| {
            let start = (addr + len - FREED_BYTES).max(addr + FREED_BYTES);
            write(start, addr + len - start)
        });
        (head, tail)
    }

    /// A thread made another [`abi::PRIVATE_CHUNK`] accesses to its own
    /// stack (no scheduling points): they count against the step bound.
    /// False when that passed it (the execution ended).
    pub fn private_spent(&mut self) -> bool {
        self.private_accesses += abi::PRIVATE_CHUNK as u64;
        if self.steps + self.private_accesses > self.max_steps {
            self.end_with(End::StepBound(self.max_steps));
            return false;
        }
        true
    }

    /// The main thread is no longer alone, with `left` of its grant unused.
    pub fn solo_left(&mut self, left: u32) {
        let used = std::mem::take(&mut self.solo_granted).saturating_sub(left);
        self.steps += u64::from(used);
    }

    /// Ends the execution, unless it already ended (the first end wins).
    pub fn end_with(&mut self, end: End) {
        if self.end.is_none() {
            self.end = Some(end);
        }
    }
}
