//! 7./8. `peterson_broken` / `peterson_correct`: Peterson's lock for two threads with
//! `flag: [AtomicBool; 2]` and `turn: AtomicUsize` (all SeqCst). Each thread enters the critical
//! section once; inside, `in_cs.fetch_add(1)` must return 0 (mutual exclusion), a plain counter
//! in an `UnsafeCell` is incremented non-atomically, then `in_cs.fetch_sub(1)`. Main joins and
//! asserts the counter is 2.
//! * broken: `turn = other; flag[me] = true;` (swapped) — both threads can enter.
//! * correct: `flag[me] = true; turn = other;` — never fails.
//! * correct, `turn=swap` variant: the same with `turn.swap(other)` (result ignored) instead of
//!   `turn.store(other)`. Under sequential consistency the two are the same. The variant exists
//!   because loom treats SeqCst *accesses* like AcqRel (its README, "Unsupported features"). In
//!   the plain version loom lets thread 1 read `flag[0]` as its initial `false` although thread 0
//!   stored `true` earlier in the interleaving (store buffering, which SC forbids), so both
//!   threads enter. An RMW on `turn` always reads the latest value in loom and synchronises with
//!   the other thread's RMW, which restores the acquire/release proof of Peterson's lock.
//!   (Adding `fence(SeqCst)` before the spin is not enough: loom then lets a thread read the
//!   other's *older* `turn` store after its own, since the two plain stores stay unordered,
//!   which C++'s fence rules allow too.)
//!
//! The entry spin `while flag[other] && turn == other` calls `yield_now()`.

#[derive(Clone, Copy)]
enum Entry {
    Broken,
    Correct,
    CorrectSwap,
}

pub mod on_loom {
    use super::Entry;
    use crate::programs::{tick, LoomPlain};
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use loom::thread;
    use std::sync::Arc; // not loom::sync::Arc: see programs/mod.rs

    struct Peterson {
        flag: [AtomicBool; 2],
        turn: AtomicUsize,
        in_cs: AtomicUsize,
        counter: LoomPlain<u32>,
    }

    fn worker(p: &Peterson, me: usize, entry: Entry) {
        let other = 1 - me;
        match entry {
            Entry::Broken => {
                p.turn.store(other, SeqCst);
                p.flag[me].store(true, SeqCst);
            }
            Entry::Correct => {
                p.flag[me].store(true, SeqCst);
                p.turn.store(other, SeqCst);
            }
            Entry::CorrectSwap => {
                p.flag[me].store(true, SeqCst);
                p.turn.swap(other, SeqCst);
            }
        }
        while p.flag[other].load(SeqCst) && p.turn.load(SeqCst) == other {
            thread::yield_now();
        }
        assert_eq!(p.in_cs.fetch_add(1, SeqCst), 0, "mutual exclusion violated");
        let v = p.counter.read(|c| *c);
        p.counter.write(|c| *c = v + 1);
        p.in_cs.fetch_sub(1, SeqCst);
        p.flag[me].store(false, SeqCst);
    }

    fn model(entry: Entry) {
        tick();
        let p = Arc::new(Peterson {
            flag: [AtomicBool::new(false), AtomicBool::new(false)],
            turn: AtomicUsize::new(0),
            in_cs: AtomicUsize::new(0),
            counter: LoomPlain::new(0),
        });
        let hs: Vec<_> = (0..2)
            .map(|me| {
                let p = p.clone();
                thread::spawn(move || worker(&p, me, entry))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(p.counter.read(|c| *c), 2, "lost update in critical section");
    }

    pub fn broken() {
        model(Entry::Broken)
    }
    pub fn correct() {
        model(Entry::Correct)
    }
    pub fn correct_swap() {
        model(Entry::CorrectSwap)
    }
}

pub mod on_shuttle {
    use super::Entry;
    use crate::programs::{tick, ShuttlePlain};
    use shuttle::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use shuttle::sync::Arc;
    use shuttle::thread;

    struct Peterson {
        flag: [AtomicBool; 2],
        turn: AtomicUsize,
        in_cs: AtomicUsize,
        counter: ShuttlePlain<u32>,
    }

    fn worker(p: &Peterson, me: usize, entry: Entry) {
        let other = 1 - me;
        match entry {
            Entry::Broken => {
                p.turn.store(other, SeqCst);
                p.flag[me].store(true, SeqCst);
            }
            Entry::Correct => {
                p.flag[me].store(true, SeqCst);
                p.turn.store(other, SeqCst);
            }
            Entry::CorrectSwap => {
                p.flag[me].store(true, SeqCst);
                p.turn.swap(other, SeqCst);
            }
        }
        while p.flag[other].load(SeqCst) && p.turn.load(SeqCst) == other {
            thread::yield_now();
        }
        assert_eq!(p.in_cs.fetch_add(1, SeqCst), 0, "mutual exclusion violated");
        let v = p.counter.read(|c| *c);
        p.counter.write(|c| *c = v + 1);
        p.in_cs.fetch_sub(1, SeqCst);
        p.flag[me].store(false, SeqCst);
    }

    fn model(entry: Entry) {
        tick();
        let p = Arc::new(Peterson {
            flag: [AtomicBool::new(false), AtomicBool::new(false)],
            turn: AtomicUsize::new(0),
            in_cs: AtomicUsize::new(0),
            counter: ShuttlePlain::new(0),
        });
        let hs: Vec<_> = (0..2)
            .map(|me| {
                let p = p.clone();
                thread::spawn(move || worker(&p, me, entry))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(p.counter.read(|c| *c), 2, "lost update in critical section");
    }

    pub fn broken() {
        model(Entry::Broken)
    }
    pub fn correct() {
        model(Entry::Correct)
    }
    pub fn correct_swap() {
        model(Entry::CorrectSwap)
    }
}
