//! readers(N) with std threads: the same program as dpor_readers, but every
//! spawn and join goes through wasi-libc (malloc, the thread list, TLS), whose
//! bookkeeping adds real dependent accesses and so more traces.
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::thread;

static X: AtomicU32 = AtomicU32::new(0);

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let mut threads = vec![thread::spawn(|| X.store(1, SeqCst))];
    for _ in 0..n {
        threads.push(thread::spawn(|| {
            let _ = X.load(SeqCst);
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
}
