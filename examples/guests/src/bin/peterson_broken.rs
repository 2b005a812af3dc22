//! Peterson's lock with the two stores of `lock` swapped (turn before flag):
//! both threads can enter the critical section.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread;

static FLAG: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
static TURN: AtomicUsize = AtomicUsize::new(0);
static INSIDE: AtomicUsize = AtomicUsize::new(0);

fn lock(me: usize) {
    let other = 1 - me;
    TURN.store(other, SeqCst); // the bug: this belongs after the flag
    FLAG[me].store(true, SeqCst);
    while FLAG[other].load(SeqCst) && TURN.load(SeqCst) == other {
        thread::yield_now();
    }
}

fn worker(me: usize) {
    lock(me);
    assert_eq!(INSIDE.fetch_add(1, SeqCst), 0, "mutual exclusion violated");
    INSIDE.fetch_sub(1, SeqCst);
    FLAG[me].store(false, SeqCst);
}

fn main() {
    let t0 = thread::spawn(|| worker(0));
    let t1 = thread::spawn(|| worker(1));
    t0.join().unwrap();
    t1.join().unwrap();
    println!("ok");
}
