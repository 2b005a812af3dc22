//! Correct: increments with fetch_add cannot be lost.
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let threads: Vec<_> = (0..3)
        .map(|_| {
            thread::spawn(|| {
                for _ in 0..2 {
                    COUNTER.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let n = COUNTER.load(SeqCst);
    println!("counter = {n}");
    assert_eq!(n, 6);
}
