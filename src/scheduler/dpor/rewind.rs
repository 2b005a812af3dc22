//! Keeping the analysis of the replayed prefix. Each execution after the
//! first replays the previous one's steps up to the point it branches at,
//! and the race analysis of those steps would find what it found before:
//! the same events, clocks and conflicts, and the same races, whose
//! reversals are planted already (planting is idempotent: a thread in the
//! backtrack, done or sleep set of a point is not planted again, and those
//! sets only grow). So the analysis state is taken back to that point
//! through an undo journal, and the replayed steps only check that the
//! guest did the same (about half of all steps; DPOR's bookkeeping was most
//! of its time).

use super::*;

/// A change to the analysis state that the journal can undo (the per-byte
/// record journals itself, see [`Locs`]).
pub(super) enum Undo {
    /// A thread's record of one address, before it changed.
    Touch {
        thread: usize,
        addr: u64,
        old: Option<Touch>,
    },
    Acquired(Vec<(u64, usize)>),
    JoinWords(Vec<(u64, u64)>),
}

/// The analysis state before a step, as far as it is not in the journals.
pub(super) struct StepMark {
    locs: usize,
    undo: usize,
    spawn_clocks: usize,
    wakers: usize,
    last_global: Option<usize>,
    last_op: Option<Op>,
}

impl DporScheduler {
    /// Records where the state stood before the step about to be analysed.
    pub(super) fn mark_step(&mut self) {
        self.marks.push(StepMark {
            locs: self.locs.journal_len(),
            undo: self.undo.len(),
            spawn_clocks: self.spawn_clocks.len(),
            wakers: self.wakers.len(),
            last_global: self.last_global,
            last_op: self.last_op,
        });
    }

    /// Takes the analysis back to just before step `k` (what the memory
    /// allocator reported before that step included) and returns how many
    /// steps it keeps: `k`, or 0 when there is no such point (then the
    /// state is empty).
    pub(super) fn rewind(&mut self, k: usize) -> usize {
        if k == 0 || k >= self.marks.len() || k > self.events.len() {
            self.clear_analysis();
            return 0;
        }
        let m = &self.marks[k];
        let (locs, undo) = (m.locs, m.undo);
        self.spawn_clocks.truncate(m.spawn_clocks);
        self.wakers.truncate(m.wakers);
        self.last_global = m.last_global;
        self.last_op = m.last_op;
        self.locs.rewind(locs);
        while self.undo.len() > undo {
            match self.undo.pop() {
                Some(Undo::Touch { thread, addr, old }) => {
                    let map = &mut self.touched[thread];
                    match old {
                        Some(v) => {
                            map.insert(addr, v);
                        }
                        None => {
                            map.remove(&addr);
                        }
                    }
                }
                Some(Undo::Acquired(v)) => self.acquired = v,
                Some(Undo::JoinWords(v)) => self.join_words = v,
                None => break,
            }
        }
        self.marks.truncate(k);
        self.events.truncate(k);
        // Each thread's clock and count are those of its last event.
        self.counts.fill(0);
        self.clocks.fill(Clock::default());
        let mut left = self.counts.len();
        for e in self.events.iter().rev() {
            let ti = e.thread.0 as usize;
            if self.counts[ti] == 0 {
                self.counts[ti] = e.local;
                self.clocks[ti] = e.clock.clone();
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
        // Only a new point reads these, and the point at `k` is not new.
        self.next_sleep.clear();
        self.stuck = 0;
        k
    }

    /// Forgets everything `block` held in the threads' records of their
    /// accesses, journaled.
    pub(super) fn forget_touched(&mut self, block: &std::ops::Range<u64>) {
        for (thread, map) in self.touched.iter_mut().enumerate() {
            if block.end - block.start > map.len() as u64 {
                map.retain(|&addr, v| {
                    let keep = !block.contains(&addr);
                    if !keep {
                        self.undo.push(Undo::Touch {
                            thread,
                            addr,
                            old: Some(v.clone()),
                        });
                    }
                    keep
                });
            } else {
                for addr in block.clone() {
                    if let Some(v) = map.remove(&addr) {
                        self.undo.push(Undo::Touch {
                            thread,
                            addr,
                            old: Some(v),
                        });
                    }
                }
            }
        }
    }

    /// Thread `ti`'s record of `addr`, for a change, its old value journaled.
    pub(super) fn touch(&mut self, ti: usize, addr: u64) -> &mut Touch {
        if self.touched.len() <= ti {
            self.touched.resize_with(ti + 1, AddrMap::default);
        }
        use std::collections::hash_map::Entry;
        let (old, touch) = match self.touched[ti].entry(addr) {
            Entry::Occupied(o) => (Some(o.get().clone()), o.into_mut()),
            Entry::Vacant(v) => (None, v.insert((usize::MAX, SmallVec::new()))),
        };
        self.undo.push(Undo::Touch {
            thread: ti,
            addr,
            old,
        });
        touch
    }

    /// Journals `acquired` before it changes.
    pub(super) fn save_acquired(&mut self) {
        self.undo.push(Undo::Acquired(self.acquired.clone()));
    }

    /// Journals `join_words` before it changes.
    pub(super) fn save_join_words(&mut self) {
        self.undo.push(Undo::JoinWords(self.join_words.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::FinishKind;
    use rand::{Rng, SeedableRng};

    /// A thread's straight-line program: steps, and allocations it reports
    /// between them.
    #[derive(Clone)]
    enum Instr {
        Step(Op),
        Alloc(u64, u64),
    }

    fn random_op(rng: &mut impl Rng) -> Op {
        let kinds = [
            AccessKind::Read,
            AccessKind::Write,
            AccessKind::ReadModifyWrite,
            AccessKind::CompareExchange,
            AccessKind::Copy,
            AccessKind::Notify,
            AccessKind::Wait,
        ];
        let kind = kinds[rng.random_range(0..kinds.len())];
        let word = rng.random_range(0..4u64) * 4;
        if rng.random_bool(0.1) {
            // Woken by the notify whose step number is `src` (or none).
            return Op {
                addr: word,
                src: rng.random_range(0..4u64) * 4,
                ..Op::plain(OpKind::Resume)
            };
        }
        Op {
            kind: OpKind::Memory(kind),
            site: Some(rng.random_range(0..3)),
            addr: word,
            len: [1, 4, 8][rng.random_range(0..3)],
            src: rng.random_range(0..4u64) * 4,
            atomic: rng.random_bool(0.5),
            library: rng.random_bool(0.3),
            allocator: rng.random_bool(0.1),
            join: kind == AccessKind::Read && rng.random_bool(0.15),
            bookkeeping: false,
            fails: kind == AccessKind::CompareExchange && rng.random_bool(0.3),
            lock: kind == AccessKind::CompareExchange && rng.random_bool(0.5),
        }
    }

    /// Thread 0 spawns the others, runs its own steps and stops (the
    /// others are daemons); each spawned thread starts, then runs its steps.
    fn random_program(rng: &mut rand_chacha::ChaCha8Rng, threads: usize) -> Vec<Vec<Instr>> {
        let body = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<Instr> {
            let mut v = vec![];
            for _ in 0..rng.random_range(1..4) {
                v.push(Instr::Step(random_op(rng)));
                if rng.random_bool(0.2) {
                    let at = rng.random_range(0..3u64) * 8;
                    v.push(Instr::Alloc(at, rng.random_range(1..12)));
                }
            }
            v
        };
        let mut main = vec![];
        for _ in 1..threads {
            main.push(Instr::Step(Op::plain(OpKind::Spawn)));
        }
        main.extend(body(rng));
        main.push(Instr::Step(Op::plain(OpKind::Stop)));
        let mut all = vec![main];
        for _ in 1..threads {
            let mut v = vec![Instr::Step(Op::plain(OpKind::Start))];
            v.extend(body(rng));
            all.push(v);
        }
        all
    }

    /// Each thread's pending step, and the spawned threads with one left.
    fn state(program: &[Vec<Instr>], pc: &[usize], spawned: usize) -> (Vec<Op>, Vec<ThreadId>) {
        let pending = (0..program.len())
            .map(|t| match program[t].get(pc[t]) {
                Some(Instr::Step(op)) => *op,
                _ => Op::plain(OpKind::Yield),
            })
            .collect();
        let runnable = (0..spawned)
            .filter(|&t| pc[t] < program[t].len())
            .map(|t| ThreadId(t as u32))
            .collect();
        (pending, runnable)
    }

    /// Runs `dpor` over `program` to the end; every execution's choices.
    fn explore(program: &[Vec<Instr>], mut dpor: DporScheduler) -> (Vec<Vec<u32>>, DporStats) {
        let mut runs = vec![];
        while dpor.next_execution() {
            let mut pc = vec![0usize; program.len()];
            let mut spawned = 1;
            let mut current: Option<ThreadId> = None;
            let mut chosen = vec![];
            let mut step = 0u64;
            let kind = loop {
                let (pending, runnable) = state(program, &pc, spawned);
                if runnable.is_empty() {
                    break FinishKind::Stopped;
                }
                let Some(t) = dpor.choose_among(current, &runnable, &pending, step) else {
                    break FinishKind::Abandoned;
                };
                chosen.push(t.0);
                step += 1;
                let ti = t.0 as usize;
                let op = pending[ti];
                pc[ti] += 1;
                while let Some(Instr::Alloc(a, l)) = program[ti].get(pc[ti]) {
                    dpor.allocated(t, *a, *l);
                    pc[ti] += 1;
                }
                if op.kind == OpKind::Spawn {
                    spawned += 1;
                }
                current = Some(t);
                if op.kind == OpKind::Stop {
                    break FinishKind::Stopped;
                }
            };
            let (pending, mut runnable) = state(program, &pc, spawned);
            if kind == FinishKind::Abandoned {
                runnable.clear();
            }
            dpor.finish_execution(&Finish {
                kind,
                runnable: &runnable,
                waiting: &[],
                pending: &pending,
            })
            .unwrap();
            runs.push(chosen);
        }
        (runs, dpor.stats())
    }

    /// Keeping the prefix's analysis explores exactly what analysing every
    /// step again does: the same executions, in the same order, with the
    /// same counts, on random programs (allocations between steps, locks,
    /// joins' reads, waits, notifies and wake-ups, library steps, daemon
    /// threads), with and without a bound.
    #[test]
    fn keeping_the_prefix_changes_nothing() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        let mut branched = 0;
        for round in 0..150 {
            let threads = rng.random_range(2..=4);
            let program = random_program(&mut rng, threads);
            let bound = [None, Some(1)][round % 2];
            let make = |reuse| {
                let mut d = DporScheduler::new(bound, 3_000);
                d.reuse_prefix = reuse;
                d
            };
            let (kept, kept_stats) = explore(&program, make(true));
            let (fresh, fresh_stats) = explore(&program, make(false));
            assert_eq!(kept_stats, fresh_stats, "round {round}");
            assert_eq!(kept, fresh, "round {round}");
            branched += kept.len();
        }
        // The programs branch: many executions replayed a prefix.
        assert!(branched > 1_000, "{branched}");
    }
}
