//! 1. `lost_update`: two threads do a non-atomic read-modify-write (`load` then `store`) on an
//!    `AtomicU32`; main asserts the counter is 2. Buggy: both may load 0.

pub mod on_loom {
    use crate::programs::tick;
    use loom::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use loom::thread;
    use std::sync::Arc; // not loom::sync::Arc: see programs/mod.rs

    pub fn run() {
        tick();
        let c = Arc::new(AtomicU32::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || {
                    let v = c.load(SeqCst);
                    c.store(v + 1, SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.load(SeqCst), 2, "lost update");
    }
}

pub mod on_shuttle {
    use crate::programs::tick;
    use shuttle::sync::atomic::{AtomicU32, Ordering::SeqCst};
    use shuttle::sync::Arc;
    use shuttle::thread;

    pub fn run() {
        tick();
        let c = Arc::new(AtomicU32::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || {
                    let v = c.load(SeqCst);
                    c.store(v + 1, SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.load(SeqCst), 2, "lost update");
    }
}
