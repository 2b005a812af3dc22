//! Two lightweight threads increment a counter under a std Mutex (futex
//! wait/notify through the host): DPOR must cover every lock order and
//! never report a failure.
use interlace_guest_sdk::thread;
use std::sync::Mutex;

static COUNTER: Mutex<u32> = Mutex::new(0);

fn bump(_: u32) {
    *COUNTER.lock().unwrap() += 1;
}

fn main() {
    let a = thread::spawn(bump, 0);
    let b = thread::spawn(bump, 0);
    a.join();
    b.join();
    assert_eq!(*COUNTER.lock().unwrap(), 2);
}
