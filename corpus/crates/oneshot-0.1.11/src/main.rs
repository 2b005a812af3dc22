//! oneshot 0.1.11: `Receiver::drop` racing `Sender::send` on a receiver
//! that was polled once (state RECEIVING). The receiver's drop swaps the
//! state to DISCONNECTED and sees RECEIVING, so it goes on to drop the
//! waker stored in the channel; the sender's send sees DISCONNECTED and
//! frees the channel. If the free comes first, the receiver reads the
//! waker from freed memory (wasi-libc's `free` has written its free-list
//! links there) and calls through it: a trap. No fixed release to pair it
//! with (0.1.12 still fails the same program through its UNPARKING branch).
//!
//! Kept as the regression test of a DPOR rule: the free's plain writes were
//! taken as independent of everything (allocator steps), so DPOR reported
//! "every interleaving was covered" after 8 executions while random and pos
//! found the trap within 5. Expected verdict: trap, by every strategy.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::thread;

fn main() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(Pin::new(&mut rx).poll(&mut cx), Poll::Pending));
    let sender = thread::spawn(move || {
        let _ = tx.send(5);
    });
    drop(rx);
    sender.join().unwrap();
}
