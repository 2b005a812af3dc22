//! The state of one execution, shared by the host functions and the executor.
//!
//! It lives in a thread-local because wasmtime's async host closures must be
//! `Send + Sync`, while an execution never leaves the OS thread that runs it.

use crate::op::{Op, OpKind, ThreadId};
use crate::outcome::End;
use crate::scheduler::{Choice, Scheduler};
use crate::trace::Step;
use interlace_guest_sdk::abi::SiteTable;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::sync::Arc;
use wasmtime::SharedMemory;

/// Where a thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Can run its pending operation.
    Runnable,
    /// In a wait on `addr`; with a deadline it also stays runnable (the
    /// scheduler may let it time out), without one only a notify wakes it.
    Waiting { addr: u64, deadline: Option<u64> },
    /// Returned from its entry point.
    Finished,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    None,
    Notified,
}

pub(crate) struct Thread {
    pub status: Status,
    pub wake: Wake,
    /// `wasi_thread_start` argument; None for main.
    pub start_arg: Option<i32>,
}

pub(crate) struct ExecState {
    pub sites: Arc<SiteTable>,
    pub memory: SharedMemory,
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
    pub decisions: Vec<ThreadId>,
    pub trace: Option<Vec<Step>>,
    pub clock_ns: u64,
    pub rng: ChaCha8Rng,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub args: Arc<Vec<String>>,
    pub env: Arc<Vec<String>>,
    pub max_threads: u32,
}

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
    /// `thread` runs its pending operation now.
    fn record(&mut self, thread: ThreadId, switch: bool) {
        let op = &self.pending[thread.0 as usize];
        self.scheduler.observe(thread, op);
        if let Some(trace) = &mut self.trace {
            trace.push(Step {
                thread,
                op: *op,
                step: self.steps,
                switch,
            });
        }
    }

    /// Thread `tid` reached a scheduling point before `op`. Returns true when
    /// it must park: another thread was chosen, or the execution is over.
    pub fn yield_point(&mut self, tid: ThreadId, op: Op) -> bool {
        if self.end.is_some() {
            return true;
        }
        self.steps += 1;
        if self.steps > self.max_steps {
            self.end = Some(End::StepBound(self.max_steps));
            return true;
        }
        self.pending[tid.0 as usize] = op;
        if self.runnable.len() == 1 {
            self.record(tid, false);
            return false;
        }
        let next = self.decide(Some(tid));
        self.current = next;
        self.record(next, next != tid);
        next != tid
    }

    fn decide(&mut self, current: Option<ThreadId>) -> ThreadId {
        let choice = Choice {
            current,
            runnable: &self.runnable,
            pending: &self.pending,
            step: self.steps,
        };
        let next = self.scheduler.choose(&choice);
        debug_assert!(
            self.runnable.contains(&next),
            "scheduler chose a thread that cannot run"
        );
        self.decisions.push(next);
        next
    }

    /// The current thread can no longer run (it blocked or finished): pick
    /// another, or end the execution as a deadlock.
    pub fn switch_away(&mut self) {
        if self.end.is_some() {
            return;
        }
        match self.runnable.len() {
            0 => {
                let waiting = self
                    .threads
                    .iter()
                    .enumerate()
                    .filter_map(|(i, t)| match t.status {
                        Status::Waiting { addr, .. } => Some((ThreadId(i as u32), addr)),
                        _ => None,
                    })
                    .collect();
                self.end = Some(End::Deadlock(waiting));
            }
            1 => {
                self.steps += 1;
                self.current = self.runnable[0];
                self.record(self.current, true);
            }
            _ => {
                self.steps += 1;
                self.current = self.decide(None);
                self.record(self.current, true);
            }
        }
    }

    fn set_runnable(&mut self, tid: ThreadId, runnable: bool) {
        match (self.runnable.binary_search(&tid), runnable) {
            (Err(pos), true) => self.runnable.insert(pos, tid),
            (Ok(pos), false) => {
                self.runnable.remove(pos);
            }
            _ => {}
        }
    }

    /// Creates thread `tid`'s slot; its first step is [`OpKind::Start`].
    pub fn add_thread(&mut self, start_arg: Option<i32>) -> ThreadId {
        let tid = ThreadId(self.threads.len() as u32);
        self.threads.push(Thread {
            status: Status::Runnable,
            wake: Wake::None,
            start_arg,
        });
        self.pending.push(Op::plain(OpKind::Start));
        self.set_runnable(tid, true);
        tid
    }

    /// The current thread returned from its entry point.
    pub fn finish(&mut self, tid: ThreadId) {
        self.threads[tid.0 as usize].status = Status::Finished;
        self.set_runnable(tid, false);
        self.switch_away();
    }

    /// The current thread waits on `addr`, until notified or, with a deadline,
    /// until the scheduler lets it time out.
    pub fn block(&mut self, tid: ThreadId, addr: u64, deadline: Option<u64>) {
        let t = &mut self.threads[tid.0 as usize];
        t.status = Status::Waiting { addr, deadline };
        t.wake = Wake::None;
        self.waiters.push((addr, tid));
        self.pending[tid.0 as usize] = Op {
            addr,
            ..Op::plain(OpKind::Resume)
        };
        self.set_runnable(tid, deadline.is_some());
        if deadline.is_some() {
            // It may time out right away: that is the scheduler's call.
            self.steps += 1;
            if self.runnable.len() == 1 {
                self.record(tid, false);
                return;
            }
            let next = self.decide(None);
            self.current = next;
            self.record(next, next != tid);
        } else {
            self.switch_away();
        }
    }

    /// Called when a waiting thread runs again: whether it was notified
    /// (otherwise it timed out, and the clock moves to its deadline).
    pub fn resume_from_wait(&mut self, tid: ThreadId) -> bool {
        let t = &mut self.threads[tid.0 as usize];
        if t.wake == Wake::Notified {
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
                t.wake = Wake::Notified;
                self.set_runnable(tid, true);
                woken += 1;
            } else {
                i += 1;
            }
        }
        woken
    }

    /// Ends the execution, unless it already ended (the first end wins).
    pub fn end_with(&mut self, end: End) {
        if self.end.is_none() {
            self.end = Some(end);
        }
    }
}
