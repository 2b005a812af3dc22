//! The counter lost update on lightweight threads: DPOR finds it.
use interlace_guest_sdk::thread;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

static VALUE: AtomicU32 = AtomicU32::new(0);

fn increment(_: u32) {
    let temp = VALUE.load(Relaxed);
    VALUE.store(temp + 1, Relaxed);
}

fn main() {
    let a = thread::spawn(increment, 0);
    let b = thread::spawn(increment, 0);
    a.join();
    b.join();
    let value = VALUE.load(Relaxed);
    assert_eq!(value, 2, "lost update: two increments, counter is {value}");
}
