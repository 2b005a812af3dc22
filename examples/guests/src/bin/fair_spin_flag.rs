//! Correct: main spins on an atomic counter until both workers have
//! incremented it, with no yield in the loop. A fair scheduler lets the
//! workers run; every strategy must pass it.
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::thread;

static READY: AtomicU32 = AtomicU32::new(0);

fn main() {
    let workers: Vec<_> = (0..2)
        .map(|_| {
            thread::spawn(|| {
                READY.fetch_add(1, SeqCst);
            })
        })
        .collect();
    while READY.load(SeqCst) < 2 {
        std::hint::spin_loop();
    }
    for w in workers {
        w.join().unwrap();
    }
}
