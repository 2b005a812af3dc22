//! Three tests in one module for `interlace-wasm test`: two correct, one with
//! the counter lost update.
use interlace_guest_sdk::interlace_test;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;

interlace_test! {
    fn atomic_increments_add_up() {
        let n = Arc::new(AtomicU32::new(0));
        let t: Vec<_> = (0..2).map(|_| { let n = n.clone(); thread::spawn(move || { n.fetch_add(1, SeqCst); }) }).collect();
        t.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(n.load(SeqCst), 2);
    }
}

interlace_test! {
    fn load_then_store_loses_updates() {
        let n = Arc::new(AtomicU32::new(0));
        let t: Vec<_> = (0..2)
            .map(|_| {
                let n = n.clone();
                thread::spawn(move || {
                    let v = n.load(SeqCst);
                    n.store(v + 1, SeqCst);
                })
            })
            .collect();
        t.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(n.load(SeqCst), 2, "lost update");
    }
}

interlace_test! {
    fn mutex_increments_add_up() {
        let n = Arc::new(Mutex::new(0));
        let t: Vec<_> = (0..2).map(|_| { let n = n.clone(); thread::spawn(move || *n.lock().unwrap() += 1) }).collect();
        t.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(*n.lock().unwrap(), 2);
    }
}

fn main() {}
