//! 3. `condvar_lost_wakeup`: the waiter checks an `AtomicBool` flag *outside* the mutex and then
//!    waits on the condvar; the notifier sets the flag and calls `notify_one` without taking the
//!    lock. If the notify lands between the waiter's check and its `wait`, the wakeup is lost and
//!    the waiter blocks forever. Buggy: deadlock.

pub mod on_loom {
    use crate::programs::tick;
    use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use loom::sync::{Condvar, Mutex};
    use loom::thread;
    use std::sync::Arc; // not loom::sync::Arc: see programs/mod.rs

    pub fn run() {
        tick();
        let s = Arc::new((Mutex::new(()), Condvar::new(), AtomicBool::new(false)));
        let waiter = {
            let s = s.clone();
            thread::spawn(move || {
                let (m, cv, flag) = &*s;
                if !flag.load(SeqCst) {
                    let g = m.lock().unwrap();
                    let _g = cv.wait(g).unwrap();
                }
            })
        };
        let notifier = {
            let s = s.clone();
            thread::spawn(move || {
                let (_m, cv, flag) = &*s;
                flag.store(true, SeqCst);
                cv.notify_one();
            })
        };
        waiter.join().unwrap();
        notifier.join().unwrap();
    }
}

pub mod on_shuttle {
    use crate::programs::tick;
    use shuttle::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use shuttle::sync::{Arc, Condvar, Mutex};
    use shuttle::thread;

    pub fn run() {
        tick();
        let s = Arc::new((Mutex::new(()), Condvar::new(), AtomicBool::new(false)));
        let waiter = {
            let s = s.clone();
            thread::spawn(move || {
                let (m, cv, flag) = &*s;
                if !flag.load(SeqCst) {
                    let g = m.lock().unwrap();
                    let _g = cv.wait(g).unwrap();
                }
            })
        };
        let notifier = {
            let s = s.clone();
            thread::spawn(move || {
                let (_m, cv, flag) = &*s;
                flag.store(true, SeqCst);
                cv.notify_one();
            })
        };
        waiter.join().unwrap();
        notifier.join().unwrap();
    }
}
