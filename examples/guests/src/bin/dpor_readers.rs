//! readers(N): one writer and N readers of x: 2^N Mazurkiewicz traces.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static X: AtomicU32 = AtomicU32::new(0);

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let mut threads = vec![thread::spawn(|_| X.store(1, SeqCst), 0)];
    for i in 0..n {
        threads.push(thread::spawn(
            |_| {
                let _ = X.load(SeqCst);
            },
            i,
        ));
    }
    for t in threads {
        t.join();
    }
}
