//! Correct: the detached thread only reads x, so main always sees 0.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static X: AtomicU32 = AtomicU32::new(0);

fn main() {
    let _daemon = thread::spawn(
        |_| {
            let _ = X.load(SeqCst);
        },
        0,
    );
    assert_eq!(X.load(SeqCst), 0);
}
