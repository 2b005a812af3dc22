//! Correct: spawns 2,000 threads before joining any of them. Under the
//! default thread limit it passes; with `--max-threads 100` the tool must
//! say that its own limit was hit (exit 2), never report the program failing.
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::thread;

static SUM: AtomicU32 = AtomicU32::new(0);

fn main() {
    let threads: Vec<_> = (0..2000)
        .map(|_| {
            thread::Builder::new()
                .stack_size(16 * 1024)
                .spawn(|| {
                    SUM.fetch_add(1, Relaxed);
                })
                .unwrap()
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(SUM.load(Relaxed), 2000);
}
