//! Seventeen lightweight threads: one more than guest-sdk's pool. The
//! tool's limit, so interlace-wasm stops with its error (exit 2), never a
//! verdict about the program.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static DONE: AtomicU32 = AtomicU32::new(0);

fn work(_: u32) {
    DONE.fetch_add(1, SeqCst);
}

fn main() {
    let threads: Vec<_> = (0..17).map(|i| thread::spawn(work, i)).collect();
    for t in threads {
        t.join();
    }
    println!("done = {}", DONE.load(SeqCst));
}
