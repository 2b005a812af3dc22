//! Correct: main polls with `thread::yield_now()` until the spawned thread
//! has finished. Only an unfair scheduler (one that lets main yield forever
//! and never runs the worker again) makes this loop forever; every strategy
//! must pass it.
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::thread;

static DONE: AtomicU32 = AtomicU32::new(0);

fn main() {
    let worker = thread::spawn(|| {
        DONE.store(1, SeqCst);
    });
    while !worker.is_finished() {
        thread::yield_now();
    }
    worker.join().unwrap();
    assert_eq!(DONE.load(SeqCst), 1);
}
