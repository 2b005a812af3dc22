//! The model check of the search: on random small programs with a
//! blocking mutex, every order of conflicting steps that some schedule
//! reaches, DPOR reaches.

use super::*;
use crate::scheduler::FinishKind;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;

/// The mutexes' words.
const MUTEX: u64 = 64;
const OTHER: u64 = 72;

/// Taking the mutex at `addr` (`take`), as the runtime reports std's
/// `Mutex::lock` (library code; the thread waits while another holds it),
/// or letting it go (std's unlock swap).
fn mutex(addr: u64, take: bool) -> Op {
    let kind = if take {
        AccessKind::CompareExchange
    } else {
        AccessKind::ReadModifyWrite
    };
    Op {
        kind: OpKind::Memory(kind),
        addr,
        len: 4,
        atomic: true,
        library: true,
        lock: take,
        ..Op::plain(OpKind::Start)
    }
}

fn lock_at(addr: u64) -> Op {
    mutex(addr, true)
}

fn unlock_at(addr: u64) -> Op {
    mutex(addr, false)
}

/// A library step on a word of the thread's own, right before it takes
/// the mutex (std's code around `lock`).
fn library_step(site: u32, word: u64) -> Op {
    Op {
        kind: OpKind::Memory(AccessKind::Read),
        site: Some(site),
        addr: word,
        len: 4,
        library: true,
        ..Op::plain(OpKind::Start)
    }
}

/// A program step (plain, at its own site).
fn step(kind: AccessKind, site: u32, addr: u64) -> Op {
    Op {
        kind: OpKind::Memory(kind),
        site: Some(site),
        addr,
        len: 4,
        ..Op::plain(OpKind::Start)
    }
}

/// A program step on one of three shared words, each at a site of its own
/// (so that no read is a spin's re-read).
fn random_op(rng: &mut impl Rng, site: &mut u32) -> Op {
    let kinds = [
        AccessKind::Read,
        AccessKind::Read,
        AccessKind::Write,
        AccessKind::ReadModifyWrite,
        AccessKind::CompareExchange,
    ];
    let kind = kinds[rng.random_range(0..kinds.len())];
    *site += 1;
    Op {
        kind: OpKind::Memory(kind),
        site: Some(*site),
        addr: rng.random_range(0..3u64) * 4,
        len: 4,
        atomic: rng.random_bool(0.5),
        fails: kind == AccessKind::CompareExchange && rng.random_bool(0.3),
        ..Op::plain(OpKind::Start)
    }
}

/// Thread 0 spawns the others (and may join one, and return without
/// joining the rest); each
/// starts, may run a library step right before its first lock, and runs
/// one or two critical sections (of either mutex, sometimes with the
/// other taken inside: two threads that nest them in opposite orders can
/// deadlock) or steps outside any.
fn random_program(rng: &mut rand_chacha::ChaCha8Rng) -> Vec<Vec<Op>> {
    let mut site = 0;
    let threads = rng.random_range(2..=3);
    let mut main = vec![Op::plain(OpKind::Spawn); threads];
    if rng.random_bool(0.3) {
        // main joins a thread, then steps.
        main.push(Op {
            addr: rng.random_range(1..=threads as u64),
            ..Op::plain(OpKind::Join)
        });
        main.push(random_op(rng, &mut site));
    }
    if rng.random_bool(0.4) {
        // main returns without joining (the rest): daemons.
        main.push(random_op(rng, &mut site));
        main.push(Op::plain(OpKind::Stop));
    }
    let mut all = vec![main];
    for k in 0..threads {
        let mut v = vec![Op::plain(OpKind::Start)];
        for section in 0..rng.random_range(1..=2) {
            let (outer, inner) = if rng.random_bool(0.5) {
                (MUTEX, OTHER)
            } else {
                (OTHER, MUTEX)
            };
            let locked = rng.random_bool(0.7);
            let nested = locked && rng.random_bool(0.3);
            if locked && section == 0 && rng.random_bool(0.4) {
                // Only here: after another library step (an unlock) the two
                // would be one block, inside which the search does not
                // interleave by design.
                site += 1;
                v.push(library_step(site, 128 + 8 * k as u64));
            }
            if locked {
                v.push(lock_at(outer));
            }
            v.push(random_op(rng, &mut site));
            if nested {
                v.push(lock_at(inner));
                v.push(random_op(rng, &mut site));
                v.push(unlock_at(inner));
            } else if rng.random_bool(0.5) {
                v.push(random_op(rng, &mut site));
            }
            if locked {
                v.push(unlock_at(outer));
            }
        }
        all.push(v);
    }
    all
}

/// A run: each thread's next step, who has been spawned, who holds the
/// mutex, and the steps taken.
struct Run<'p> {
    program: &'p [Vec<Op>],
    pc: Vec<usize>,
    spawned: usize,
    /// Who holds each mutex (`MUTEX`, `OTHER`).
    holders: [Option<usize>; 2],
    /// The program stopped (main returned).
    stopped: bool,
    done: Vec<(usize, usize)>,
}

fn slot(addr: u64) -> usize {
    usize::from(addr == OTHER)
}

fn on_mutex(op: &Op) -> bool {
    (op.addr == MUTEX || op.addr == OTHER) && matches!(op.kind, OpKind::Memory(_))
}

/// The order of every two conflicting steps of different threads.
type Trace = Vec<((usize, usize), (usize, usize))>;

impl<'p> Run<'p> {
    fn new(program: &'p [Vec<Op>]) -> Run<'p> {
        Run {
            program,
            pc: vec![0; program.len()],
            spawned: 1,
            holders: [None; 2],
            stopped: false,
            done: vec![],
        }
    }

    fn pending(&self) -> Vec<Op> {
        (0..self.program.len())
            .map(|t| {
                self.program[t]
                    .get(self.pc[t])
                    .copied()
                    .unwrap_or(Op::plain(OpKind::Yield))
            })
            .collect()
    }

    /// Spawned threads with a step left that can take it now.
    fn runnable(&self) -> Vec<ThreadId> {
        (0..self.spawned)
            .filter(|&t| {
                self.program[t]
                    .get(self.pc[t])
                    .is_some_and(|op| match op.kind {
                        OpKind::Join => {
                            self.pc[op.addr as usize] == self.program[op.addr as usize].len()
                        }
                        _ => !op.lock || self.holders[slot(op.addr)].is_none(),
                    })
            })
            .map(|t| ThreadId(t as u32))
            .collect()
    }

    fn step(&mut self, t: usize) {
        let op = self.program[t][self.pc[t]];
        self.done.push((t, self.pc[t]));
        self.pc[t] += 1;
        if op.kind == OpKind::Spawn {
            self.spawned += 1;
        }
        if op.kind == OpKind::Stop {
            self.stopped = true;
        }
        if op.lock {
            self.holders[slot(op.addr)] = Some(t);
        } else if on_mutex(&op) {
            self.holders[slot(op.addr)] = None;
        }
    }

    /// Spawned threads waiting to take a held mutex.
    fn waiting(&self) -> Vec<ThreadId> {
        (0..self.spawned)
            .filter(|&t| {
                self.program[t]
                    .get(self.pc[t])
                    .is_some_and(|op| op.lock && self.holders[slot(op.addr)].is_some())
            })
            .map(|t| ThreadId(t as u32))
            .collect()
    }

    /// Whether every spawned thread ran all its steps (else: a deadlock).
    fn finished(&self) -> bool {
        (0..self.program.len()).all(|t| self.pc[t] == self.program[t].len())
    }

    fn trace(&self) -> Trace {
        let op = |&(t, k): &(usize, usize)| self.program[t][k];
        let mut v = vec![];
        for (i, x) in self.done.iter().enumerate() {
            for y in &self.done[i + 1..] {
                if x.0 != y.0 && dependent(&op(x), &op(y)) {
                    v.push((*x, *y));
                }
            }
        }
        v.sort_unstable();
        v
    }
}

/// Every schedule's trace, depth first; None past `budget` schedules.
fn every_trace(program: &[Vec<Op>], budget: usize) -> Option<BTreeSet<Trace>> {
    fn go(run: &mut Run<'_>, out: &mut BTreeSet<Trace>, left: &mut usize) -> bool {
        let runnable = run.runnable();
        if runnable.is_empty() || run.stopped {
            out.insert(run.trace());
            *left -= 1;
            return *left > 0;
        }
        for t in runnable {
            let (pc, spawned, holders, stopped, len) = (
                run.pc.clone(),
                run.spawned,
                run.holders,
                run.stopped,
                run.done.len(),
            );
            run.step(t.0 as usize);
            let go_on = go(run, out, left);
            run.pc = pc;
            run.spawned = spawned;
            run.holders = holders;
            run.stopped = stopped;
            run.done.truncate(len);
            if !go_on {
                return false;
            }
        }
        true
    }
    let mut out = BTreeSet::new();
    let mut left = budget;
    go(&mut Run::new(program), &mut out, &mut left).then_some(out)
}

/// The traces of DPOR's complete executions.
fn dpor_traces(program: &[Vec<Op>]) -> BTreeSet<Trace> {
    let mut dpor = DporScheduler::new(None, 100_000);
    let mut out = BTreeSet::new();
    while dpor.next_execution() {
        let mut run = Run::new(program);
        let mut current: Option<ThreadId> = None;
        let mut step = 0;
        let kind = loop {
            let (pending, runnable) = (run.pending(), run.runnable());
            if runnable.is_empty() {
                break if run.finished() {
                    FinishKind::Stopped
                } else {
                    FinishKind::Deadlock
                };
            }
            let Some(t) = dpor.choose_among(current, &runnable, &pending, step) else {
                break FinishKind::Abandoned;
            };
            run.step(t.0 as usize);
            current = Some(t);
            step += 1;
            if run.stopped {
                break FinishKind::Stopped;
            }
        };
        let (pending, mut runnable) = (run.pending(), run.runnable());
        if kind == FinishKind::Abandoned {
            runnable.clear();
        } else {
            out.insert(run.trace());
        }
        let waiting = run.waiting();
        dpor.finish_execution(&Finish {
            kind,
            runnable: &runnable,
            waiting: &waiting,
            pending: &pending,
        })
        .unwrap();
    }
    assert!(dpor.stats().exhausted);
    out
}

/// A thread whose library step runs right before it takes the mutex: when
/// the mutex was free, that step and the lock were one block, and the
/// search never let another thread take the mutex between them (the order
/// "thread 3's section first" was missed).
#[test]
fn another_thread_takes_the_mutex_after_a_library_step() {
    use AccessKind::{CompareExchange, Read};
    let spawn = Op::plain(OpKind::Spawn);
    let start = Op::plain(OpKind::Start);
    let program = vec![
        vec![lock_at(MUTEX), spawn, spawn, spawn, unlock_at(MUTEX)],
        vec![
            start,
            library_step(1, 128),
            lock_at(MUTEX),
            step(CompareExchange, 2, 0),
            unlock_at(MUTEX),
        ],
        vec![
            start,
            lock_at(MUTEX),
            step(CompareExchange, 3, 4),
            unlock_at(MUTEX),
        ],
        vec![
            start,
            lock_at(MUTEX),
            step(Read, 4, 0),
            step(Read, 5, 4),
            unlock_at(MUTEX),
        ],
    ];
    let all = every_trace(&program, 1_000_000).expect("small enough");
    assert_eq!(dpor_traces(&program), all);
}

/// Two threads taking two mutexes in opposite orders: the execution that
/// reversed the first mutex deadlocks before the second is taken, so the
/// waiting acquisition has to race with its holder's at the end, or the
/// order with thread 2 first in both was never run.
#[test]
fn a_lock_order_deadlock_does_not_hide_the_other_order() {
    let (spawn, start) = (Op::plain(OpKind::Spawn), Op::plain(OpKind::Start));
    let (a, b) = (MUTEX, OTHER);
    let program = vec![
        vec![spawn, spawn],
        vec![start, lock_at(b), lock_at(a), unlock_at(a), unlock_at(b)],
        vec![start, lock_at(a), lock_at(b), unlock_at(b), unlock_at(a)],
    ];
    let all = every_trace(&program, 1_000).expect("small enough");
    assert_eq!(all.len(), 3, "either first, or the deadlock");
    assert_eq!(dpor_traces(&program), all);
}

/// DPOR reaches what every schedule reaches, on random programs (with
/// deadlocks among them).
#[test]
fn dpor_reaches_every_order_that_a_schedule_reaches() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(27);
    let mut checked = 0;
    for round in 0..300 {
        let program = random_program(&mut rng);
        let Some(all) = every_trace(&program, 20_000) else {
            continue;
        };
        assert_eq!(dpor_traces(&program), all, "round {round}: {program:?}");
        checked += 1;
    }
    assert!(checked > 120, "{checked}");
}
