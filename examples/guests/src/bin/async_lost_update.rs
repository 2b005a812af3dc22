//! Two tasks each read a counter, yield to the executor, and write it back
//! plus one: when the other task runs during the yield, an increment is
//! lost. A single-threaded executor polls them in one order and never shows
//! it; interlace-wasm's executor (guest-sdk `task`) lets the strategies pick.
use interlace_guest_sdk::task;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static COUNTER: AtomicU32 = AtomicU32::new(0);

async fn increment() {
    let v = COUNTER.load(SeqCst);
    task::yield_now().await;
    COUNTER.store(v + 1, SeqCst);
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
    assert_eq!(n, 2, "lost update across an await: counter is {n}");
}
