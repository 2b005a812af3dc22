//! Correct: a task waits (with `poll_fn`) for a value that a `std::thread`
//! publishes and then wakes it with: the wake reaches the task, whichever
//! runs first.
use interlace_guest_sdk::task;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Mutex;
use std::task::{Poll, Waker};

static VALUE: AtomicU32 = AtomicU32::new(0);
static WAITER: Mutex<Option<Waker>> = Mutex::new(None);

fn main() {
    let thread = std::thread::spawn(|| {
        VALUE.store(42, SeqCst);
        if let Some(w) = WAITER.lock().unwrap().take() {
            w.wake();
        }
    });
    let got = task::block_on(async {
        let waiter = task::spawn(std::future::poll_fn(|cx| {
            // Register first, then look: a store after the look wakes us.
            *WAITER.lock().unwrap() = Some(cx.waker().clone());
            match VALUE.load(SeqCst) {
                0 => Poll::Pending,
                v => Poll::Ready(v),
            }
        }));
        waiter.await
    });
    thread.join().unwrap();
    println!("got {got}");
    assert_eq!(got, 42);
}
