//! Fair scheduling, after CHESS's fair stateless model checking (Musuvathi
//! and Qadeer, PLDI'08), and livelock detection.
//!
//! A schedule that lets one thread spin forever while the thread it waits
//! for never runs again is not a bug in the program: no real scheduler does
//! that. So a thread that *yields* (`sched_yield`, a sleep, or a detected
//! spin: [`SPIN_ITERATIONS`] re-reads of one place that find the same value,
//! with no write of its own in between) must let every other thread that
//! can run take a step before it runs again. The runtime applies this to the runnable set before any
//! strategy sees it, so every strategy (random, PCT, POS, DPOR, markers,
//! replays) is fair. A thread that does not spin is never held back.
//!
//! Each thread has a stamp: the step at which it last ran (or was created).
//! A thread that yielded at step y is held while some other runnable thread
//! has a stamp below y. Why a schedulable thread always remains: a held
//! thread t ran at y, after every thread that holds it last ran, so "t is
//! held by u" implies stamp(t) > stamp(u); the runnable thread with the
//! smallest stamp is held by nobody.
//!
//! A program still spins forever when every thread that can run only
//! re-reads memory that nothing changes. That is a livelock, reported as
//! such, with where each thread spins, once every runnable thread has spun
//! [`LIVELOCK_SPINS`] times since the last change to shared state.

use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi::AccessKind;
use smallvec::SmallVec;

/// Spin iterations of every runnable thread, with no change to shared state
/// in between, after which the execution is a livelock. Far above any
/// bounded spin of a real library (std's locks spin 100 times before they
/// sleep), and above a counted loop that polls a flag and computes only in
/// registers (which looks the same from outside: at 1,000, two threads
/// polling a cancel flag through 5,000 iterations of arithmetic were called
/// a livelock; `fair_counted_poll`).
pub const LIVELOCK_SPINS: u32 = 100_000;

/// Iterations (a read of a place it already read, finding the same value,
/// no write of its own in between) after which a thread is taken to spin,
/// and so to yield. One repeated read is often no loop at all (a
/// double-checked flag); three in a row are a wait. A read that finds a new
/// value (a counter another thread moves) starts no iteration: the thread
/// is making progress, and is not held back.
pub const SPIN_ITERATIONS: u32 = 3;

/// Reads remembered per thread since its last write (the latest): a loop
/// that reads more places per iteration is not recognised as a spin.
const READ_SET: usize = 8;

/// A thread's spin detector.
#[derive(Clone, Default)]
struct Spin {
    /// (site, address, value read) of the reads since its last write.
    reads: SmallVec<[(u32, u64, u64); READ_SET]>,
    /// Iterations since its last write.
    run: u32,
    /// Spin iterations since the last change to shared state ...
    count: u32,
    /// ... as numbered by this change epoch.
    epoch: u64,
    /// The read that showed the last iteration.
    at: Option<Op>,
}

/// The fairness relation and the spin detectors of one execution.
#[derive(Default)]
pub(crate) struct Fairness {
    /// Per thread: the step at which it last ran, or was created.
    stamp: Vec<u64>,
    /// Per thread: the step at which it last yielded (0: never).
    yielded: Vec<u64>,
    /// Steps so far (from 1).
    now: u64,
    /// Whether any thread ever yielded (else nothing is held).
    any_yield: bool,
    spin: Vec<Spin>,
    /// Bumped by every step that may change what another thread reads.
    epoch: u64,
    /// Some thread passed [`LIVELOCK_SPINS`] in this epoch: check them all.
    suspect: bool,
}

/// What a step does, as fairness sees it.
enum Effect {
    /// Only reads shared memory (a load, a failing compare-exchange, a wait
    /// on a word that already changed).
    Read,
    /// Gives the processor away without reading: `sched_yield`.
    Yield,
    /// Nothing for fairness (a marker, a fence).
    Neutral,
    /// May change what other threads read or whether they can run.
    Change,
}

fn effect(op: &Op) -> Effect {
    match op.kind {
        OpKind::Memory(AccessKind::Read | AccessKind::Wait) => Effect::Read,
        OpKind::Memory(AccessKind::CompareExchange) if op.fails && !op.lock => Effect::Read,
        OpKind::Yield => Effect::Yield,
        OpKind::Marker | OpKind::Memory(AccessKind::Fence) => Effect::Neutral,
        _ => Effect::Change,
    }
}

impl Fairness {
    /// A new thread.
    pub fn add_thread(&mut self) {
        self.stamp.push(self.now);
        self.yielded.push(0);
        self.spin.push(Spin::default());
        self.epoch += 1;
    }

    /// Something outside the threads' steps changed what they may read (the
    /// clock moved).
    pub fn changed(&mut self) {
        self.epoch += 1;
    }

    /// `thread` wrote memory where the host did not see it (library code
    /// with library points off, see `abi::ACCESS_WROTE`): as after a write
    /// step, what it reads next is no spin's re-read.
    pub fn wrote_unseen(&mut self, thread: ThreadId) {
        self.wrote(thread.0 as usize);
    }

    /// Thread `t` changed shared state: its spin, if any, is over, and every
    /// spin's count starts again.
    fn wrote(&mut self, t: usize) {
        let spin = &mut self.spin[t];
        spin.reads.clear();
        spin.run = 0;
        self.epoch += 1;
        self.suspect = false;
    }

    /// `thread` runs `op` now; `value` tells what a read finds in memory
    /// (asked only when the step only reads).
    pub fn step(&mut self, thread: ThreadId, op: &Op, value: impl FnOnce() -> Option<u64>) {
        let t = thread.0 as usize;
        self.now += 1;
        self.stamp[t] = self.now;
        let yielded = match effect(op) {
            Effect::Read => {
                let key = (
                    op.site.unwrap_or(u32::MAX),
                    op.addr,
                    value().unwrap_or(u64::MAX),
                );
                let spin = &mut self.spin[t];
                if spin.reads.contains(&key) {
                    // A read it made before, finding what it found then, and
                    // it wrote nothing since: one iteration of a loop that
                    // only reads and waits for a change.
                    spin.reads.clear();
                    spin.reads.push(key);
                    spin.run += 1;
                    if spin.epoch != self.epoch {
                        spin.epoch = self.epoch;
                        spin.count = 0;
                    }
                    spin.count += 1;
                    spin.at = Some(*op);
                    if spin.count >= LIVELOCK_SPINS {
                        self.suspect = true;
                    }
                    spin.run >= SPIN_ITERATIONS
                } else {
                    // The oldest read gives way: a loop's reads recur.
                    if spin.reads.len() == READ_SET {
                        spin.reads.remove(0);
                    }
                    spin.reads.push(key);
                    false
                }
            }
            Effect::Yield => true,
            Effect::Neutral => false,
            Effect::Change => {
                self.wrote(t);
                matches!(op.kind, OpKind::Sleep)
            }
        };
        if yielded {
            self.yielded[t] = self.now;
            self.any_yield = true;
        }
    }

    /// The threads of `runnable` that fairness lets run now, into `out`;
    /// false (and `out` untouched) when that is all of them.
    pub fn filter(&self, runnable: &[ThreadId], out: &mut Vec<ThreadId>) -> bool {
        if !self.any_yield || runnable.len() < 2 {
            return false;
        }
        // The two smallest stamps: a thread is held when some *other*
        // runnable thread last ran before it yielded.
        let (mut first, mut second) = ((u64::MAX, usize::MAX), u64::MAX);
        for t in runnable {
            let i = t.0 as usize;
            let s = self.stamp[i];
            if s < first.0 {
                second = first.0;
                first = (s, i);
            } else if s < second {
                second = s;
            }
        }
        let held = |t: &ThreadId| {
            let i = t.0 as usize;
            let oldest_other = if i == first.1 { second } else { first.0 };
            oldest_other < self.yielded[i]
        };
        if !runnable.iter().any(held) {
            return false;
        }
        out.clear();
        out.extend(runnable.iter().copied().filter(|t| !held(t)));
        // Never empty (see the module docs); should it be, liveness wins.
        !out.is_empty()
    }

    /// When every runnable thread has spun [`LIVELOCK_SPINS`] times since the
    /// last change: the read each one repeats.
    pub fn livelock(&mut self, runnable: &[ThreadId]) -> Option<Vec<(ThreadId, Op)>> {
        if !self.suspect || runnable.is_empty() {
            return None;
        }
        let mut spinning = Vec::with_capacity(runnable.len());
        for &t in runnable {
            let spin = &self.spin[t.0 as usize];
            match spin.at {
                Some(op) if spin.epoch == self.epoch && spin.count >= LIVELOCK_SPINS => {
                    spinning.push((t, op))
                }
                _ => return None,
            }
        }
        Some(spinning)
    }

    /// The sites of the reads `threads` last repeated.
    pub fn spin_sites(&self, threads: &[ThreadId]) -> Vec<u32> {
        threads
            .iter()
            .filter_map(|t| self.spin.get(t.0 as usize)?.at?.site)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(site: u32, addr: u64) -> Op {
        Op {
            site: Some(site),
            addr,
            len: 4,
            ..Op::plain(OpKind::Memory(AccessKind::Read))
        }
    }

    fn write(site: u32, addr: u64) -> Op {
        Op {
            site: Some(site),
            addr,
            len: 4,
            ..Op::plain(OpKind::Memory(AccessKind::Write))
        }
    }

    const T0: ThreadId = ThreadId(0);
    const T1: ThreadId = ThreadId(1);
    const T2: ThreadId = ThreadId(2);

    fn fair(n: usize) -> Fairness {
        let mut f = Fairness::default();
        for _ in 0..n {
            f.add_thread();
        }
        f
    }

    #[test]
    fn a_yield_lets_every_other_runnable_thread_run_first() {
        let mut f = fair(3);
        let all = [T0, T1, T2];
        let mut out = vec![];
        f.step(T0, &Op::plain(OpKind::Yield), || None);
        assert!(f.filter(&all, &mut out));
        assert_eq!(out, vec![T1, T2]);
        f.step(T1, &write(1, 8), || None);
        assert!(f.filter(&all, &mut out));
        assert_eq!(out, vec![T1, T2]);
        f.step(T2, &write(1, 8), || None);
        assert!(!f.filter(&all, &mut out), "both ran: T0 may run again");
    }

    #[test]
    fn a_thread_that_cannot_run_holds_nobody_back() {
        let mut f = fair(2);
        let mut out = vec![];
        f.step(T0, &Op::plain(OpKind::Yield), || None);
        // T1 blocked meanwhile: T0 alone can run, and does.
        assert!(!f.filter(&[T0], &mut out));
    }

    #[test]
    fn only_a_read_repeated_without_a_write_is_a_spin() {
        let mut f = fair(2);
        let all = [T0, T1];
        let mut out = vec![];
        f.step(T0, &read(5, 64), || Some(0));
        f.step(T0, &read(6, 72), || Some(0));
        f.step(T0, &read(5, 64), || Some(0));
        assert!(!f.filter(&all, &mut out), "one re-read is no spin");
        f.step(T0, &read(5, 64), || Some(0));
        assert!(!f.filter(&all, &mut out));
        f.step(T0, &read(5, 64), || Some(0));
        assert!(f.filter(&all, &mut out), "three in a row are");
        assert_eq!(out, vec![T1]);
        // A write of its own in between starts the count again.
        let mut g = fair(2);
        for _ in 0..3 {
            g.step(T0, &read(5, 64), || Some(0));
            g.step(T0, &write(7, 80), || None);
        }
        g.step(T0, &read(5, 64), || Some(0));
        assert!(!g.filter(&all, &mut out));
    }

    #[test]
    fn a_read_that_finds_a_new_value_is_progress_not_a_spin() {
        let mut f = fair(2);
        let all = [T0, T1];
        let mut out = vec![];
        for v in 0..10 {
            f.step(T0, &read(5, 64), || Some(v));
        }
        assert!(!f.filter(&all, &mut out), "a moving counter is no spin");
        for _ in 0..3 {
            f.step(T0, &read(5, 64), || Some(9));
        }
        assert!(f.filter(&all, &mut out), "the same value three times is");
    }

    #[test]
    fn the_edges_never_hold_back_every_thread() {
        // Every thread yields in turn, many times: someone can always run.
        let mut f = fair(3);
        let all = [T0, T1, T2];
        let mut out = vec![];
        let mut next = T0;
        for _ in 0..50 {
            f.step(next, &Op::plain(OpKind::Yield), || None);
            let can: Vec<ThreadId> = if f.filter(&all, &mut out) {
                out.clone()
            } else {
                all.to_vec()
            };
            assert!(!can.is_empty());
            next = *can.last().unwrap();
        }
    }

    #[test]
    fn livelock_needs_every_runnable_thread_spinning_with_no_change() {
        let mut f = fair(2);
        let all = [T0, T1];
        for _ in 0..=LIVELOCK_SPINS {
            f.step(T0, &read(1, 64), || Some(0));
        }
        assert!(f.livelock(&all).is_none(), "T1 has not spun");
        assert_eq!(f.livelock(&[T0]).map(|v| v.len()), Some(1));
        for _ in 0..=LIVELOCK_SPINS {
            f.step(T1, &read(2, 68), || Some(0));
        }
        assert!(f.livelock(&all).is_some());
        // A write anywhere starts the count again.
        f.step(T1, &write(3, 100), || None);
        assert!(f.livelock(&all).is_none());
    }

    #[test]
    fn a_write_the_host_did_not_see_ends_a_spin() {
        let mut f = fair(2);
        let all = [T0, T1];
        for t in all {
            for _ in 0..=LIVELOCK_SPINS {
                f.step(t, &read(1, 64), || Some(0));
            }
        }
        assert!(f.livelock(&all).is_some());
        assert!(f.filter(&all, &mut vec![]), "spinners yield");
        f.wrote_unseen(T1);
        assert!(f.livelock(&all).is_none());
        // T1 reads again: a first read since its write, no re-read.
        f.step(T1, &read(1, 64), || Some(0));
        f.step(T1, &read(1, 64), || Some(0));
        assert!(f.livelock(&all).is_none());
    }
}
