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
//!
//! Where each rule lives: this file holds the scheduler and its per-step
//! `choose` (sleep sets included); `tree` the search tree and backtracking;
//! `footprint` dependency (what conflicts with what, the library and
//! allocator rules); `races` happens-before, race detection and events;
//! `clock` vector clocks; `library` library blocks and spin re-reads;
//! `pool` the parallel workers.

use super::visible::WordHasher;
use super::{Choice, Coverage, Divergence, Finish, FinishKind, Scheduler};
use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi::AccessKind;
use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Threads at a point (inline: the per-step path allocates nothing for a
/// handful of threads).
type Threads = SmallVec<[ThreadId; 4]>;
/// A sleep set: threads and the blocks they would run.
type Sleepers = Vec<(ThreadId, Block)>;
/// Event indices.
type Events = SmallVec<[usize; 8]>;

/// Maps keyed by address, with a hasher cheap enough for the per-step path.
type AddrMap<V> = HashMap<u64, V, BuildHasherDefault<WordHasher>>;

mod clock;
#[cfg(test)]
mod every_schedule;
mod footprint;
mod library;
mod locs;
mod pool;
mod races;
mod rewind;
mod tree;

use clock::{Clock, Event};
use footprint::*;
use library::MAX_STUCK_SPINS;
use locs::Locs;
pub use pool::DporPool;
use rewind::{StepMark, Undo};
use tree::{key_after, Node};

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
    locs: Locs,
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
    /// Undo journal of the analysis state (see [`rewind`]).
    undo: Vec<Undo>,
    /// Per analysed step, the state before it.
    marks: Vec<StepMark>,
    /// Steps at the start of this execution whose analysis was kept from
    /// the previous one: they are only replayed.
    reused: usize,
    /// Steps taken so far in this execution.
    step: usize,
    /// Whether the analysis of the replayed prefix is kept (off only to
    /// test that keeping it changes nothing).
    reuse_prefix: bool,
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
            locs: Locs::default(),
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
            undo: vec![],
            marks: vec![],
            reused: 0,
            step: 0,
            reuse_prefix: true,
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

    /// Starts an execution: one that `resumed` the path of the previous one
    /// (backtracked) branches at the last node, and the analysis of the
    /// steps before it is kept; otherwise a new path.
    fn reset_execution(&mut self, resumed: bool) {
        let branch = if resumed && self.reuse_prefix {
            self.nodes.len() - 1
        } else {
            0
        };
        self.reused = self.rewind(branch);
        self.step = 0;
    }

    /// Empties the per-execution analysis.
    fn clear_analysis(&mut self) {
        self.undo.clear();
        self.marks.clear();
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

    /// Explores as one worker of `pool` (unbounded search only).
    pub fn with_pool(mut self, pool: Arc<DporPool>) -> DporScheduler {
        self.pool = Some(pool);
        self
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
}

#[cfg(test)]
impl DporScheduler {
    /// One choice of a model test's run: `runnable` (ascending) with each
    /// thread's `pending` step, after `current` ran step `step - 1`.
    pub(super) fn choose_among(
        &mut self,
        current: Option<ThreadId>,
        runnable: &[ThreadId],
        pending: &[Op],
        step: u64,
    ) -> Option<ThreadId> {
        self.choose(&Choice {
            current: current.filter(|c| runnable.contains(c)),
            runnable,
            pending,
            step,
            markers: &[],
            thread_names: &[],
        })
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
        let resumed = self.started;
        self.started = true;
        self.reset_execution(resumed);
        self.stats.executions += 1;
        true
    }

    fn choose_always(&self) -> bool {
        true
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        let step = self.step;
        self.step += 1;
        if step < self.reused {
            // Analysed in an earlier execution (see [`rewind`]).
            if !self.replay_matches(step, choice) {
                return None;
            }
            return Some(self.nodes[step].chosen);
        }
        self.mark_step();
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
            self.save_join_words();
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
        if self.reused > 0 && self.step <= self.reused {
            // Before the branch point: the kept state has it already.
            return;
        }
        let block = addr..addr + len;
        self.locs.forget(&block);
        self.forget_touched(&block);
        let old_word = |&w: &(u64, u64)| overlap(w, (addr, len.max(1)));
        if self.join_words.iter().any(old_word) {
            self.save_join_words();
            self.join_words.retain(|w| !old_word(w));
        }
        if self.acquired.iter().any(|(a, _)| block.contains(a)) {
            self.save_acquired();
            self.acquired.retain(|(a, _)| !block.contains(a));
        }
    }

    fn finish_execution(&mut self, end: &Finish<'_>) -> Result<(), Divergence> {
        if let Some(d) = self.divergence.take() {
            return Err(Divergence(d));
        }
        // A thread waiting for a held mutex would take it if its holder had
        // not: the acquisition races with the holder's (a lock-order
        // deadlock otherwise ends every execution that reversed the first
        // of the two mutexes before the second could be). Also where the
        // execution is abandoned, all its runnable threads asleep: a
        // sleeper's runs are covered elsewhere, but a waiter is no sleeper
        // (see `every_schedule`: the order with the waiter first was lost).
        for &q in end.waiting {
            let op = *end.pending(q);
            if op.lock && !self.sync_only(&op) {
                self.races(q, &op);
            }
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
