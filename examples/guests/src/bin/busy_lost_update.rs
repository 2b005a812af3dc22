//! Bug: two workers each sort a vector of their own 3,000 times (over
//! 65,536 library accesses each, which the sampling strategies leave to the
//! guest), then increment a shared counter with a load and a store: a lost
//! update. Its counterexample must minimise and replay like any other.
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::thread;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn main() {
    let workers: Vec<_> = (0..2u32)
        .map(|w| {
            thread::spawn(move || {
                let mut v: Vec<u32> = (0..64).map(|i| (i * 7 + w) % 64).collect();
                for _ in 0..3000 {
                    v.sort_unstable_by(|a, b| b.cmp(a));
                    v.sort_unstable();
                }
                let c = COUNTER.load(SeqCst);
                COUNTER.store(c + 1, SeqCst);
                v[0]
            })
        })
        .collect();
    for w in workers {
        assert_eq!(w.join().unwrap(), 0);
    }
    assert_eq!(COUNTER.load(SeqCst), 2, "lost update");
}
