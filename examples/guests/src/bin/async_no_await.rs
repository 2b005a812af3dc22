//! Correct: two tasks read a counter and write it back plus one with no
//! await in between. On one executor thread nothing can run between the two,
//! so no strategy may report a lost update (a false alarm if one did).
use interlace_guest_sdk::task;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static COUNTER: AtomicU32 = AtomicU32::new(0);

async fn increment() {
    let v = COUNTER.load(SeqCst);
    COUNTER.store(v + 1, SeqCst);
    task::yield_now().await;
}

fn main() {
    task::block_on(async {
        let a = task::spawn(increment());
        let b = task::spawn(increment());
        a.await;
        b.await;
    });
    let n = COUNTER.load(SeqCst);
    println!("counter = {n}");
    assert_eq!(n, 2, "counter is {n}");
}
