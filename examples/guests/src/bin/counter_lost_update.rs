//! The counter lost update from the interlace seed: `increment` reads the
//! value, then writes it back plus one. Two threads can both read 0 and both
//! write 1. Each access is atomic; the read-modify-write as a whole is not.
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::thread;

static VALUE: AtomicU32 = AtomicU32::new(0);

fn increment() {
    let temp = VALUE.load(Relaxed); // interlace: read_value
    VALUE.store(temp + 1, Relaxed); // interlace: write_value
}

fn main() {
    let t1 = thread::spawn(increment);
    let t2 = thread::spawn(increment);
    t1.join().unwrap();
    t2.join().unwrap();
    let value = VALUE.load(Relaxed);
    println!("counter = {value}");
    assert_eq!(value, 2, "lost update: two increments, counter is {value}");
}
