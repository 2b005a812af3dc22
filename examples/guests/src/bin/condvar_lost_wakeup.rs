//! A condvar lost wakeup: the waiter checks a flag outside the mutex, the
//! notifier sets it and notifies without taking the lock. A notify between
//! the waiter's check and its wait is lost: the waiter waits forever.
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Condvar, Mutex};
use std::thread;

static READY: AtomicBool = AtomicBool::new(false);
static LOCK: Mutex<()> = Mutex::new(());
static WAKE: Condvar = Condvar::new();

fn main() {
    let waiter = thread::spawn(|| {
        if !READY.load(SeqCst) {
            let guard = LOCK.lock().unwrap();
            let _guard = WAKE.wait(guard).unwrap();
        }
    });
    let notifier = thread::spawn(|| {
        READY.store(true, SeqCst);
        WAKE.notify_one();
    });
    waiter.join().unwrap();
    notifier.join().unwrap();
    println!("woken");
}
