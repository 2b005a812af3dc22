//! The counter lost update with comment markers on their own lines.
use interlace_guest_sdk::set_thread_name;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::thread;

static VALUE: AtomicU32 = AtomicU32::new(0);

fn increment() {
    // interlace: read_value
    let temp = VALUE.load(Relaxed);
    // interlace: write_value
    VALUE.store(temp + 1, Relaxed);
}

fn main() {
    let t1 = thread::spawn(|| {
        set_thread_name("thread1");
        increment()
    });
    let t2 = thread::spawn(|| {
        set_thread_name("thread2");
        increment()
    });
    t1.join().unwrap();
    t2.join().unwrap();
    let value = VALUE.load(Relaxed);
    println!("counter = {value}");
    assert_eq!(value, 2, "lost update: two increments, counter is {value}");
}
