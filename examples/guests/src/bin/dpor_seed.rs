//! The example of ../shared/seeds/dpor-and-daemon-threads.txt: T0 (main)
//! reads x; T1 reads x then writes 1; the program ends when T0 ends, T1 is
//! never joined (a daemon thread). Results: 0 and 1.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static X: AtomicU32 = AtomicU32::new(0);

fn t1(_: u32) {
    let _ = X.load(SeqCst);
    X.store(1, SeqCst);
}

fn main() {
    let _daemon = thread::spawn(t1, 0);
    let seen = X.load(SeqCst);
    println!("{seen}");
}
