//! The interlace seed's async counter: `increment` reads through one async
//! call and writes through another, with markers (`read_value`,
//! `write_value`) that pause the task there. The seed's schedule (task1
//! reads, task2 reads, task1 writes, task2 writes) loses an update on every
//! run; the serial one does not.
use interlace_guest_sdk::{marker, task};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static VALUE: AtomicU32 = AtomicU32::new(0);

async fn get_value() -> u32 {
    VALUE.load(SeqCst)
}

async fn set_value(v: u32) {
    VALUE.store(v, SeqCst);
}

async fn increment() {
    marker("read_value");
    let temp = get_value().await;
    marker("write_value");
    set_value(temp + 1).await;
}

fn main() {
    task::block_on(async {
        let t1 = task::spawn(increment());
        let t2 = task::spawn(increment());
        t1.await;
        t2.await;
    });
    let value = VALUE.load(SeqCst);
    println!("counter = {value}");
    assert_eq!(value, 2, "lost update: two increments, counter is {value}");
}
