//! 9. `plain_lost_update`: like `lost_update` but the counter is a plain `u32` in an
//!    `UnsafeCell`, incremented by two threads without synchronisation. Buggy: a data race
//!    (loom reports a causality violation); the lost update makes `counter == 2` fail.

pub mod on_loom {
    use crate::programs::{tick, LoomPlain};
    use loom::thread;
    use std::sync::Arc; // not loom::sync::Arc: see programs/mod.rs

    pub fn run() {
        tick();
        let c = Arc::new(LoomPlain::new(0u32));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || {
                    let v = c.read(|x| *x);
                    c.write(|x| *x = v + 1);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.read(|x| *x), 2, "lost update");
    }
}

pub mod on_shuttle {
    use crate::programs::{tick, ShuttlePlain};
    use shuttle::sync::Arc;
    use shuttle::thread;

    pub fn run() {
        tick();
        let c = Arc::new(ShuttlePlain::new(0u32));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || {
                    let v = c.read(|x| *x);
                    c.write(|x| *x = v + 1);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.read(|x| *x), 2, "lost update");
    }
}
