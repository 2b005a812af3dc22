//! A daemon-thread bug: main spawns a thread that writes x, never joins it,
//! then reads x and asserts it is still 0. Only an interleaving that runs the
//! thread before main ends finds it.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static X: AtomicU32 = AtomicU32::new(0);

fn main() {
    let _daemon = thread::spawn(|_| X.store(1, SeqCst), 0);
    assert_eq!(X.load(SeqCst), 0, "the detached thread wrote x before main read it");
}
