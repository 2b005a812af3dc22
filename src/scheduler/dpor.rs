//! Exhaustive exploration with partial-order reduction: source-DPOR with
//! sleep sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal Dynamic Partial
//! Order Reduction", POPL 2014, Algorithm 1), stateless: every execution
//! starts from scratch, replays a prefix of the previous one and branches.
//!
//! Each complete execution it explores is a different Mazurkiewicz trace
//! (sleep sets make sure of it); it may also start executions that turn out
//! to be redundant ("sleep-set blocked") and are abandoned. Wakeup trees
//! (optimal DPOR) are not implemented.
//!
//! Dependency, at byte-range granularity: two memory operations on
//! overlapping bytes where one writes (read-modify-writes and
//! compare-exchanges write, even when they fail); a wait and a notify on the
//! same address; two spawns (they number threads); `memory.grow` with
//! everything. Happens-before also has edges that are never reversed: a
//! spawn before the child's first step, a notify before the wake-up it
//! causes, a thread's end before a join of it.
//!
//! Termination (the daemon-thread trap, see ../shared/seeds): the program's
//! `stop` (main returning, `proc_exit`) is dependent with every other
//! thread's pending operation, so a thread that is never joined is still
//! scheduled before the end. An execution cut by the step bound treats its
//! last step the same way, so the alternatives within the bound are explored.
//!
//! Library code runs as blocks (see [`DporScheduler::library_blocks`]): a
//! run of library steps between two program steps is one step of the
//! search. Two plain library accesses are independent (the library is
//! data-race free), and the allocator's atomics (its lock) are independent
//! of everything; its plain accesses are plain library accesses, so the
//! free-list links `free` writes into a chunk race with a use of the chunk
//! after the free (a use after free), and its waits and notifies order.
//!
//! Memory the allocator hands out is fresh (see [`Scheduler::allocated`]):
//! the accesses its bytes had before do not make later ones dependent.
//!
//! With a preemption bound, a race whose reversal would exceed it is also
//! planted at the latest earlier point where the thread could be scheduled
//! without a preemption (bounded POR, Coons, Musuvathi, McKinley, OOPSLA
//! 2013), and the coverage reports the bound.

use super::visible::WordHasher;
use super::{Choice, Coverage, Divergence, Finish, FinishKind, Scheduler};
use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi::AccessKind;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Threads at a point (inline: the per-step path allocates nothing for a
/// handful of threads).
type Threads = SmallVec<[ThreadId; 4]>;
/// A sleep set: threads and the blocks they would run.
type Sleepers = Vec<(ThreadId, Block)>;
/// Event indices.
type Events = SmallVec<[usize; 8]>;

/// Maps keyed by address, with a hasher cheap enough for the per-step path.
type AddrMap<V> = HashMap<u64, V, BuildHasherDefault<WordHasher>>;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Steps a lone spinning thread may take while every other runnable thread is
/// asleep before the execution is abandoned as sleep-set blocked.
pub const MAX_STUCK_SPINS: u32 = 1_000;

/// Longest run of library steps merged into one block; a longer run is cut
/// (the cut only adds scheduling points, never hides one).
pub const MAX_BLOCK: usize = 4_096;

/// Key space above wasm32 addresses for non-memory dependencies.
const FUTEX: u64 = 1 << 40;
const SPAWN_KEY: u64 = 1 << 41;

/// Counts of a DPOR exploration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DporStats {
    /// Executions started.
    pub executions: u64,
    /// Executions run to their end (each a distinct Mazurkiewicz trace).
    pub complete: u64,
    /// Executions abandoned because every runnable thread was asleep.
    pub sleep_blocked: u64,
    /// Executions abandoned because continuing needed a preemption over the bound.
    pub bound_blocked: u64,
    /// Whether the preemption bound cut off part of the space.
    pub bound_pruned: bool,
    /// Whether the whole (bounded) space was explored.
    pub exhausted: bool,
}

/// One scheduling point of the current path.
#[derive(Clone)]
struct Node {
    /// Identifies the point across workers: a hash of the choices before it.
    key: u64,
    enabled: Threads,
    /// Pending operation of each enabled thread.
    pending: SmallVec<[Op; 4]>,
    /// The thread that reached this point, if it could go on.
    current: Option<ThreadId>,
    chosen: ThreadId,
    backtrack: Threads,
    done: Threads,
    /// The steps each explored thread ran in its block from here.
    done_blocks: Vec<(ThreadId, Block)>,
    /// The steps the chosen thread runs in its block from here.
    block: Vec<Op>,
    /// The point where the block this step belongs to began (itself when
    /// a thread may be chosen here).
    start: usize,
    sleep: Sleepers,
    /// Preemptions on the path before this point.
    preemptions: u32,
    /// The current thread yields here (sched_yield, sleep) or spins (reads
    /// again what nobody changed): switching away is not a preemption.
    voluntary: bool,
}

/// The key of the point after `prev` (see [`Node::key`]).
fn key_after(prev: Option<&Node>, depth: usize) -> u64 {
    let (k, t) = prev.map_or((0, 0), |p| (p.key, u64::from(p.chosen.0) + 1));
    let mut h = k ^ (depth as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h = (h ^ t).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

impl Node {
    /// What explored thread `t` did from here, for sleep sets.
    fn block_of(&self, t: ThreadId) -> Block {
        if let Some((_, b)) = self.done_blocks.iter().find(|(d, _)| *d == t) {
            return b.clone();
        }
        let i = self
            .enabled
            .iter()
            .position(|&e| e == t)
            .expect("thread enabled here");
        Arc::from(&self.pending[i..=i])
    }

    fn is_preemption(&self, t: ThreadId) -> bool {
        !self.voluntary
            && self
                .current
                .is_some_and(|c| c != t && self.enabled.contains(&c))
    }

    fn asleep(&self, t: ThreadId) -> bool {
        self.sleep.iter().any(|&(s, _)| s == t)
    }
}

/// The steps a thread runs without a scheduling choice: one step, or a run
/// of library steps.
type Block = Arc<[Op]>;

/// Whether an operation conflicts with any step of a block.
fn dependent_block(block: &[Op], op: &Op) -> bool {
    block.iter().any(|b| dependent(b, op))
}

/// A vector clock: per thread, how many of its events happen before.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Clock(SmallVec<[u32; 8]>);

impl Clock {
    fn get(&self, t: ThreadId) -> u32 {
        self.0.get(t.0 as usize).copied().unwrap_or(0)
    }
    fn set(&mut self, t: ThreadId, v: u32) {
        let i = t.0 as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] = v;
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

/// An executed step.
struct Event {
    thread: ThreadId,
    /// 1-based position among its thread's events.
    local: u32,
    clock: Clock,
    /// Independent of everything (see [`independent`]): a stop does not
    /// race with it.
    independent: bool,
    /// A notify: it writes no memory, so a stop does not race with it.
    notify: bool,
}

/// The last write and the reads since, of one byte or key.
#[derive(Default)]
struct Loc {
    write: Option<usize>,
    reads: SmallVec<[usize; 2]>,
    /// Plain library accesses since `write`, (event, is a write): per
    /// thread its last write and its last read after it (they do not order
    /// each other, see [`plain_library`]).
    library: SmallVec<[(usize, bool); 2]>,
}

/// A step independent of everything: the memory allocator's, other than
/// its plain accesses and blocking (see [`Op::allocator`] and
/// [`allocator_conflicts`]), and any step on the C library's thread
/// bookkeeping (see [`Op::bookkeeping`]).
fn independent(op: &Op) -> bool {
    op.bookkeeping || op.allocator && !allocator_conflicts(op)
}

/// An allocator step that still conflicts: a wait or notify (it orders),
/// or a plain access, which is a plain library access (see
/// [`plain_library`]): independent of the allocator's (and the rest of the
/// library's) plain accesses, but dependent with program code on the same
/// bytes. The free-list links `free` writes into a chunk race with another
/// thread's use of it after the free: the use after free.
fn allocator_conflicts(op: &Op) -> bool {
    matches!(
        op.kind,
        OpKind::Memory(AccessKind::Wait | AccessKind::Notify)
    ) || plain_library(op)
}

/// A step other threads can observe or be ordered by: an atomic access, a
/// wait or a notify, outside the allocator. A library block holds at most
/// one: two would make two library calls one indivisible step (`a.lock();
/// b.lock()` with no program access between them), which hides every
/// interleaving between them, the lock-order deadlock among them.
fn visible(op: &Op) -> bool {
    !independent(op)
        && (op.atomic
            || matches!(
                op.kind,
                OpKind::Memory(AccessKind::Wait | AccessKind::Notify)
            ))
}

/// A plain (non-atomic) load, store or bulk operation in library code.
/// Two of them are independent: std and wasi-libc are data-race free, so
/// two library threads' plain accesses to the same bytes are always ordered
/// by the library's own atomics (its locks), and reordering those atomics
/// covers them. Dropping these pairs is what keeps the allocator's and the
/// thread list's bookkeeping from multiplying the traces. A plain library
/// access still conflicts with program code and with atomics.
fn plain_library(op: &Op) -> bool {
    op.library
        && !op.atomic
        && matches!(
            op.kind,
            OpKind::Memory(
                AccessKind::Read | AccessKind::Write | AccessKind::Copy | AccessKind::Fill
            )
        )
}

/// What an operation touches, for dependency: at most one range read, one
/// written and one key synchronised with (no allocation: this is computed
/// several times per step).
#[derive(Default)]
struct Footprint {
    reads: Option<(u64, u64)>,
    writes: Option<(u64, u64)>,
    /// A key it only synchronises with (never reversed).
    syncs: Option<u64>,
    global: bool,
}

fn footprint(op: &Op) -> Footprint {
    let mut f = Footprint::default();
    if independent(op) {
        return f;
    }
    match op.kind {
        OpKind::Memory(k) => match k {
            AccessKind::Read => f.reads = Some((op.addr, op.len)),
            AccessKind::CompareExchange if op.fails => f.reads = Some((op.addr, op.len)),
            AccessKind::Write
            | AccessKind::ReadModifyWrite
            | AccessKind::CompareExchange
            | AccessKind::Fill => f.writes = Some((op.addr, op.len)),
            AccessKind::Copy => {
                f.reads = Some((op.src, op.len));
                f.writes = Some((op.addr, op.len));
            }
            AccessKind::Wait => {
                f.reads = Some((op.addr, op.len));
                f.writes = Some((FUTEX | op.addr, 1));
            }
            AccessKind::Notify => f.writes = Some((FUTEX | op.addr, 1)),
            AccessKind::Grow => f.global = true,
            AccessKind::Fence => {}
        },
        OpKind::Spawn => f.writes = Some((SPAWN_KEY, 1)),
        OpKind::Resume => f.syncs = Some(FUTEX | op.addr),
        // Arrivals at one barrier are ordered with each other (the first
        // gets the serial result); a departure takes the happens-before of
        // the arrival that released it (see `DporScheduler::candidates`) and
        // conflicts with nothing: once released, when it runs changes
        // nothing else.
        OpKind::Arrive => f.writes = Some((FUTEX | op.addr, 1)),
        OpKind::Depart => {}
        OpKind::Stop => f.global = true,
        OpKind::Start | OpKind::Yield | OpKind::Sleep | OpKind::Join | OpKind::Marker => {}
    }
    f
}

fn overlap(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.0 + b.1.max(1) && b.0 < a.0 + a.1.max(1)
}

/// Whether two operations of different threads are dependent.
fn dependent(a: &Op, b: &Op) -> bool {
    if (plain_library(a) && plain_library(b)) || independent(a) || independent(b) {
        return false;
    }
    let (fa, fb) = (footprint(a), footprint(b));
    if fa.global || fb.global {
        return true;
    }
    let any = |xs: &Option<(u64, u64)>, ys: &Option<(u64, u64)>| matches!((xs, ys), (Some(x), Some(y)) if overlap(*x, *y));
    let syncs = |f: &Footprint| f.syncs.map(|k| (k, 1));
    any(&fa.writes, &fb.writes)
        || any(&fa.writes, &fb.reads)
        || any(&fa.reads, &fb.writes)
        || any(&syncs(&fa), &fb.writes)
        || any(&fa.writes, &syncs(&fb))
}

/// Removes the keys in `block` from `map`, by whichever is shorter.
fn forget<V>(map: &mut AddrMap<V>, block: &std::ops::Range<u64>) {
    if block.end - block.start > map.len() as u64 {
        map.retain(|b, _| !block.contains(b));
    } else {
        for b in block.clone() {
            map.remove(&b);
        }
    }
}

/// A thread's last event at an address and the instructions that read it
/// since the thread last wrote it.
type Touch = (usize, SmallVec<[u32; 4]>);

/// Source-DPOR with sleep sets.
pub struct DporScheduler {
    bound: Option<u32>,
    limit: u64,
    stats: DporStats,
    nodes: Vec<Node>,
    /// The sleep set for the next new node.
    next_sleep: Sleepers,
    started: bool,
    divergence: Option<String>,
    // Per-execution analysis.
    events: Vec<Event>,
    clocks: Vec<Clock>,
    counts: Vec<u32>,
    spawn_clocks: Vec<Clock>,
    locs: AddrMap<Loc>,
    last_global: Option<usize>,
    /// Per mutex word, the last event that took the mutex (see [`Op::lock`]).
    acquired: Vec<(u64, usize)>,
    /// The step number of each notify and barrier arrival, and its event,
    /// in step order: a woken thread's resumption or departure names the
    /// step that woke it (see [`Op::src`]).
    wakers: Vec<(u64, usize)>,
    last_op: Option<Op>,
    /// Per thread: address of each of its memory accesses -> its last event
    /// there, and the instructions that read it since the thread last
    /// wrote it (see [`DporScheduler::spin_reread`]).
    touched: Vec<AddrMap<Touch>>,
    /// Consecutive steps where only a spinning thread was awake.
    stuck: u32,
    /// Merge runs of library steps into blocks.
    library_blocks: bool,
    /// Bytes a `pthread_join` read in this execution (see [`Op::join`]).
    join_words: Vec<(u64, u64)>,
    /// Parallel exploration: the pool this worker shares (see [`DporPool`]).
    pool: Option<Arc<DporPool>>,
    /// The subtree this worker explores lies below this depth.
    floor: usize,
    /// The deepest point this worker gave a subtree away from: alternatives
    /// at or above it are claimed in the pool before they are explored.
    donated: Option<usize>,
    /// Whether the worker holds a subtree to explore.
    has_task: bool,
}

/// A subtree for a worker of a parallel exploration: the path to its root,
/// the root's new choice included, and the depth below which it lies.
struct Task {
    nodes: Vec<Node>,
    floor: usize,
}

/// What the workers of one parallel DPOR exploration share. Each worker
/// explores subtrees depth-first as the serial search does; an idle worker
/// gets the shallowest unexplored alternative of a busy one, and a race
/// whose reversal belongs above a worker's subtree becomes a subtree of its
/// own. Every alternative of a point two workers can reach is claimed here
/// first, so none is explored twice, and none is lost: a claim is only made
/// by whoever will explore it.
pub struct DporPool {
    jobs: usize,
    limit: u64,
    claims: Mutex<HashSet<(u64, u32)>>,
    tasks: Mutex<Vec<Task>>,
    idle: AtomicUsize,
    executions: AtomicU64,
    stop: AtomicBool,
    budget_hit: AtomicBool,
}

impl DporPool {
    /// A pool for `jobs` workers and `limit` executions in all, holding the
    /// whole tree as its one task.
    pub fn new(jobs: usize, limit: u64) -> Arc<DporPool> {
        Arc::new(DporPool {
            jobs,
            limit,
            claims: Mutex::new(HashSet::new()),
            tasks: Mutex::new(vec![Task {
                nodes: vec![],
                floor: 0,
            }]),
            idle: AtomicUsize::new(0),
            executions: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            budget_hit: AtomicBool::new(false),
        })
    }

    /// Ends the exploration (a failure was found).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether the budget of executions cut the exploration.
    pub fn budget_hit(&self) -> bool {
        self.budget_hit.load(Ordering::SeqCst)
    }

    fn claim(&self, key: u64, t: ThreadId) -> bool {
        self.claims.lock().expect("not poisoned").insert((key, t.0))
    }

    fn push(&self, task: Task) {
        self.tasks.lock().expect("not poisoned").push(task);
    }

    fn hungry(&self) -> bool {
        self.idle.load(Ordering::SeqCst) > 0 && self.tasks.lock().expect("not poisoned").is_empty()
    }

    /// A subtree to explore; None when every worker is idle (the tree is
    /// done) or the exploration was stopped.
    fn take(&self) -> Option<Task> {
        let mut idle = false;
        loop {
            {
                let mut tasks = self.tasks.lock().expect("not poisoned");
                if let Some(task) = tasks.pop() {
                    if idle {
                        self.idle.fetch_sub(1, Ordering::SeqCst);
                    }
                    return Some(task);
                }
                if !idle {
                    idle = true;
                    self.idle.fetch_add(1, Ordering::SeqCst);
                }
                if self.idle.load(Ordering::SeqCst) == self.jobs || self.stop.load(Ordering::SeqCst)
                {
                    return None;
                }
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}

impl DporScheduler {
    /// Explores every Mazurkiewicz trace (with at most `bound` preemptions),
    /// stopping after `limit` executions.
    pub fn new(bound: Option<u32>, limit: u64) -> DporScheduler {
        DporScheduler {
            bound,
            limit,
            stats: DporStats::default(),
            nodes: vec![],
            next_sleep: Sleepers::new(),
            started: false,
            divergence: None,
            events: vec![],
            clocks: vec![],
            counts: vec![],
            spawn_clocks: vec![],
            locs: AddrMap::default(),
            last_global: None,
            acquired: Vec::new(),
            wakers: Vec::new(),
            last_op: None,
            touched: vec![],
            stuck: 0,
            library_blocks: true,
            join_words: vec![],
            pool: None,
            floor: 0,
            donated: None,
            has_task: false,
        }
    }

    /// Whether a run of library steps (Rust std, wasi-libc: told by the
    /// line table) is one step for the search (default: yes). Their
    /// internal orderings (the malloc and thread-list locks of two exiting
    /// threads) multiply the traces without being the program's; what the
    /// program sees of them still races as a whole: a block's footprint is
    /// all of its steps, and a block ends where it blocks, yields, spins,
    /// spawns, or returns to program code.
    pub fn library_blocks(mut self, on: bool) -> DporScheduler {
        self.library_blocks = on;
        self
    }

    /// The counts so far.
    pub fn stats(&self) -> DporStats {
        self.stats
    }

    fn within_bound(&self, node: &Node, t: ThreadId) -> bool {
        match self.bound {
            None => true,
            Some(k) => node.preemptions + node.is_preemption(t) as u32 <= k,
        }
    }

    fn reset_execution(&mut self) {
        self.events.clear();
        self.clocks.clear();
        self.counts.clear();
        self.spawn_clocks = vec![Clock::default()];
        self.locs.clear();
        self.last_global = None;
        self.acquired.clear();
        self.wakers.clear();
        self.last_op = None;
        self.next_sleep.clear();
        // Keep the maps' capacity from one execution to the next.
        for m in &mut self.touched {
            m.clear();
        }
        self.stuck = 0;
        self.join_words.clear();
    }

    /// Whether `op` only synchronises: a join's read, or any access, wait or
    /// notify on a word a join read (see [`Op::join`]). It takes the
    /// happens-before of what it conflicts with but races with nothing.
    fn sync_only(&self, op: &Op) -> bool {
        let OpKind::Memory(kind) = op.kind else {
            return false;
        };
        (op.join && kind == AccessKind::Read)
            || self
                .join_words
                .iter()
                .any(|&w| overlap(w, (op.addr, op.len)))
    }

    /// Like [`DporScheduler::races`] for a synchronisation-only step: every
    /// conflict orders it, none is reversed.
    fn syncs_only(&mut self, t: ThreadId, op: &Op) -> (Clock, Events, Events) {
        let base = self.base_clock(t, op);
        let (deps, mut syncs) = self.candidates(op);
        syncs.extend(deps);
        (base, Events::new(), syncs)
    }

    /// Whether `t`, about to do `op`, makes no progress: it yields, sleeps,
    /// or accesses again an address nobody else wrote since its last access
    /// (a spin loop). Switching away from it is then no preemption, and the
    /// default is to switch, so spin loops let the others run.
    fn voluntary(&self, t: ThreadId, op: &Op) -> bool {
        match op.kind {
            OpKind::Yield | OpKind::Sleep => true,
            OpKind::Memory(
                AccessKind::Read | AccessKind::CompareExchange | AccessKind::ReadModifyWrite,
            ) => {
                let Some(prev) = self
                    .touched
                    .get(t.0 as usize)
                    .and_then(|m| m.get(&op.addr))
                    .map(|e| e.0)
                else {
                    return false;
                };
                // Nobody else wrote any of its bytes since.
                (op.addr..op.addr + op.len.max(1)).all(|b| {
                    let Some(loc) = self.locs.get(&b) else {
                        return true;
                    };
                    let mine = |w: usize| w <= prev || self.events[w].thread == t;
                    loc.write.is_none_or(mine)
                        && loc.library.iter().all(|&(e, write)| !write || mine(e))
                })
            }
            _ => false,
        }
    }

    /// Whether `t`'s read `op` is a spin loop's re-read, which races with
    /// nothing (see [`DporScheduler::choose`]): it is [voluntary](Self::voluntary)
    /// (nobody else wrote the address since `t` last touched it), and the
    /// same instruction already read it since `t` last wrote it: the loop
    /// came round (a compiler that unrolled it reads through several
    /// instructions in turn: wasi-libc's barrier spins 200 rounds, unrolled
    /// four times, with a scratch write in each). Where another thread's
    /// write lands among such re-reads changes only how often the loop went
    /// round. A second read at another instruction (`a = x; b = x`) is a
    /// different program point: it races like any read, or the order with a
    /// write between the two reads is lost.
    fn spin_reread(&self, t: ThreadId, op: &Op) -> bool {
        let (OpKind::Memory(AccessKind::Read), Some(site)) = (op.kind, op.site) else {
            return false;
        };
        let ti = t.0 as usize;
        let Some((_, sites)) = self.touched.get(ti).and_then(|m| m.get(&op.addr)) else {
            return false;
        };
        sites.contains(&site) && self.voluntary(t, op)
    }

    /// Finds the deepest point with an unexplored, awake, in-bound thread.
    fn backtrack(&mut self) -> bool {
        while let Some(mut node) = self.nodes.pop() {
            let depth = self.nodes.len();
            if depth < self.floor {
                // The root of this worker's subtree: its other choices are
                // someone else's.
                return false;
            }
            if !node.done.contains(&node.chosen) {
                node.done.push(node.chosen);
            }
            let shared = self.donated.is_some_and(|d| depth <= d);
            let candidate = loop {
                let c = node.backtrack.iter().copied().find(|&t| {
                    !node.done.contains(&t) && !node.asleep(t) && node.enabled.contains(&t)
                });
                match (c, &self.pool) {
                    (Some(t), Some(pool)) if shared && !pool.claim(node.key, t) => {
                        node.done.push(t);
                    }
                    _ => break c,
                }
            };
            // Only a point that stays needs what its thread ran (for sleep sets).
            if candidate.is_some() {
                let block: Block = Arc::from(std::mem::take(&mut node.block));
                if !block.is_empty() && !node.done_blocks.iter().any(|(d, _)| *d == node.chosen) {
                    node.done_blocks.push((node.chosen, block));
                }
            }
            match candidate {
                Some(t) if self.within_bound(&node, t) => {
                    node.chosen = t;
                    self.nodes.push(node);
                    return true;
                }
                Some(t) => {
                    // Over the bound: drop it (it was planted earlier too).
                    self.stats.bound_pruned = true;
                    node.done.push(t);
                    self.nodes.push(node);
                }
                None => {}
            }
        }
        false
    }

    /// [`Scheduler::next_execution`] as a worker of `pool`.
    fn next_pooled(&mut self, pool: &DporPool) -> bool {
        loop {
            if pool.stop.load(Ordering::SeqCst) {
                return false;
            }
            if self.has_task {
                let more = !self.started || self.backtrack();
                if more {
                    if pool.executions.fetch_add(1, Ordering::SeqCst) >= pool.limit {
                        pool.budget_hit.store(true, Ordering::SeqCst);
                        pool.stop();
                        return false;
                    }
                    self.started = true;
                    if pool.hungry() {
                        self.donate(pool);
                    }
                    self.reset_execution();
                    self.stats.executions += 1;
                    return true;
                }
                self.has_task = false;
            }
            let Some(task) = pool.take() else {
                return false;
            };
            self.nodes = task.nodes;
            self.floor = task.floor;
            self.donated = None;
            self.started = false;
            self.has_task = true;
        }
    }

    /// Explores as one worker of `pool` (unbounded search only).
    pub fn with_pool(mut self, pool: Arc<DporPool>) -> DporScheduler {
        self.pool = Some(pool);
        self
    }

    /// The subtree of `q` at point `j`: the path to `j`, with `q` chosen there
    /// and the current choice retired as explored.
    fn task_at(&self, j: usize, q: ThreadId) -> Task {
        let mut nodes = self.nodes[..=j].to_vec();
        let node = &mut nodes[j];
        if !node.done.contains(&node.chosen) {
            node.done.push(node.chosen);
        }
        let block: Block = Arc::from(std::mem::take(&mut node.block));
        if !block.is_empty() && !node.done_blocks.iter().any(|(d, _)| *d == node.chosen) {
            node.done_blocks.push((node.chosen, block));
        }
        node.chosen = q;
        if !node.backtrack.contains(&q) {
            node.backtrack.push(q);
        }
        Task {
            nodes,
            floor: j + 1,
        }
    }

    /// Gives the shallowest unexplored alternative of this worker's subtree
    /// to the pool, first claiming what this worker explored or explores on
    /// the way there.
    fn donate(&mut self, pool: &DporPool) {
        for i in self.floor..self.nodes.len() {
            if self.nodes[i].start != i {
                continue;
            }
            let node = &self.nodes[i];
            let alternatives: Threads = node
                .backtrack
                .iter()
                .copied()
                .filter(|&t| {
                    t != node.chosen
                        && !node.done.contains(&t)
                        && !node.asleep(t)
                        && node.enabled.contains(&t)
                })
                .collect();
            for t in alternatives {
                for k in self.floor..=i {
                    let n = &self.nodes[k];
                    if n.start == k {
                        pool.claim(n.key, n.chosen);
                        for &d in &n.done {
                            pool.claim(n.key, d);
                        }
                    }
                }
                if pool.claim(self.nodes[i].key, t) {
                    let task = self.task_at(i, t);
                    self.nodes[i].done.push(t);
                    self.donated = Some(self.donated.map_or(i, |d| d.max(i)));
                    pool.push(task);
                    return;
                }
                self.nodes[i].done.push(t);
            }
        }
    }

    fn clock_of(&self, t: ThreadId) -> Clock {
        self.clocks.get(t.0 as usize).cloned().unwrap_or_default()
    }

    fn hb(&self, e: usize, c: &Clock) -> bool {
        let ev = &self.events[e];
        c.get(ev.thread) >= ev.local
    }

    /// The events `op` of `t` depends on directly (last writes, reads since).
    fn candidates(&self, op: &Op) -> (Events, Events) {
        let f = footprint(op);
        let lib = plain_library(op);
        let mut deps = Events::new();
        let mut syncs = Events::new();
        let bytes = |(start, len): (u64, u64), write: bool, deps: &mut Events| {
            for b in start..start + len.max(1) {
                if let Some(loc) = self.locs.get(&b) {
                    deps.extend(loc.write);
                    if write {
                        deps.extend(loc.reads.iter().copied());
                    }
                    if !lib {
                        deps.extend(
                            loc.library
                                .iter()
                                .filter(|&&(_, w)| write || w)
                                .map(|&(e, _)| e),
                        );
                    }
                }
            }
        };
        if let Some(r) = f.reads {
            bytes(r, false, &mut deps);
        }
        if let Some(w) = f.writes {
            bytes(w, true, &mut deps);
        }
        if matches!(op.kind, OpKind::Resume | OpKind::Depart) && op.src != 0 {
            // Exactly the notify or arrival that woke it (whose clock holds
            // the earlier arrivals'), not the last step on the word since:
            // the waker may have gone on and notified again, and what it did
            // in between would be ordered before all this thread does next.
            if let Ok(k) = self.wakers.binary_search_by_key(&op.src, |&(s, _)| s) {
                syncs.push(self.wakers[k].1);
            }
        }
        if let Some(g) = self.last_global {
            deps.push(g);
        }
        if f.global {
            // Dependent with everything: each other thread's last event
            // (that is not independent of everything).
            for (i, &n) in self.counts.iter().enumerate() {
                if n > 0 {
                    if let Some(e) = self
                        .events
                        .iter()
                        .rposition(|e| e.thread.0 as usize == i && !e.independent && !e.notify)
                    {
                        deps.push(e);
                    }
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        (deps, syncs)
    }

    /// Base clock of `t`'s next event: its previous event, or for a new
    /// thread its spawn.
    fn base_clock(&self, t: ThreadId, op: &Op) -> Clock {
        let mut base = self.clock_of(t);
        if op.kind == OpKind::Start {
            if let Some(c) = self.spawn_clocks.get(t.0 as usize) {
                base.join(c);
            }
        }
        if op.kind == OpKind::Join {
            let child = ThreadId(op.addr as u32);
            base.join(&self.clock_of(child));
        }
        base
    }

    /// Plants backtrack points for every race of `op` by `t` as the next event.
    fn races(&mut self, t: ThreadId, op: &Op) -> (Clock, Events, Events) {
        let base = self.base_clock(t, op);
        let (deps, syncs) = self.candidates(op);
        let deps: Events = deps
            .into_iter()
            .filter(|&d| self.events[d].thread != t)
            .collect();
        let mut races = vec![];
        for &j in &deps {
            if self.hb(j, &base) {
                continue;
            }
            if deps
                .iter()
                .any(|&k| k != j && self.hb(j, &self.events[k].clock))
            {
                continue;
            }
            races.push(j);
        }
        for &j in &races {
            let mut excl = base.clone();
            for &k in deps.iter().filter(|&&k| k != j) {
                excl.join(&self.events[k].clock);
            }
            self.reverse(j, t, &excl);
        }
        if op.lock && !independent(op) {
            // The previous taker of the mutex, unordered but for the unlock.
            let prev = self
                .acquired
                .iter()
                .find(|(a, _)| *a == op.addr)
                .map(|&(_, j)| j);
            if let Some(j) = prev.filter(|&j| self.events[j].thread != t && !self.hb(j, &base)) {
                self.reverse(j, t, &base);
            }
        }
        (base, deps, syncs)
    }

    /// Race between event `j` and the next event of `t` (whose clock without
    /// `j` is `excl`): make sure some initial of `notdep(j).t` is tried at `j`.
    fn reverse(&mut self, j: usize, t: ThreadId, excl: &Clock) {
        let mut first: Vec<(ThreadId, u32)> = vec![];
        let mut initials: Vec<ThreadId> = vec![];
        for k in j + 1..self.events.len() {
            if self.hb(j, &self.events[k].clock) {
                continue;
            }
            let ek = &self.events[k];
            if first.iter().any(|&(th, _)| th == ek.thread) {
                continue;
            }
            let has_pred = first.iter().any(|&(th, f)| ek.clock.get(th) >= f);
            first.push((ek.thread, ek.local));
            if !has_pred {
                initials.push(ek.thread);
            }
        }
        if !first.iter().any(|&(th, _)| th == t) && !first.iter().any(|&(th, f)| excl.get(th) >= f)
        {
            initials.push(t);
        }
        if initials.is_empty() {
            return;
        }
        let j = self.nodes[j].start;
        let node = &self.nodes[j];
        if initials
            .iter()
            .any(|i| node.backtrack.contains(i) || node.done.contains(i) || node.asleep(*i))
        {
            return;
        }
        let q = if initials.contains(&t) {
            t
        } else {
            initials[0]
        };
        if !node.enabled.contains(&q) {
            return;
        }
        self.plant(j, q);
    }

    fn plant(&mut self, j: usize, q: ThreadId) {
        let j = self.nodes[j].start;
        if j < self.floor {
            // Above this worker's subtree: a subtree of its own, unless
            // someone has it already.
            if let Some(pool) = &self.pool {
                if pool.claim(self.nodes[j].key, q) {
                    pool.push(self.task_at(j, q));
                }
            }
            return;
        }
        if self.within_bound(&self.nodes[j], q) {
            self.nodes[j].backtrack.push(q);
            return;
        }
        self.stats.bound_pruned = true;
        // Bounded POR: also where q runs without a preemption.
        for i in (0..j).rev() {
            let n = &self.nodes[i];
            if n.start == i && n.enabled.contains(&q) && !n.is_preemption(q) {
                if !n.backtrack.contains(&q)
                    && !n.done.contains(&q)
                    && !n.asleep(q)
                    && self.within_bound(n, q)
                {
                    self.nodes[i].backtrack.push(q);
                }
                return;
            }
        }
    }

    /// Whether replayed point `i` finds the state it recorded (same runnable
    /// threads, same pending operations); records a divergence otherwise.
    fn replay_matches(&mut self, i: usize, choice: &Choice<'_>) -> bool {
        let node = &self.nodes[i];
        let same = node.enabled[..] == *choice.runnable
            && node
                .enabled
                .iter()
                .zip(&node.pending)
                .all(|(&t, op)| choice.pending(t) == op);
        if !same {
            self.divergence.get_or_insert_with(|| {
                format!(
                    "DPOR replay found a different state at step {} (nondeterministic guest?)",
                    i + 1
                )
            });
        }
        same
    }

    /// The thread that must go on at new point `i` because it is inside a
    /// block of library steps: it ran the previous step, that step and this
    /// one are library memory accesses, and the block is not over-long (a
    /// library loop re-reads its own data, so a spin is only told apart by
    /// the length: std and wasi-libc spin at most ~100 rounds, then wait).
    fn continues_block(&self, i: usize, choice: &Choice<'_>) -> Option<ThreadId> {
        if !self.library_blocks || i == 0 {
            return None;
        }
        let c = choice.current?;
        let prev = self.last_op?;
        let op = choice.pending(c);
        let library_memory = |o: &Op| o.library && matches!(o.kind, OpKind::Memory(_));
        let start = self.nodes[i - 1].start;
        let second_visible = visible(op) && self.nodes[start].block.iter().any(visible);
        (self.nodes[i - 1].chosen == c
            && library_memory(&prev)
            && library_memory(op)
            && !matches!(op.kind, OpKind::Memory(AccessKind::Grow))
            && !second_visible
            && i - start < MAX_BLOCK)
            .then_some(c)
    }

    /// A step while the only thread is the first one (nothing spawned yet):
    /// it cannot race, and everything it does happens before any other
    /// thread's first step (through the spawn), so only its clock and the
    /// path are kept.
    fn alone(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        let t = choice.runnable[0];
        let i = self.events.len();
        let op = *choice.pending(t);
        if i < self.nodes.len() {
            if !self.replay_matches(i, choice) {
                return None;
            }
        } else {
            self.nodes.push(Node {
                key: key_after(self.nodes.last(), i),
                enabled: smallvec::smallvec![t],
                pending: smallvec::smallvec![op],
                current: choice.current,
                chosen: t,
                backtrack: smallvec::smallvec![t],
                done: Threads::new(),
                done_blocks: vec![],
                block: vec![],
                start: i,
                sleep: Sleepers::new(),
                preemptions: 0,
                voluntary: false,
            });
        }
        let ti = t.0 as usize;
        if self.counts.len() <= ti {
            self.counts.resize(ti + 1, 0);
            self.clocks.resize(ti + 1, Clock::default());
        }
        self.counts[ti] += 1;
        self.clocks[ti].set(t, self.counts[ti]);
        if op.kind == OpKind::Spawn {
            self.spawn_clocks.push(self.clocks[ti].clone());
        }
        self.events.push(Event {
            thread: t,
            local: self.counts[ti],
            clock: self.clocks[ti].clone(),
            independent: independent(&op),
            notify: op.kind == OpKind::Memory(AccessKind::Notify),
        });
        self.last_op = Some(op);
        self.next_sleep.clear();
        Some(t)
    }

    /// Records a step that takes part in no race (a spin re-read).
    fn execute_silent(&mut self, t: ThreadId, op: &Op, mut clock: Clock) {
        let ti = t.0 as usize;
        if self.counts.len() <= ti {
            self.counts.resize(ti + 1, 0);
            self.clocks.resize(ti + 1, Clock::default());
        }
        self.counts[ti] += 1;
        clock.set(t, self.counts[ti]);
        self.clocks[ti] = clock.clone();
        self.events.push(Event {
            thread: t,
            local: self.counts[ti],
            clock,
            independent: false,
            notify: false,
        });
        self.last_op = Some(*op);
    }

    /// Records the event `op` of `t` at index `i`, after its races were planted.
    fn execute(&mut self, t: ThreadId, op: &Op, base: Clock, deps: &[usize], syncs: &[usize]) {
        let i = self.events.len();
        let wakes = matches!(op.kind, OpKind::Memory(AccessKind::Notify) | OpKind::Arrive);
        if wakes && op.src != 0 && !independent(op) {
            self.wakers.push((op.src, i));
        }
        if op.lock {
            match self.acquired.iter_mut().find(|(a, _)| *a == op.addr) {
                Some(e) => e.1 = i,
                None => self.acquired.push((op.addr, i)),
            }
        }
        let ti = t.0 as usize;
        if self.counts.len() <= ti {
            self.counts.resize(ti + 1, 0);
            self.clocks.resize(ti + 1, Clock::default());
        }
        let mut clock = base;
        for &d in deps.iter().chain(syncs) {
            clock.join(&self.events[d].clock);
        }
        self.counts[ti] += 1;
        clock.set(t, self.counts[ti]);
        self.clocks[ti] = clock.clone();
        let f = footprint(op);
        let lib = plain_library(op);
        let events = &self.events;
        let of = |e: usize| events.get(e).map_or(t, |ev| ev.thread);
        if let Some((start, len)) = f.writes {
            for b in start..start + len.max(1) {
                let loc = self.locs.entry(b).or_default();
                if lib {
                    loc.library.retain(|&mut (e, _)| of(e) != t);
                    loc.library.push((i, true));
                } else {
                    loc.write = Some(i);
                    loc.reads.clear();
                    loc.library.clear();
                }
            }
        }
        if let Some((start, len)) = f.reads {
            for b in start..start + len.max(1) {
                let loc = self.locs.entry(b).or_default();
                if lib {
                    loc.library.retain(|&mut (e, w)| w || of(e) != t);
                    loc.library.push((i, false));
                } else {
                    loc.reads.push(i);
                }
            }
        }
        if f.global {
            self.last_global = Some(i);
        }
        if op.kind == OpKind::Spawn {
            // Spawns are ordered (they write SPAWN_KEY): the k-th creates thread k.
            self.spawn_clocks.push(clock.clone());
        }
        if let OpKind::Memory(_) = op.kind {
            if self.touched.len() <= ti {
                self.touched.resize_with(ti + 1, AddrMap::default);
            }
            let (last, sites) = self.touched[ti]
                .entry(op.addr)
                .or_insert((i, SmallVec::new()));
            *last = i;
            match (op.kind, op.site) {
                (OpKind::Memory(AccessKind::Read), Some(site)) if !sites.contains(&site) => {
                    sites.push(site)
                }
                (OpKind::Memory(AccessKind::Read), _) => {}
                _ => sites.clear(),
            }
        }
        self.events.push(Event {
            thread: t,
            local: self.counts[ti],
            clock,
            independent: independent(op),
            notify: op.kind == OpKind::Memory(AccessKind::Notify),
        });
        self.last_op = Some(*op);
    }
}

impl Scheduler for DporScheduler {
    fn next_execution(&mut self) -> bool {
        if let Some(pool) = self.pool.clone() {
            return self.next_pooled(&pool);
        }
        if self.stats.executions >= self.limit {
            return false;
        }
        if self.started && !self.backtrack() {
            self.stats.exhausted = true;
            return false;
        }
        self.started = true;
        self.reset_execution();
        self.stats.executions += 1;
        true
    }

    fn choose_always(&self) -> bool {
        true
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        let i = self.events.len();
        if self.spawn_clocks.len() == 1 && choice.runnable.len() == 1 {
            return self.alone(choice);
        }
        let fresh = i >= self.nodes.len();
        let chosen = if !fresh {
            if !self.replay_matches(i, choice) {
                return None;
            }
            self.nodes[i].chosen
        } else if let Some(c) = self.continues_block(i, choice) {
            let prev = &self.nodes[i - 1];
            let node = Node {
                key: key_after(Some(prev), i),
                enabled: choice.runnable.iter().copied().collect(),
                pending: choice
                    .runnable
                    .iter()
                    .map(|&t| *choice.pending(t))
                    .collect(),
                current: choice.current,
                chosen: c,
                backtrack: smallvec::smallvec![c],
                done: Threads::new(),
                done_blocks: vec![],
                block: vec![],
                start: prev.start,
                // Sleepers stay asleep through the block while it leaves them be.
                sleep: std::mem::take(&mut self.next_sleep)
                    .into_iter()
                    .filter(|(t, _)| choice.runnable.contains(t))
                    .collect(),
                preemptions: prev.preemptions,
                voluntary: false,
            };
            self.nodes.push(node);
            self.stuck = 0;
            c
        } else {
            let pending: SmallVec<[Op; 4]> = choice
                .runnable
                .iter()
                .map(|&t| *choice.pending(t))
                .collect();
            let prev = self.nodes.last();
            let preemptions = prev.map_or(0, |p| p.preemptions + p.is_preemption(p.chosen) as u32);
            let sleep: Sleepers = std::mem::take(&mut self.next_sleep)
                .into_iter()
                .filter(|(t, _)| choice.runnable.contains(t))
                .collect();
            let voluntary = choice
                .current
                .is_some_and(|c| self.voluntary(c, choice.pending(c)));
            let mut node = Node {
                key: key_after(self.nodes.last(), i),
                enabled: choice.runnable.iter().copied().collect(),
                pending,
                current: choice.current,
                chosen: choice.runnable[0],
                backtrack: Threads::new(),
                done: Threads::new(),
                done_blocks: vec![],
                block: vec![],
                start: i,
                sleep,
                preemptions,
                voluntary,
            };
            let awake: Threads = node
                .enabled
                .iter()
                .copied()
                .filter(|&t| !node.asleep(t))
                .collect();
            let Some(&first) = awake.first() else {
                self.stats.sleep_blocked += 1;
                return None;
            };
            // Default: keep the current thread (no preemption); when it yields
            // or spins, the next awake thread after it, round-robin.
            let pick = match choice.current {
                Some(c) if awake.contains(&c) && !voluntary => c,
                Some(c) => awake.iter().copied().find(|t| t.0 > c.0).unwrap_or(first),
                None => first,
            };
            if voluntary && Some(pick) == choice.current && node.enabled.len() > 1 {
                // Only a spinning thread is awake: what lets it progress is a
                // sleeping thread, whose runs are covered elsewhere. A spinner
                // that would wake a sleeper does so within a loop iteration;
                // one that spins on and on is redundant, not a livelock.
                self.stuck += 1;
                if self.stuck > MAX_STUCK_SPINS {
                    self.stats.sleep_blocked += 1;
                    return None;
                }
            } else {
                self.stuck = 0;
            }
            if !self.within_bound(&node, pick) {
                self.stats.bound_blocked += 1;
                self.stats.bound_pruned = true;
                return None;
            }
            node.chosen = pick;
            node.backtrack.push(pick);
            self.nodes.push(node);
            pick
        };
        let op = *choice.pending(chosen);
        let start = self.nodes[i].start;
        if start == i {
            if self.nodes[i].block.is_empty() {
                self.nodes[i].block.push(op);
            }
        } else if fresh {
            self.nodes[start].block.push(op);
        }
        if self.spin_reread(chosen, &op) {
            // A spin re-read: the same thread reads again what nobody wrote
            // since. Where a write would land among the re-reads changes only
            // how often the loop went round, so only the first read of the
            // run is an event that races. A sleeper stays asleep (its write
            // before this re-read was explored; after it, the loop only went
            // round once more).
            let base = self.base_clock(chosen, &op);
            let node = &self.nodes[i];
            let mut next: Sleepers = node.sleep.clone();
            for &d in &node.done {
                if node.enabled.contains(&d) && !next.iter().any(|(t, _)| *t == d) {
                    next.push((d, node.block_of(d)));
                }
            }
            next.retain(|(t, _)| *t != chosen);
            self.next_sleep = next;
            self.execute_silent(chosen, &op, base);
            return Some(chosen);
        }
        if op.join && op.kind == OpKind::Memory(AccessKind::Read) {
            self.join_words.push((op.addr, op.len));
        }
        let sync_only = self.sync_only(&op);
        let (base, deps, syncs) = if sync_only {
            self.syncs_only(chosen, &op)
        } else {
            self.races(chosen, &op)
        };
        // The sleep set of the next point: earlier siblings and sleepers
        // whose next step is independent of this one.
        let node = &self.nodes[i];
        let mut next: Sleepers = node.sleep.clone();
        for &d in &node.done {
            if node.enabled.contains(&d) && !next.iter().any(|(t, _)| *t == d) {
                next.push((d, node.block_of(d)));
            }
        }
        next.retain(|(t, b)| *t != chosen && (sync_only || !dependent_block(b, &op)));
        self.next_sleep = next;
        self.execute(chosen, &op, base, &deps, &syncs);
        Some(chosen)
    }

    /// The bytes start a new life: no access before this makes a later one
    /// dependent. The allocator handed them out, so whoever touched them
    /// before freed them first, ordered by the allocator's lock, which the
    /// search leaves unordered; keeping that history would order the two
    /// threads through the reuse of memory, and reversing it changes which
    /// block `malloc` returns, not the order (three std threads' increments
    /// reached 15 of their 90 orders with library steps). A stale pointer's
    /// use after the `free` still meets the `free`'s writes (a use after
    /// free), until the block is handed out again.
    ///
    /// So does what else is known of the old block's words: a word a join
    /// read (a thread's exit state, freed with the thread) would make the
    /// new owner's accesses synchronisations that race with nothing; a
    /// mutex's last taker, or a thread's earlier access there (a spin's
    /// start), belongs to the old block too.
    fn allocated(&mut self, _thread: ThreadId, addr: u64, len: u64) {
        let block = addr..addr + len;
        forget(&mut self.locs, &block);
        for m in &mut self.touched {
            forget(m, &block);
        }
        self.join_words.retain(|&w| !overlap(w, (addr, len.max(1))));
        self.acquired.retain(|(a, _)| !block.contains(a));
    }

    fn finish_execution(&mut self, end: &Finish<'_>) -> Result<(), Divergence> {
        if let Some(d) = self.divergence.take() {
            return Err(Divergence(d));
        }
        if end.kind == FinishKind::Abandoned {
            return Ok(());
        }
        self.stats.complete += 1;
        // Races of the steps that never ran: each runnable thread's pending
        // operation, as if it came next. A stop, or the step that hit the
        // bound, is dependent with all of them.
        let last = self.events.len().checked_sub(1);
        let everything = end.kind == FinishKind::StepBound
            || self.last_op.is_some_and(|o| o.kind == OpKind::Stop);
        for &q in end.runnable {
            let op = *end.pending(q);
            if op.kind == OpKind::Stop && self.last_op.is_some_and(|o| o.kind == OpKind::Stop) {
                continue;
            }
            if !self.sync_only(&op) {
                self.races(q, &op);
            }
            if let (true, Some(l)) = (everything, last.map(|l| self.nodes[l].start)) {
                let base = self.base_clock(q, &op);
                if self.events[l].thread != q
                    && !self.hb(l, &base)
                    && self.nodes[l].enabled.contains(&q)
                {
                    let node = &self.nodes[l];
                    if !node.backtrack.contains(&q) && !node.done.contains(&q) && !node.asleep(q) {
                        self.plant(l, q);
                    }
                }
            }
        }
        Ok(())
    }

    fn coverage(&self) -> Option<Coverage> {
        Some(Coverage {
            algorithm: "source-DPOR with sleep sets",
            executions: self.stats.executions,
            complete: self.stats.complete,
            sleep_blocked: self.stats.sleep_blocked,
            bound_blocked: self.stats.bound_blocked,
            exhausted: self.stats.exhausted,
            preemption_bound: self.bound,
            bound_pruned: self.stats.bound_pruned,
            library_blocks: self.library_blocks,
        })
    }

    fn name(&self) -> &'static str {
        "dpor"
    }

    fn progress_note(&self) -> Option<String> {
        let frontier: usize = self
            .nodes
            .iter()
            .map(|n| {
                n.backtrack
                    .iter()
                    .filter(|t| !n.done.contains(t) && **t != n.chosen)
                    .count()
            })
            .sum();
        Some(format!(
            "frontier {frontier} branches, depth {}",
            self.nodes.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(kind: AccessKind, addr: u64, len: u64) -> Op {
        Op {
            kind: OpKind::Memory(kind),
            site: None,
            addr,
            len,
            src: 0,
            atomic: false,
            library: false,
            allocator: false,
            join: false,
            bookkeeping: false,
            fails: false,
            lock: false,
        }
    }

    #[test]
    fn dependency_is_by_overlapping_bytes_with_a_write() {
        use AccessKind::*;
        assert!(dependent(&mem(Write, 0, 4), &mem(Read, 2, 1)));
        assert!(!dependent(&mem(Write, 0, 4), &mem(Read, 4, 4)));
        assert!(!dependent(&mem(Read, 0, 4), &mem(Read, 0, 4)));
        assert!(dependent(
            &mem(CompareExchange, 8, 4),
            &mem(CompareExchange, 8, 4)
        ));
        // A compare-exchange that fails only reads.
        let failing = Op {
            fails: true,
            ..mem(CompareExchange, 8, 4)
        };
        assert!(!dependent(&failing, &failing));
        assert!(!dependent(&failing, &mem(Read, 8, 4)));
        assert!(dependent(&failing, &mem(CompareExchange, 8, 4)));
        assert!(dependent(&failing, &mem(Write, 10, 1)));
        assert!(dependent(&mem(Wait, 8, 4), &mem(Notify, 8, 4)));
        assert!(!dependent(&mem(Wait, 8, 4), &mem(Notify, 12, 4)));
        assert!(dependent(&mem(Grow, 0, 0), &mem(Read, 100, 1)));
        assert!(dependent(
            &Op::plain(OpKind::Spawn),
            &Op::plain(OpKind::Spawn)
        ));
        assert!(!dependent(&Op::plain(OpKind::Yield), &mem(Write, 0, 8)));
        assert!(dependent(&Op::plain(OpKind::Stop), &mem(Read, 0, 1)));
    }

    #[test]
    fn library_plain_pairs_and_the_allocator_are_independent() {
        use AccessKind::*;
        let lib = |k, atomic| Op {
            library: true,
            atomic,
            ..mem(k, 0, 4)
        };
        // Two plain library accesses: ordered by the library's own locks.
        assert!(!dependent(&lib(Write, false), &lib(Write, false)));
        // A library atomic, or program code, still conflicts.
        assert!(dependent(&lib(Write, false), &lib(CompareExchange, true)));
        assert!(dependent(&lib(Write, false), &mem(Read, 0, 4)));
        let alloc = |k| Op {
            allocator: true,
            ..lib(k, true)
        };
        assert!(!dependent(
            &alloc(CompareExchange),
            &lib(CompareExchange, true)
        ));
        assert!(!dependent(&alloc(Write), &mem(Write, 0, 4)));
        // Its plain accesses are plain library ones: `free` writing its
        // links into a chunk conflicts with a use of the chunk.
        let alloc_plain = |k| Op {
            allocator: true,
            ..lib(k, false)
        };
        assert!(dependent(&alloc_plain(Write), &mem(Read, 0, 4)));
        assert!(!dependent(&alloc_plain(Write), &alloc_plain(Write)));
        assert!(!dependent(&alloc_plain(Write), &lib(Read, false)));
        // Blocking in the allocator still orders.
        assert!(dependent(&alloc(Wait), &mem(Notify, 0, 4)));
        // The thread bookkeeping is independent, blocking included.
        let book = |k| Op {
            bookkeeping: true,
            ..lib(k, true)
        };
        assert!(!dependent(
            &book(CompareExchange),
            &lib(CompareExchange, true)
        ));
        assert!(!dependent(&book(Wait), &mem(Notify, 0, 4)));
        assert!(!dependent(&book(Notify), &book(Notify)));
    }

    #[test]
    fn a_block_holds_one_visible_step() {
        use AccessKind::*;
        let lib = |k, atomic| Op {
            library: true,
            atomic,
            ..mem(k, 0, 4)
        };
        assert!(visible(&lib(CompareExchange, true)));
        assert!(visible(&lib(Read, true)));
        assert!(visible(&lib(Wait, false)));
        assert!(!visible(&lib(Write, false)));
        let alloc = Op {
            allocator: true,
            ..lib(CompareExchange, true)
        };
        assert!(!visible(&alloc));
    }
}
