//! The interlace seed's async counter with comment markers, as in the seed:
//! `read_value` before the read, `write_value` before the write, in an async
//! function. The seed's four-step schedule loses an update on every run;
//! the serial one does not.
use interlace_guest_sdk::task;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static VALUE: AtomicU32 = AtomicU32::new(0);

async fn get_value() -> u32 {
    VALUE.load(SeqCst)
}

async fn set_value(v: u32) {
    VALUE.store(v, SeqCst);
}

async fn increment() {
    // interlace: read_value
    let temp = get_value().await;
    // interlace: write_value
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
