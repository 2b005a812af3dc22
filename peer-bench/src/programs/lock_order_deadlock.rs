//! 2. `lock_order_deadlock`: thread 1 locks a then b, thread 2 locks b then a, each increments
//!    both. Buggy: can deadlock.

pub mod on_loom {
    use crate::programs::tick;
    use loom::sync::Mutex;
    use loom::thread;
    use std::sync::Arc; // not loom::sync::Arc: see programs/mod.rs

    pub fn run() {
        tick();
        let a = Arc::new(Mutex::new(0u32));
        let b = Arc::new(Mutex::new(0u32));
        let t1 = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                let mut ga = a.lock().unwrap();
                let mut gb = b.lock().unwrap();
                *ga += 1;
                *gb += 1;
            })
        };
        let t2 = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                let mut gb = b.lock().unwrap();
                let mut ga = a.lock().unwrap();
                *ga += 1;
                *gb += 1;
            })
        };
        t1.join().unwrap();
        t2.join().unwrap();
    }
}

pub mod on_shuttle {
    use crate::programs::tick;
    use shuttle::sync::{Arc, Mutex};
    use shuttle::thread;

    pub fn run() {
        tick();
        let a = Arc::new(Mutex::new(0u32));
        let b = Arc::new(Mutex::new(0u32));
        let t1 = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                let mut ga = a.lock().unwrap();
                let mut gb = b.lock().unwrap();
                *ga += 1;
                *gb += 1;
            })
        };
        let t2 = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                let mut gb = b.lock().unwrap();
                let mut ga = a.lock().unwrap();
                *ga += 1;
                *gb += 1;
            })
        };
        t1.join().unwrap();
        t2.join().unwrap();
    }
}
