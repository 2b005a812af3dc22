//! Peterson's lock broken by writing `turn` before `flag` (the two stores of
//! the entry protocol swapped): both threads can enter the critical section
//! together. Default explore must find it.
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::thread;

static FLAG: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
static TURN: AtomicU32 = AtomicU32::new(0);
static INSIDE: AtomicU32 = AtomicU32::new(0);

fn critical(me: usize) {
    let other = 1 - me;
    TURN.store(other as u32, SeqCst);
    FLAG[me].store(true, SeqCst);
    while FLAG[other].load(SeqCst) && TURN.load(SeqCst) == other as u32 {
        std::hint::spin_loop();
    }
    let inside = INSIDE.fetch_add(1, SeqCst);
    assert_eq!(inside, 0, "mutual exclusion violated: both threads in the critical section");
    INSIDE.fetch_sub(1, SeqCst);
    FLAG[me].store(false, SeqCst);
}

fn main() {
    let t1 = thread::spawn(|| critical(1));
    critical(0);
    t1.join().unwrap();
}
