//! Lightweight threads each have their own thread-local storage: each
//! stores its argument in a `thread_local!`, waits until the other stored
//! too, and reads its own back. (A module that never calls pthread_create
//! has no `__wasm_init_tls`; the instrumenter makes one.)
use interlace_guest_sdk::thread;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

thread_local! {
    static MINE: Cell<u32> = const { Cell::new(0) };
}

static STORED: AtomicU32 = AtomicU32::new(0);

fn body(v: u32) {
    MINE.with(|m| m.set(v));
    STORED.fetch_add(1, SeqCst);
    while STORED.load(SeqCst) < 2 {
        std::hint::spin_loop();
    }
    let got = MINE.with(|m| m.get());
    assert_eq!(got, v, "thread-local storage shared between threads");
}

fn main() {
    let a = thread::spawn(body, 1);
    let b = thread::spawn(body, 2);
    a.join();
    b.join();
    println!("each thread read its own");
}
