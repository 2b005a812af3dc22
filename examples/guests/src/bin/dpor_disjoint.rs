//! Two lightweight threads that touch disjoint memory: one Mazurkiewicz trace.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static A: AtomicU32 = AtomicU32::new(0);
static B: AtomicU32 = AtomicU32::new(0);

fn main() {
    let t1 = thread::spawn(|_| A.store(A.load(SeqCst) + 1, SeqCst), 0);
    let t2 = thread::spawn(|_| B.store(B.load(SeqCst) + 1, SeqCst), 0);
    t1.join();
    t2.join();
    assert_eq!((A.load(SeqCst), B.load(SeqCst)), (1, 1));
}
