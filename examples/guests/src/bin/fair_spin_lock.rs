//! Correct: three threads take turns on a hand-written spin lock (a
//! compare-exchange loop, as library locks spin before they sleep) and on
//! the allocator's lock. A thread spinning on the held lock must let the
//! holder run: a schedule where it spins forever is the scheduler's
//! unfairness, not a bug.
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::*};
use std::thread;

static LOCK: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU32 = AtomicU32::new(0);

fn with_lock(f: impl FnOnce()) {
    while LOCK
        .compare_exchange_weak(false, true, Acquire, Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    f();
    LOCK.store(false, Release);
}

fn main() {
    let threads: Vec<_> = (0..3)
        .map(|i| {
            thread::spawn(move || {
                let v: Vec<u32> = (0..4).map(|k| k + i).collect();
                with_lock(|| {
                    let c = COUNT.load(Relaxed);
                    COUNT.store(c + v.len() as u32 / 4, Relaxed);
                });
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(COUNT.load(Relaxed), 3);
}
