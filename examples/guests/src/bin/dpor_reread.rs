//! A reader that reads x twice, and a writer: three traces, whose results
//! are `0 0`, `0 1` and `1 1`. The second read reads what nobody wrote since
//! the first one in some orders, like a spin loop's re-read, yet it is no spin.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static X: AtomicU32 = AtomicU32::new(0);
static SEEN: AtomicU32 = AtomicU32::new(0);

fn main() {
    let reader = thread::spawn(
        |_| {
            let a = X.load(SeqCst);
            let b = X.load(SeqCst);
            SEEN.store(a * 10 + b + 100, SeqCst);
        },
        0,
    );
    let writer = thread::spawn(|_| X.store(1, SeqCst), 0);
    reader.join();
    writer.join();
    let s = SEEN.load(SeqCst) - 100;
    println!("{} {}", s / 10, s % 10);
}
