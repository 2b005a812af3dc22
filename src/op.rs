//! Threads and the operations they are about to perform.

use interlace_guest_sdk::abi::AccessKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A guest thread: 0 is the main thread, spawned threads get 1, 2, ... in spawn order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThreadId(pub u32);

impl ThreadId {
    /// The thread that runs `_start`.
    pub const MAIN: ThreadId = ThreadId(0);
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            f.write_str("main")
        } else {
            write!(f, "t{}", self.0)
        }
    }
}

/// What a thread does at a scheduling point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// An instrumented memory instruction.
    Memory(AccessKind),
    /// A new thread's first step (instantiating it).
    Start,
    /// `wasi.thread-spawn`.
    Spawn,
    /// `sched_yield`.
    Yield,
    /// A sleep (`poll_oneoff` on a clock).
    Sleep,
    /// Returning from a wait (woken by a notify, or timing out) or from a join.
    Resume,
    /// Joining lightweight thread `addr`.
    Join,
    /// Stopping the program: main returning from `_start`, or `proc_exit`.
    Stop,
    /// A guest-sdk marker; `addr` indexes the execution's marker names.
    Marker,
    /// Arriving at the barrier at `addr` (see `abi::BARRIER`).
    Arrive,
    /// Leaving the barrier at `addr`, released by the step `src`.
    Depart,
}

impl OpKind {
    /// Short name for traces.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Memory(k) => k.name(),
            OpKind::Start => "start",
            OpKind::Spawn => "spawn",
            OpKind::Yield => "yield",
            OpKind::Sleep => "sleep",
            OpKind::Resume => "resume",
            OpKind::Join => "join",
            OpKind::Stop => "stop",
            OpKind::Marker => "marker",
            OpKind::Arrive => "arrive",
            OpKind::Depart => "depart",
        }
    }
}

/// A pending operation: what a paused thread will do when it runs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// What it does.
    pub kind: OpKind,
    /// Instrumentation site, if the operation comes from one.
    pub site: Option<u32>,
    /// Effective address (destination for bulk operations).
    pub addr: u64,
    /// Bytes accessed.
    pub len: u64,
    /// Source address of `memory.copy`; the expected value of a
    /// compare-exchange. For a step that can wake threads (a notify, a
    /// barrier arrival), its step number; for a [`OpKind::Resume`] or
    /// [`OpKind::Depart`], the step number of the step that woke it (0:
    /// none, it timed out). A woken thread is so ordered after exactly
    /// what woke it, not after whatever touched the same word since, which
    /// would order everything its waker did next before it.
    pub src: u64,
    /// Whether the instruction is atomic.
    pub atomic: bool,
    /// Whether the instruction is in library code (Rust std, wasi-libc), as
    /// told by the module's line table; strategies may preempt there less.
    pub library: bool,
    /// Whether the instruction is in the memory allocator (wasi-libc's
    /// dlmalloc). DPOR treats the allocator's lock as independent of
    /// everything, as GenMC and Nidhugg model malloc: which thread allocates
    /// first changes addresses, not what a correct program computes. Its
    /// plain accesses are plain library accesses: independent of library
    /// code, dependent with the program's accesses to the same bytes (a
    /// free racing with another thread's use is a use after free).
    pub allocator: bool,
    /// Whether it touches the C library's private thread bookkeeping (see
    /// `SiteTable::bookkeeping`: wasi-libc's thread-list and TLS-key locks),
    /// waits and notifies included. DPOR treats it as independent of
    /// everything: which thread takes these locks first is not the program's
    /// business, and the happens-before they would add (one thread's exit
    /// before another's start) hides the program's own races from the search.
    pub bookkeeping: bool,
    /// Whether it is in wasi-libc's `pthread_join`. DPOR treats the word a
    /// join reads (the joined thread's exit state) as a synchronisation only:
    /// the exit's writes and the join's reads, waits and wakes order what
    /// follows the join after the thread's last step, but whether the joiner
    /// looked before the thread finished, waited, or found it gone, is not
    /// the program's business, so those orders are not explored apart.
    pub join: bool,
    /// A compare-exchange that fails if it runs now (memory does not hold
    /// the expected value): it only reads, and DPOR treats it as a read (as
    /// GenMC does). Kept current by the runtime at every scheduling decision.
    pub fails: bool,
    /// Taking a std `Mutex` (see `abi::LOCK`): the thread waited, if it had
    /// to, until the mutex was free. DPOR reverses it with the previous
    /// acquisition of the same mutex by another thread, as if the unlock in
    /// between did not order them (taking the mutex first is the
    /// alternative; taking it before the unlock is not one).
    pub lock: bool,
}

impl Op {
    /// An operation with no memory footprint.
    pub const fn plain(kind: OpKind) -> Op {
        Op {
            kind,
            site: None,
            addr: 0,
            len: 0,
            src: 0,
            atomic: false,
            library: false,
            allocator: false,
            bookkeeping: false,
            join: false,
            fails: false,
            lock: false,
        }
    }
}
